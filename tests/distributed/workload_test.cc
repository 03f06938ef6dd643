// End-to-end runs of the workload driver without a shared server: forked over RocksDB (one
// process: a RocksDB folder has one owner at a time), and in one process over Stores sharing an
// in-memory database, where a staleness bound lets the checker see real stale reads. The
// PostgreSQL suite runs the same driver with real forks of 3 processes.
#include "tests/distributed/workload.h"

#include <unistd.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "asidekv/asidekv.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/distributed/history_checker.h"
#include "tests/distributed/workload_expectations.h"
#include "tests/testing/map_database.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace asidekv::distributed {
namespace {

using ::asidekv::testing::MapDatabase;
using ::asidekv::testing::StatusIs;
using ::testing::HasSubstr;

class ForkedRocksDbTest : public ::testing::TestWithParam<CacheMode> {};

// Forked: one child over a RocksDB folder, two threads; the database is then read by another
// child with the cache off. A single process has no slack: bound 0.
TEST_P(ForkedRocksDbTest, HistoryChecksWithBoundZero) {
  testing::TempDir dir;
  Options options = WithCacheMode(Options(), GetParam());
  options.path = dir.Sub("db");
  Options reader = options;
  reader.cache_capacity_bytes = 0;
  WorkloadOptions w;
  w.processes = 1;
  w.duration = absl::Seconds(2);
  w.log_dir = dir.path();
  ExpectCleanRun(RunWorkload(
      w, [&](int) { return Store::Open(options); }, [&] { return Store::Open(reader); }));
}

INSTANTIATE_TEST_SUITE_P(Configs, ForkedRocksDbTest,
                         ::testing::Values(CacheMode::kInvalidate, CacheMode::kUpdate,
                                           CacheMode::kOff),
                         CacheModeTestName);

// In one process: Stores over one shared in-memory database stand for processes.
class SharedDatabaseTest : public ::testing::TestWithParam<CacheMode> {
 protected:
  static constexpr absl::Duration kBound = absl::Milliseconds(100);

  // `processes` Stores, checked with the bounds they were opened with.
  absl::StatusOr<WorkloadResult> Run(int processes) {
    Options options;
    options.max_staleness = kBound;
    options = WithCacheMode(options, GetParam());
    Options reader = options;
    reader.cache_capacity_bytes = 0;
    WorkloadOptions w;
    w.mode = WorkloadOptions::Mode::kInProcess;
    w.processes = processes;
    w.duration = absl::Seconds(1);
    w.quiesce = kBound;
    w.log_dir = dir_.path();
    w.check = BoundsFor(options, processes);
    return RunWorkload(
        w, [&](int) { return Store::Open(options, database_.Share()); },
        [&] { return Store::Open(reader, database_.Share()); });
  }

  testing::TempDir dir_;
  MapDatabase database_{/*shared=*/true};
};

// With the bound they were opened with, the Stores' histories check; with no slack they do not:
// a Store's cache serves values another Store has overwritten (for up to the bound), and the
// checker sees it.
TEST_P(SharedDatabaseTest, StaleReadsWithinTheBoundPassAndAreCaughtWithoutIt) {
  auto result = Run(2);
  ExpectCleanRun(result);
  if (!result.ok()) return;
  const CheckResult strict = Recheck(*result, CheckOptions{});
  EXPECT_TRUE(strict.Has(ViolationKind::kStaleRead)) << strict.Report();
  EXPECT_FALSE(strict.Has(ViolationKind::kUnwrittenValue)) << strict.Report();
  std::cout << "with bound 0: " << strict.Report(2) << "\n";
}

INSTANTIATE_TEST_SUITE_P(Policies, SharedDatabaseTest,
                         ::testing::Values(CacheMode::kInvalidate, CacheMode::kUpdate),
                         CacheModeTestName);

class SharedDatabaseCacheOffTest : public SharedDatabaseTest {};

// With the cache off there is no slack for anyone: three "processes" check with bound 0.
TEST_P(SharedDatabaseCacheOffTest, HistoryChecksWithBoundZero) { ExpectCleanRun(Run(3)); }

INSTANTIATE_TEST_SUITE_P(CacheOff, SharedDatabaseCacheOffTest, ::testing::Values(CacheMode::kOff),
                         CacheModeTestName);

// A private in-memory Store, for the runs that fail before any history is checked.
absl::StatusOr<std::unique_ptr<Store>> PrivateStore() {
  return Store::Open(Options{}, std::make_unique<MapDatabase>());
}

TEST(ForkedWorkloadTest, AChildThatCannotOpenItsStoreFailsTheRun) {
  testing::TempDir dir;
  WorkloadOptions w;
  w.duration = absl::Milliseconds(100);
  w.log_dir = dir.path();
  w.seed = 1234;
  auto result = RunWorkload(w, [](int process) -> absl::StatusOr<std::unique_ptr<Store>> {
    if (process == 1) return absl::UnavailableError("no server");
    return PrivateStore();
  });
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kInternal));
  EXPECT_THAT(result.status().message(), HasSubstr("process 1 exited with status 2"));
  EXPECT_THAT(result.status().message(), HasSubstr("no server"));
  EXPECT_THAT(result.status().message(), HasSubstr("seed 1234"));
}

TEST(ForkedWorkloadTest, AHungChildIsKilledAtTheDeadline) {
  testing::TempDir dir;
  WorkloadOptions w;
  w.duration = absl::Milliseconds(100);
  w.grace = absl::Milliseconds(500);
  w.log_dir = dir.path();
  w.seed = 99;
  auto result = RunWorkload(w, [](int process) -> absl::StatusOr<std::unique_ptr<Store>> {
    if (process == 2) pause();  // Hangs until killed.
    return PrivateStore();
  });
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_THAT(result.status().message(), HasSubstr("2 of 3 children reached the start"));
  EXPECT_THAT(result.status().message(), HasSubstr("seed 99"));
}

}  // namespace
}  // namespace asidekv::distributed
