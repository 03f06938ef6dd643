// RedisTier and ClusterInvalidation against a private 3-master Redis Cluster
// (tests/testing/redis_cluster.h): keys spread over every master and keep the lease protocol;
// MOVED, ASK and TRYAGAIN during a slot migration; every master's writes reach the sink; a
// topology change and a lost master flush the sink and close the gate until every master's
// channel answers again; FlushAll reaches every master.

#include "tests/testing/redis_cluster.h"

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "remote/cluster_invalidation.h"
#include "remote/cluster_slots.h"
#include "remote/redis_tier.h"
#include "tests/remote/test_util.h"
#include "tests/testing/status_matchers.h"
#include "util/monotonic_clock.h"

namespace asidekv::remote {
namespace {

using ::asidekv::testing::IsOkAndHolds;
using ::asidekv::testing::RedisCluster;
using ::asidekv::testing::StatusIs;
using ::testing::HasSubstr;

constexpr absl::Duration kBound = absl::Milliseconds(50);

class CountingSink : public InvalidationSink {
 public:
  void OnInvalidate(absl::Span<const std::string_view> keys) override {
    absl::MutexLock lock(&mu_);
    for (std::string_view key : keys) keys_.insert(std::string(key));
  }
  void OnInvalidateAll() override { flushes_.fetch_add(1); }
  void OnServingUntil(int64_t nanos) override { horizon_.store(nanos); }
  // The last horizon ClusterInvalidation handed over: whether it is open now.
  bool HorizonOpen() const { return util::MonotonicNanos() < horizon_.load(); }
  bool Has(const std::string& key) const {
    absl::MutexLock lock(&mu_);
    return keys_.contains(key);
  }
  int flushes() const { return flushes_.load(); }

 private:
  mutable absl::Mutex mu_;
  std::set<std::string> keys_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> flushes_{0};
  std::atomic<int64_t> horizon_{0};
};

// One cluster for the suite (forming one takes about 2 s): each test leaves every master up,
// starts once the cluster is healthy again, and uses keys of its own.
class RedisClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new RedisCluster();
    absl::Status s = cluster_->Init(3);
    ASSERT_TRUE(s.ok()) << s;
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(cluster_, nullptr);
    ASSERT_OK(cluster_->WaitHealthy());
    name_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }

  RedisConfig Config() const {
    RedisConfig config;
    config.address = cluster_->address();
    config.timeout = absl::Seconds(2);
    return config;
  }

  std::unique_ptr<RedisTier> Connect() {
    absl::StatusOr<std::unique_ptr<RedisTier>> tier = RedisTier::Connect(Config());
    EXPECT_TRUE(tier.ok()) << tier.status();
    return tier.ok() ? *std::move(tier) : nullptr;
  }

  // The node whose master serves user key `key` now.
  int NodeOfKey(std::string_view key) {
    absl::StatusOr<int> node = cluster_->NodeOf(KeySlot(ValueKey("akv", key, true)));
    EXPECT_TRUE(node.ok()) << node.status();
    return node.ok() ? *node : -1;
  }

  // A user key served by node `node`, distinct for each `i`.
  std::string KeyOn(int node, int i = 0) {
    for (int n = 0;; ++n) {
      std::string key = absl::StrCat(name_, "-", i, "-", n);
      if (NodeOfKey(key) == node) return key;
    }
  }

  // A tier and a ClusterInvalidation over it feeding sink_, serving.
  void Watch() {
    tier_ = Connect();
    ASSERT_NE(tier_, nullptr);
    ASSERT_OK_AND_ASSIGN(channels_,
                         ClusterInvalidation::Start(Config(), kBound, &sink_, tier_.get()));
    ASSERT_TRUE(channels_->WaitServing(absl::Seconds(10)));
    ASSERT_TRUE(Eventually([&] { return sink_.HorizonOpen(); }));
  }

  static RedisCluster* cluster_;
  std::string name_;
  std::unique_ptr<RedisTier> tier_;
  CountingSink sink_;
  std::unique_ptr<ClusterInvalidation> channels_;  // Last: stops before the sink and the tier go.
};

RedisCluster* RedisClusterTest::cluster_ = nullptr;

TEST_F(RedisClusterTest, KeysSpreadOverEveryMasterAndKeepTheLeaseProtocol) {
  std::unique_ptr<RedisTier> tier = Connect();
  ASSERT_NE(tier, nullptr);
  EXPECT_TRUE(tier->cluster());
  EXPECT_EQ(tier->masters().size(), 3u);
  std::vector<std::string> keys;
  for (int i = 0; i < 60; ++i) keys.push_back(absl::StrCat(name_, ":", i));
  keys.push_back(absl::StrCat("}", name_));  // Its own key form (remote/redis_tier.h).
  std::vector<std::string_view> views(keys.begin(), keys.end());
  ASSERT_OK_AND_ASSIGN(std::vector<LeaseResult> won, tier->GetOrLease(views, absl::Seconds(10)));
  std::vector<FillRequest> fills(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    ASSERT_EQ(won[i].kind, LeaseResult::Kind::kWon) << keys[i];
    fills[i].key = keys[i];
    fills[i].token = won[i].token;
    fills[i].value = keys[i];
    fills[i].ttl = absl::Seconds(60);
  }
  ASSERT_OK_AND_ASSIGN(std::vector<bool> filled, tier->Fill(fills));
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_TRUE(filled[i]) << keys[i];
  // Every master holds some of them.
  for (int node = 0; node < 3; ++node) {
    ASSERT_OK_AND_ASSIGN(std::string size, cluster_->node(node).Call({"DBSIZE"}));
    EXPECT_GT(std::stoi(size), 3) << "node " << node;
  }
  ASSERT_OK_AND_ASSIGN(std::vector<LeaseResult> hits, tier->GetOrLease(views, absl::Seconds(10)));
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(hits[i].kind, LeaseResult::Kind::kHit) << keys[i];
    EXPECT_EQ(hits[i].value, keys[i]);
  }
  // A write deletes value and lease on whichever master holds them.
  ASSERT_OK(tier->Invalidate(views));
  for (const std::string& key : keys) {
    EXPECT_THAT(tier->GetValue(key), StatusIs(absl::StatusCode::kNotFound)) << key;
  }
  // A fill whose lease a write deleted is refused.
  ASSERT_OK_AND_ASSIGN(LeaseResult lease, LeaseOne(*tier, keys[1]));
  ASSERT_EQ(lease.kind, LeaseResult::Kind::kWon);
  ASSERT_OK(tier->Invalidate({keys[1]}));
  EXPECT_THAT(FillOne(*tier, keys[1], lease.token, "stale"), IsOkAndHolds(false));
}

TEST_F(RedisClusterTest, MovedAndAskAreFollowedDuringASlotMigration) {
  std::unique_ptr<RedisTier> tier = Connect();
  ASSERT_NE(tier, nullptr);
  const std::string key = KeyOn(0);
  const int slot = KeySlot(ValueKey("akv", key, true));
  ASSERT_OK_AND_ASSIGN(LeaseResult lease, LeaseOne(*tier, key));
  ASSERT_EQ(lease.kind, LeaseResult::Kind::kWon);
  ASSERT_THAT(FillOne(*tier, key, lease.token, "v"), IsOkAndHolds(true));
  const uint64_t epoch = tier->topology_epoch();

  // Mid-migration, the value already on the target: the source answers ASK, and the target
  // answers only after ASKING.
  ASSERT_OK(cluster_->BeginMigration(slot, 1));
  ASSERT_OK(cluster_->MigrateKeys(slot));
  ASSERT_OK_AND_ASSIGN(LeaseResult hit, LeaseOne(*tier, key));
  EXPECT_EQ(hit.kind, LeaseResult::Kind::kHit);
  EXPECT_EQ(hit.value, "v");
  EXPECT_EQ(tier->topology_epoch(), epoch);  // ASK is no change of the map.

  // The scripts (value, lease and marker: several keys) meet TRYAGAIN until the migration ends;
  // an invalidation waits it out and lands.
  std::thread finish([&] {
    absl::SleepFor(absl::Milliseconds(100));
    ASSERT_OK(cluster_->FinishMigration(slot));
  });
  EXPECT_OK(tier->Invalidate({key}));
  finish.join();
  EXPECT_THAT(tier->GetValue(key), StatusIs(absl::StatusCode::kNotFound));

  // After it: MOVED, followed, and the tier's map takes the slot's new master.
  ASSERT_OK_AND_ASSIGN(LeaseResult again, LeaseOne(*tier, key));
  EXPECT_EQ(again.kind, LeaseResult::Kind::kWon);
  EXPECT_GT(tier->topology_epoch(), epoch);
  ASSERT_THAT(FillOne(*tier, key, again.token, "w"), IsOkAndHolds(true));
  ASSERT_OK_AND_ASSIGN(std::string on_target,
                       cluster_->node(1).Call({"GET", ValueKey("akv", key, true)}));
  EXPECT_EQ(on_target.substr(0, 1), "w");
}

TEST_F(RedisClusterTest, EveryMastersWritesReachTheSink) {
  ASSERT_NO_FATAL_FAILURE(Watch());
  CountingSink& sink = sink_;
  std::unique_ptr<RedisTier> writer = Connect();
  ASSERT_NE(writer, nullptr);
  for (int node = 0; node < 3; ++node) {
    const std::string key = KeyOn(node, node);
    ASSERT_OK(writer->Invalidate({key}));
    EXPECT_TRUE(Eventually([&] { return sink.Has(key); })) << "node " << node;
  }
  // FlushAll reaches every master's channel: one flush marker per master.
  const int flushes = sink.flushes();
  ASSERT_OK(writer->FlushAll().status());
  EXPECT_TRUE(Eventually([&] { return sink.flushes() >= flushes + 3; })) << sink.flushes();
}

TEST_F(RedisClusterTest, ATopologyChangeFlushesAndReopensTheGate) {
  ASSERT_NO_FATAL_FAILURE(Watch());
  RedisTier* tier = tier_.get();
  CountingSink& sink = sink_;
  ClusterInvalidation* channels = channels_.get();
  const int flushes = sink.flushes();
  // A slot moves; the data path's MOVED closes the gate at once.
  const std::string key = KeyOn(2);
  ASSERT_OK(cluster_->Move(KeySlot(ValueKey("akv", key, true)), 0));
  const uint64_t epoch = tier->topology_epoch();
  ASSERT_OK(LeaseOne(*tier, key).status());
  EXPECT_GT(tier->topology_epoch(), epoch);
  EXPECT_TRUE(Eventually([&] { return channels->GetStats().topology_changes >= 1; }));
  EXPECT_GT(sink.flushes(), flushes);
  EXPECT_TRUE(channels->WaitServing(absl::Seconds(10)));
  // A change no call saw is found by the periodic CLUSTER SLOTS read.
  const uint64_t changes = channels->GetStats().topology_changes;
  ASSERT_OK(cluster_->Move(KeySlot(ValueKey("akv", KeyOn(1, 7), true)), 2));
  EXPECT_TRUE(Eventually([&] { return channels->GetStats().topology_changes > changes; }));
  EXPECT_TRUE(channels->WaitServing(absl::Seconds(10)));
}

TEST_F(RedisClusterTest, ALostMasterFlushesAndClosesTheGateUntilItIsBack) {
  ASSERT_NO_FATAL_FAILURE(Watch());
  RedisTier* tier = tier_.get();
  CountingSink& sink = sink_;
  ClusterInvalidation* channels = channels_.get();
  const int flushes = sink.flushes();
  const std::string on_live = KeyOn(0);
  const std::string on_dead = KeyOn(1);
  ASSERT_OK(cluster_->node(1).Kill());
  EXPECT_TRUE(Eventually([&] { return sink.flushes() > flushes; }));
  EXPECT_FALSE(channels->Serving());
  // The live masters' PONGs (every Δ/4) do not reopen the sink's horizon.
  EXPECT_FALSE(Eventually([&] { return sink.HorizonOpen(); }, 4 * kBound));
  // The other masters still answer; the dead one's keys fail, alone.
  EXPECT_OK(LeaseOne(*tier, on_live).status());
  EXPECT_THAT(LeaseOne(*tier, on_dead).status(), StatusIs(absl::StatusCode::kUnavailable));
  std::vector<bool> landed;
  EXPECT_FALSE(tier->Invalidate({on_live, on_dead}, &landed).ok());
  EXPECT_THAT(landed, ::testing::ElementsAre(true, false));
  EXPECT_FALSE(channels->Serving());
  // Back (empty, with its slots): the gate reopens by itself.
  ASSERT_OK(cluster_->node(1).Start());
  EXPECT_TRUE(channels->WaitServing(absl::Seconds(20)));
  EXPECT_TRUE(Eventually([&] { return sink.HorizonOpen(); }));
}

TEST_F(RedisClusterTest, BadConfigurationsAreNamed) {
  RedisConfig config = Config();
  config.address = absl::StrCat("redis-cluster://127.0.0.1:1,", cluster_->node(2).address());
  EXPECT_OK(RedisTier::Connect(config).status());  // A dead seed is skipped.
  config.address = "redis-cluster://127.0.0.1:1";
  EXPECT_THAT(RedisTier::Connect(config).status(), StatusIs(absl::StatusCode::kUnavailable));
  // A cluster node given as a plain server, and a plain server given as a cluster.
  config.address = cluster_->node(0).address();
  EXPECT_THAT(RedisTier::Connect(config).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("redis-cluster://")));
  testing::RedisServer plain;
  ASSERT_OK(plain.Init());
  config.address = absl::StrCat("redis-cluster://", plain.address());
  EXPECT_THAT(RedisTier::Connect(config).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not a Redis Cluster")));
}

// AUTH as on one server: every master (data and invalidation connections) with the password.
TEST(RedisClusterAuthTest, EveryMasterIsReachedWithThePassword) {
  RedisCluster cluster;
  testing::RedisServerOptions options;
  options.password = "cluster-secret";
  ASSERT_OK(cluster.Init(3, options));
  RedisConfig config;
  config.address = cluster.address();
  config.password = "cluster-secret";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<RedisTier> tier, RedisTier::Connect(config));
  CountingSink sink;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ClusterInvalidation> channels,
                       ClusterInvalidation::Start(config, kBound, &sink, tier.get()));
  EXPECT_TRUE(channels->WaitServing(absl::Seconds(10)));
  std::vector<std::string> keys;
  for (int i = 0; i < 30; ++i) keys.push_back(absl::StrCat("auth:", i));
  std::vector<std::string_view> views(keys.begin(), keys.end());
  EXPECT_OK(tier->GetOrLease(views, absl::Seconds(10)).status());
  EXPECT_OK(tier->Invalidate(views));
  EXPECT_TRUE(Eventually([&] { return sink.Has(keys.back()); }));
  config.password = "wrong";
  EXPECT_THAT(RedisTier::Connect(config).status(),
              StatusIs(absl::StatusCode::kPermissionDenied, ::testing::Not(HasSubstr("wrong"))));
}

}  // namespace
}  // namespace asidekv::remote
