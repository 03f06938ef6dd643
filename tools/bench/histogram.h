// Histogram: a latency histogram with bounded relative error (HdrHistogram-style log-linear
// buckets).
//
// Values below 16 get a bucket each; above, each power of two [2^e, 2^(e+1)) is split into 16
// equal sub-buckets, so a bucket's width is at most 1/16 of its lower bound. Percentile()
// returns the upper bound of the bucket holding the rank (clamped to the largest value seen),
// hence a figure at most 6.25% above the true one and never below it. Buckets cover all of
// uint64_t; Record() is a shift, a count-leading-zeros and an increment, with no allocation.
//
// Thread safety: none. Each thread records into its own Histogram; Merge() them afterwards.
//
// Example:
//   Histogram h;
//   h.Record(1234);        // nanoseconds, say
//   uint64_t p99 = h.Percentile(0.99);

#ifndef ASIDEKV_TOOLS_BENCH_HISTOGRAM_H_
#define ASIDEKV_TOOLS_BENCH_HISTOGRAM_H_

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "util/log_linear_buckets.h"

namespace asidekv::bench {

class Histogram {
 public:
  // Sub-buckets per power of two (and the exact range below it).
  static constexpr int kSubBucketBits = util::kLogLinearSubBits;
  static constexpr uint64_t kSubBuckets = util::kLogLinearSubBuckets;
  static constexpr size_t kNumBuckets = util::kLogLinearBuckets;

  void Record(uint64_t value) {
    ++counts_[BucketIndex(value)];
    ++count_;
    sum_ += value;
    if (value < min_) min_ = value;
    if (value > max_) max_ = value;
  }

  // Adds every value recorded in `other`.
  void Merge(const Histogram& other);

  void Clear() { *this = Histogram(); }

  // Appends every figure to `out` (the non-empty buckets, count, sum, min, max, as varints), for
  // another process to DecodeFrom (--nodes sends each node's histograms to the parent).
  void EncodeTo(std::string* out) const;
  // Replaces this histogram by one EncodeTo wrote at the front of *in, and advances *in past it.
  // False on a short or malformed input (this histogram is then unspecified).
  bool DecodeFrom(std::string_view* in);

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double Mean() const { return count_ == 0 ? 0 : static_cast<double>(sum_) / count_; }

  // The value at quantile q in [0, 1]: the upper bound of the bucket holding the
  // ceil(q * count)-th smallest value (at least the first), clamped to max(). 0 when empty.
  uint64_t Percentile(double q) const;

  // Bucket arithmetic, public for tests and for readers of the JSON output.
  static size_t BucketIndex(uint64_t value) { return util::LogLinearBucket(value); }
  static uint64_t BucketLowerBound(size_t index) { return util::LogLinearLowerBound(index); }
  static uint64_t BucketUpperBound(size_t index) {  // Inclusive.
    return util::LogLinearUpperBound(index);
  }

 private:
  std::array<uint64_t, kNumBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = std::numeric_limits<uint64_t>::max();
  uint64_t max_ = 0;
};

}  // namespace asidekv::bench

#endif  // ASIDEKV_TOOLS_BENCH_HISTOGRAM_H_
