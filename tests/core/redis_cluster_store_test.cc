// Stores over PostgreSQL with a Redis Cluster tier (Options::redis = "redis-cluster://..."),
// against a private 3-master cluster (tests/testing/redis_cluster.h): a write on one Store
// reaches another Store's cache for keys of every master; a slot migration under traffic keeps
// every read correct and flushes the caches; a killed master makes reads slower (the database
// answers, no cache hit is served) and the Stores recover when it is back; bad addresses are
// refused with a clear error.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "asidekv/asidekv.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/redis_cluster.h"
#include "tests/testing/status_matchers.h"

namespace asidekv {
namespace {

using ::asidekv::testing::IsOkAndHolds;
using ::asidekv::testing::PostgresServer;
using ::asidekv::testing::RedisCluster;
using ::asidekv::testing::StatusIs;
using ::testing::HasSubstr;

constexpr absl::Duration kBound = absl::Milliseconds(50);

// One PostgreSQL and one cluster for the suite (starting them takes seconds): each test leaves
// every master up, starts once the cluster is healthy again, and uses keys of its own.
class RedisClusterStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    postgres_ = new PostgresServer();
    cluster_ = new RedisCluster();
    absl::Status s = postgres_->Init();
    if (s.ok()) s = cluster_->Init(3);
    ASSERT_TRUE(s.ok()) << s;
  }
  static void TearDownTestSuite() {
    delete cluster_;
    delete postgres_;
    cluster_ = nullptr;
    postgres_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(cluster_, nullptr);
    ASSERT_OK(cluster_->WaitHealthy());
    name_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }

  // kStrict: once a write returns, a Get that starts afterwards on any Store sees it.
  static Options MakeOptions() {
    Options o;
    o.postgres = postgres_->conninfo();
    o.postgres_connections = 2;
    o.max_staleness = absl::Seconds(30);
    o.redis = cluster_->address();
    o.redis_connections = 2;
    o.redis_timeout = absl::Milliseconds(500);
    o.coherence_bound = kBound;
    o.consistency = Consistency::kStrict;
    return o;
  }

  std::unique_ptr<Store> Open(const Options& o) {
    absl::StatusOr<std::unique_ptr<Store>> s = Store::Open(o);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : nullptr;
  }

  // A key whose slot node `node` serves, distinct for each `i`.
  std::string KeyOn(int node, int i) {
    for (int n = 0;; ++n) {
      std::string key = absl::StrCat(name_, "-", i, "-", n);
      absl::StatusOr<int> at = cluster_->NodeOf(SlotOfKey(key));
      if (at.ok() && *at == node) return key;
    }
  }
  int SlotOfKey(const std::string& key) {
    absl::StatusOr<int> slot = cluster_->SlotOf(absl::StrCat("{", key, "}"));
    EXPECT_TRUE(slot.ok()) << slot.status();
    return slot.ok() ? *slot : 0;
  }

  // Whether a Get of `key` on `store` is a hit of its own cache.
  static bool Hits(Store& store, const std::string& key) {
    const uint64_t before = store.GetStats().cache_hits;
    EXPECT_OK(store.Get(key).status());
    return store.GetStats().cache_hits > before;
  }
  // Waits (up to 20 s) until `store` serves `key` from its cache.
  static bool ServesFromCache(Store& store, const std::string& key) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      if (Hits(store, key) && Hits(store, key)) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return false;
  }

  static PostgresServer* postgres_;
  static RedisCluster* cluster_;
  std::string name_;
};

PostgresServer* RedisClusterStoreTest::postgres_ = nullptr;
RedisCluster* RedisClusterStoreTest::cluster_ = nullptr;

TEST_F(RedisClusterStoreTest, AWriteReachesAnotherStoresCacheOnEveryMaster) {
  auto a = Open(MakeOptions());
  auto b = Open(MakeOptions());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  for (int node = 0; node < 3; ++node) {
    const std::string key = KeyOn(node, node);
    ASSERT_OK(a->Put(key, "old"));
    ASSERT_THAT(b->Get(key), IsOkAndHolds("old"));
    ASSERT_TRUE(ServesFromCache(*b, key)) << "node " << node;
    ASSERT_OK(a->Put(key, "new"));
    EXPECT_THAT(b->Get(key), IsOkAndHolds("new")) << "node " << node;
  }
  EXPECT_EQ(a->GetStats().owed_invalidations, 0u);
  EXPECT_GE(b->GetStats().invalidations_received, 3u);
}

TEST_F(RedisClusterStoreTest, ASlotMigrationUnderTrafficKeepsReadsRightAndFlushes) {
  auto a = Open(MakeOptions());
  auto b = Open(MakeOptions());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  // Keys of one slot (the one migrated) and of another master.
  const std::string moving = KeyOn(0, 0);
  const int slot = SlotOfKey(moving);
  std::vector<std::string> keys = {moving, KeyOn(1, 1)};
  for (int n = 0; keys.size() < 6; ++n) {
    // "<prefix>:v:{<moving>}<n>}": the same hash tag, hence the same slot.
    keys.push_back(absl::StrCat(moving, "}", n));
  }
  for (const std::string& key : keys) ASSERT_OK(a->Put(key, "0"));
  ASSERT_TRUE(ServesFromCache(*b, keys[1]));
  const uint64_t flushes = b->GetStats().coherence_flushes;

  // a writes increasing numbers; b reads, and must never see a number older than the last
  // write acknowledged before its Get began (kStrict).
  std::vector<std::atomic<int64_t>> acked(keys.size());
  std::atomic<bool> stop{false};
  std::atomic<int> write_errors{0}, read_errors{0}, stale_reads{0};
  std::thread writer([&] {
    for (int64_t i = 1; !stop.load(); ++i) {
      for (size_t k = 0; k < keys.size(); ++k) {
        if (a->Put(keys[k], absl::StrCat(i)).ok()) {
          acked[k].store(i);
        } else {
          write_errors.fetch_add(1);
        }
      }
    }
  });
  std::thread reader([&] {
    while (!stop.load()) {
      for (size_t k = 0; k < keys.size(); ++k) {
        const int64_t floor = acked[k].load();
        absl::StatusOr<std::string> v = b->Get(keys[k]);
        int64_t seen = -1;
        if (!v.ok() || !absl::SimpleAtoi(*v, &seen)) {
          read_errors.fetch_add(1);
        } else if (seen < floor) {
          stale_reads.fetch_add(1);
        }
      }
    }
  });
  // The migration in Redis's steps, with traffic between them (ASK and TRYAGAIN, then MOVED).
  absl::SleepFor(absl::Milliseconds(200));
  ASSERT_OK(cluster_->BeginMigration(slot, 2));
  absl::SleepFor(absl::Milliseconds(200));
  ASSERT_OK(cluster_->MigrateKeys(slot));
  absl::SleepFor(absl::Milliseconds(200));
  ASSERT_OK(cluster_->FinishMigration(slot));
  absl::SleepFor(absl::Milliseconds(500));
  stop.store(true);
  writer.join();
  reader.join();

  EXPECT_EQ(write_errors.load(), 0);
  EXPECT_EQ(read_errors.load(), 0);
  EXPECT_EQ(stale_reads.load(), 0);
  EXPECT_GT(b->GetStats().coherence_flushes, flushes);  // The change of the map flushed b.
  EXPECT_GE(b->GetStats().cluster_topology_changes, 1u);
  ASSERT_OK_AND_ASSIGN(int now_at, cluster_->NodeOf(slot));
  EXPECT_EQ(now_at, 2);
  // And b's cache serves again, with the latest values.
  ASSERT_OK(a->Put(moving, "last"));
  EXPECT_TRUE(ServesFromCache(*b, moving));
  EXPECT_THAT(b->Get(moving), IsOkAndHolds("last"));
}

TEST_F(RedisClusterStoreTest, AKilledMasterIsASlowdownNotAnOutage) {
  Options o = MakeOptions();
  o.consistency = Consistency::kBounded;  // Writes succeed with a master down.
  auto a = Open(o);
  auto b = Open(o);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  const std::string live = KeyOn(0, 0);
  const std::string dead = KeyOn(1, 1);
  for (const std::string& key : {live, dead}) {
    ASSERT_OK(a->Put(key, "v1"));
    ASSERT_TRUE(ServesFromCache(*b, key));
  }
  const uint64_t flushes = b->GetStats().coherence_flushes;
  ASSERT_OK(cluster_->node(1).Kill());
  // b flushed, and serves no cache hit while a master's channel is down, not even of the keys
  // of the live masters: every read goes to Redis or the database, and is right.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (b->GetStats().coherence_flushes == flushes && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_GT(b->GetStats().coherence_flushes, flushes);
  ASSERT_OK(a->Put(dead, "v2"));  // Its invalidation is owed; a sees it at once.
  ASSERT_OK(a->Put(live, "v2"));
  EXPECT_THAT(a->Get(dead), IsOkAndHolds("v2"));
  absl::SleepFor(2 * kBound);
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(Hits(*b, live));
    EXPECT_FALSE(Hits(*b, dead));
    EXPECT_THAT(b->Get(dead), IsOkAndHolds("v2"));
    EXPECT_THAT(b->Get(live), IsOkAndHolds("v2"));
  }
  EXPECT_GT(a->GetStats().owed_invalidations, 0u);
  // Back (empty, with its slots): the Stores recover by themselves.
  ASSERT_OK(cluster_->node(1).Start());
  ASSERT_OK(a->Put(dead, "v3"));
  EXPECT_TRUE(ServesFromCache(*b, live));
  EXPECT_THAT(b->Get(dead), IsOkAndHolds("v3"));
  EXPECT_TRUE(ServesFromCache(*b, dead));
  EXPECT_THAT(b->Get(dead), IsOkAndHolds("v3"));
}

// Refused by the options' validation, before any server is asked (a node of a cluster given as a
// plain address, and the reverse: tests/remote/redis_cluster_test.cc).
TEST(RedisClusterOptionsTest, BadClusterAddressesAreRefusedClearly) {
  Options o;
  o.postgres = "host=/nonexistent dbname=none";
  o.max_staleness = absl::Seconds(30);
  o.redis = "redis-cluster://";
  EXPECT_THAT(Store::Open(o).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("redis: bad Redis Cluster")));
  o.redis = "redis-cluster://127.0.0.1:7000,nohost";
  EXPECT_THAT(Store::Open(o).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("seed \"nohost\"")));
  o.redis = "redis-cluster://unix:/run/redis.sock";
  EXPECT_THAT(Store::Open(o).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("over TCP")));
}

}  // namespace
}  // namespace asidekv
