#include "core/latency_histogram.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace asidekv::core {
namespace {

TEST(LatencyHistogramTest, BucketsBoundTheRelativeError) {
  for (uint64_t v : {0ull, 1ull, 15ull, 16ull, 17ull, 1000ull, 123456789ull, ~0ull >> 1}) {
    const int b = LatencyHistogram::BucketOf(v);
    ASSERT_LT(b, LatencyHistogram::kBuckets);
    const uint64_t hi = LatencyHistogram::UpperBound(b);
    EXPECT_GE(hi, v);
    EXPECT_LE(static_cast<double>(hi - v), static_cast<double>(v) / 16.0 + 1) << v;
    if (b > 0) {
      EXPECT_LT(LatencyHistogram::UpperBound(b - 1), v) << v;
    }
  }
}

// Threads are numbered as they first record; the numbering must never produce a stripe index
// outside the array, however many threads a long-lived process has started (a 32-bit signed
// counter went negative after 2^31 threads and indexed stripes_[-3]).
TEST(LatencyHistogramTest, StripeStaysInRangePastTwoToTheThirtyOneThreads) {
  for (uint64_t first : {(uint64_t{1} << 31) - 2, (uint64_t{1} << 32) - 2, ~uint64_t{0} - 2}) {
    LatencyHistogram h;
    LatencyHistogram::SetNextThreadOrdinalForTesting(first);
    for (int t = 0; t < 6; ++t) std::thread([&h] { h.Record(1000); }).join();
    EXPECT_EQ(h.Summary().count, 6u) << "first ordinal " << first;
  }
}

// Data() gives every record's bucket and the exact sum, across the stripes of several threads.
TEST(LatencyHistogramTest, DataCountsEveryBucketAndTheSum) {
  LatencyHistogram h;
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&h] {
      h.Record(5);
      h.Record(1000);
      h.Record(2'000'000);
    });
  }
  for (std::thread& t : threads) t.join();
  const LatencyHistogramData d = h.Data();
  ASSERT_EQ(d.counts.size(), static_cast<size_t>(LatencyHistogram::kBuckets));
  EXPECT_EQ(d.sum_ns, 3u * (5 + 1000 + 2'000'000));
  EXPECT_EQ(d.counts[LatencyHistogram::BucketOf(5)], 3u);
  EXPECT_EQ(d.counts[LatencyHistogram::BucketOf(1000)], 3u);
  EXPECT_EQ(d.counts[LatencyHistogram::BucketOf(2'000'000)], 3u);
  uint64_t total = 0;
  for (uint64_t c : d.counts) total += c;
  EXPECT_EQ(total, 9u);
  EXPECT_EQ(h.Summary().count, 9u);
}

TEST(LatencyHistogramTest, PercentilesFromConcurrentRecords) {
  LatencyHistogram h;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (uint64_t i = 1; i <= 1000; ++i) h.Record(i * 1000);
    });
  }
  for (auto& t : threads) t.join();
  const LatencySummary s = h.Summary();
  EXPECT_EQ(s.count, 4000u);
  EXPECT_EQ(s.max_ns, 1000000u);
  EXPECT_GE(s.p50_ns, 500000u);
  EXPECT_LE(s.p50_ns, 500000u * 17 / 16);
  EXPECT_GE(s.p99_ns, 990000u);
  EXPECT_LE(s.p999_ns, 1000000u);
}

}  // namespace
}  // namespace asidekv::core
