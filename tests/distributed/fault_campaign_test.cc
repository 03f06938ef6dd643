// The fault campaign (issue 17, design/scale-out.md 4.3): the cross-process history checker
// over a private PostgreSQL (wal_level = logical) and a private redis-server, 3 forked
// processes x 2 threads, each with its own Store (near cache + Redis tier), in both consistency
// modes and both write policies, with one named fault per scenario injected while they run
// (fault_schedule.h: Redis connections killed, restarted, paused, one process cut off, its
// invalidations lagging; writers killed between commit and invalidation, the relay's leader
// killed or paused, PostgreSQL restarted in immediate mode, backends terminated).
//
// Asserted by the checker (history_checker.h), per key: every read returns a written value; no
// read misses a write that returned more than the bound before it began; after quiescence
// every process and the database agree (nothing acknowledged is lost). The bounds:
//   acknowledged writes, read by another process: kBounded delta (coherence_bound, +1 ms of
//     clock granularity), kStrict 0; by the writer's own process: 0. Exceptions, documented in
//     README "Many instances": kRedisPause in kBounded (max_staleness: an invalidation owed
//     until its retry lands after the server resumes), and kRedisCutOff in kBounded for the
//     cut-off process's writes only (owed until its link heals); and in kStrict, under the same
//     two faults, a write that returned Unavailable (committed, not confirmed): max_staleness,
//     as documented, even once some read returned it;
//   writes of writers killed between commit and invalidation (process kCrashed, never
//     returned: indeterminate, so they bind only once some read returned them) and, in a
//     second check of the same history, the same writes as committed at the time their writer
//     reported the commit: relay_max_lag + delta when the relay keeps running, plus kTakeover
//     when its leader dies or its sessions end (kRelayLeaderKilled, kPostgresRestart,
//     kBackendsTerminated): a follower takes the lead within the relay's retry (250 ms) once
//     the old session is gone, and a change committed while nobody led either is relayed at
//     once or, if it waited longer than relay_max_lag, flushes the tiers.
// Each scenario prints the consistency report (nines of reads within 0, delta, 10 delta, 1 s
// and the staleness histogram).
//
// ASIDEKV_DISTRIBUTED_SECONDS lengthens the runs; ASIDEKV_SEED replays a seed. Under ASan and
// TSan only the scenarios marked `sanitized` run (one or two per fault).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "asidekv/asidekv.h"
#include "gtest/gtest.h"
#include "tests/distributed/client_process.h"
#include "tests/distributed/crashed_writer.h"
#include "tests/distributed/fault_schedule.h"
#include "tests/distributed/relay_host.h"
#include "tests/distributed/workload.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/tcp_proxy.h"
#include "tests/testing/temp_dir.h"
#include "util/monotonic_clock.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ASIDEKV_CAMPAIGN_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define ASIDEKV_CAMPAIGN_SANITIZED 1
#endif
#endif

namespace asidekv::distributed {
namespace {

using ::asidekv::testing::PostgresServer;
using ::asidekv::testing::PostgresServerOptions;
using ::asidekv::testing::RedisServer;
using ::asidekv::testing::TcpProxyProcess;

constexpr absl::Duration kDelta = absl::Milliseconds(100);  // coherence_bound.
constexpr absl::Duration kMaxStaleness = absl::Seconds(4);
constexpr absl::Duration kRelayMaxLag = absl::Milliseconds(500);
// A relay leader's death (or its sessions' end) to a follower relaying: the follower's retry
// (250 ms), the advisory lock's release once PostgreSQL sees the session end, the stream's
// start; with room for a loaded 2-core machine.
constexpr absl::Duration kTakeover = absl::Seconds(1);
// Clock granularity between processes' CLOCK_MONOTONIC readings and the log's.
constexpr absl::Duration kEpsilon = absl::Milliseconds(1);
constexpr int kProcesses = 3;
constexpr int kCrashed = kProcesses;  // The process number of the killed writers' writes.

struct Scenario {
  const char* name;
  Consistency consistency;
  WritePolicy policy;
  Fault fault;
  bool sanitized;  // Also run under ASan and TSan.
};

// How long after a killed writer's commit every Store sees it (the file comment).
absl::Duration RelayBound(Fault fault) {
  const bool restarts = fault == Fault::kRelayLeaderKilled || DisturbsPostgres(fault);
  return kRelayMaxLag + kDelta + (restarts ? kTakeover : absl::ZeroDuration());
}

CheckOptions Bounds(const Scenario& s) {
  CheckOptions check;
  absl::Duration bound =
      s.consistency == Consistency::kStrict ? absl::ZeroDuration() : kDelta + kEpsilon;
  if (s.fault == Fault::kRedisPause && s.consistency == Consistency::kBounded) {
    bound = kMaxStaleness;
  }
  check.bound.assign(kProcesses, bound);
  check.writer_slack.assign(kProcesses + 1, absl::ZeroDuration());
  if (s.fault == Fault::kRedisCutOff && s.consistency == Consistency::kBounded) {
    // Only the cut-off process's writes may be owed; it still sees the others' within delta.
    check.writer_slack[kProcesses - 1] = kMaxStaleness;
  }
  if (s.consistency == Consistency::kStrict &&
      (s.fault == Fault::kRedisPause || s.fault == Fault::kRedisCutOff)) {
    // A write that returned Unavailable ("committed, but its invalidation could not reach
    // Redis") is owed: the others may miss it for max_staleness, even after its own process
    // (which reads owed keys from the database) returned it.
    check.indeterminate_slack.assign(kProcesses, kMaxStaleness);
  }
  if (UsesRelay(s.fault)) check.writer_slack[kCrashed] = RelayBound(s.fault);
  check.crashed = {kCrashed};
  check.delta = kDelta;
  return check;
}

Options StoreOptions(const Scenario& s, const PostgresServer& postgres, const RedisServer& redis) {
  Options o;
  o.postgres = postgres.conninfo();
  o.postgres_connections = 2;
  o.max_staleness = kMaxStaleness;
  o.cache_capacity_bytes = 1 << 20;
  o.write_policy = s.policy;
  o.redis = redis.address();
  o.redis_connections = 2;
  o.redis_timeout = absl::Milliseconds(300);
  o.consistency = s.consistency;
  o.coherence_bound = kDelta;
  o.lease_ttl = absl::Milliseconds(300);
  o.commit_log_relay = UsesRelay(s.fault);
  o.relay_max_lag = kRelayMaxLag;
  // Warnings (a relay's flush, a lost channel) go with the test's output, to explain a failure.
  o.log = [](LogSeverity severity, std::string_view message) {
    if (severity == LogSeverity::kInfo) return;
    std::fprintf(stderr, "[%d %.3f] %.*s\n", static_cast<int>(getpid()),
                 static_cast<double>(util::MonotonicNanos()) / 1e9,
                 static_cast<int>(message.size()), message.data());
  };
  return o;
}

// The history with the killed writers' committed writes as writes that returned OK when their
// writer reported the commit: the checker then holds every read to them, not only the reads
// after one that returned them.
WorkloadResult AsCommitted(WorkloadResult result, const std::vector<CrashedWrite>& crashed) {
  for (const CrashedWrite& c : crashed) {
    if (!c.committed) continue;
    for (Operation& op : result.history) {
      if (op.process == kCrashed && op.thread == c.op.thread) {
        op.status = absl::OkStatus();
        op.complete_nanos = c.committed_by_nanos;
      }
    }
  }
  return result;
}

class FaultCampaignTest : public ::testing::TestWithParam<Scenario> {};

TEST_P(FaultCampaignTest, ThreeProcessesKeepTheModesBound) {
  const Scenario& scenario = GetParam();
  PostgresServer postgres;
  PostgresServerOptions pg;
  pg.logical_decoding = UsesRelay(scenario.fault);
  ASSERT_OK(postgres.Init(pg));
  RedisServer redis;
  ASSERT_OK(redis.Init());
  // Processes of their own: this one forks the workload afterwards, and must run no thread then.
  TcpProxyProcess proxy;
  if (UsesProxy(scenario.fault)) {
    ASSERT_OK(proxy.Start("127.0.0.1", redis.port()));
  }
  testing::TempDir dir;

  const Options options = StoreOptions(scenario, postgres, redis);
  Options reader = options;
  reader.cache_capacity_bytes = 0;
  reader.redis.clear();
  reader.commit_log_relay = false;
  // Creates the table once; this process then holds no connection (nor thread) when it forks.
  { ASSERT_OK(Store::Open(reader).status()); }
  RelayHost relay;
  if (UsesRelay(scenario.fault)) {
    ASSERT_OK(relay.Start(options));
  }
  Options killed_writer = options;
  killed_writer.commit_log_relay = false;

  WorkloadOptions w;
  w.processes = kProcesses;
  w.threads = 2;
  w.duration = absl::Seconds(scenario.fault == Fault::kNone ? 4 : 5);
  if (scenario.fault == Fault::kRedisCutOff || scenario.fault == Fault::kInvalidationLag ||
      UsesRelay(scenario.fault)) {
    // Read-mostly, so that processes hold values in their near caches that others overwrite
    // while the fault lasts: that is what the gate, the flushes and the relay must stop.
    w.get_percent = 90;
    w.put_percent = 6;
    w.delete_percent = 2;
    w.max_ops_per_second = 1000;
  }
  // The killed writers write keys the workload only reads: no later write's invalidation hides
  // a missing one, so only the relay can make them visible.
  if (UsesRelay(scenario.fault)) w.read_only_keys = 4;
  w.log_dir = dir.path();
  w.check = Bounds(scenario);
  absl::Duration longest = 2 * kDelta;
  for (absl::Duration d : w.check.bound) longest = std::max(longest, d);
  for (absl::Duration d : w.check.writer_slack) longest = std::max(longest, d);
  w.quiesce = longest;

  std::vector<CrashedWrite> crashed;
  int attempts = 0;
  std::mt19937_64 rng(1);  // The killed writers' keys: the same in every run.
  FaultTargets targets;
  targets.postgres = &postgres;
  targets.redis = &redis;
  targets.proxy = &proxy;
  targets.relay = &relay;
  targets.delta = kDelta;
  targets.kill_writer = [&] {
    const std::string key =
        ClientProcess::Key(w, w.keys + static_cast<int>(rng() % w.read_only_keys));
    const int n = attempts++;
    absl::StatusOr<CrashedWrite> c = KillWriterAfterCommit(
        killed_writer, kCrashed, n, key, UniqueValue(key, kCrashed, n, 1, w.value_size));
    if (c.ok()) crashed.push_back(*std::move(c));
  };
  w.during = [&] { InjectFaults(scenario.fault, targets); };
  // UsesProxy: the last process reaches Redis through the proxy.
  Options cut_off = options;
  cut_off.redis = proxy.address();
  absl::StatusOr<WorkloadResult> result = RunWorkload(
      w,
      [&](int p) {
        return Store::Open(UsesProxy(scenario.fault) && p == w.processes - 1 ? cut_off : options);
      },
      [&] { return Store::Open(reader); });
  if (relay.running()) {
    EXPECT_OK(relay.Stop());
  }
  ASSERT_OK(result.status());
  // The workload's own calls, before the killed writers' writes join the history.
  const uint64_t failed_reads = result->check.failed_reads;
  const uint64_t failed_writes = result->check.failed_writes;
  for (const CrashedWrite& c : crashed) result->history.push_back(c.op);
  const CheckResult check = Recheck(*result, w.check);
  EXPECT_TRUE(check.ok()) << check.Report();
  EXPECT_GT(check.writes, 0u) << check.Report();
  EXPECT_GT(check.reads, 0u) << check.Report();
  if (!DisturbsPostgres(scenario.fault)) {
    // Redis and relay faults slow reads down, never fail them; a kBounded write never fails for
    // Redis.
    EXPECT_EQ(failed_reads, 0u) << check.Report();
    if (scenario.consistency == Consistency::kBounded) {
      EXPECT_EQ(failed_writes, 0u) << check.Report();
    }
  }
  std::cout << "campaign " << scenario.name << ": " << check.Report(3) << "\n";
  if (!UsesRelay(scenario.fault)) return;
  const size_t committed = static_cast<size_t>(std::count_if(
      crashed.begin(), crashed.end(), [](const CrashedWrite& c) { return c.committed; }));
  EXPECT_GE(committed, 3u) << "writers killed after their commit: " << crashed.size();
  const CheckResult as_committed = Recheck(AsCommitted(*result, crashed), w.check);
  EXPECT_TRUE(as_committed.ok()) << as_committed.Report(400);
  std::cout << "campaign " << scenario.name << " (" << committed
            << " killed writers' writes as committed): " << as_committed.Report(3) << "\n";
}

// Every scenario; under ASan and TSan only those marked `sanitized` (the others are not
// instantiated there, rather than skipped).
std::vector<Scenario> CampaignScenarios() {
  const std::vector<Scenario> all = {
      Scenario{"BoundedInvalidate", Consistency::kBounded, WritePolicy::kInvalidate, Fault::kNone,
               true},
      Scenario{"BoundedUpdate", Consistency::kBounded, WritePolicy::kUpdate, Fault::kNone, false},
      Scenario{"StrictInvalidate", Consistency::kStrict, WritePolicy::kInvalidate, Fault::kNone,
               false},
      Scenario{"StrictUpdate", Consistency::kStrict, WritePolicy::kUpdate, Fault::kNone, false},
      Scenario{"BoundedRedisConnectionKills", Consistency::kBounded, WritePolicy::kInvalidate,
               Fault::kRedisConnections, false},
      Scenario{"StrictRedisConnectionKills", Consistency::kStrict, WritePolicy::kInvalidate,
               Fault::kRedisConnections, false},
      Scenario{"BoundedRedisRestart", Consistency::kBounded, WritePolicy::kUpdate,
               Fault::kRedisRestart, false},
      Scenario{"StrictRedisRestart", Consistency::kStrict, WritePolicy::kInvalidate,
               Fault::kRedisRestart, true},
      Scenario{"BoundedRedisPause", Consistency::kBounded, WritePolicy::kInvalidate,
               Fault::kRedisPause, false},
      Scenario{"StrictRedisPause", Consistency::kStrict, WritePolicy::kInvalidate,
               Fault::kRedisPause, false},
      Scenario{"BoundedRedisCutOff", Consistency::kBounded, WritePolicy::kInvalidate,
               Fault::kRedisCutOff, false},
      Scenario{"StrictRedisCutOff", Consistency::kStrict, WritePolicy::kUpdate, Fault::kRedisCutOff,
               true},
      Scenario{"BoundedInvalidationLag", Consistency::kBounded, WritePolicy::kInvalidate,
               Fault::kInvalidationLag, false},
      Scenario{"StrictInvalidationLag", Consistency::kStrict, WritePolicy::kUpdate,
               Fault::kInvalidationLag, false},
      Scenario{"BoundedWriterKilled", Consistency::kBounded, WritePolicy::kInvalidate,
               Fault::kWriterKilled, false},
      Scenario{"BoundedUpdateWriterKilled", Consistency::kBounded, WritePolicy::kUpdate,
               Fault::kWriterKilled, false},
      Scenario{"StrictWriterKilled", Consistency::kStrict, WritePolicy::kInvalidate,
               Fault::kWriterKilled, true},
      Scenario{"BoundedRelayLeaderKilled", Consistency::kBounded, WritePolicy::kInvalidate,
               Fault::kRelayLeaderKilled, true},
      Scenario{"StrictRelayLeaderKilled", Consistency::kStrict, WritePolicy::kUpdate,
               Fault::kRelayLeaderKilled, false},
      Scenario{"BoundedRelayPaused", Consistency::kBounded, WritePolicy::kInvalidate,
               Fault::kRelayPaused, false},
      Scenario{"StrictRelayPaused", Consistency::kStrict, WritePolicy::kInvalidate,
               Fault::kRelayPaused, false},
      Scenario{"BoundedPostgresRestart", Consistency::kBounded, WritePolicy::kInvalidate,
               Fault::kPostgresRestart, false},
      Scenario{"StrictPostgresRestart", Consistency::kStrict, WritePolicy::kUpdate,
               Fault::kPostgresRestart, true},
      Scenario{"BoundedBackendsTerminated", Consistency::kBounded, WritePolicy::kInvalidate,
               Fault::kBackendsTerminated, true},
      Scenario{"StrictBackendsTerminated", Consistency::kStrict, WritePolicy::kInvalidate,
               Fault::kBackendsTerminated, false}};
#ifdef ASIDEKV_CAMPAIGN_SANITIZED
  std::vector<Scenario> sanitized;
  for (const Scenario& s : all) {
    if (s.sanitized) sanitized.push_back(s);
  }
  return sanitized;
#else
  return all;
#endif
}

INSTANTIATE_TEST_SUITE_P(Scenarios, FaultCampaignTest, ::testing::ValuesIn(CampaignScenarios()),
                         [](const ::testing::TestParamInfo<Scenario>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace asidekv::distributed
