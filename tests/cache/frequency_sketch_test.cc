#include "cache/frequency_sketch.h"

#include <cstdint>

#include "gtest/gtest.h"

namespace asidekv::cache {
namespace {

uint64_t HashOf(uint64_t id) { return id * 0x9E3779B97F4A7C15u + 7; }

TEST(FrequencySketchTest, CountsBeforeSizingAreDropped) {
  FrequencySketch sketch;
  sketch.Increment(HashOf(1));
  EXPECT_EQ(sketch.Frequency(HashOf(1)), 0u);
  EXPECT_EQ(sketch.MemoryBytes(), 0u);
}

TEST(FrequencySketchTest, CountsAndSaturates) {
  FrequencySketch sketch;
  sketch.EnsureCapacity(1000, UINT64_MAX);
  // 8 counters of 4 bits per entry: 4,000 bytes, rounded up to a power of two words.
  EXPECT_EQ(sketch.MemoryBytes(), 4096u);
  for (int i = 0; i < 5; ++i) sketch.Increment(HashOf(1));
  EXPECT_EQ(sketch.Frequency(HashOf(1)), 5u);
  EXPECT_EQ(sketch.Frequency(HashOf(2)), 0u);
  for (int i = 0; i < 20; ++i) sketch.Increment(HashOf(1));
  EXPECT_EQ(sketch.Frequency(HashOf(1)), FrequencySketch::kMaxCount);
}

TEST(FrequencySketchTest, HalvesAfterEachSample) {
  FrequencySketch sketch;
  sketch.EnsureCapacity(64, UINT64_MAX);
  for (int i = 0; i < 8; ++i) sketch.Increment(HashOf(1));
  ASSERT_EQ(sketch.Frequency(HashOf(1)), 8u);
  // Fill the rest of the sample with other keys: key 1's count is halved once.
  for (uint64_t i = 8; i < sketch.sample_size(); ++i) sketch.Increment(HashOf(1000 + i));
  EXPECT_LE(sketch.Frequency(HashOf(1)), 5u);
  EXPECT_GE(sketch.Frequency(HashOf(1)), 4u);
}

TEST(FrequencySketchTest, GrowingKeepsEstimatesAndRespectsTheBound) {
  FrequencySketch sketch;
  sketch.EnsureCapacity(16, UINT64_MAX);
  for (int i = 0; i < 3; ++i) sketch.Increment(HashOf(9));
  const uint32_t before = sketch.Frequency(HashOf(9));
  sketch.EnsureCapacity(4096, UINT64_MAX);
  EXPECT_GE(sketch.entries(), 4096u);
  EXPECT_EQ(sketch.Frequency(HashOf(9)), before);
  const uint64_t bytes = sketch.MemoryBytes();
  sketch.EnsureCapacity(1 << 20, 4096);  // Capped: no growth.
  EXPECT_EQ(sketch.MemoryBytes(), bytes);
  sketch.Clear();
  EXPECT_EQ(sketch.MemoryBytes(), 0u);
  EXPECT_EQ(sketch.Frequency(HashOf(9)), 0u);
}

}  // namespace
}  // namespace asidekv::cache
