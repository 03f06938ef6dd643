#include <algorithm>
#include <random>
#include <string>
#include <string_view>

#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tools/trace/opt.h"
#include "tools/trace/replay.h"

namespace asidekv::trace {
namespace {

// One character per request: "abac" is a, b, a, c.
Trace MakeTrace(std::string_view requests) {
  TraceBuilder builder("test");
  for (char c : requests) EXPECT_OK(builder.AddLine(std::string(1, c)));
  absl::StatusOr<Trace> t = builder.Finish();
  EXPECT_OK(t);
  return t.ok() ? *std::move(t) : Trace{};
}

TEST(OptTest, HandCheckedTrace) {
  // Capacity 2. t3 'c' misses with {a, b} cached; a is next used at t5, b at t4: evict a.
  // Hits: t2 (a), t4 (b). LRU would evict b at t3 and hit only at t2.
  const Trace t = MakeTrace("abacba");
  const ReplayResult r = ReplayOpt(t, 2);
  EXPECT_EQ(r.requests, 6u);
  EXPECT_EQ(r.hits, 2u);
  ASSERT_OK_AND_ASSIGN(ReplayResult lru, ReplayPolicy(t, "lru", 2));
  EXPECT_EQ(lru.hits, 1u);
}

TEST(OptTest, AlwaysAdmitsTheMissedKey) {
  // At t2 'c' (never used again) must be admitted, evicting b (next use t4 > a's t3): 1 hit.
  // A policy allowed to bypass c would get 2.
  EXPECT_EQ(ReplayOpt(MakeTrace("abcab"), 2).hits, 1u);
}

TEST(OptTest, EdgeCapacities) {
  const Trace t = MakeTrace("abcabcaab");
  EXPECT_EQ(ReplayOpt(t, 0).hits, 0u);
  EXPECT_EQ(ReplayOpt(t, 3).hits, 6u);  // Everything fits: all but the first requests hit.
  EXPECT_EQ(ReplayOpt(t, 100).hits, 6u);
  EXPECT_EQ(ReplayOpt(t, 1).hits, 1u);  // Only the repeated 'a' at t6..t7.
}

// OPT bounds every policy that admits each missed key, as LRU does. (S3-FIFO may evict the key
// it just inserted when small holds nothing else, which is no admission: not bounded here.)
TEST(OptTest, BoundsLruOnARandomTrace) {
  std::mt19937 rng(7);
  std::string requests;
  for (int i = 0; i < 20000; ++i) {
    // Skewed: low characters are hot.
    const unsigned a = rng() % 90, b = rng() % 90;
    requests.push_back(static_cast<char>('!' + std::min(a, b)));
  }
  const Trace t = MakeTrace(requests);
  for (uint64_t capacity : {1, 5, 20, 60}) {
    ASSERT_OK_AND_ASSIGN(ReplayResult lru, ReplayPolicy(t, "lru", capacity));
    const ReplayResult opt = ReplayOpt(t, capacity);
    EXPECT_LE(lru.hits, opt.hits) << capacity;
    EXPECT_GT(opt.hits, 0u);
  }
}

}  // namespace
}  // namespace asidekv::trace
