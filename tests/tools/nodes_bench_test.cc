// `asidekv-bench ycsb --nodes` and the redis-aside baseline: the flags' validation, the node
// processes' plumbing (Fleet, the wire format), redis-aside against private PostgreSQL and Redis
// servers (tests/testing/), and a short --nodes=2 run of the three shared backends whose every
// read is checked and whose aggregate figures must be the sum of the nodes'.
#include <latch>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/json_test_util.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tools/admin/json_reader.h"
#include "tools/bench/fleet.h"
#include "tools/bench/node_wire.h"
#include "tools/bench/records.h"
#include "tools/bench/redis_aside_backend.h"
#include "tools/bench/ycsb_command.h"
#include "tools/bench/ycsb_config.h"

namespace asidekv::bench {
namespace {

using ::asidekv::testing::Field;
using ::asidekv::testing::PostgresServer;
using ::asidekv::testing::RedisServer;
using ::asidekv::testing::StatusIs;
using ::testing::HasSubstr;

// ParseYcsbFlags over `flags` (after "asidekv-bench ycsb").
absl::StatusOr<std::optional<YcsbConfig>> Parse(const std::vector<std::string>& flags) {
  std::vector<const char*> argv = {"asidekv-bench", "ycsb"};
  for (const std::string& f : flags) argv.push_back(f.c_str());
  return ParseYcsbFlags(YcsbPreset::kYcsb, static_cast<int>(argv.size()), argv.data(), 2);
}

TEST(NodesFlagsTest, BadInputIsAnErrorNamingTheFlag) {
  const std::string pg = "--postgres=host=/nowhere";
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--backends=postgres", pg, "--nodes=0"}, "--nodes: 0 is out of range [1, 64]"},
      {{"--backends=postgres", pg, "--nodes=65"}, "--nodes: 65 is out of range"},
      {{"--backends=postgres", pg, "--nodes=two"}, "--nodes: expected an integer"},
      {{"--backends=aside", "--nodes=2"}, "backend aside keeps its data in this process"},
      {{"--backends=postgres,rocksdb", pg, "--nodes=3"}, "backend rocksdb keeps its data"},
      {{"--backends=postgres", pg, "--nodes=2", "--operations=3", "--threads=2"},
       "--operations: must be at least --threads times --nodes"},
      {{"--backends=aside-postgres", pg, "--redis=localhost"}, "--redis: Redis address"},
      {{"--backends=aside-postgres", pg, "--redis=localhost:0"}, "the port must be a number"},
      {{"--backends=aside-postgres", pg, "--redis=localhost:99999"}, "the port must be"},
      {{"--backends=aside-postgres", pg, "--redis=unix:"}, "no socket path"},
      {{"--backends=aside-postgres", pg, "--redis=::1:6380"}, "needs brackets"},
      {{"--backends=aside-postgres", pg, "--redis=:6380"}, "no host"},
      {{"--backends=postgres", pg, "--redis=localhost:6380"},
       "only aside-postgres and redis-aside use Redis"},
      {{"--backends=redis-aside", pg}, "--redis: the redis-aside backend needs a server"},
      {{"--backends=redis-aside", "--redis=localhost:6380"}, "--postgres"},
      {{"--backends=aside-postgres", pg, "--consistency=strict"}, "--consistency: needs --redis"},
      {{"--backends=aside-postgres", pg, "--redis=localhost:6380", "--consistency=eventual"},
       "unknown 'eventual' (bounded, strict)"},
      {{"--backends=aside-postgres", pg, "--redis=localhost:6380", "--coherence-bound=0s"},
       "--coherence-bound: must be in [1ms"},
      {{"--backends=aside-postgres", pg, "--redis=localhost:6380", "--coherence-bound=2s"},
       "--max-staleness = 1s"},
      {{"--backends=redis-aside", pg, "--redis=localhost:6380", "--redis-ttl=0s"},
       "--redis-ttl: must be at least 1ms"},
  };
  for (const auto& [flags, message] : cases) {
    absl::StatusOr<std::optional<YcsbConfig>> parsed = Parse(flags);
    ASSERT_FALSE(parsed.ok()) << message;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << message;
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(message));
  }
}

TEST(NodesFlagsTest, GoodFlagsAreKept) {
  absl::StatusOr<std::optional<YcsbConfig>> parsed = Parse(
      {"--backends=aside-postgres,redis-aside,postgres", "--postgres=host=/x", "--redis=[::1]:6380",
       "--nodes=3", "--consistency=strict", "--coherence-bound=20ms", "--redis-ttl=5s"});
  ASSERT_OK(parsed.status());
  ASSERT_TRUE(parsed->has_value());
  const YcsbConfig& c = **parsed;
  EXPECT_EQ(c.nodes, 3);
  EXPECT_EQ(c.redis, "[::1]:6380");
  EXPECT_TRUE(c.strict);
  EXPECT_EQ(c.coherence_bound, absl::Milliseconds(20));
  EXPECT_EQ(c.redis_ttl, absl::Seconds(5));
}

TEST(NodesFlagsTest, NodesWithoutServersExitWithUsageError) {
  std::vector<const char*> argv = {"asidekv-bench", "ycsb", "--backends=aside", "--nodes=2",
                                   "--allow-debug"};
  EXPECT_EQ(RunYcsbCommand(YcsbPreset::kYcsb, static_cast<int>(argv.size()), argv.data(), 2), 2);
}

TEST(FleetTest, NodesAnswerAndTheirExitIsAnError) {
  absl::StatusOr<std::unique_ptr<Fleet>> fleet = Fleet::Start(2, [](int node, Link& link) {
    absl::StatusOr<std::string> m = link.Receive();
    if (!m.ok()) return 1;
    // Node 0 echoes with its index; node 1 exits without answering.
    if (node == 0) link.Send(absl::StrCat(*m, " from ", node)).IgnoreError();
    return 0;
  });
  ASSERT_OK(fleet.status());
  ASSERT_OK((*fleet)->SendAll("hello"));
  absl::StatusOr<std::string> reply = (*fleet)->Receive(0);
  ASSERT_OK(reply.status());
  EXPECT_EQ(*reply, "hello from 0");
  EXPECT_THAT((*fleet)->Receive(1),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("node 1: closed")));
  (*fleet)->Abandon();
  EXPECT_THAT((*fleet)->Send(0, "again"), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(FleetTest, RefusesToForkAProcessWithThreads) {
  std::latch done(1);
  std::thread other([&] { done.wait(); });
  absl::StatusOr<std::unique_ptr<Fleet>> fleet = Fleet::Start(1, [](int, Link&) { return 0; });
  done.count_down();
  other.join();
  EXPECT_THAT(fleet.status(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                       HasSubstr("only a single-threaded process may fork")));
}

TEST(NodeWireTest, OutcomeRoundTripsAndTruncationIsDetected) {
  PhaseOutcome outcome;
  outcome.result.ops = 1234;
  outcome.result.seconds = 1.5;
  outcome.result.verified = 77;
  outcome.result.first_failure = "none";
  for (uint64_t v : {5u, 900u, 70000u, 70000u}) outcome.result.latency[0].Record(v);
  outcome.counters.hits = 10;
  outcome.counters.db_reads = 3;
  outcome.backend_counters = {{"cache_hits", 10}, {"remote_hits", 2}};
  WireWriter w;
  EncodeOutcome(outcome, w);
  const std::string bytes = w.Take();

  WireReader r(bytes);
  PhaseOutcome back;
  ASSERT_TRUE(DecodeOutcome(r, &back));
  EXPECT_TRUE(r.done());
  EXPECT_EQ(back.result.ops, 1234u);
  EXPECT_EQ(back.result.seconds, 1.5);
  EXPECT_EQ(back.result.verified, 77u);
  EXPECT_EQ(back.result.first_failure, "none");
  EXPECT_EQ(back.result.latency[0].count(), 4u);
  EXPECT_EQ(back.result.latency[0].Percentile(0.5), outcome.result.latency[0].Percentile(0.5));
  EXPECT_EQ(back.result.latency[0].max(), 70000u);
  EXPECT_EQ(back.counters.hits, 10u);
  EXPECT_FALSE(back.counters.misses.has_value());
  EXPECT_EQ(back.counters.db_reads, 3u);
  EXPECT_EQ(back.backend_counters, outcome.backend_counters);

  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    WireReader short_reader(std::string_view(bytes).substr(0, cut));
    PhaseOutcome partial;
    EXPECT_FALSE(DecodeOutcome(short_reader, &partial) && short_reader.done()) << cut;
  }
}

class ServersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(postgres_.Init());
    ASSERT_OK(redis_.Init());
  }

  std::string Psql(const std::string& sql) const {
    absl::StatusOr<std::string> out = postgres_.Psql(sql);
    EXPECT_OK(out.status());
    return out.ok() ? *out : "?";
  }
  // Tables the bench made that are still there.
  std::string BenchTables() const {
    return Psql(
        "SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relname LIKE 'asidekv\\_bench\\_%'");
  }
  std::string RedisKeys() const {
    absl::StatusOr<std::string> out = redis_.Cli({"DBSIZE"});
    EXPECT_OK(out.status());
    return out.ok() ? *out : "?";
  }

  PostgresServer postgres_;
  RedisServer redis_;
};

TEST_F(ServersTest, RedisAsideReadsThroughRedisAndWritesDeleteIt) {
  BackendOptions options;
  options.postgres = postgres_.conninfo();
  options.redis = redis_.unix_address();
  options.threads = 2;
  const RecordCodec codec(16, 20, 40);
  {
    absl::StatusOr<std::unique_ptr<RedisAsideBackend>> backend = RedisAsideBackend::Open(options);
    ASSERT_OK(backend.status());
    std::vector<std::string> keys;
    std::vector<std::string> values;
    for (uint64_t i = 0; i < 20; ++i) {
      keys.push_back(codec.Key(i));
      values.emplace_back();
      codec.FormatValue(i, 0, &values.back());
    }
    ASSERT_OK((*backend)->LoadBatch(keys, values));
    ASSERT_OK((*backend)->AfterLoad(/*compact=*/false));
    EXPECT_EQ(RedisKeys(), "0");

    std::string value;
    ASSERT_OK((*backend)->Read(keys[3], &value));  // Miss: PostgreSQL, then SET.
    EXPECT_EQ(value, values[3]);
    EXPECT_EQ(RedisKeys(), "1");
    ASSERT_OK((*backend)->Read(keys[3], &value));  // Hit.
    EXPECT_EQ(value, values[3]);
    CacheCounters c = (*backend)->Counters();
    EXPECT_EQ(c.remote_hits, 1u);
    EXPECT_EQ(c.db_reads, 1u);
    EXPECT_FALSE(c.hits.has_value());

    absl::StatusOr<std::string> ttl =
        redis_.Cli({"PTTL", absl::StrCat((*backend)->table(), ":", keys[3])});
    ASSERT_OK(ttl.status());
    EXPECT_GT(std::stoll(*ttl), 3'500'000);  // The default TTL, 1 hour.

    std::string updated;
    codec.FormatValue(3, 9, &updated);
    ASSERT_OK((*backend)->Write(keys[3], updated));  // PostgreSQL, then DEL.
    EXPECT_EQ(RedisKeys(), "0");
    ASSERT_OK((*backend)->Read(keys[3], &value));
    EXPECT_EQ(value, updated);
    EXPECT_THAT((*backend)->Read(codec.Key(500), &value), StatusIs(absl::StatusCode::kNotFound));
    c = (*backend)->Counters();
    EXPECT_EQ(c.remote_hits, 1u);
    EXPECT_EQ(c.db_reads, 3u);
  }
  EXPECT_EQ(BenchTables(), "0");
}

TEST_F(ServersTest, RedisAsideWithoutARedisServerFailsToOpen) {
  BackendOptions options;
  options.postgres = postgres_.conninfo();
  absl::StatusOr<int> port = asidekv::testing::FreePort(6379);
  ASSERT_OK(port.status());
  options.redis = absl::StrCat("127.0.0.1:", *port);
  EXPECT_THAT(RedisAsideBackend::Open(options).status(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("Redis connect")));
  EXPECT_EQ(BenchTables(), "0");
}

uint64_t Number(const admin::JsonValue& v) { return std::stoull(v.text); }

TEST_F(ServersTest, TwoNodesRunEveryBackendAndTheirFiguresAddUp) {
  asidekv::testing::TempDir dir;
  const std::string json_path = dir.Sub("report.json");
  const std::vector<std::string> flags = {"--backends=aside-postgres,redis-aside,postgres",
                                          "--postgres=" + postgres_.conninfo(),
                                          "--redis=" + redis_.address(),
                                          "--nodes=2",
                                          "--threads=2",
                                          "--workloads=C,A",
                                          "--records=300",
                                          "--operations=400",
                                          "--cache-fraction=0.1",
                                          "--max-staleness=5s",
                                          "--warmup=0s",
                                          "--verify-every=1",
                                          "--progress=false",
                                          "--allow-debug",
                                          "--json=" + json_path};
  std::vector<const char*> argv = {"asidekv-bench", "ycsb"};
  for (const std::string& f : flags) argv.push_back(f.c_str());
  ASSERT_EQ(RunYcsbCommand(YcsbPreset::kYcsb, static_cast<int>(argv.size()), argv.data(), 2), 0);
  EXPECT_EQ(BenchTables(), "0");

  absl::StatusOr<admin::JsonValue> report = admin::ParseJson(asidekv::testing::ReadFile(json_path));
  ASSERT_OK(report.status());
  EXPECT_EQ(Field(*report, "ok").boolean, true);
  EXPECT_EQ(Field(*report, "configuration/nodes").text, "2");
  const admin::JsonValue& backends = Field(*report, "backends");
  ASSERT_EQ(backends.items.size(), 3u);
  for (const admin::JsonValue& b : backends.items) {
    const std::string name = Field(b, "backend").text;
    SCOPED_TRACE(name);
    EXPECT_EQ(Field(b, "error").text, "");
    const admin::JsonValue& workloads = Field(b, "workloads");
    ASSERT_EQ(workloads.items.size(), 2u);
    for (const admin::JsonValue& w : workloads.items) {
      SCOPED_TRACE(Field(w, "workload").text);
      const admin::JsonValue& measured = Field(w, "measured");
      // Every thread of both nodes ran its share: 400 operations over 4 threads.
      EXPECT_EQ(Number(Field(measured, "ops")), 400u);
      EXPECT_EQ(Number(Field(measured, "errors")), 0u);
      EXPECT_EQ(Number(Field(measured, "verify_failures")), 0u);
      EXPECT_EQ(Number(Field(measured, "values_verified")), Number(Field(measured, "point_reads")));
      EXPECT_GT(Number(Field(measured, "values_verified")), 0u);
      const admin::JsonValue& nodes = Field(w, "nodes");
      ASSERT_EQ(nodes.items.size(), 2u);
      uint64_t ops = 0;
      uint64_t db_reads = 0;
      double rate = 0;
      for (const admin::JsonValue& n : nodes.items) {
        EXPECT_EQ(Number(Field(n, "ops")), 200u);
        ops += Number(Field(n, "ops"));
        db_reads += Number(Field(n, "db_reads"));
        rate += std::stod(Field(n, "ops_per_second").text);
      }
      EXPECT_EQ(ops, Number(Field(measured, "ops")));
      EXPECT_EQ(db_reads, Number(Field(w, "db_reads")));
      EXPECT_NEAR(rate, std::stod(Field(measured, "ops_per_second").text), 1e-6 * rate);
      const bool has_redis = name != "postgres";
      EXPECT_EQ(Field(w, "remote_hit_ratio").type != admin::JsonValue::Type::kNull, has_redis);
      EXPECT_EQ(Field(w, "hit_ratio").type != admin::JsonValue::Type::kNull,
                name == "aside-postgres");
      if (name == "postgres") {
        EXPECT_EQ(Number(Field(w, "db_reads")), Number(Field(measured, "point_reads")));
      }
    }
  }
  std::stringstream ratios;
  for (const admin::JsonValue& r : Field(*report, "ratios").items) {
    ratios << Field(r, "name").text << " ";
  }
  EXPECT_THAT(ratios.str(), HasSubstr("aside-postgres/postgres"));
  EXPECT_THAT(ratios.str(), HasSubstr("aside-postgres/redis-aside"));
}

}  // namespace
}  // namespace asidekv::bench
