// What every end-to-end run of the workload driver (workload.h) expects, shared by its suites:
// a run that completed with a clean check, having written and read, without failed calls, with
// the database's final content read; and the gtest names of the CacheMode parameters.

#ifndef ASIDEKV_TESTS_DISTRIBUTED_WORKLOAD_EXPECTATIONS_H_
#define ASIDEKV_TESTS_DISTRIBUTED_WORKLOAD_EXPECTATIONS_H_

#include <iostream>
#include <string>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "tests/distributed/history_checker.h"
#include "tests/distributed/workload.h"
#include "tests/testing/status_matchers.h"

namespace asidekv::distributed {

// "Invalidate", "Update", "CacheOff": the names of a TestWithParam<CacheMode>'s instances.
inline std::string CacheModeTestName(const ::testing::TestParamInfo<CacheMode>& info) {
  return CacheModeName(info.param);
}

// The run completed; its history checks clean, with writes and reads and no failed call; the
// database's final content was read. Prints the check's summary.
inline void ExpectCleanRun(const absl::StatusOr<WorkloadResult>& result) {
  ASSERT_OK(result.status());
  const CheckResult& check = result->check;
  EXPECT_TRUE(check.ok()) << check.Report();
  EXPECT_GT(check.writes, 0u) << check.Report();
  EXPECT_GT(check.reads, 0u) << check.Report();
  EXPECT_EQ(check.failed_reads + check.failed_writes, 0u) << check.Report();
  ASSERT_TRUE(result->database.has_value());
  std::cout << "check: " << check.Report() << "\n";
}

}  // namespace asidekv::distributed

#endif  // ASIDEKV_TESTS_DISTRIBUTED_WORKLOAD_EXPECTATIONS_H_
