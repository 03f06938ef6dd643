// The cross-process history checker over PostgreSQL: 3 forked processes x 2 threads, each with
// its own Store over one table of a private server (tests/testing/postgres_server.h), for both
// write policies and with the cache off. The checker asserts, per key: every read returns a
// written value; no read misses a write that returned max_staleness before it began (0 for the
// writer's own process, 0 with the cache off); after quiescence every process and the database
// agree. ASIDEKV_DISTRIBUTED_SECONDS lengthens the runs; ASIDEKV_SEED replays a seed.
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "asidekv/asidekv.h"
#include "gtest/gtest.h"
#include "tests/distributed/workload.h"
#include "tests/distributed/workload_expectations.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace asidekv::distributed {
namespace {

using ::asidekv::testing::PostgresServer;

constexpr absl::Duration kMaxStaleness = absl::Milliseconds(200);

class PostgresHistoryTest : public ::testing::TestWithParam<CacheMode> {};

TEST_P(PostgresHistoryTest, ThreeProcessesKeepTheirPromises) {
  PostgresServer server;
  ASSERT_OK(server.Init());
  testing::TempDir dir;
  Options base;
  base.postgres = server.conninfo();
  base.postgres_connections = 2;
  base.max_staleness = kMaxStaleness;
  const Options options = WithCacheMode(base, GetParam());
  Options reader = options;
  reader.cache_capacity_bytes = 0;
  // The table is created here, once, and this Store closed again: the processes then only open
  // it, and this process holds no connection (nor thread) when it forks.
  { ASSERT_OK(Store::Open(reader).status()); }

  WorkloadOptions w;
  w.processes = 3;
  w.threads = 2;
  w.duration = absl::Seconds(3);
  w.quiesce = kMaxStaleness;
  w.log_dir = dir.path();
  w.check = BoundsFor(options, w.processes);
  ExpectCleanRun(RunWorkload(
      w, [&](int) { return Store::Open(options); }, [&] { return Store::Open(reader); }));
}

INSTANTIATE_TEST_SUITE_P(Modes, PostgresHistoryTest,
                         ::testing::Values(CacheMode::kInvalidate, CacheMode::kUpdate,
                                           CacheMode::kOff),
                         CacheModeTestName);

}  // namespace
}  // namespace asidekv::distributed
