// The bench's PostgreSQL backends against a private server (tests/testing/postgres_server.h): the
// direct baseline's operations, and a short interleaved `asidekv-bench ycsb` run of both
// backends whose every read is checked, which leaves no table behind.
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tools/bench/postgres_backend.h"
#include "tools/bench/records.h"
#include "tools/bench/ycsb_command.h"

namespace asidekv::bench {
namespace {

using ::asidekv::testing::PostgresServer;
using ::asidekv::testing::StatusIs;
using ::testing::HasSubstr;

// `asidekv-bench ycsb` with these flags; its exit code.
int RunYcsb(std::vector<std::string> flags) {
  std::vector<std::string> args = {"asidekv-bench", "ycsb"};
  args.insert(args.end(), flags.begin(), flags.end());
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  return RunYcsbCommand(YcsbPreset::kYcsb, static_cast<int>(argv.size()), argv.data(), 2);
}

class PostgresBenchTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(server_.Init()); }

  // Tables the bench made that are still there.
  std::string BenchTables() const {
    absl::StatusOr<std::string> out = server_.Psql(
        "SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relname LIKE 'asidekv\\_bench\\_%'");
    EXPECT_OK(out.status());
    return out.ok() ? *out : "?";
  }

  PostgresServer server_;
};

TEST_F(PostgresBenchTest, DirectBaselineReadsWritesScansAndDropsItsTable) {
  BackendOptions options;
  options.postgres = server_.conninfo();
  options.threads = 2;
  const RecordCodec codec(16, 20, 40);
  {
    absl::StatusOr<std::unique_ptr<PostgresBackend>> backend = PostgresBackend::Open(options);
    ASSERT_OK(backend.status());
    std::vector<std::string> keys;
    std::vector<std::string> values;
    for (uint64_t i = 0; i < 50; ++i) {
      keys.push_back(codec.Key(i));
      values.emplace_back();
      codec.FormatValue(i, 0, &values.back());
    }
    ASSERT_OK((*backend)->LoadBatch(keys, values));
    ASSERT_OK((*backend)->AfterLoad(/*compact=*/true));

    std::string value;
    std::string why;
    ASSERT_OK((*backend)->Read(keys[7], &value));
    EXPECT_TRUE(codec.Verify(7, value, &why)) << why;
    EXPECT_THAT((*backend)->Read(codec.Key(1000), &value), StatusIs(absl::StatusCode::kNotFound));

    std::string updated;
    codec.FormatValue(7, 3, &updated);
    ASSERT_OK((*backend)->Write(keys[7], updated));
    ASSERT_OK((*backend)->Read(keys[7], &value));
    EXPECT_EQ(value, updated);

    absl::StatusOr<size_t> scanned = (*backend)->Scan("", 20);
    ASSERT_OK(scanned.status());
    EXPECT_EQ(*scanned, 20u);
    scanned = (*backend)->Scan("", 100);
    ASSERT_OK(scanned.status());
    EXPECT_EQ(*scanned, 50u);
    EXPECT_EQ(BenchTables(), "1");
  }
  EXPECT_EQ(BenchTables(), "0");
}

TEST(PostgresBenchFlagsTest, NoServerGivenIsABadFlag) {
  EXPECT_EQ(RunYcsb({"--backends=postgres", "--records=10", "--operations=10", "--allow-debug"}),
            2);
}

TEST_F(PostgresBenchTest, InterleavedRoundsOfBothBackendsCheckEveryRead) {
  asidekv::testing::TempDir dir;
  const std::string json = dir.Sub("report.json");
  ASSERT_EQ(RunYcsb({"--backends=aside-postgres,postgres", "--postgres=" + server_.conninfo(),
                     "--workloads=A,C,E", "--records=300", "--operations=200", "--threads=2",
                     "--rounds=2", "--cache-fraction=0.1", "--max-staleness=50ms", "--warmup=0s",
                     "--verify-every=1", "--progress=false", "--allow-debug", "--json=" + json}),
            0);
  EXPECT_EQ(BenchTables(), "0");
  std::ifstream in(json);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_THAT(text.str(), HasSubstr("\"name\": \"aside-postgres/postgres\""));
  EXPECT_THAT(text.str(), HasSubstr("\"read_p50_ratio_median\""));
  EXPECT_THAT(text.str(), HasSubstr("\"round\": 1"));
}

}  // namespace
}  // namespace asidekv::bench
