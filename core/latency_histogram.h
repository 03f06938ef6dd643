// LatencyHistogram: a concurrent log-linear histogram of durations, cheap enough to keep on.
//
// Design
//   Values (nanoseconds) fall into buckets of 16 sub-buckets per power of two, so a reported
//   percentile is at most 1/16 (6.25%) above the true value. Counters are relaxed atomics spread
//   over a few stripes chosen by thread, so two threads recording at once rarely share a cache
//   line; Summary() adds the stripes up. Recording is two relaxed fetch_adds on the thread's
//   stripe (its bucket and the running sum, for the metrics endpoint's _sum).
//
// Thread safety: Record() and Summary() may be called concurrently; Summary() is a consistent
//   enough snapshot for monitoring (it may miss records that land while it reads).

#ifndef ASIDEKV_CORE_LATENCY_HISTOGRAM_H_
#define ASIDEKV_CORE_LATENCY_HISTOGRAM_H_

#include <array>
#include <atomic>
#include <cstdint>

#include "asidekv/stats.h"
#include "core/introspection.h"
#include "util/log_linear_buckets.h"

namespace asidekv::core {

class LatencyHistogram {
 public:
  // util/log_linear_buckets.h: 16 sub-buckets per power of two.
  static constexpr int kBuckets = static_cast<int>(util::kLogLinearBuckets);

  void Record(uint64_t nanos);
  LatencySummary Summary() const;
  // Every bucket's count and the sum of the values recorded (Introspection's view).
  LatencyHistogramData Data() const;

  // Bucket index of a value, and the largest value in a bucket (exposed for tests).
  static int BucketOf(uint64_t v) { return static_cast<int>(util::LogLinearBucket(v)); }
  static uint64_t UpperBound(int bucket) {
    return util::LogLinearUpperBound(static_cast<size_t>(bucket));
  }

  // Threads take stripes round-robin by an ordinal drawn when they first record, from a 64-bit
  // counter shared by every histogram. For tests: sets the ordinal of the next new thread.
  static void SetNextThreadOrdinalForTesting(uint64_t ordinal);

 private:
  static constexpr unsigned kStripes = 4;
  struct alignas(64) Stripe {
    std::array<std::atomic<uint64_t>, kBuckets> counts{};
    std::atomic<uint64_t> max{0};
    std::atomic<uint64_t> sum{0};  // Wraps after 584 years of recorded time.
  };
  std::array<Stripe, kStripes> stripes_;
};

}  // namespace asidekv::core

#endif  // ASIDEKV_CORE_LATENCY_HISTOGRAM_H_
