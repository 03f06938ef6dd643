// A Store with a Redis tier (Options::redis) over PostgreSQL, against a private redis-server and
// PostgreSQL (tests/testing/): the tiers in order (near, Redis, database), invalidation pushed to
// another Store, the two consistency modes' promises, Redis failure as a slowdown, options and
// secrets. Cross-process promises are checked by tests/distributed/fault_campaign_test.cc.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <variant>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "asidekv/asidekv.h"
#include "cache/clock.h"
#include "core/options_fields.h"
#include "core/store_opener.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/forwarding_cache.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/status_matchers.h"
#include "util/monotonic_clock.h"

namespace asidekv {
namespace {

using ::asidekv::testing::IsOkAndHolds;
using ::asidekv::testing::PostgresServer;
using ::asidekv::testing::RedisServer;
using ::asidekv::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr absl::Duration kBound = absl::Milliseconds(50);

class RedisStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(postgres_.Init());
    ASSERT_OK(redis_.Init());
  }

  Options MakeOptions() const {
    Options o;
    o.postgres = postgres_.conninfo();
    o.postgres_connections = 2;
    o.max_staleness = absl::Seconds(30);
    o.redis = redis_.address();
    o.redis_connections = 2;
    o.redis_timeout = absl::Milliseconds(500);
    o.coherence_bound = kBound;
    return o;
  }

  std::unique_ptr<Store> Open(const Options& o) {
    absl::StatusOr<std::unique_ptr<Store>> s = Store::Open(o);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : nullptr;
  }

  // Waits (up to 10 s) until the Store's cache serves hits again: a Get of a cached key is a hit.
  static void WaitUntilServing(Store& store, std::string_view cached_key) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      ASSERT_OK(store.Get(cached_key).status());
      const uint64_t hits = store.GetStats().cache_hits;
      ASSERT_OK(store.Get(cached_key).status());
      if (store.GetStats().cache_hits > hits) return;
      absl::SleepFor(absl::Milliseconds(10));
    }
    FAIL() << "the cache did not serve again within 10 s";
  }

  PostgresServer postgres_;
  RedisServer redis_;
};

TEST_F(RedisStoreTest, MissGoesNearThenRedisThenDatabase) {
  auto a = Open(MakeOptions());
  auto b = Open(MakeOptions());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_OK(a->Put("k", "v"));
  EXPECT_THAT(a->Get("k"), IsOkAndHolds("v"));  // Lease won: the database, then Redis filled.
  EXPECT_EQ(a->GetStats().remote_leases_won, 1u);
  EXPECT_EQ(a->GetStats().db_reads, 1u);
  EXPECT_THAT(b->Get("k"), IsOkAndHolds("v"));  // Redis answers: no database read.
  EXPECT_EQ(b->GetStats().remote_hits, 1u);
  EXPECT_EQ(b->GetStats().db_reads, 0u);
  // Then from b's own cache.
  WaitUntilServing(*b, "k");
  EXPECT_THAT(b->Get("absent"), StatusIs(absl::StatusCode::kNotFound));
}

// Only writes broadcast (remote/redis_tier.h): the Store that filled Redis keeps the copy it
// cached, so its next Get is a hit of its own cache, not a trip to Redis; a fill sends no
// invalidation to anyone.
TEST_F(RedisStoreTest, AFillCostsNoStoreItsCachedCopy) {
  auto a = Open(MakeOptions());
  auto b = Open(MakeOptions());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_OK(a->Put("k", "v"));
  absl::SleepFor(4 * kBound);  // The Put's broadcast has arrived everywhere.
  const uint64_t a_received = a->GetStats().invalidations_received;
  const uint64_t b_received = b->GetStats().invalidations_received;
  ASSERT_THAT(a->Get("k"), IsOkAndHolds("v"));  // Lease won, the database read, Redis filled.
  ASSERT_EQ(a->GetStats().remote_leases_won, 1u);
  absl::SleepFor(4 * kBound);  // A broadcast of the fill would have arrived by now.
  const Stats before = a->GetStats();
  EXPECT_THAT(a->Get("k"), IsOkAndHolds("v"));
  const Stats after = a->GetStats();
  EXPECT_EQ(after.cache_hits, before.cache_hits + 1);
  EXPECT_EQ(after.remote_hits, before.remote_hits);
  EXPECT_EQ(a->GetStats().invalidations_received, a_received);
  EXPECT_EQ(b->GetStats().invalidations_received, b_received);
}

TEST_F(RedisStoreTest, AnotherStoresWriteReachesThisCacheWithinTheBound) {
  auto a = Open(MakeOptions());
  auto b = Open(MakeOptions());
  ASSERT_OK(a->Put("k", "old"));
  ASSERT_THAT(b->Get("k"), IsOkAndHolds("old"));
  WaitUntilServing(*b, "k");  // b's cache holds "old" and serves it.
  ASSERT_THAT(b->Get("k"), IsOkAndHolds("old"));
  ASSERT_OK(a->Put("k", "new"));
  EXPECT_THAT(a->Get("k"), IsOkAndHolds("new"));  // The writer sees its write at once.
  absl::SleepFor(kBound);                         // kBounded: a Get that starts Δ later sees it.
  EXPECT_THAT(b->Get("k"), IsOkAndHolds("new"));
  EXPECT_GE(b->GetStats().invalidations_received, 1u);
}

TEST_F(RedisStoreTest, AnEntryThatNeverWentThroughRedisIsInvalidatedToo) {
  // kUpdate caches the written value in the writer's own cache; Redis holds nothing for the key,
  // so another Store's write has no value to delete there, and must still be broadcast.
  Options o = MakeOptions();
  o.write_policy = WritePolicy::kUpdate;
  auto a = Open(o);
  auto b = Open(o);
  for (int i = 0; i < 10; ++i) {
    const std::string mine = absl::StrCat("b", i);
    const std::string theirs = absl::StrCat("a", i);
    ASSERT_OK(b->Put("k", mine));
    ASSERT_THAT(b->Get("k"), IsOkAndHolds(mine));
    ASSERT_OK(a->Put("k", theirs));
    absl::SleepFor(kBound);
    EXPECT_THAT(b->Get("k"), IsOkAndHolds(theirs));
  }
}

TEST_F(RedisStoreTest, StrictWriteIsSeenEverywhereOnceItReturns) {
  Options o = MakeOptions();
  o.consistency = Consistency::kStrict;
  auto a = Open(o);
  auto b = Open(o);
  for (int i = 0; i < 20; ++i) {
    const std::string v = absl::StrCat("v", i);
    ASSERT_THAT(b->Get("k"),
                StatusIs(i == 0 ? absl::StatusCode::kNotFound : absl::StatusCode::kOk));
    ASSERT_OK(a->Put("k", v));
    // No sleep: the write returned, so no Store may serve the value it replaced.
    EXPECT_THAT(b->Get("k"), IsOkAndHolds(v));
  }
}

TEST_F(RedisStoreTest, NegativeEntriesGoThroughRedisAndAreInvalidatedByAnInsert) {
  Options o = MakeOptions();
  o.negative_ttl = absl::Seconds(30);
  o.consistency = Consistency::kStrict;
  auto a = Open(o);
  auto b = Open(o);
  EXPECT_THAT(a->Get("k"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(b->Get("k"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(b->GetStats().remote_hits, 1u);  // The "not found" a cached in Redis.
  ASSERT_OK(a->Put("k", "v"));
  EXPECT_THAT(b->Get("k"), IsOkAndHolds("v"));
}

TEST_F(RedisStoreTest, RedisDownMakesReadsSlowerNeverWrong) {
  auto a = Open(MakeOptions());
  auto b = Open(MakeOptions());
  ASSERT_OK(a->Put("k", "v1"));
  ASSERT_THAT(b->Get("k"), IsOkAndHolds("v1"));
  ASSERT_OK(redis_.Kill());
  // Writes succeed (kBounded), every Store reads them: the caches stopped serving when the
  // invalidation channel died, and the database answers.
  ASSERT_OK(a->Put("k", "v2"));
  EXPECT_THAT(a->Get("k"), IsOkAndHolds("v2"));  // Own write at once, Redis down.
  absl::SleepFor(kBound);
  EXPECT_THAT(b->Get("k"), IsOkAndHolds("v2"));
  EXPECT_GT(a->GetStats().owed_invalidations, 0u);
  EXPECT_GT(b->GetStats().coherence_flushes, 0u);
  // Back up, empty: the tiers recover by themselves.
  ASSERT_OK(redis_.Start());
  ASSERT_OK(a->Put("k", "v3"));
  WaitUntilServing(*b, "k");
  EXPECT_THAT(b->Get("k"), IsOkAndHolds("v3"));
  // Redis serves again once each Store's breaker lets a call through (within 2 s).
  const uint64_t remote_hits = b->GetStats().remote_hits;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  for (int i = 0; b->GetStats().remote_hits == remote_hits && absl::Now() < deadline; ++i) {
    const std::string key = absl::StrCat("r", i);
    ASSERT_OK(a->Put(key, "x"));
    ASSERT_THAT(a->Get(key), IsOkAndHolds("x"));
    ASSERT_THAT(b->Get(key), IsOkAndHolds("x"));
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_GT(b->GetStats().remote_hits, remote_hits);
}

TEST_F(RedisStoreTest, PausedRedisStopsCacheHitsAndWritesStillLand) {
  auto a = Open(MakeOptions());
  auto b = Open(MakeOptions());
  ASSERT_OK(a->Put("k", "v1"));
  ASSERT_THAT(b->Get("k"), IsOkAndHolds("v1"));
  WaitUntilServing(*b, "k");
  ASSERT_OK(redis_.Pause());
  ASSERT_OK(a->Put("k", "v2"));  // Its UNLINK times out: owed.
  absl::SleepFor(kBound);
  EXPECT_THAT(b->Get("k"), IsOkAndHolds("v2"));  // b's gate closed: no stale hit.
  ASSERT_OK(redis_.Unpause());
  WaitUntilServing(*b, "k");
  EXPECT_THAT(b->Get("k"), IsOkAndHolds("v2"));
  EXPECT_GT(b->GetStats().heartbeat_lapses, 0u);
}

// Records the serving horizons the Store gives its cache.
class HorizonRecordingCache : public testing::ForwardingCache {
 public:
  using ForwardingCache::ForwardingCache;
  void SetServingHorizon(int64_t nanos) override {
    if (calls_.fetch_add(1) == 0) first_.store(nanos);
    last_.store(nanos);
    ForwardingCache::SetServingHorizon(nanos);
  }
  int64_t first() const { return first_.load(); }
  int64_t last() const { return last_.load(); }

 private:
  std::atomic<int> calls_{0};
  std::atomic<int64_t> first_{-1};
  std::atomic<int64_t> last_{-1};
};

// The cache itself withholds hits while the coherence gate is closed: its serving horizon is
// closed before the channel starts, follows each PONG's deadline, and stops moving (so it
// passes within the bound) while Redis is paused.
TEST_F(RedisStoreTest, TheCacheServesOnlyWhileTheGateIsOpen) {
  HorizonRecordingCache* recorder = nullptr;
  core::StoreHooks hooks;
  hooks.wrap_cache = [&](std::unique_ptr<cache::Cache> built) -> std::unique_ptr<cache::Cache> {
    auto wrapped = std::make_unique<HorizonRecordingCache>(std::move(built));
    recorder = wrapped.get();
    return wrapped;
  };
  absl::StatusOr<std::unique_ptr<Store>> opened = core::StoreOpener::Open(MakeOptions(), hooks);
  ASSERT_OK(opened.status());
  std::unique_ptr<Store> store = *std::move(opened);
  ASSERT_NE(recorder, nullptr);
  EXPECT_EQ(recorder->first(), 0);
  ASSERT_OK(store->Put("k", "v"));
  WaitUntilServing(*store, "k");
  EXPECT_GT(recorder->last(), util::MonotonicNanos());
  ASSERT_OK(redis_.Pause());
  absl::SleepFor(kBound * 2);
  EXPECT_LT(recorder->last(), util::MonotonicNanos());
  const uint64_t hits = store->GetStats().cache_hits;
  EXPECT_THAT(store->Get("k"), IsOkAndHolds("v"));
  EXPECT_EQ(store->GetStats().cache_hits, hits);
  ASSERT_OK(redis_.Unpause());
  WaitUntilServing(*store, "k");
  EXPECT_GT(recorder->last(), util::MonotonicNanos());
}

// A test clock cannot drive the gate, which runs on the real clock.
TEST_F(RedisStoreTest, ATestClockIsRefusedWithACoherentCache) {
  struct StillClock : cache::Clock {
    int64_t NowNanos() const override { return 1; }
  } clock;
  core::StoreHooks hooks;
  hooks.clock = &clock;
  EXPECT_THAT(core::StoreOpener::Open(MakeOptions(), hooks).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("test clock")));
}

TEST_F(RedisStoreTest, FlushallFlushesEveryCache) {
  auto a = Open(MakeOptions());
  ASSERT_OK(a->Put("k", "v"));
  ASSERT_THAT(a->Get("k"), IsOkAndHolds("v"));
  WaitUntilServing(*a, "k");
  const uint64_t flushes = a->GetStats().coherence_flushes;
  ASSERT_OK(redis_.Cli({"FLUSHALL"}).status());
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (a->GetStats().coherence_flushes == flushes && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_GT(a->GetStats().coherence_flushes, flushes);
  EXPECT_EQ(a->GetStats().cache_entries, 0u);
  EXPECT_THAT(a->Get("k"), IsOkAndHolds("v"));
}

TEST_F(RedisStoreTest, BadRedisOptionsAreRefusedClearly) {
  Options o = MakeOptions();
  o.redis = "no-port";
  EXPECT_THAT(Store::Open(o), StatusIs(absl::StatusCode::kInvalidArgument));
  o = MakeOptions();
  o.redis_prefix = "a{b";
  EXPECT_THAT(Store::Open(o), StatusIs(absl::StatusCode::kInvalidArgument));
  o = MakeOptions();
  o.coherence_bound = absl::ZeroDuration();
  EXPECT_THAT(Store::Open(o), StatusIs(absl::StatusCode::kInvalidArgument));
  o = MakeOptions();
  o.coherence_bound = absl::Minutes(5);  // Beyond max_staleness.
  EXPECT_THAT(Store::Open(o), StatusIs(absl::StatusCode::kInvalidArgument));
  o = MakeOptions();
  o.lease_ttl = absl::InfiniteDuration();
  EXPECT_THAT(Store::Open(o), StatusIs(absl::StatusCode::kInvalidArgument));
  // A Redis tier needs a shared database.
  Options rocks;
  rocks.path = "/tmp/asidekv-redis-store-test-never-created";
  rocks.redis = redis_.address();
  EXPECT_THAT(Store::Open(rocks),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("shared")));
  // Nothing listens there.
  o = MakeOptions();
  o.redis = "127.0.0.1:1";
  EXPECT_THAT(Store::Open(o), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("127.0.0.1:1")));
}

TEST(RedisStoreSecretTest, PasswordNeverAppears) {
  PostgresServer postgres;
  ASSERT_OK(postgres.Init());
  RedisServer redis;
  testing::RedisServerOptions ro;
  ro.password = "s3cr3t-redis-pw";
  ASSERT_OK(redis.Init(ro));
  Options o;
  o.postgres = postgres.conninfo();
  o.max_staleness = absl::Seconds(30);
  o.redis = redis.address();
  o.redis_password = "wrong-s3cr3t-pw";
  absl::StatusOr<std::unique_ptr<Store>> refused = Store::Open(o);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(std::string(refused.status().message()), Not(HasSubstr("s3cr3t")));
  o.redis_password = ro.password;
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(o);
  ASSERT_OK(store.status());
  ASSERT_OK((*store)->Put("k", "v"));
  EXPECT_THAT((*store)->Get("k"), IsOkAndHolds("v"));
  // No listing of the options (the admin endpoint's `config`, the metrics) shows it.
  for (const core::OptionField& f : core::OptionFields()) {
    const core::OptionField::Value v = f.get((*store)->options());
    if (const std::string* text = std::get_if<std::string>(&v)) {
      EXPECT_THAT(*text, Not(HasSubstr("s3cr3t"))) << f.name;
    }
  }
  // Nor does an error of a server that went away.
  store->reset();
  ASSERT_OK(redis.Kill());
  absl::StatusOr<std::unique_ptr<Store>> down = Store::Open(o);
  EXPECT_THAT(down, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(down.status().ToString(), Not(HasSubstr("s3cr3t")));
}

}  // namespace
}  // namespace asidekv
