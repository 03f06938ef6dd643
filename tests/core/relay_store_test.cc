// The commit-log relay (Options::commit_log_relay) over a private PostgreSQL started with
// logical decoding and a private redis-server: exactly one relaying Store and its takeover; a
// write whose Redis invalidation never happened (a sync point in the write path, or psql
// straight into the table) leaves no tier serving the old value once the relay ran; replay after
// a relay that died before confirming; a dropped slot, a TRUNCATE and a relay too far behind
// flush the tiers; the options and the server check. Every wait polls the observable effect
// (a Get's answer, a Redis key, a counter) against a deadline; nothing sleeps to assert.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "asidekv/asidekv.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/status_matchers.h"
#include "util/sync_point.h"

namespace asidekv {
namespace {

using ::asidekv::testing::IsOkAndHolds;
using ::asidekv::testing::PostgresServer;
using ::asidekv::testing::PostgresServerOptions;
using ::asidekv::testing::RedisServer;
using ::asidekv::testing::StatusIs;
using ::testing::HasSubstr;

constexpr absl::Duration kBound = absl::Milliseconds(50);
// How long a relayed change may take to show, in these tests (the relay's lag is milliseconds;
// this leaves room for a loaded machine and sanitizers).
constexpr absl::Duration kPatience = absl::Seconds(10);
constexpr char kSlot[] = "asidekv_relay_asidekv";

// Polls `done` every 5 ms until it holds or `limit` passes; returns how long it took, or
// InfiniteDuration when it never held.
absl::Duration WaitFor(const std::function<bool()>& done, absl::Duration limit = kPatience) {
  const absl::Time start = absl::Now();
  while (absl::Now() - start < limit) {
    if (done()) return absl::Now() - start;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return done() ? absl::Now() - start : absl::InfiniteDuration();
}

// psql's answer to `sql`, trimmed, or the error.
std::string Sql(const PostgresServer& server, const std::string& sql) {
  absl::StatusOr<std::string> out = server.Psql(sql);
  if (!out.ok()) return out.status().ToString();
  return std::string(absl::StripAsciiWhitespace(*out));
}

class RelayStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PostgresServerOptions o;
    o.logical_decoding = true;
    ASSERT_OK(postgres_.Init(o));
    ASSERT_OK(redis_.Init());
  }

  void TearDown() override {
    util::SyncPoint::Get()->DisableProcessing();
    util::SyncPoint::Get()->ClearAllCallBacks();
  }

  Options MakeOptions(bool relay = true) const {
    Options o;
    o.postgres = postgres_.conninfo();
    o.postgres_connections = 2;
    o.max_staleness = absl::Seconds(60);
    o.redis = redis_.address();
    o.redis_connections = 2;
    o.redis_timeout = absl::Milliseconds(500);
    o.coherence_bound = kBound;
    o.commit_log_relay = relay;
    o.log = [](LogSeverity, std::string_view) {};
    return o;
  }

  std::unique_ptr<Store> Open(const Options& o) {
    absl::StatusOr<std::unique_ptr<Store>> s = Store::Open(o);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : nullptr;
  }

  static bool Leads(const Store& s) { return s.GetStats().relay_leader == 1; }

  // Waits until `store` relays: it leads, and has flushed the tiers once for the slot it made
  // (each test's server is fresh), so the flush cannot land on what the test caches next.
  static void WaitLeading(const Store& store) {
    ASSERT_NE(WaitFor([&] { return Leads(store) && store.GetStats().relay_flushes >= 1; }),
              absl::InfiniteDuration());
  }

  // Caches `value` of `key` in `store`'s cache (and so in Redis): a Get, then Gets until one is
  // a hit.
  static void CacheIn(Store& store, const std::string& key, const std::string& value) {
    ASSERT_NE(WaitFor([&] {
                const uint64_t hits = store.GetStats().cache_hits;
                absl::StatusOr<std::string> v = store.Get(key);
                return v.ok() && *v == value && store.GetStats().cache_hits > hits;
              }),
              absl::InfiniteDuration());
  }

  bool RedisExists(const std::string& redis_key) const {
    absl::StatusOr<std::string> out = redis_.Cli({"EXISTS", redis_key});
    return out.ok() && out->find('1') != std::string::npos;
  }
  // Whether Redis holds a value of `key`.
  bool RedisHas(const std::string& key) const {
    return RedisExists(absl::StrCat("akv:v:{", key, "}"));
  }

  PostgresServer postgres_;
  RedisServer redis_;
};

TEST(RelayServerTest, WithoutLogicalDecodingOpenFailsAndCreatesNothing) {
  PostgresServer postgres;
  ASSERT_OK(postgres.Init());  // wal_level = replica.
  RedisServer redis;
  ASSERT_OK(redis.Init());
  Options o;
  o.postgres = postgres.conninfo();
  o.max_staleness = absl::Seconds(5);
  o.redis = redis.address();
  o.commit_log_relay = true;
  EXPECT_THAT(Store::Open(o),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("wal_level")));
  EXPECT_EQ(Sql(postgres, "SELECT count(*) FROM pg_class WHERE relname LIKE 'asidekv%'"), "0");
  EXPECT_EQ(Sql(postgres, "SELECT count(*) FROM pg_replication_slots"), "0");
}

TEST_F(RelayStoreTest, BadRelayOptionsAreRefusedClearly) {
  Options o = MakeOptions();
  o.redis.clear();
  EXPECT_THAT(Store::Open(o), StatusIs(absl::StatusCode::kInvalidArgument,
                                       HasSubstr("commit_log_relay needs postgres")));
  o = MakeOptions();
  o.relay_slot = "Bad-Slot";
  EXPECT_THAT(Store::Open(o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("relay_slot")));
  o = MakeOptions();
  o.relay_max_lag = absl::ZeroDuration();
  EXPECT_THAT(Store::Open(o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("relay_max_lag")));
}

TEST_F(RelayStoreTest, ExactlyOneStoreRelaysAndAnotherTakesOverWhenItCloses) {
  auto a = Open(MakeOptions());
  auto b = Open(MakeOptions());
  ASSERT_NE(WaitFor([&] { return a->GetStats().relay_flushes + b->GetStats().relay_flushes >= 1; }),
            absl::InfiniteDuration());
  // The other stays a follower while the leader lives (several retry periods).
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(a->GetStats().relay_leader + b->GetStats().relay_leader, 1u);
    absl::SleepFor(absl::Milliseconds(50));
  }
  std::unique_ptr<Store>& leader = Leads(*a) ? a : b;
  std::unique_ptr<Store>& follower = Leads(*a) ? b : a;
  leader.reset();
  const absl::Duration took = WaitFor([&] { return Leads(*follower); }, absl::Seconds(5));
  EXPECT_LT(took, absl::Seconds(2)) << "takeover";
  // And it relays.
  auto reader = Open(MakeOptions(/*relay=*/false));
  ASSERT_OK(follower->Put("k", "v1"));
  CacheIn(*reader, "k", "v1");
  ASSERT_OK(postgres_.Psql("DELETE FROM asidekv").status());
  EXPECT_NE(WaitFor([&] { return absl::IsNotFound(reader->Get("k").status()); }),
            absl::InfiniteDuration());
}

TEST_F(RelayStoreTest, AWriteWhoseInvalidationWasLostReachesEveryTier) {
  auto writer = Open(MakeOptions(/*relay=*/false));
  auto reader = Open(MakeOptions());
  WaitLeading(*reader);
  ASSERT_OK(writer->Put("k", "old"));
  // The relay's own invalidation of that write first: landing after CacheIn, it would empty
  // Redis (a slow relay on a loaded machine did).
  ASSERT_NE(WaitFor([&] { return reader->GetStats().relay_invalidations >= 1; }),
            absl::InfiniteDuration());
  const uint64_t relayed_before = reader->GetStats().relay_invalidations;
  CacheIn(*reader, "k", "old");
  ASSERT_TRUE(RedisHas("k"));
  // The writer commits and never invalidates Redis (as if it died right after its commit).
  util::SyncPoint* sp = util::SyncPoint::Get();
  sp->SetCallBack("StoreImpl::WriteOne:Committed",
                  [](void* arg) { *static_cast<bool*>(arg) = true; });
  sp->EnableProcessing();
  ASSERT_OK(writer->Put("k", "new"));
  sp->DisableProcessing();
  sp->ClearAllCallBacks();
  const absl::Duration took = WaitFor([&] {
    absl::StatusOr<std::string> v = reader->Get("k");
    return v.ok() && *v == "new";
  });
  EXPECT_NE(took, absl::InfiniteDuration()) << "the reader kept serving the old value";
  EXPECT_THAT(reader->Get("k"), IsOkAndHolds("new"));
  EXPECT_GT(reader->GetStats().relay_invalidations, relayed_before);
  const Stats s = reader->GetStats();
  EXPECT_GE(s.relay_lag.count, 1u);
  EXPECT_LT(s.relay_lag.p50_ns, uint64_t{1'000'000'000});
}

// A transaction is decoded as soon as its commit record is flushed, which is before it ends in
// the server's process array: a read in between still sees the old row. A relay that
// invalidated then would let a reader put the old value back into Redis, where nothing would
// invalidate it again (until max_staleness). Forced here with synchronous replication to a
// standby that does not exist: the commit is flushed and decoded, and stays invisible until
// the setting is cleared.
TEST_F(RelayStoreTest, InvalidatesOnlyOnceTheChangeIsVisible) {
  Options o = MakeOptions();
  o.raw_values = true;  // So that psql writes values the Stores read as they are.
  auto relay = Open(o);
  WaitLeading(*relay);
  o.commit_log_relay = false;
  auto reader = Open(o);
  ASSERT_OK(relay->Put("k", "old"));
  CacheIn(*reader, "k", "old");
  const uint64_t relayed = relay->GetStats().relay_invalidations;
  ASSERT_OK(postgres_.Psql("ALTER SYSTEM SET synchronous_standby_names = 'nobody'").status());
  ASSERT_OK(postgres_.Psql("SELECT pg_reload_conf()").status());
  std::thread update([&] {
    EXPECT_OK(postgres_.Psql("UPDATE asidekv SET value = 'new' WHERE key = 'k'").status());
  });
  // The commit is flushed (the relay may receive it) and not visible: a reader still gets the
  // old value from the database.
  ASSERT_NE(WaitFor([&] {
              return Sql(postgres_,
                         "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'") ==
                     "1";
            }),
            absl::InfiniteDuration());
  WaitFor([&] { return relay->GetStats().relay_invalidations > relayed; }, absl::Seconds(1));
  EXPECT_THAT(reader->Get("k"), IsOkAndHolds("old"));
  ASSERT_OK(postgres_.Psql("ALTER SYSTEM RESET synchronous_standby_names").status());
  ASSERT_OK(postgres_.Psql("SELECT pg_reload_conf()").status());
  update.join();
  // Visible now: every tier lets go of the old value.
  EXPECT_NE(WaitFor([&] {
              absl::StatusOr<std::string> v = reader->Get("k");
              return v.ok() && *v == "new";
            }),
            absl::InfiniteDuration())
      << "Redis kept the value read before the change became visible";
}

TEST_F(RelayStoreTest, WritesOtherProgramsMakeToTheTableAreRelayed) {
  Options o = MakeOptions();
  o.raw_values = true;  // So that psql writes values the Stores read as they are.
  o.negative_ttl = absl::Seconds(60);
  auto a = Open(o);
  auto reader = Open(o);
  ASSERT_NE(
      WaitFor([&] { return a->GetStats().relay_flushes + reader->GetStats().relay_flushes >= 1; }),
      absl::InfiniteDuration());
  ASSERT_OK(a->Put("k", "old"));
  CacheIn(*reader, "k", "old");
  ASSERT_OK(postgres_.Psql("UPDATE asidekv SET value = 'new' WHERE key = 'k'").status());
  EXPECT_NE(WaitFor([&] {
              absl::StatusOr<std::string> v = reader->Get("k");
              return v.ok() && *v == "new";
            }),
            absl::InfiniteDuration());
  ASSERT_OK(postgres_.Psql("DELETE FROM asidekv WHERE key = 'k'").status());
  EXPECT_NE(WaitFor([&] { return absl::IsNotFound(reader->Get("k").status()); }),
            absl::InfiniteDuration());
  // A cached "not found", then an INSERT.
  EXPECT_THAT(reader->Get("n"), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK(postgres_.Psql("INSERT INTO asidekv VALUES ('n', 'there', nextval('asidekv_version'))")
                .status());
  EXPECT_NE(WaitFor([&] { return reader->Get("n").ok(); }), absl::InfiniteDuration());
  // A key changed in place: both keys.
  ASSERT_OK(a->Put("from", "x"));
  CacheIn(*reader, "from", "x");
  EXPECT_THAT(reader->Get("to"), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK(postgres_.Psql("UPDATE asidekv SET key = 'to' WHERE key = 'from'").status());
  EXPECT_NE(WaitFor([&] {
              return absl::IsNotFound(reader->Get("from").status()) && reader->Get("to").ok();
            }),
            absl::InfiniteDuration());
}

TEST_F(RelayStoreTest, ARelayThatDiedBeforeConfirmingReplaysHarmlessly) {
  auto relay = Open(MakeOptions());
  WaitLeading(*relay);
  auto reader = Open(MakeOptions(/*relay=*/false));
  // Neither write is confirmed (a confirmation of the first that reached the server before the
  // relay died would leave one transaction to replay).
  util::SyncPoint* sp = util::SyncPoint::Get();
  sp->SetCallBack("CommitLogRelay::Process:BeforeConfirm",
                  [](void* arg) { *static_cast<bool*>(arg) = true; });
  sp->EnableProcessing();
  ASSERT_OK(reader->Put("k", "v1"));
  ASSERT_OK(reader->Put("k", "v2"));
  const std::string at = Sql(postgres_, "SELECT pg_current_wal_lsn()");
  ASSERT_NE(WaitFor([&] { return relay->GetStats().relay_transactions >= 2; }),
            absl::InfiniteDuration());
  relay.reset();  // Dies with its invalidations landed and not confirmed.
  sp->DisableProcessing();
  sp->ClearAllCallBacks();
  const std::string confirmed_past =
      absl::StrCat("SELECT confirmed_flush_lsn >= '", at, "' FROM pg_replication_slots");
  ASSERT_EQ(Sql(postgres_, confirmed_past), "f");
  CacheIn(*reader, "k", "v2");  // Redis holds v2 again.
  auto next = Open(MakeOptions());
  // The next relay sends the same invalidations again: a miss, never an old value.
  EXPECT_NE(WaitFor([&] { return next->GetStats().relay_invalidations >= 2; }),
            absl::InfiniteDuration())
      << "leader " << next->GetStats().relay_leader << ", transactions "
      << next->GetStats().relay_transactions << ", invalidations "
      << next->GetStats().relay_invalidations << ", flushes " << next->GetStats().relay_flushes
      << ", slot: "
      << Sql(postgres_, "SELECT active, confirmed_flush_lsn FROM pg_replication_slots")
      << ", WAL now " << Sql(postgres_, "SELECT pg_current_wal_lsn()") << ", WAL at the write "
      << at;
  EXPECT_NE(WaitFor([&] { return Sql(postgres_, confirmed_past) == "t"; }),
            absl::InfiniteDuration());
  EXPECT_THAT(reader->Get("k"), IsOkAndHolds("v2"));
  EXPECT_THAT(next->Get("k"), IsOkAndHolds("v2"));
}

TEST_F(RelayStoreTest, ADroppedSlotFlushesTheTiersAndIsMadeAgain) {
  auto relay = Open(MakeOptions());
  WaitLeading(*relay);
  auto reader = Open(MakeOptions(/*relay=*/false));
  ASSERT_OK(reader->Put("k", "v"));
  // The relay's own invalidation of that write first: landing after CacheIn, it would empty
  // Redis (as in AWriteWhoseInvalidationWasLostReachesEveryTier).
  ASSERT_NE(WaitFor([&] { return relay->GetStats().relay_invalidations >= 1; }),
            absl::InfiniteDuration());
  CacheIn(*reader, "k", "v");
  ASSERT_TRUE(RedisHas("k"));
  const uint64_t flushes = relay->GetStats().relay_flushes;
  // End the relay's stream and drop its slot (retrying while the walsender still holds it).
  ASSERT_OK(
      postgres_
          .Psql(absl::StrCat(
              "DO $$ BEGIN FOR i IN 1..5000 LOOP BEGIN "
              "PERFORM pg_terminate_backend(active_pid) FROM pg_replication_slots "
              "WHERE slot_name = '",
              kSlot, "' AND active_pid IS NOT NULL; PERFORM pg_drop_replication_slot('", kSlot,
              "'); RETURN; EXCEPTION WHEN OTHERS THEN PERFORM pg_sleep(0.001); END; "
              "END LOOP; RAISE EXCEPTION 'the slot stayed active'; END $$"))
          .status());
  EXPECT_NE(WaitFor([&] { return relay->GetStats().relay_flushes > flushes; }),
            absl::InfiniteDuration());
  EXPECT_FALSE(RedisHas("k"));
  EXPECT_NE(WaitFor([&] {
              return Sql(postgres_, absl::StrCat("SELECT count(*) FROM pg_replication_slots "
                                                 "WHERE slot_name = '",
                                                 kSlot, "'")) == "1";
            }),
            absl::InfiniteDuration());
  EXPECT_THAT(reader->Get("k"), IsOkAndHolds("v"));
}

TEST_F(RelayStoreTest, AFlushOwedByARelayThatDiedIsDoneByTheNext) {
  auto relay = Open(MakeOptions());
  WaitLeading(*relay);
  relay.reset();  // The slot stays.
  auto reader = Open(MakeOptions(/*relay=*/false));
  ASSERT_OK(reader->Put("k", "v"));
  CacheIn(*reader, "k", "v");
  // As a relay leaves it when it dies between making a slot and flushing.
  ASSERT_OK(redis_.Cli({"SET", "akv:flush_owed", "1"}).status());
  auto next = Open(MakeOptions());
  EXPECT_NE(WaitFor([&] { return next->GetStats().relay_flushes >= 1; }), absl::InfiniteDuration());
  EXPECT_FALSE(RedisHas("k"));
  EXPECT_FALSE(RedisExists("akv:flush_owed"));
  EXPECT_THAT(reader->Get("k"), IsOkAndHolds("v"));
}

TEST_F(RelayStoreTest, TruncateFlushesEveryTier) {
  auto relay = Open(MakeOptions());
  WaitLeading(*relay);
  auto reader = Open(MakeOptions(/*relay=*/false));
  ASSERT_OK(reader->Put("k1", "v"));
  ASSERT_OK(reader->Put("k2", "v"));
  CacheIn(*reader, "k1", "v");
  CacheIn(*reader, "k2", "v");
  ASSERT_OK(postgres_.Psql("TRUNCATE asidekv").status());
  EXPECT_NE(WaitFor([&] {
              return absl::IsNotFound(reader->Get("k1").status()) &&
                     absl::IsNotFound(reader->Get("k2").status());
            }),
            absl::InfiniteDuration());
  EXPECT_GE(relay->GetStats().relay_flushes, 2u);  // The new slot's, and the TRUNCATE's.
}

TEST_F(RelayStoreTest, ARelayTooFarBehindFlushesInsteadOfReplaying) {
  Options o = MakeOptions();
  o.relay_max_lag = absl::Milliseconds(300);
  auto relay = Open(o);
  WaitLeading(*relay);
  relay.reset();  // No relay while the next write commits.
  auto reader = Open(MakeOptions(/*relay=*/false));
  ASSERT_OK(reader->Put("other", "x"));
  CacheIn(*reader, "other", "x");
  // Committed, not invalidated by anyone; older than relay_max_lag when a relay reads it.
  ASSERT_OK(postgres_.Psql("UPDATE asidekv SET version = version + 1").status());
  absl::SleepFor(absl::Milliseconds(500));  // Setup: the change ages (not an assertion).
  auto next = Open(o);
  EXPECT_NE(WaitFor([&] { return next->GetStats().relay_flushes >= 1; }), absl::InfiniteDuration());
  EXPECT_FALSE(RedisHas("other"));
  EXPECT_THAT(reader->Get("other"), IsOkAndHolds("x"));
}

}  // namespace
}  // namespace asidekv
