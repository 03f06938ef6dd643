// RedisTier against a private redis-server: connecting (TCP, Unix socket, AUTH, ACL users, the
// persistence check), the lease protocol (hit / won / held, stale tokens, release-only fills,
// the stale-set race, one winner among concurrent misses, binary keys) and failures (the
// breaker over a killed server, a paused server, a flushed script cache).

#include "remote/redis_tier.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/remote/test_util.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/status_matchers.h"

namespace asidekv::remote {
namespace {

using ::asidekv::testing::IsOk;
using ::asidekv::testing::RedisServer;
using ::asidekv::testing::RedisServerOptions;
using ::asidekv::testing::StatusIs;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kPassword[] = "s3cr3t-redis-pass";

class RedisTierTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(server_.Init()); }

  RedisConfig Config() const { return ConfigFor(server_); }

  std::unique_ptr<RedisTier> Connect(const RedisConfig& config) {
    absl::StatusOr<std::unique_ptr<RedisTier>> tier = RedisTier::Connect(config);
    EXPECT_TRUE(tier.ok()) << tier.status();
    return tier.ok() ? *std::move(tier) : nullptr;
  }

  static absl::StatusOr<LeaseResult> Lease(RedisTier& tier, std::string_view key,
                                           absl::Duration ttl = absl::Seconds(10)) {
    return LeaseOne(tier, key, ttl);
  }

  RedisServer server_;
};

TEST_F(RedisTierTest, HitWonHeldOverTcpAndUnixSocket) {
  for (const std::string& address : {server_.address(), server_.unix_address()}) {
    RedisConfig config = Config();
    config.address = address;
    config.prefix = address == server_.address() ? "tcp" : "unix";
    std::unique_ptr<RedisTier> tier = Connect(config);
    ASSERT_NE(tier, nullptr);
    EXPECT_THAT(tier->server(), HasSubstr(address));
    EXPECT_FALSE(tier->run_id().empty());

    ASSERT_OK_AND_ASSIGN(LeaseResult won, Lease(*tier, "k"));
    EXPECT_EQ(won.kind, LeaseResult::Kind::kWon);
    EXPECT_NE(won.token, 0u);
    ASSERT_OK_AND_ASSIGN(LeaseResult held, Lease(*tier, "k"));
    EXPECT_EQ(held.kind, LeaseResult::Kind::kHeld);
    EXPECT_GT(held.held_for, absl::ZeroDuration());
    EXPECT_LE(held.held_for, absl::Seconds(10));
    EXPECT_THAT(tier->GetValue("k"), StatusIs(absl::StatusCode::kNotFound));

    ASSERT_OK_AND_ASSIGN(bool stored, FillOne(*tier, "k", won.token, "v1"));
    EXPECT_TRUE(stored);
    ASSERT_OK_AND_ASSIGN(LeaseResult hit, Lease(*tier, "k"));
    EXPECT_EQ(hit.kind, LeaseResult::Kind::kHit);
    EXPECT_EQ(hit.value, "v1");
    ASSERT_OK_AND_ASSIGN(std::string value, tier->GetValue("k"));
    EXPECT_EQ(value, "v1");

    const RedisTierStats stats = tier->GetStats();
    EXPECT_EQ(stats.leases_won, 1u);
    EXPECT_EQ(stats.leases_held, 1u);
    EXPECT_EQ(stats.hits, 1u);
    EXPECT_EQ(stats.fills, 1u);
    EXPECT_EQ(stats.fills_rejected, 0u);
    EXPECT_EQ(stats.errors, 0u);
    EXPECT_TRUE(tier->available());
  }
  // Each value under its own prefix.
  ASSERT_OK_AND_ASSIGN(std::string keys, server_.Cli({"--raw", "KEYS", "*"}));
  EXPECT_THAT(keys, HasSubstr("tcp:v:{k}"));
  EXPECT_THAT(keys, HasSubstr("unix:v:{k}"));
  EXPECT_THAT(keys, Not(HasSubstr(":l:")));  // The fills dropped their leases.
}

TEST_F(RedisTierTest, PipelinesManyKeysInOrder) {
  std::unique_ptr<RedisTier> tier = Connect(Config());
  ASSERT_NE(tier, nullptr);
  std::vector<std::string> names;
  for (int i = 0; i < 50; ++i) names.push_back("key" + std::to_string(i));
  std::vector<std::string_view> keys(names.begin(), names.end());
  ASSERT_OK_AND_ASSIGN(std::vector<LeaseResult> leases, tier->GetOrLease(keys, absl::Seconds(5)));
  ASSERT_EQ(leases.size(), keys.size());
  std::vector<FillRequest> fills;
  for (size_t i = 0; i < keys.size(); ++i) {
    ASSERT_EQ(leases[i].kind, LeaseResult::Kind::kWon);
    FillRequest fill;
    fill.key = keys[i];
    fill.token = leases[i].token;
    fill.value = names[i];
    fills.push_back(fill);
  }
  ASSERT_OK_AND_ASSIGN(std::vector<bool> stored, tier->Fill(fills));
  EXPECT_EQ(stored, std::vector<bool>(keys.size(), true));
  ASSERT_OK_AND_ASSIGN(leases, tier->GetOrLease(keys, absl::Seconds(5)));
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(leases[i].kind, LeaseResult::Kind::kHit);
    EXPECT_EQ(leases[i].value, names[i]);
  }
  ASSERT_OK(tier->Invalidate(keys));
  EXPECT_EQ(tier->GetStats().invalidations, keys.size());
  ASSERT_OK_AND_ASSIGN(std::string size, server_.Cli({"DBSIZE"}));
  EXPECT_EQ(size, "0");
}

TEST_F(RedisTierTest, RejectsBadArguments) {
  std::unique_ptr<RedisTier> tier = Connect(Config());
  ASSERT_NE(tier, nullptr);
  EXPECT_THAT(tier->GetOrLease({"k"}, absl::ZeroDuration()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  FillRequest fill;
  fill.key = "k";
  fill.token = 1;
  fill.value = "v";
  fill.ttl = absl::ZeroDuration();
  EXPECT_THAT(tier->Fill({fill}), StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(std::vector<LeaseResult> none, tier->GetOrLease({}, absl::Seconds(1)));
  EXPECT_TRUE(none.empty());
}

TEST_F(RedisTierTest, StaleTokenAfterInvalidateIsRejected) {
  std::unique_ptr<RedisTier> tier = Connect(Config());
  ASSERT_NE(tier, nullptr);
  // The stale set: a load leases k and reads the store; a write changes the store and
  // invalidates k; the load's fill (the old value) must not land after that.
  ASSERT_OK_AND_ASSIGN(LeaseResult before, Lease(*tier, "k"));
  ASSERT_EQ(before.kind, LeaseResult::Kind::kWon);
  ASSERT_OK(tier->Invalidate({"k"}));
  ASSERT_OK_AND_ASSIGN(bool stored, FillOne(*tier, "k", before.token, "old"));
  EXPECT_FALSE(stored);
  EXPECT_THAT(tier->GetValue("k"), StatusIs(absl::StatusCode::kNotFound));
  // A load that leased after the write fills; the old token still cannot.
  ASSERT_OK_AND_ASSIGN(LeaseResult after, Lease(*tier, "k"));
  ASSERT_EQ(after.kind, LeaseResult::Kind::kWon);
  EXPECT_NE(after.token, before.token);
  ASSERT_OK_AND_ASSIGN(stored, FillOne(*tier, "k", before.token, "old"));
  EXPECT_FALSE(stored);
  ASSERT_OK_AND_ASSIGN(stored, FillOne(*tier, "k", after.token, "new"));
  EXPECT_TRUE(stored);
  ASSERT_OK_AND_ASSIGN(std::string value, tier->GetValue("k"));
  EXPECT_EQ(value, "new");
  // Invalidate also removes the value.
  ASSERT_OK(tier->Invalidate({"k"}));
  EXPECT_THAT(tier->GetValue("k"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(tier->GetStats().fills_rejected, 2u);
}

TEST_F(RedisTierTest, StaleTokenAfterLeaseExpiryIsRejected) {
  std::unique_ptr<RedisTier> tier = Connect(Config());
  ASSERT_NE(tier, nullptr);
  ASSERT_OK_AND_ASSIGN(LeaseResult won, Lease(*tier, "k", absl::Milliseconds(30)));
  ASSERT_EQ(won.kind, LeaseResult::Kind::kWon);
  ASSERT_TRUE(Eventually([&] {
    absl::StatusOr<std::string> exists = server_.Cli({"EXISTS", LeaseKey("akv", "k")});
    return exists.ok() && *exists == "0";
  }));
  ASSERT_OK_AND_ASSIGN(bool stored, FillOne(*tier, "k", won.token, "v"));
  EXPECT_FALSE(stored);
  EXPECT_THAT(tier->GetValue("k"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(RedisTierTest, StaleTokenAfterFlushAllIsRejected) {
  std::unique_ptr<RedisTier> tier = Connect(Config());
  ASSERT_NE(tier, nullptr);
  ASSERT_OK_AND_ASSIGN(LeaseResult won, Lease(*tier, "k"));
  ASSERT_EQ(won.kind, LeaseResult::Kind::kWon);
  ASSERT_OK(server_.Cli({"FLUSHALL"}).status());
  ASSERT_OK_AND_ASSIGN(bool stored, FillOne(*tier, "k", won.token, "v"));
  EXPECT_FALSE(stored);
  EXPECT_THAT(tier->GetValue("k"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(RedisTierTest, ReleaseOnlyFillDropsTheLeaseOfItsTokenOnly) {
  std::unique_ptr<RedisTier> tier = Connect(Config());
  ASSERT_NE(tier, nullptr);
  ASSERT_OK_AND_ASSIGN(LeaseResult won, Lease(*tier, "k"));
  ASSERT_EQ(won.kind, LeaseResult::Kind::kWon);
  // A wrong token releases nothing.
  ASSERT_OK_AND_ASSIGN(bool released, FillOne(*tier, "k", won.token + 1, std::nullopt));
  EXPECT_FALSE(released);
  ASSERT_OK_AND_ASSIGN(LeaseResult held, Lease(*tier, "k"));
  EXPECT_EQ(held.kind, LeaseResult::Kind::kHeld);
  // The right one releases without storing: the next caller wins at once.
  ASSERT_OK_AND_ASSIGN(released, FillOne(*tier, "k", won.token, std::nullopt));
  EXPECT_TRUE(released);
  EXPECT_THAT(tier->GetValue("k"), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(LeaseResult next, Lease(*tier, "k"));
  EXPECT_EQ(next.kind, LeaseResult::Kind::kWon);
  EXPECT_EQ(tier->GetStats().fills, 0u);
}

TEST_F(RedisTierTest, ConcurrentMissesHaveOneWinner) {
  RedisConfig config = Config();
  config.connections = 3;
  std::unique_ptr<RedisTier> a = Connect(config);
  std::unique_ptr<RedisTier> b = Connect(config);  // Another process's tier.
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  constexpr int kThreads = 8;
  constexpr int kRounds = 20;
  for (int round = 0; round < kRounds; ++round) {
    const std::string key = "hot" + std::to_string(round);
    std::atomic<int> won{0};
    std::atomic<int> held{0};
    std::atomic<int> failed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        absl::StatusOr<LeaseResult> r = Lease(t % 2 == 0 ? *a : *b, key, absl::Seconds(30));
        if (!r.ok()) {
          failed.fetch_add(1);
        } else if (r->kind == LeaseResult::Kind::kWon) {
          won.fetch_add(1);
        } else if (r->kind == LeaseResult::Kind::kHeld) {
          held.fetch_add(1);
        }
      });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(failed.load(), 0);
    EXPECT_EQ(won.load(), 1) << key;
    EXPECT_EQ(held.load(), kThreads - 1) << key;
  }
}

TEST_F(RedisTierTest, BinaryKeysStayApart) {
  std::unique_ptr<RedisTier> tier = Connect(Config());
  ASSERT_NE(tier, nullptr);
  const std::vector<std::string> names = {
      "a",     "{a}",     "a}", "{", "}", "}{", "", std::string("a\0b", 3), std::string("\0", 1),
      "a}b{c", "\xff\xfe"};
  for (size_t i = 0; i < names.size(); ++i) {
    ASSERT_OK_AND_ASSIGN(LeaseResult won, Lease(*tier, names[i]));
    ASSERT_EQ(won.kind, LeaseResult::Kind::kWon) << i;
    ASSERT_OK_AND_ASSIGN(bool stored, FillOne(*tier, names[i], won.token, "value" + names[i]));
    EXPECT_TRUE(stored) << i;
  }
  for (size_t i = 0; i < names.size(); ++i) {
    ASSERT_OK_AND_ASSIGN(std::string value, tier->GetValue(names[i]));
    EXPECT_EQ(value, "value" + names[i]) << i;
  }
  ASSERT_OK(tier->Invalidate({names[7]}));
  EXPECT_THAT(tier->GetValue(names[7]), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(std::string other, tier->GetValue(names[8]));
  EXPECT_EQ(other, "value" + names[8]);
}

TEST_F(RedisTierTest, ScriptCacheFlushIsReloaded) {
  std::unique_ptr<RedisTier> tier = Connect(Config());
  ASSERT_NE(tier, nullptr);
  ASSERT_OK(server_.Cli({"SCRIPT", "FLUSH"}).status());
  ASSERT_OK_AND_ASSIGN(LeaseResult won, Lease(*tier, "k"));
  EXPECT_EQ(won.kind, LeaseResult::Kind::kWon);
  ASSERT_OK(server_.Cli({"SCRIPT", "FLUSH"}).status());
  ASSERT_OK_AND_ASSIGN(bool stored, FillOne(*tier, "k", won.token, "v"));
  EXPECT_TRUE(stored);
  EXPECT_EQ(tier->GetStats().errors, 0u);
}

TEST_F(RedisTierTest, BreakerOverAKilledServerThenRecovery) {
  RedisConfig config = Config();
  config.timeout = absl::Milliseconds(500);
  std::unique_ptr<RedisTier> tier = Connect(config);
  ASSERT_NE(tier, nullptr);
  const std::string first_run = tier->run_id();
  ASSERT_OK(tier->Invalidate({"k"}));

  ASSERT_OK(server_.Kill());
  absl::Status s = tier->Invalidate({"k"});
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(std::string(s.message()), HasSubstr(server_.address()));
  EXPECT_FALSE(tier->available());
  // While the breaker is open, calls fail at once (no connect attempt, no timeout wait).
  const auto start = std::chrono::steady_clock::now();
  int fast_failures = 0;
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<LeaseResult> r = Lease(*tier, "k");
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kUnavailable));
    if (!r.ok() && std::string(r.status().message()).find("next try") != std::string::npos) {
      ++fast_failures;
    }
  }
  EXPECT_GE(fast_failures, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_GE(tier->GetStats().errors, 21u);

  ASSERT_OK(server_.Start());  // Same port, empty (nothing persisted), new run_id.
  ASSERT_TRUE(Eventually([&] { return Lease(*tier, "k").ok(); })) << "no recovery";
  EXPECT_TRUE(tier->available());
  EXPECT_NE(tier->run_id(), first_run);
  EXPECT_GE(tier->GetStats().reconnects, 1u);
  // The scripts work on the restarted server (loaded again at connect).
  ASSERT_OK_AND_ASSIGN(LeaseResult lease, Lease(*tier, "k2"));
  ASSERT_EQ(lease.kind, LeaseResult::Kind::kWon);
  ASSERT_OK_AND_ASSIGN(bool stored, FillOne(*tier, "k2", lease.token, "v"));
  EXPECT_TRUE(stored);
}

TEST_F(RedisTierTest, PausedServerGivesDeadlineExceeded) {
  RedisConfig config = Config();
  config.timeout = absl::Milliseconds(300);
  std::unique_ptr<RedisTier> tier = Connect(config);
  ASSERT_NE(tier, nullptr);
  ASSERT_OK(server_.Pause());
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<LeaseResult> r = Lease(*tier, "k");
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_OK(server_.Unpause());
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(server_.address()));
  EXPECT_GE(took, std::chrono::milliseconds(250));
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_FALSE(tier->available());
  ASSERT_TRUE(Eventually([&] { return Lease(*tier, "k").ok(); }));
  EXPECT_TRUE(tier->available());
}

TEST_F(RedisTierTest, MoreCallersThanConnectionsShareThePool) {
  RedisConfig config = Config();
  config.connections = 2;
  std::unique_ptr<RedisTier> tier = Connect(config);
  ASSERT_NE(tier, nullptr);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const std::string key = std::to_string(t) + ":" + std::to_string(i);
        if (!tier->Invalidate({key}).ok()) failures.fetch_add(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_OK_AND_ASSIGN(std::string clients, server_.Cli({"CLIENT", "LIST", "TYPE", "normal"}));
  // Two data connections and redis-cli itself.
  EXPECT_EQ(std::count(clients.begin(), clients.end(), '\n'), 2) << clients;
}

TEST_F(RedisTierTest, RefusesAPersistingServer) {
  ASSERT_OK(server_.Cli({"CONFIG", "SET", "save", "3600 1"}).status());
  absl::StatusOr<std::unique_ptr<RedisTier>> tier = RedisTier::Connect(Config());
  EXPECT_THAT(tier, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(tier.status().message()), HasSubstr("save \"\""));
  EXPECT_THAT(std::string(tier.status().message()), HasSubstr("appendonly no"));

  ASSERT_OK(server_.Cli({"CONFIG", "SET", "save", ""}).status());
  ASSERT_OK(server_.Cli({"CONFIG", "SET", "appendonly", "yes"}).status());
  EXPECT_THAT(RedisTier::Connect(Config()), StatusIs(absl::StatusCode::kFailedPrecondition));

  ASSERT_OK(server_.Cli({"CONFIG", "SET", "appendonly", "no"}).status());
  EXPECT_OK(RedisTier::Connect(Config()).status());
}

TEST(RedisTierConnectTest, NoServerIsUnavailable) {
  RedisServer server;
  ASSERT_OK(server.Init());
  const std::string address = server.address();
  ASSERT_OK(server.Kill());
  RedisConfig config;
  config.address = address;
  absl::StatusOr<std::unique_ptr<RedisTier>> tier = RedisTier::Connect(config);
  EXPECT_THAT(tier, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(std::string(tier.status().message()), HasSubstr(address));
}

TEST(RedisTierAuthTest, PasswordRightWrongMissing) {
  RedisServer server;
  RedisServerOptions options;
  options.password = kPassword;
  ASSERT_OK(server.Init(options));
  RedisConfig config;
  config.address = server.address();
  config.password = kPassword;
  absl::StatusOr<std::unique_ptr<RedisTier>> tier = RedisTier::Connect(config);
  ASSERT_OK(tier.status());
  EXPECT_OK((*tier)->Invalidate({"k"}));

  config.password = std::string(kPassword) + "-wrong";
  tier = RedisTier::Connect(config);
  EXPECT_THAT(tier, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(std::string(tier.status().message()), Not(HasSubstr(kPassword)));
  EXPECT_THAT(std::string(tier.status().message()), HasSubstr(server.address()));

  config.password.clear();
  tier = RedisTier::Connect(config);
  EXPECT_THAT(tier, StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST(RedisTierAuthTest, AclUsers) {
  RedisServer server;
  RedisServerOptions options;
  options.users = {{"app", std::string("on >") + kPassword + " ~* &* +@all"},
                   {"nocfg", std::string("on >") + kPassword + " ~* &* +@all -config"}};
  ASSERT_OK(server.Init(options));
  RedisConfig config;
  config.address = server.address();
  config.user = "app";
  config.password = kPassword;
  absl::StatusOr<std::unique_ptr<RedisTier>> tier = RedisTier::Connect(config);
  ASSERT_OK(tier.status());
  ASSERT_OK_AND_ASSIGN(std::vector<LeaseResult> r, (*tier)->GetOrLease({"k"}, absl::Seconds(1)));
  EXPECT_EQ(r.front().kind, LeaseResult::Kind::kWon);

  config.password = "not-the-password";
  tier = RedisTier::Connect(config);
  EXPECT_THAT(tier, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(std::string(tier.status().message()), Not(HasSubstr("not-the-password")));

  // A user the ACL forbids CONFIG: the persistence check is skipped (even on a saving server).
  ASSERT_OK(server.Cli({"CONFIG", "SET", "save", "3600 1"}).status());
  config.user = "nocfg";
  config.password = kPassword;
  EXPECT_OK(RedisTier::Connect(config).status());
  config.user = "app";
  EXPECT_THAT(RedisTier::Connect(config), StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace asidekv::remote
