#include "core/latency_histogram.h"

#include <algorithm>
#include <bit>

namespace asidekv::core {
namespace {

// Ordinal of the next thread to record. 64 bits and unsigned: it cannot wrap or go negative in
// any process's lifetime, and each stripe index is reduced modulo kStripes as an unsigned value.
std::atomic<uint64_t> next_thread_ordinal{0};

}  // namespace

void LatencyHistogram::SetNextThreadOrdinalForTesting(uint64_t ordinal) {
  next_thread_ordinal.store(ordinal, std::memory_order_relaxed);
}

void LatencyHistogram::Record(uint64_t nanos) {
  thread_local const unsigned stripe =
      static_cast<unsigned>(next_thread_ordinal.fetch_add(1, std::memory_order_relaxed) % kStripes);
  Stripe& s = stripes_[stripe];
  s.counts[BucketOf(nanos)].fetch_add(1, std::memory_order_relaxed);
  s.sum.fetch_add(nanos, std::memory_order_relaxed);
  uint64_t m = s.max.load(std::memory_order_relaxed);
  while (nanos > m && !s.max.compare_exchange_weak(m, nanos, std::memory_order_relaxed)) {
  }
}

LatencySummary LatencyHistogram::Summary() const {
  std::array<uint64_t, kBuckets> counts{};
  LatencySummary out;
  for (const Stripe& s : stripes_) {
    for (int b = 0; b < kBuckets; ++b) counts[b] += s.counts[b].load(std::memory_order_relaxed);
    out.max_ns = std::max(out.max_ns, s.max.load(std::memory_order_relaxed));
  }
  for (uint64_t c : counts) out.count += c;
  if (out.count == 0) return out;
  const auto percentile = [&](double q) {
    const uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(out.count - 1)) + 1;
    uint64_t seen = 0;
    for (int b = 0; b < kBuckets; ++b) {
      seen += counts[b];
      if (seen >= rank) return std::min(UpperBound(b), out.max_ns);
    }
    return out.max_ns;
  };
  out.p50_ns = percentile(0.50);
  out.p99_ns = percentile(0.99);
  out.p999_ns = percentile(0.999);
  return out;
}

LatencyHistogramData LatencyHistogram::Data() const {
  LatencyHistogramData out;
  out.counts.assign(kBuckets, 0);
  for (const Stripe& s : stripes_) {
    for (int b = 0; b < kBuckets; ++b) out.counts[b] += s.counts[b].load(std::memory_order_relaxed);
    out.sum_ns += s.sum.load(std::memory_order_relaxed);
  }
  return out;
}

}  // namespace asidekv::core
