#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tools/trace/replay.h"

namespace asidekv::trace {
namespace {

using ::asidekv::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string TwoDecimals(const ReplayResult& r) {
  return absl::StrFormat("%.2f", r.HitRatioPercent());
}

// The README of the traces folder: arc_OLTP at 1% of its 186,880 unique keys (1,868 objects).
TEST(TraceReplayTest, ArcOltpAtOnePercentMatchesTheReference) {
  const std::string path = std::string(ASIDEKV_TRACES_DIR) + "/arc_OLTP.keys";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no trace at " << path;
  ASSERT_OK_AND_ASSIGN(Trace trace, ReadTrace(path));
  ASSERT_EQ(trace.requests.size(), 914145u);
  ASSERT_EQ(trace.unique_keys(), 186880u);
  constexpr double kReferenceLru = 41.63;
  constexpr double kReferenceS3Fifo = 46.47;

  ASSERT_OK_AND_ASSIGN(ReplayResult lru, ReplayPolicy(trace, "lru", 1868));
  EXPECT_EQ(TwoDecimals(lru), "41.63");
  ASSERT_OK_AND_ASSIGN(ReplayResult def, ReplayPolicy(trace, "default", 1868));
  EXPECT_GE(def.HitRatioPercent(), std::max(kReferenceLru, kReferenceS3Fifo) - 1.0);
}

TEST(TraceReplayTest, ReplayCountsHitsThroughTheCache) {
  TraceBuilder builder("mem");
  for (const char* key : {"a", "b", "a", "c", "b", "a"}) ASSERT_OK(builder.AddLine(key));
  ASSERT_OK_AND_ASSIGN(Trace trace, builder.Finish());
  ASSERT_OK_AND_ASSIGN(ReplayResult lru, ReplayPolicy(trace, "lru", 2));
  EXPECT_EQ(lru.requests, 6u);
  EXPECT_EQ(lru.hits, 1u);  // Only the second 'a'.
  ASSERT_OK_AND_ASSIGN(ReplayResult all, ReplayPolicy(trace, "s3fifo", 3));
  EXPECT_EQ(all.hits, 3u);  // Everything fits.
  ASSERT_OK_AND_ASSIGN(ReplayResult none, ReplayPolicy(trace, "default", 0));
  EXPECT_EQ(none.hits, 0u);
  EXPECT_THAT(ReplayPolicy(trace, "fifo", 2), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(TraceToolTest, ParsesFlags) {
  ASSERT_OK_AND_ASSIGN(
      TraceToolOptions o,
      ParseTraceToolArgs({"--file", "f.keys", "--capacity-percent=1,5,10", "--policy", "lru,opt"}));
  EXPECT_EQ(o.file, "f.keys");
  EXPECT_THAT(o.capacity_percents, ElementsAre(1, 5, 10));
  EXPECT_THAT(o.policies, ElementsAre("lru", "opt"));
  ASSERT_OK_AND_ASSIGN(o, ParseTraceToolArgs({"--capacity-objects", "10,20", "--file=f"}));
  EXPECT_THAT(o.capacity_objects, ElementsAre(10, 20));
  EXPECT_TRUE(o.policies.empty());

  for (const std::vector<std::string_view>& bad : std::vector<std::vector<std::string_view>>{
           {},
           {"--file", "f"},
           {"--capacity-objects", "10"},
           {"--file", "f", "--capacity-objects", "x"},
           {"--file", "f", "--capacity-percent", "101"},
           {"--file", "f", "--capacity-objects", "1", "--policy", "arc"},
           {"--file", "f", "--capacity-objects"},
           {"--frobnicate", "1"}}) {
    EXPECT_THAT(ParseTraceToolArgs(bad), StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

TEST(TraceToolTest, PrintsOneLinePerCapacityAndPolicy) {
  asidekv::testing::TempDir dir;
  const std::string path = dir.Sub("t.keys");
  std::ofstream(path) << "1\n2\n1\n3\n2\n1\n4\n5\n6\n7\n";  // 7 unique keys.
  TraceToolOptions options;
  options.file = path;
  options.capacity_percents = {30};  // floor(0.3 * 7) = 2 objects.
  std::ostringstream out;
  ASSERT_OK(RunTraceTool(options, out));
  EXPECT_EQ(out.str(), "trace=" + path +
                           " requests=10 unique_keys=7\n"
                           "policy=lru hit_ratio=10.00 capacity_objects=2\n"
                           "policy=s3fifo hit_ratio=20.00 capacity_objects=2\n"
                           "policy=default hit_ratio=20.00 capacity_objects=2\n"
                           "policy=opt hit_ratio=20.00 capacity_objects=2\n");

  options.file = dir.Sub("missing.keys");
  EXPECT_THAT(RunTraceTool(options, out), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(std::string(TraceToolUsage()), HasSubstr("--capacity-percent"));
}

}  // namespace
}  // namespace asidekv::trace
