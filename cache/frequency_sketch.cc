#include "cache/frequency_sketch.h"

#include <algorithm>
#include <bit>

namespace asidekv::cache {
namespace {

constexpr uint64_t kMinWords = 8;

// The counter at `index` (4 bits) inside its word.
constexpr int Shift(uint64_t index) { return static_cast<int>(index & 15) * 4; }

// Spreads the key hash again so that the counters do not reuse the bits the shard and the
// table already select by.
uint64_t Remix(uint64_t hash) {
  hash ^= hash >> 33;
  hash *= 0xff51afd7ed558ccdULL;
  hash ^= hash >> 33;
  return hash;
}

}  // namespace

void FrequencySketch::EnsureCapacity(uint64_t want_entries, uint64_t max_entries) {
  want_entries = std::max<uint64_t>(std::min(want_entries, max_entries), 1);
  const uint64_t want = std::max(kMinWords, std::bit_ceil(want_entries * kCountersPerEntry / 16));
  if (want <= words_) return;
  auto table = std::make_unique<std::atomic<uint64_t>[]>(want);
  for (uint64_t i = 0; i < want; ++i) {
    const uint64_t old = words_ == 0 ? 0 : table_[i & (words_ - 1)].load(std::memory_order_relaxed);
    table[i].store(old, std::memory_order_relaxed);
  }
  table_ = std::move(table);
  words_ = want;
  counter_mask_ = words_ * 16 - 1;
  sample_size_ = kSamplePerEntry * entries();
}

void FrequencySketch::Increment(uint64_t hash) {
  if (words_ == 0) return;
  const uint64_t h = Remix(hash);
  const uint64_t h2 = (h >> 32) | 1;
  bool added = false;
  for (int i = 0; i < kDepth; ++i) {
    const uint64_t index = (h + static_cast<uint64_t>(i) * h2) & counter_mask_;
    std::atomic<uint64_t>& word = table_[index >> 4];
    const uint64_t w = word.load(std::memory_order_relaxed);
    if (((w >> Shift(index)) & kMaxCount) != kMaxCount) {
      word.store(w + (uint64_t{1} << Shift(index)), std::memory_order_relaxed);
      added = true;
    }
  }
  if (added && additions_.fetch_add(1, std::memory_order_relaxed) + 1 >= sample_size_) Age();
}

uint32_t FrequencySketch::Frequency(uint64_t hash) const {
  if (words_ == 0) return 0;
  const uint64_t h = Remix(hash);
  const uint64_t h2 = (h >> 32) | 1;
  uint32_t count = kMaxCount;
  for (int i = 0; i < kDepth; ++i) {
    const uint64_t index = (h + static_cast<uint64_t>(i) * h2) & counter_mask_;
    const uint64_t w = table_[index >> 4].load(std::memory_order_relaxed);
    count = std::min(count, static_cast<uint32_t>((w >> Shift(index)) & kMaxCount));
  }
  return count;
}

void FrequencySketch::Age() {
  for (uint64_t i = 0; i < words_; ++i) {
    const uint64_t w = table_[i].load(std::memory_order_relaxed);
    table_[i].store((w >> 1) & 0x7777777777777777ULL, std::memory_order_relaxed);
  }
  additions_.store(additions_.load(std::memory_order_relaxed) / 2, std::memory_order_relaxed);
}

void FrequencySketch::Clear() {
  table_.reset();
  words_ = 0;
  counter_mask_ = 0;
  sample_size_ = 0;
  additions_.store(0, std::memory_order_relaxed);
}

}  // namespace asidekv::cache
