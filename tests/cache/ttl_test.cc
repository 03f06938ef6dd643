// Tests of TTLs with a FakeClock (never sleeping): default and per-entry TTLs, the exact expiry
// boundary, sweeping without lookups, amortised sweeping on publish, and jitter.

#include <time.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cache/sharded_cache.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "util/monotonic_clock.h"

namespace asidekv::cache {
namespace {

class TtlTest : public ::testing::Test {
 protected:
  std::unique_ptr<ShardedCache> Make(absl::Duration default_ttl = absl::InfiniteDuration(),
                                     double jitter = 0, int num_shards = 1) {
    CacheOptions options;
    options.capacity = 1 << 20;
    options.num_shards = num_shards;
    options.clock = &clock_;
    options.default_ttl = default_ttl;
    options.ttl_jitter = jitter;
    auto cache = ShardedCache::Create(options);
    EXPECT_TRUE(cache.ok()) << cache.status();
    return cache.ok() ? std::move(*cache) : nullptr;
  }

  int64_t NowNanos() const { return clock_.NowNanos(); }

  testing::FakeClock clock_;
};

TEST_F(TtlTest, NoTtlMeansNoExpiry) {
  auto cache = Make();
  ASSERT_NE(cache, nullptr);
  ASSERT_TRUE(cache->Insert("k", "v", {}));
  ValueRef v = cache->Lookup("k");
  ASSERT_TRUE(v);
  EXPECT_EQ(v.expire_nanos(), 0);
  clock_.Advance(absl::Hours(24 * 365 * 100));
  EXPECT_TRUE(cache->Lookup("k"));
  EXPECT_EQ(cache->SweepExpired(100), 0u);
}

// Expiry follows CLOCK_MONOTONIC, never the wall clock: a wall-clock step (NTP, a date set by
// hand, a resumed VM) must neither expire every entry at once nor keep expired ones alive. The
// real clock's readings therefore lie between two CLOCK_MONOTONIC readings taken around them
// (the wall clock's would be decades off).
TEST(RealClockTest, ReadsTheMonotonicClockNotTheWallClock) {
  auto monotonic = [] {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
  };
  const int64_t before = monotonic();
  const int64_t now = RealClock()->NowNanos();
  const int64_t cache_now = util::MonotonicNanos();
  const int64_t after = monotonic();
  EXPECT_GE(now, before);
  EXPECT_LE(now, after);
  EXPECT_GE(cache_now, now);
  EXPECT_LE(cache_now, after);
}

// A finite TTL too long for the clock's range saturates (never expires) instead of overflowing.
TEST_F(TtlTest, HugeFiniteTtlSaturates) {
  auto cache = Make();
  ASSERT_NE(cache, nullptr);
  clock_.SetNanos(std::numeric_limits<int64_t>::max() / 2);
  ASSERT_TRUE(cache->Insert("k", "v", {.ttl = absl::Hours(24 * 365) * 500}));
  ValueRef v = cache->Lookup("k");
  ASSERT_TRUE(v);
  EXPECT_EQ(v.expire_nanos(), std::numeric_limits<int64_t>::max());
  clock_.Advance(absl::Hours(24 * 365 * 100));
  EXPECT_TRUE(cache->Lookup("k"));
}

TEST_F(TtlTest, ExpiresExactlyAtTheTtl) {
  auto cache = Make();
  ASSERT_NE(cache, nullptr);
  const int64_t start = NowNanos();
  ASSERT_TRUE(cache->Insert("k", "v", {.ttl = absl::Seconds(10)}));
  ValueRef v = cache->Lookup("k");
  ASSERT_TRUE(v);
  EXPECT_EQ(v.expire_nanos(), start + absl::ToInt64Nanoseconds(absl::Seconds(10)));

  clock_.Advance(absl::Seconds(10) - absl::Nanoseconds(1));
  EXPECT_TRUE(cache->Lookup("k"));
  EXPECT_EQ(cache->BeginFill("k").role(), FillTicket::Role::kHit);
  clock_.Advance(absl::Nanoseconds(1));
  EXPECT_FALSE(cache->Lookup("k"));
  const CacheStats s = cache->GetStats();
  EXPECT_EQ(s.expirations, 1u);
  EXPECT_EQ(s.hits, 2u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.entries, 0u);
  EXPECT_EQ(s.charge, 0u);
  // The reader's handle outlives the expiry.
  EXPECT_EQ(v.value(), "v");
}

TEST_F(TtlTest, ExpiredEntryIsNeverAHitForBeginFill) {
  auto cache = Make();
  ASSERT_NE(cache, nullptr);
  ASSERT_TRUE(cache->Insert("k", "v", {.ttl = absl::Seconds(1)}));
  clock_.Advance(absl::Seconds(1));
  FillTicket t = cache->BeginFill("k");
  EXPECT_EQ(t.role(), FillTicket::Role::kLeader);
  EXPECT_EQ(cache->GetStats().expirations, 1u);
  EXPECT_EQ(cache->GetStats().entries, 0u);
}

// The serving horizon (Cache::SetServingHorizon): entries are served only while the clock reads
// before it, with or without a TTL; past it every lookup is a miss that leaves the entry in
// place, BeginFill() starts a load instead of returning the entry, and moving the horizon on
// serves the entry again. Expiry still wins over an open horizon.
TEST_F(TtlTest, EntriesAreServedOnlyBeforeTheServingHorizon) {
  auto cache = Make();
  ASSERT_NE(cache, nullptr);
  EntryOptions ttl;
  ttl.ttl = absl::Seconds(10);
  ASSERT_TRUE(cache->Insert("plain", "v", {}));
  ASSERT_TRUE(cache->Insert("ttl", "w", ttl));
  cache->SetServingHorizon(NowNanos() + absl::ToInt64Nanoseconds(absl::Seconds(1)));
  EXPECT_TRUE(cache->Lookup("plain"));
  EXPECT_TRUE(cache->Lookup("ttl"));

  clock_.Advance(absl::Seconds(1));  // Exactly at the horizon: withheld.
  const CacheStats before = cache->GetStats();
  EXPECT_FALSE(cache->Lookup("plain"));
  EXPECT_FALSE(cache->Lookup("ttl"));
  {
    FillTicket t = cache->BeginFill("plain");
    EXPECT_EQ(t.role(), FillTicket::Role::kLeader);
  }
  const CacheStats after = cache->GetStats();
  EXPECT_EQ(after.misses - before.misses, 2u);
  EXPECT_EQ(after.expirations, before.expirations);  // Withheld, not dropped.
  EXPECT_EQ(after.entries, 2u);

  cache->SetServingHorizon(NowNanos() + 1);
  EXPECT_TRUE(cache->Lookup("plain"));
  ValueRef v = cache->Lookup("ttl");
  ASSERT_TRUE(v);
  EXPECT_EQ(v.value(), "w");
  {
    FillTicket t = cache->BeginFill("plain");
    EXPECT_EQ(t.role(), FillTicket::Role::kHit);
  }

  cache->SetServingHorizon(Cache::kNoHorizon);
  clock_.Advance(absl::Seconds(9));  // The TTL entry expires; the horizon never hides it.
  EXPECT_TRUE(cache->Lookup("plain"));
  EXPECT_FALSE(cache->Lookup("ttl"));
  EXPECT_EQ(cache->GetStats().expirations, 1u);
}

TEST_F(TtlTest, DefaultTtlAppliesUnlessTheEntryHasItsOwn) {
  auto cache = Make(/*default_ttl=*/absl::Seconds(5));
  ASSERT_NE(cache, nullptr);
  ASSERT_TRUE(cache->Insert("default", "v", {}));
  ASSERT_TRUE(cache->Insert("longer", "v", {.ttl = absl::Seconds(60)}));
  ASSERT_TRUE(cache->Insert("shorter", "v", {.ttl = absl::Seconds(1)}));
  ASSERT_TRUE(cache->Insert("forever", "v", {.ttl = absl::InfiniteDuration()}));
  // Fills and kUpdate writes take the same options.
  FillTicket t = cache->BeginFill("filled");
  const std::string_view v = "v";
  ASSERT_EQ(cache->CompleteFill(&t, &v, {}, std::string(v)), FillResult::kInserted);
  WriteToken w = cache->BeginWrite("written");
  cache->EndWrite(w, true, &v, {.ttl = absl::Seconds(2)});

  clock_.Advance(absl::Seconds(1));
  EXPECT_FALSE(cache->Lookup("shorter"));
  EXPECT_TRUE(cache->Lookup("written"));
  clock_.Advance(absl::Seconds(1));
  EXPECT_FALSE(cache->Lookup("written"));
  EXPECT_TRUE(cache->Lookup("default"));
  EXPECT_TRUE(cache->Lookup("filled"));
  clock_.Advance(absl::Seconds(3));
  EXPECT_FALSE(cache->Lookup("default"));
  EXPECT_FALSE(cache->Lookup("filled"));
  EXPECT_TRUE(cache->Lookup("longer"));
  EXPECT_TRUE(cache->Lookup("forever"));
  clock_.Advance(absl::Seconds(55));
  EXPECT_FALSE(cache->Lookup("longer"));
  EXPECT_TRUE(cache->Lookup("forever"));
  EXPECT_EQ(cache->GetStats().expirations, 5u);
}

TEST_F(TtlTest, ZeroOrNegativeEntryTtlIsExpiredAtOnce) {
  auto cache = Make();
  ASSERT_NE(cache, nullptr);
  ASSERT_TRUE(cache->Insert("zero", "v", {.ttl = absl::ZeroDuration()}));
  ASSERT_TRUE(cache->Insert("negative", "v", {.ttl = -absl::Seconds(1)}));
  EXPECT_FALSE(cache->Lookup("zero"));
  EXPECT_FALSE(cache->Lookup("negative"));
}

TEST_F(TtlTest, SweepExpiredReclaimsWithoutLookups) {
  auto cache = Make(absl::InfiniteDuration(), 0, /*num_shards=*/4);
  ASSERT_NE(cache, nullptr);
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(cache->Insert(absl::StrCat("short", i), "v", {.ttl = absl::Seconds(1)}));
  }
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(cache->Insert(absl::StrCat("keep", i), "v", {}));
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(cache->GetStats().entries, 50u);  // Nothing reclaimed until swept.
  EXPECT_EQ(cache->SweepExpired(15), 15u);
  EXPECT_EQ(cache->GetStats().entries, 35u);
  EXPECT_EQ(cache->SweepExpired(1000), 25u);
  EXPECT_EQ(cache->SweepExpired(1000), 0u);
  const CacheStats s = cache->GetStats();
  EXPECT_EQ(s.entries, 10u);
  EXPECT_EQ(s.charge, 10 * cache->ChargeOf("keep0", "v"));
  EXPECT_EQ(s.expirations, 40u);
  EXPECT_EQ(s.hits + s.misses, 0u);
}

TEST_F(TtlTest, SweepLeavesEntriesNotYetDue) {
  auto cache = Make();
  ASSERT_NE(cache, nullptr);
  ASSERT_TRUE(cache->Insert("a", "v", {.ttl = absl::Seconds(1)}));
  ASSERT_TRUE(cache->Insert("b", "v", {.ttl = absl::Seconds(2)}));
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(cache->SweepExpired(10), 1u);
  EXPECT_TRUE(cache->Lookup("b"));
}

// Every publish reclaims up to two expired entries, so dead entries drain as new ones arrive even
// when nobody looks them up or sweeps.
TEST_F(TtlTest, PublishingReclaimsExpiredEntries) {
  auto cache = Make();
  ASSERT_NE(cache, nullptr);
  constexpr int kDead = 100;
  for (int i = 0; i < kDead; ++i) {
    ASSERT_TRUE(cache->Insert(absl::StrCat("dead", i), "v", {.ttl = absl::Seconds(1)}));
  }
  clock_.Advance(absl::Seconds(2));
  for (int i = 0; i < kDead / 2; ++i) {
    ASSERT_TRUE(cache->Insert(absl::StrCat("live", i), "v", {}));
    const CacheStats s = cache->GetStats();
    // Dead entries left: kDead - 2 * (inserts so far).
    ASSERT_EQ(s.entries, uint64_t(kDead - 2 * (i + 1)) + uint64_t(i + 1));
  }
  EXPECT_EQ(cache->GetStats().expirations, uint64_t{kDead});
  EXPECT_EQ(cache->SweepExpired(1000), 0u);
}

// With a small budget the dead entries' charge is what gets reclaimed first: live entries are not
// evicted while expired ones hold the space.
TEST_F(TtlTest, ExpiredEntriesGoBeforeLiveOnesAreEvicted) {
  CacheOptions options;
  options.capacity = 20;
  options.num_shards = 1;
  options.clock = &clock_;
  options.weigher = [](std::string_view, std::string_view) -> uint64_t { return 1; };
  auto made = ShardedCache::Create(options);
  ASSERT_TRUE(made.ok());
  auto& cache = *made;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(cache->Insert(absl::StrCat("live", i), "v", {}));
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(cache->Insert(absl::StrCat("dead", i), "v", {.ttl = absl::Seconds(1)}));
  }
  clock_.Advance(absl::Seconds(1));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(cache->Insert(absl::StrCat("new", i), "v", {}));
  EXPECT_EQ(cache->GetStats().evictions, 0u);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(cache->Lookup(absl::StrCat("live", i))) << i;
}

TEST_F(TtlTest, JitterSpreadsExpiriesWithinTheBand) {
  constexpr double kJitter = 0.5;
  const absl::Duration ttl = absl::Seconds(100);
  auto cache = Make(/*default_ttl=*/ttl, kJitter);
  ASSERT_NE(cache, nullptr);
  const int64_t start = NowNanos();
  const int64_t lo = start + absl::ToInt64Nanoseconds(ttl * (1 - kJitter));
  const int64_t hi = start + absl::ToInt64Nanoseconds(ttl);
  int64_t min_seen = INT64_MAX;
  int64_t max_seen = INT64_MIN;
  constexpr int kEntries = 400;
  for (int i = 0; i < kEntries; ++i) {
    const std::string key = absl::StrCat("k", i);
    ASSERT_TRUE(cache->Insert(key, "v", i % 2 == 0 ? EntryOptions{} : EntryOptions{.ttl = ttl}));
    ValueRef v = cache->Lookup(key);
    ASSERT_TRUE(v);
    ASSERT_GE(v.expire_nanos(), lo);
    ASSERT_LE(v.expire_nanos(), hi);
    min_seen = std::min(min_seen, v.expire_nanos());
    max_seen = std::max(max_seen, v.expire_nanos());
  }
  // Spread over the band, not bunched at one end (each tenth of it is hit with p > 1 - 1e-18).
  const int64_t band = hi - lo;
  EXPECT_LT(min_seen, lo + band / 10);
  EXPECT_GT(max_seen, hi - band / 10);
  // All are alive just before the band and gone at its end.
  clock_.SetNanos(lo - 1);
  EXPECT_EQ(cache->SweepExpired(kEntries), 0u);
  clock_.SetNanos(hi);
  EXPECT_EQ(cache->SweepExpired(kEntries), uint64_t{kEntries});
}

TEST_F(TtlTest, JitterLeavesInfiniteTtlAlone) {
  auto cache = Make(absl::InfiniteDuration(), 0.9);
  ASSERT_NE(cache, nullptr);
  ASSERT_TRUE(cache->Insert("k", "v", {}));
  EXPECT_EQ(cache->Lookup("k").expire_nanos(), 0);
}

}  // namespace
}  // namespace asidekv::cache
