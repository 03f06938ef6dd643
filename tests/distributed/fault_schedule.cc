#include "tests/distributed/fault_schedule.h"

#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace asidekv::distributed {
namespace {

using ::asidekv::testing::TcpProxy;

constexpr absl::Duration kStep = absl::Milliseconds(600);
constexpr absl::Duration kWriterGap = absl::Milliseconds(250);

// Runs `args` against the server; a failure fails the test (the fault was not injected).
void Cli(testing::RedisServer& redis, const std::vector<std::string>& args) {
  absl::StatusOr<std::string> out = redis.Cli(args);
  EXPECT_TRUE(out.ok()) << out.status();
}

void KillWriters(FaultTargets& t, int n) {
  for (int i = 0; i < n; ++i) {
    t.kill_writer();
    absl::SleepFor(kWriterGap);
  }
}

void Terminate(testing::PostgresServer& postgres, const char* backend_type) {
  absl::StatusOr<int> n = postgres.TerminateBackends(backend_type);
  ASSERT_OK(n.status());
  EXPECT_GT(*n, 0) << "no " << backend_type << " to terminate";
}

void RedisFaults(Fault fault, FaultTargets& t) {
  const absl::Duration fault_time = 4 * t.delta;
  switch (fault) {
    case Fault::kRedisConnections:
      absl::SleepFor(kStep);
      Cli(*t.redis, {"CLIENT", "KILL", "TYPE", "pubsub"});
      absl::SleepFor(kStep);
      Cli(*t.redis, {"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"});
      absl::SleepFor(kStep);
      Cli(*t.redis, {"FLUSHALL"});
      absl::SleepFor(kStep);
      Cli(*t.redis, {"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"});
      Cli(*t.redis, {"CONFIG", "SET", "maxmemory", "1mb"});
      return;
    case Fault::kRedisRestart:
      absl::SleepFor(kStep);
      EXPECT_OK(t.redis->Kill());
      absl::SleepFor(kStep);
      EXPECT_OK(t.redis->Start());
      return;
    case Fault::kRedisPause:
      absl::SleepFor(kStep);
      EXPECT_OK(t.redis->Pause());
      absl::SleepFor(fault_time);
      EXPECT_OK(t.redis->Unpause());
      return;
    case Fault::kRedisCutOff:
      // The last fault outlasts two redis_timeouts, so kStrict writes of the cut-off process
      // fail ("committed, not confirmed") rather than wait it out.
      for (const auto& [direction, mode, time] :
           {std::tuple(TcpProxy::Direction::kToClient, TcpProxy::Mode::kStall, fault_time),
            std::tuple(TcpProxy::Direction::kToServer, TcpProxy::Mode::kStall, fault_time),
            std::tuple(TcpProxy::Direction::kToClient, TcpProxy::Mode::kDrop,
                       absl::Milliseconds(900))}) {
        absl::SleepFor(kStep);
        EXPECT_OK(t.proxy->Set(direction, mode));
        absl::SleepFor(time);
        EXPECT_OK(t.proxy->Heal());
      }
      absl::SleepFor(kStep);
      EXPECT_OK(t.proxy->CutAll());
      return;
    case Fault::kInvalidationLag:
      for (int i = 0; i < 8; ++i) {
        absl::SleepFor(absl::Milliseconds(300));
        EXPECT_OK(t.proxy->Set(TcpProxy::Direction::kToClient, TcpProxy::Mode::kStall));
        absl::SleepFor(t.delta * 8 / 10);
        EXPECT_OK(t.proxy->Heal());
      }
      return;
    default:
      return;
  }
}

void RelayFaults(Fault fault, FaultTargets& t) {
  absl::SleepFor(absl::Milliseconds(300));
  switch (fault) {
    case Fault::kWriterKilled:
      KillWriters(t, 10);
      return;
    case Fault::kRelayLeaderKilled:
      KillWriters(t, 2);
      EXPECT_OK(t.relay->Kill());
      KillWriters(t, 8);
      return;
    case Fault::kRelayPaused:
      KillWriters(t, 2);
      for (int i = 0; i < 3; ++i) {
        EXPECT_OK(t.relay->Pause());
        t.kill_writer();  // Its write waits for the paused relay.
        absl::SleepFor(absl::Milliseconds(300));
        EXPECT_OK(t.relay->Unpause());
        KillWriters(t, 1);
      }
      return;
    case Fault::kPostgresRestart:
      KillWriters(t, 3);
      EXPECT_OK(t.postgres->StopImmediate());
      absl::SleepFor(absl::Milliseconds(300));
      EXPECT_OK(t.postgres->Start());
      KillWriters(t, 5);
      return;
    case Fault::kBackendsTerminated:
      KillWriters(t, 2);
      Terminate(*t.postgres, "walsender");
      KillWriters(t, 3);
      Terminate(*t.postgres, "client backend");
      KillWriters(t, 4);
      return;
    default:
      return;
  }
}

}  // namespace

bool UsesRelay(Fault fault) {
  return fault == Fault::kWriterKilled || fault == Fault::kRelayLeaderKilled ||
         fault == Fault::kRelayPaused || DisturbsPostgres(fault);
}

bool UsesProxy(Fault fault) {
  return fault == Fault::kRedisCutOff || fault == Fault::kInvalidationLag;
}

bool DisturbsPostgres(Fault fault) {
  return fault == Fault::kPostgresRestart || fault == Fault::kBackendsTerminated;
}

void InjectFaults(Fault fault, FaultTargets& targets) {
  if (UsesRelay(fault)) {
    RelayFaults(fault, targets);
  } else {
    RedisFaults(fault, targets);
  }
  if (UsesProxy(fault)) {
    absl::StatusOr<uint64_t> relayed = targets.proxy->BytesToServer();
    ASSERT_OK(relayed.status());
    EXPECT_GT(*relayed, 0u);  // The last process did go through the proxy.
  }
}

}  // namespace asidekv::distributed
