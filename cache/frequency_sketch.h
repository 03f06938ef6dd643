// FrequencySketch: an approximate, aging count of how often each key was seen recently, the
// history behind TinyLFU admission (Einziger, Friedman & Manes, "TinyLFU: A Highly Efficient
// Cache Admission Policy", ACM ToS 2017).
//
// Design
//   A count-min sketch of 4-bit counters, 16 to a 64-bit word. A key (its 64-bit hash) maps to
//   kDepth counters chosen by double hashing (h1 + i * h2 over a power-of-two number of
//   counters); Increment adds one to each that is below 15, Frequency returns the smallest.
//   Aging: after `sample_size` increments every counter is halved (and the increment count
//   with it), so the sketch forgets old popularity and follows a changing workload; the sample
//   size is kSamplePerEntry times the number of entries the sketch is sized for, as in TinyLFU.
//
//   Size: kCountersPerEntry counters (kCountersPerEntry / 2 bytes) per entry of the cache, the
//   counter count rounded up to a power of two. EnsureCapacity() grows the table by doubling
//   when the cache holds more entries than it was sized for; the new table is the old one
//   repeated, so every key's estimate is unchanged by the growth (a key's counters in the larger
//   table are copies of its counters in the smaller one).
//
// Thread safety: Increment may race with itself and with Frequency (each counter word is a
//   relaxed atomic: a lost increment under a race only makes an estimate slightly low, which
//   TinyLFU tolerates); a caller that shares the sketch between threads may therefore count hits
//   without a lock. EnsureCapacity, Reset and Clear need exclusive access (the shard's lock).
// Costs: Increment and Frequency are O(kDepth); halving is O(table) once per sample_size
//   increments, so O(1) amortised. EnsureCapacity allocates only when it grows, at most
//   log2(entries) times over the sketch's life.

#ifndef ASIDEKV_CACHE_FREQUENCY_SKETCH_H_
#define ASIDEKV_CACHE_FREQUENCY_SKETCH_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace asidekv::cache {

class FrequencySketch {
 public:
  static constexpr int kDepth = 4;
  static constexpr uint64_t kCountersPerEntry = 8;
  static constexpr uint64_t kSamplePerEntry = 10;
  static constexpr uint32_t kMaxCount = 15;

  FrequencySketch() = default;
  FrequencySketch(const FrequencySketch&) = delete;
  FrequencySketch& operator=(const FrequencySketch&) = delete;

  // Grows the table to cover `entries` (never shrinks it; at most `max_entries`, which bounds the
  // memory). The first call sizes an empty sketch.
  void EnsureCapacity(uint64_t entries, uint64_t max_entries);

  // Counts one occurrence of the key. A no-op before EnsureCapacity.
  void Increment(uint64_t hash);
  // The estimated recent count of the key, 0..kMaxCount.
  uint32_t Frequency(uint64_t hash) const;

  // Forgets every count and frees the table.
  void Clear();

  // Heap bytes of the table.
  uint64_t MemoryBytes() const { return words_ * sizeof(uint64_t); }
  // Entries the table is sized for, and the increments between two halvings.
  uint64_t entries() const { return words_ * 16 / kCountersPerEntry; }
  uint64_t sample_size() const { return sample_size_; }

 private:
  // Halves every counter.
  void Age();

  std::unique_ptr<std::atomic<uint64_t>[]> table_;
  uint64_t words_ = 0;         // A power of two, or 0.
  uint64_t counter_mask_ = 0;  // words_ * 16 - 1.
  uint64_t sample_size_ = 0;
  std::atomic<uint64_t> additions_{0};
};

}  // namespace asidekv::cache

#endif  // ASIDEKV_CACHE_FREQUENCY_SKETCH_H_
