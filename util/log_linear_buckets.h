// Log-linear (HdrHistogram-style) bucket arithmetic, the one implementation behind every
// latency histogram of the project (the Store's concurrent LatencyHistogram, the bench's
// per-thread Histogram).
//
// Values below 16 get a bucket each; above, each power of two [2^e, 2^(e+1)) is split into 16
// equal sub-buckets, so a bucket's width is at most 1/16 of its lower bound: a percentile read
// as the upper bound of its bucket is at most 6.25% above the true value and never below it.
// The buckets cover all of uint64_t.
//
// Thread safety: pure functions.

#ifndef ASIDEKV_UTIL_LOG_LINEAR_BUCKETS_H_
#define ASIDEKV_UTIL_LOG_LINEAR_BUCKETS_H_

#include <bit>
#include <cstddef>
#include <cstdint>

namespace asidekv::util {

inline constexpr int kLogLinearSubBits = 4;
inline constexpr uint64_t kLogLinearSubBuckets = uint64_t{1} << kLogLinearSubBits;
inline constexpr size_t kLogLinearBuckets = (64 - kLogLinearSubBits + 1) * kLogLinearSubBuckets;

// The bucket of `value`, in [0, kLogLinearBuckets).
constexpr size_t LogLinearBucket(uint64_t value) {
  if (value < kLogLinearSubBuckets) return static_cast<size_t>(value);
  const int exponent = 63 - std::countl_zero(value);  // >= kLogLinearSubBits
  const int shift = exponent - kLogLinearSubBits;
  const uint64_t sub = (value >> shift) - kLogLinearSubBuckets;  // in [0, kLogLinearSubBuckets)
  return static_cast<size_t>((shift + 1) * kLogLinearSubBuckets + sub);
}

// The smallest and the largest value (inclusive) of bucket `index`.
constexpr uint64_t LogLinearLowerBound(size_t index) {
  if (index < kLogLinearSubBuckets) return index;
  const size_t shift = index / kLogLinearSubBuckets - 1;
  const uint64_t sub = index % kLogLinearSubBuckets;
  return (kLogLinearSubBuckets + sub) << shift;
}
constexpr uint64_t LogLinearUpperBound(size_t index) {
  if (index < kLogLinearSubBuckets) return index;
  const size_t shift = index / kLogLinearSubBuckets - 1;
  return LogLinearLowerBound(index) + ((uint64_t{1} << shift) - 1);
}

static_assert(LogLinearBucket(~uint64_t{0}) == kLogLinearBuckets - 1);
static_assert(LogLinearUpperBound(kLogLinearBuckets - 1) == ~uint64_t{0});

}  // namespace asidekv::util

#endif  // ASIDEKV_UTIL_LOG_LINEAR_BUCKETS_H_
