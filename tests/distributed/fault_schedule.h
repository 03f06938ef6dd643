// The faults of the campaign (fault_campaign_test.cc): what each one does to the servers, the
// relay's leader or one process's link to Redis, on a schedule run by the workload's parent
// while its processes run (WorkloadOptions::during). Every fault is injected for real: a
// signal to a server or process by its PID, a restart, a session terminated by PostgreSQL, a
// proxy that stalls or drops one direction (tests/testing/tcp_proxy.h); nothing is mocked.
//
//   kNone               nothing (the baseline);
//   kRedisConnections   CLIENT KILL of every invalidation connection, then of every data
//                       connection (redis#11767 must not matter), FLUSHALL, and a tiny maxmemory
//                       with allkeys-lru (values and leases evicted under load);
//   kRedisRestart       SIGKILL of redis-server, restart on the same port (empty);
//   kRedisPause         SIGSTOP of redis-server for 4 delta, then SIGCONT;
//   kRedisCutOff        the last process reaches Redis through the proxy, which for 4 delta each
//                       holds Redis's replies, holds its requests, throws its replies away (the
//                       server executes, the answers never come), then resets every connection;
//   kInvalidationLag    the same proxy holds Redis's replies to the last process (its
//                       invalidations and PONGs included) for 0.8 delta, eight times: a lagging
//                       invalidation stream, shorter than the heartbeat bound;
//   kWriterKilled       writers killed between their commit and their invalidation (one process
//                       each, crashed_writer.h), one every 250 ms;
//   kRelayLeaderKilled  the same, with the relay's leader (relay_host.h) SIGKILLed after two of
//                       them: a follower takes over and relays the rest;
//   kRelayPaused        the same, with the leader SIGSTOPped for 300 ms (less than
//                       relay_max_lag) while a killed writer's write waits for it;
//   kPostgresRestart    killed writers, PostgreSQL stopped in immediate mode (SIGQUIT: every
//                       session ends, the next start runs crash recovery) and started again,
//                       killed writers again (the relay resumes from its slot);
//   kBackendsTerminated killed writers, pg_terminate_backend of the relay's stream (walsender),
//                       killed writers, pg_terminate_backend of every Store's session (the
//                       leader's advisory-lock session among them), killed writers.
//
// Thread safety: none; the workload's parent runs it, alone.

#ifndef ASIDEKV_TESTS_DISTRIBUTED_FAULT_SCHEDULE_H_
#define ASIDEKV_TESTS_DISTRIBUTED_FAULT_SCHEDULE_H_

#include <functional>
#include <string>

#include "absl/time/time.h"
#include "tests/distributed/relay_host.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/tcp_proxy.h"

namespace asidekv::distributed {

enum class Fault {
  kNone,
  kRedisConnections,
  kRedisRestart,
  kRedisPause,
  kRedisCutOff,
  kInvalidationLag,
  kWriterKilled,
  kRelayLeaderKilled,
  kRelayPaused,
  kPostgresRestart,
  kBackendsTerminated,
};

// Whether the fault's run has the relay on, writers killed after their commit and a RelayHost.
bool UsesRelay(Fault fault);
// Whether the last process reaches Redis through the proxy.
bool UsesProxy(Fault fault);
// Whether the fault takes PostgreSQL away (reads and writes may fail while it lasts).
bool DisturbsPostgres(Fault fault);

// What the schedule acts on; each pointer is borrowed for the call.
struct FaultTargets {
  testing::PostgresServer* postgres = nullptr;
  testing::RedisServer* redis = nullptr;
  testing::TcpProxyProcess* proxy = nullptr;  // UsesProxy() only.
  RelayHost* relay = nullptr;                 // UsesRelay() only.
  absl::Duration delta;                       // The Stores' coherence_bound.
  // Forks a writer that is killed after its commit (crashed_writer.h). UsesRelay() only.
  std::function<void()> kill_writer;
};

// Runs the schedule of `fault` (above); a step that fails is a gtest failure (EXPECT), so the
// fault is never silently skipped. Returns within about 4 seconds.
void InjectFaults(Fault fault, FaultTargets& targets);

}  // namespace asidekv::distributed

#endif  // ASIDEKV_TESTS_DISTRIBUTED_FAULT_SCHEDULE_H_
