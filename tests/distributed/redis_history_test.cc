// The cross-process history checker over PostgreSQL + Redis: 3 forked processes x 2 threads, each
// with its own Store (cache + Redis tier) over one table of a private PostgreSQL and one private
// redis-server, in both consistency modes and both write policies, with the faults of a Redis
// deployment injected while they run:
//   kNone         nothing;
//   kConnections  CLIENT KILL of every invalidation connection, then of every data connection
//                 (the tracked-data-connection bug redis#11767 must not matter), FLUSHALL, and a
//                 tiny maxmemory with allkeys-lru (values and leases evicted under load);
//   kRestart      SIGKILL of redis-server, restart on the same port (empty: no persistence);
//   kPause        SIGSTOP of redis-server for 4 coherence bounds, then SIGCONT;
//   kCutOff       one process only (the last) reaches Redis through a proxy
//                 (tests/testing/tcp_proxy.h), which for 4 coherence bounds each holds Redis's
//                 replies (a one-way stall), holds its requests, throws its replies away (the
//                 server executes, the answers never come), and then resets every connection;
//                 the other processes see nothing of it.
// Asserted by the checker, per key: every read returns a written value; no read misses a write
// that returned more than the mode's bound before it began: kBounded coherence_bound (+1 ms of
// clock granularity) on other processes, kStrict 0; the writer's own process 0; after quiescence
// every process and the database agree. The one documented exception: kPause in kBounded, where
// a write whose Redis invalidation timed out is owed until its writer's retry lands after the
// server resumes (bound: max_staleness; README "Many instances"), and kCutOff in kBounded for the
// same reason, for the cut-off process's writes only (owed until its link heals): its own reads
// of the others' writes keep the coherence bound.
//
// And the stampede: 3 processes x 4 threads missing one invalidated hot key at once cost exactly
// one database read fleet-wide (the lease holder's), every Get returning the value.
//
// ASIDEKV_DISTRIBUTED_SECONDS lengthens the runs; ASIDEKV_SEED replays a seed.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "asidekv/asidekv.h"
#include "gtest/gtest.h"
#include "tests/distributed/workload.h"
#include "tests/distributed/workload_expectations.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/tcp_proxy.h"
#include "tests/testing/temp_dir.h"

namespace asidekv::distributed {
namespace {

using ::asidekv::testing::PostgresServer;
using ::asidekv::testing::RedisServer;
using ::asidekv::testing::TcpProxy;
using ::asidekv::testing::TcpProxyProcess;

constexpr absl::Duration kCoherenceBound = absl::Milliseconds(100);
constexpr absl::Duration kMaxStaleness = absl::Seconds(4);
// Clock granularity between processes' CLOCK_MONOTONIC readings and the log's.
constexpr absl::Duration kEpsilon = absl::Milliseconds(1);

enum class Fault { kNone, kConnections, kRestart, kPause, kCutOff };

struct Scenario {
  const char* name;
  Consistency consistency;
  WritePolicy policy;
  Fault fault;
};

// Runs `args` against the server; a failure fails the test (the fault was not injected).
void Cli(RedisServer& redis, const std::vector<std::string>& args) {
  absl::StatusOr<std::string> out = redis.Cli(args);
  EXPECT_TRUE(out.ok()) << out.status();
}

void InjectFaults(Fault fault, RedisServer& redis, TcpProxyProcess& proxy) {
  const absl::Duration step = absl::Milliseconds(600);
  const absl::Duration fault_time = 4 * kCoherenceBound;
  switch (fault) {
    case Fault::kNone:
      return;
    case Fault::kConnections:
      absl::SleepFor(step);
      Cli(redis, {"CLIENT", "KILL", "TYPE", "pubsub"});
      absl::SleepFor(step);
      Cli(redis, {"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"});
      absl::SleepFor(step);
      Cli(redis, {"FLUSHALL"});
      absl::SleepFor(step);
      Cli(redis, {"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"});
      Cli(redis, {"CONFIG", "SET", "maxmemory", "1mb"});
      return;
    case Fault::kRestart:
      absl::SleepFor(step);
      EXPECT_OK(redis.Kill());
      absl::SleepFor(step);
      EXPECT_OK(redis.Start());
      return;
    case Fault::kPause:
      absl::SleepFor(step);
      EXPECT_OK(redis.Pause());
      absl::SleepFor(4 * kCoherenceBound);
      EXPECT_OK(redis.Unpause());
      return;
    case Fault::kCutOff:
      // The last fault outlasts two redis_timeouts, so kStrict writes of the cut-off process
      // fail ("committed, not confirmed") rather than wait it out.
      for (const auto& [direction, mode, time] :
           {std::tuple(TcpProxy::Direction::kToClient, TcpProxy::Mode::kStall, fault_time),
            std::tuple(TcpProxy::Direction::kToServer, TcpProxy::Mode::kStall, fault_time),
            std::tuple(TcpProxy::Direction::kToClient, TcpProxy::Mode::kDrop,
                       absl::Milliseconds(900))}) {
        absl::SleepFor(step);
        EXPECT_OK(proxy.Set(direction, mode));
        absl::SleepFor(time);
        EXPECT_OK(proxy.Heal());
      }
      absl::SleepFor(step);
      EXPECT_OK(proxy.CutAll());
      {
        absl::StatusOr<uint64_t> relayed = proxy.BytesToServer();
        ASSERT_OK(relayed.status());
        EXPECT_GT(*relayed, 0u);  // The cut-off process did go through the proxy.
      }
      return;
  }
}

class RedisHistoryTest : public ::testing::TestWithParam<Scenario> {};

TEST_P(RedisHistoryTest, ThreeProcessesKeepTheirModesPromise) {
  const Scenario& scenario = GetParam();
  PostgresServer postgres;
  ASSERT_OK(postgres.Init());
  RedisServer redis;
  ASSERT_OK(redis.Init());
  // A process of its own: this one forks the workload afterwards, and must run no thread then.
  TcpProxyProcess proxy;
  if (scenario.fault == Fault::kCutOff) {
    ASSERT_OK(proxy.Start("127.0.0.1", redis.port()));
  }
  testing::TempDir dir;

  Options options;
  options.postgres = postgres.conninfo();
  options.postgres_connections = 2;
  options.max_staleness = kMaxStaleness;
  options.cache_capacity_bytes = 1 << 20;
  options.write_policy = scenario.policy;
  options.redis = redis.address();
  options.redis_connections = 2;
  options.redis_timeout = absl::Milliseconds(300);
  options.consistency = scenario.consistency;
  options.coherence_bound = kCoherenceBound;
  options.lease_ttl = absl::Milliseconds(300);
  Options reader = options;
  reader.cache_capacity_bytes = 0;
  reader.redis.clear();
  // Creates the table once; this process then holds no connection (nor thread) when it forks.
  { ASSERT_OK(Store::Open(reader).status()); }

  WorkloadOptions w;
  w.processes = 3;
  w.threads = 2;
  w.duration = absl::Seconds(scenario.fault == Fault::kCutOff ? 5 : 4);
  if (scenario.fault == Fault::kCutOff) {
    // Read-mostly, so that the cut-off process holds values in its near cache that the others
    // overwrite while its invalidations are held: that is what its gate and flushes must stop.
    w.get_percent = 90;
    w.put_percent = 6;
    w.delete_percent = 2;
    w.max_ops_per_second = 1000;
  }
  w.log_dir = dir.path();
  absl::Duration bound = scenario.consistency == Consistency::kStrict ? absl::ZeroDuration()
                                                                      : kCoherenceBound + kEpsilon;
  if (scenario.fault == Fault::kPause && scenario.consistency == Consistency::kBounded) {
    bound = kMaxStaleness;
  }
  w.check.bound.assign(w.processes, bound);
  if (scenario.fault == Fault::kCutOff && scenario.consistency == Consistency::kBounded) {
    // Only the cut-off process's writes may be owed; it still sees the others' within the bound.
    w.check.writer_slack.assign(w.processes, absl::ZeroDuration());
    w.check.writer_slack.back() = kMaxStaleness;
  }
  w.check.delta = kCoherenceBound;
  w.quiesce = std::max(bound, 2 * kCoherenceBound);
  w.during = [&] { InjectFaults(scenario.fault, redis, proxy); };
  // kCutOff: the last process reaches Redis through the proxy.
  Options cut_off = options;
  cut_off.redis = proxy.address();
  absl::StatusOr<WorkloadResult> result = RunWorkload(
      w,
      [&](int p) {
        return Store::Open(scenario.fault == Fault::kCutOff && p == w.processes - 1 ? cut_off
                                                                                    : options);
      },
      [&] { return Store::Open(reader); });
  ASSERT_OK(result.status());
  const CheckResult& check = result->check;
  EXPECT_TRUE(check.ok()) << check.Report();
  EXPECT_GT(check.writes, 0u) << check.Report();
  EXPECT_GT(check.reads, 0u) << check.Report();
  // Redis faults slow reads down, never fail them; a kBounded write never fails for Redis.
  EXPECT_EQ(check.failed_reads, 0u) << check.Report();
  if (scenario.consistency == Consistency::kBounded) {
    EXPECT_EQ(check.failed_writes, 0u) << check.Report();
  }
  std::cout << "check: " << check.Report() << "\n";
}

INSTANTIATE_TEST_SUITE_P(
    Scenarios, RedisHistoryTest,
    ::testing::Values(
        Scenario{"BoundedInvalidate", Consistency::kBounded, WritePolicy::kInvalidate,
                 Fault::kNone},
        Scenario{"BoundedUpdate", Consistency::kBounded, WritePolicy::kUpdate, Fault::kNone},
        Scenario{"StrictInvalidate", Consistency::kStrict, WritePolicy::kInvalidate, Fault::kNone},
        Scenario{"StrictUpdate", Consistency::kStrict, WritePolicy::kUpdate, Fault::kNone},
        Scenario{"BoundedConnectionKills", Consistency::kBounded, WritePolicy::kInvalidate,
                 Fault::kConnections},
        Scenario{"StrictConnectionKills", Consistency::kStrict, WritePolicy::kInvalidate,
                 Fault::kConnections},
        Scenario{"BoundedRestart", Consistency::kBounded, WritePolicy::kUpdate, Fault::kRestart},
        Scenario{"StrictRestart", Consistency::kStrict, WritePolicy::kInvalidate, Fault::kRestart},
        Scenario{"BoundedPause", Consistency::kBounded, WritePolicy::kInvalidate, Fault::kPause},
        Scenario{"StrictPause", Consistency::kStrict, WritePolicy::kInvalidate, Fault::kPause},
        Scenario{"BoundedCutOff", Consistency::kBounded, WritePolicy::kInvalidate, Fault::kCutOff},
        Scenario{"StrictCutOff", Consistency::kStrict, WritePolicy::kUpdate, Fault::kCutOff}),
    [](const ::testing::TestParamInfo<Scenario>& info) { return std::string(info.param.name); });

// A one-byte-per-arrival barrier over two pipes (children write to `arrive`, wait for `go` to
// close).
struct Pipes {
  int arrive[2] = {-1, -1};
  int go[2] = {-1, -1};
  int report[2] = {-1, -1};
};

TEST(RedisStampedeTest, ThreeProcessesTimesFourThreadsCostOneDatabaseRead) {
  PostgresServer postgres;
  ASSERT_OK(postgres.Init());
  RedisServer redis;
  ASSERT_OK(redis.Init());
  Options options;
  options.postgres = postgres.conninfo();
  options.max_staleness = absl::Seconds(30);
  options.redis = redis.address();
  options.lease_ttl = absl::Seconds(10);  // No waiter gives up: every Get waits for the holder.
  {
    // The hot key is in the database; its Redis copy and lease are gone (the Put's UNLINK).
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
    ASSERT_OK(store.status());
    ASSERT_OK((*store)->Put("hot", "value"));
    ASSERT_OK((*store)->Get("hot").status());  // Fills Redis...
    ASSERT_OK((*store)->Put("hot", "fresh"));  // ...and this write invalidates it everywhere.
  }

  constexpr int kProcesses = 3;
  constexpr int kThreads = 4;
  Pipes p;
  ASSERT_EQ(pipe(p.arrive), 0);
  ASSERT_EQ(pipe(p.go), 0);
  ASSERT_EQ(pipe(p.report), 0);
  std::fflush(nullptr);
  std::vector<pid_t> children;
  for (int c = 0; c < kProcesses; ++c) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(p.go[1]);
      absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
      if (!store.ok()) _exit(2);
      char byte = 1;
      if (write(p.arrive[1], &byte, 1) != 1) _exit(3);
      if (read(p.go[0], &byte, 1) != 0) _exit(4);  // EOF: go.
      std::atomic<int> right{0};
      std::vector<std::thread> threads;
      for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
          absl::StatusOr<std::string> v = (*store)->Get("hot");
          if (v.ok() && *v == "fresh") right.fetch_add(1);
        });
      }
      for (std::thread& t : threads) t.join();
      const Stats s = (*store)->GetStats();
      const std::string line = absl::StrCat(right.load(), " ", s.db_reads, " ", s.remote_hits, " ",
                                            s.remote_lease_waits, "\n");
      if (write(p.report[1], line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
        _exit(5);
      }
      store->reset();
      _exit(0);
    }
    children.push_back(pid);
  }
  close(p.arrive[1]);
  close(p.report[1]);
  for (int c = 0; c < kProcesses; ++c) {
    char byte;
    ASSERT_EQ(read(p.arrive[0], &byte, 1), 1) << "a child failed to open its Store";
  }
  close(p.go[1]);  // Every child starts its Gets now.
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  }
  std::string out;
  char buf[256];
  for (ssize_t n; (n = read(p.report[0], buf, sizeof(buf))) > 0;) out.append(buf, n);
  int right = 0;
  uint64_t db_reads = 0;
  std::istringstream lines(out);
  int reports = 0;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    int r = 0;
    uint64_t d = 0;
    ASSERT_TRUE(fields >> r >> d) << line;
    right += r;
    db_reads += d;
    ++reports;
  }
  EXPECT_EQ(reports, kProcesses);
  std::cout << "stampede (right db_reads remote_hits lease_waits per process):\n" << out;
  EXPECT_EQ(right, kProcesses * kThreads);
  EXPECT_EQ(db_reads, 1u);
  for (int fd : {p.arrive[0], p.go[0], p.report[0]}) close(fd);
}

}  // namespace
}  // namespace asidekv::distributed
