#include "tools/bench/histogram.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "gtest/gtest.h"
#include "tools/bench/random.h"

namespace asidekv::bench {
namespace {

TEST(HistogramTest, BucketsTileTheRangeWithBoundedWidth) {
  for (size_t i = 1; i < Histogram::kNumBuckets; ++i) {
    EXPECT_EQ(Histogram::BucketLowerBound(i), Histogram::BucketUpperBound(i - 1) + 1) << i;
  }
  EXPECT_EQ(Histogram::BucketUpperBound(Histogram::kNumBuckets - 1), UINT64_MAX);
  for (size_t i = Histogram::kSubBuckets; i < Histogram::kNumBuckets; ++i) {
    const uint64_t lower = Histogram::BucketLowerBound(i);
    const uint64_t width = Histogram::BucketUpperBound(i) - lower + 1;
    EXPECT_LE(width, lower / 16) << i;
  }
}

TEST(HistogramTest, EveryValueLandsInItsBucket) {
  Rng rng(7);
  for (int i = 0; i < 100000; ++i) {
    const uint64_t v = rng.Next() >> rng.Uniform(64);
    const size_t b = Histogram::BucketIndex(v);
    ASSERT_LT(b, Histogram::kNumBuckets);
    EXPECT_LE(Histogram::BucketLowerBound(b), v);
    EXPECT_GE(Histogram::BucketUpperBound(b), v);
  }
  EXPECT_EQ(Histogram::BucketIndex(0), 0u);
  EXPECT_EQ(Histogram::BucketIndex(15), 15u);
  EXPECT_EQ(Histogram::BucketIndex(16), 16u);
  EXPECT_EQ(Histogram::BucketIndex(UINT64_MAX), Histogram::kNumBuckets - 1);
}

TEST(HistogramTest, PercentilesAreWithinSixPercentAboveTheTruth) {
  Rng rng(11);
  Histogram h;
  std::vector<uint64_t> values;
  for (int i = 0; i < 50000; ++i) {
    // Log-uniform between 100 ns and ~10 ms.
    const uint64_t v = 100 + (rng.Next() >> (rng.Uniform(48) + 16));
    values.push_back(v);
    h.Record(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.0, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0}) {
    size_t rank = static_cast<size_t>(std::ceil(q * values.size()));
    rank = std::clamp<size_t>(rank, 1, values.size());
    const uint64_t truth = values[rank - 1];
    const uint64_t got = h.Percentile(q);
    EXPECT_GE(got, truth) << q;
    EXPECT_LE(static_cast<double>(got), truth * (1 + 1.0 / 16)) << q;
  }
  EXPECT_EQ(h.count(), values.size());
  EXPECT_EQ(h.min(), values.front());
  EXPECT_EQ(h.max(), values.back());
  EXPECT_EQ(h.Percentile(1.0), values.back());
}

TEST(HistogramTest, MergeEqualsRecordingEverythingInOne) {
  Histogram a;
  Histogram b;
  Histogram all;
  for (uint64_t v = 1; v < 5000; v += 7) {
    (v % 2 == 0 ? a : b).Record(v * 13);
    all.Record(v * 13);
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_DOUBLE_EQ(a.Mean(), all.Mean());
  for (double q : {0.1, 0.5, 0.99}) EXPECT_EQ(a.Percentile(q), all.Percentile(q));
}

TEST(HistogramTest, EmptyHistogramReportsZeros) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.Percentile(0.99), 0u);
  EXPECT_EQ(h.Mean(), 0);
}

}  // namespace
}  // namespace asidekv::bench
