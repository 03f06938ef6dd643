// Tests of db::ParseDecodedChange on real test_decoding output: lines captured from PostgreSQL 15
// (kept literally below), and lines a private server decodes while the test writes keys with
// every awkward byte (0x00, quotes, backslashes, non-UTF-8) through db::PostgresDb.

#include "db/postgres/decoded_change.h"

#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "db/postgres/postgres_db.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/status_matchers.h"

namespace asidekv::db {
namespace {

using ::asidekv::testing::PostgresServer;
using ::asidekv::testing::PostgresServerOptions;
using ::testing::ElementsAre;
using Kind = DecodedChange::Kind;

TEST(DecodedChangeTest, BeginAndCommitWithItsTime) {
  EXPECT_EQ(ParseDecodedChange("BEGIN", "kv").kind, Kind::kBegin);
  EXPECT_EQ(ParseDecodedChange("BEGIN 741", "kv").kind, Kind::kBegin);
  EXPECT_EQ(ParseDecodedChange("BEGIN 741", "kv").xid, 741u);
  EXPECT_EQ(ParseDecodedChange("BEGIN 4294967295", "kv").xid, 4294967295u);
  EXPECT_EQ(ParseDecodedChange("BEGIN", "kv").xid, std::nullopt);
  EXPECT_EQ(ParseDecodedChange("BEGIN 4294967296", "kv").xid, std::nullopt);
  EXPECT_EQ(ParseDecodedChange("COMMIT 741 (at 2026-11-29 23:55:31.074937+00)", "kv").xid, 741u);
  const DecodedChange c = ParseDecodedChange("COMMIT (at 2026-11-29 23:55:31.074937+00)", "kv");
  EXPECT_EQ(c.kind, Kind::kCommit);
  ASSERT_TRUE(c.commit_micros.has_value());
  // 2026-11-29 is day 9829 after 2000-01-01.
  EXPECT_EQ(*c.commit_micros, (int64_t{9829} * 86400 + 23 * 3600 + 55 * 60 + 31) * 1000000 + 74937);
  // The same instant written in another session time zone.
  EXPECT_EQ(ParseDecodedChange("COMMIT (at 2026-11-29 18:55:31.074937-05)", "kv").commit_micros,
            c.commit_micros);
  EXPECT_EQ(ParseDecodedChange("COMMIT", "kv").kind, Kind::kCommit);
  EXPECT_FALSE(ParseDecodedChange("COMMIT", "kv").commit_micros.has_value());
}

TEST(DecodedChangeTest, RowChangesGiveTheirKeys) {
  DecodedChange c = ParseDecodedChange(
      "table public.kv: INSERT: key[bytea]:'\\x00275c22ff0a' value[bytea]:'\\x76' "
      "version[bigint]:1",
      "kv");
  EXPECT_EQ(c.kind, Kind::kRow);
  EXPECT_THAT(c.keys, ElementsAre(std::string("\x00'\\\"\xff\n", 6)));
  c = ParseDecodedChange(
      "table public.kv: UPDATE: key[bytea]:'\\x00275c22ff0a' value[bytea]:'\\x77' "
      "version[bigint]:1",
      "kv");
  EXPECT_EQ(c.kind, Kind::kRow);
  EXPECT_THAT(c.keys, ElementsAre(std::string("\x00'\\\"\xff\n", 6)));
  // A key change: both keys.
  c = ParseDecodedChange(
      "table public.kv: UPDATE: old-key: key[bytea]:'\\x00275c22ff0a' new-tuple: "
      "key[bytea]:'\\x01' value[bytea]:'\\x77' version[bigint]:1",
      "kv");
  EXPECT_EQ(c.kind, Kind::kRow);
  EXPECT_THAT(c.keys, ElementsAre(std::string("\x00'\\\"\xff\n", 6), std::string("\x01")));
  c = ParseDecodedChange("table public.kv: DELETE: key[bytea]:'\\x01'", "kv");
  EXPECT_EQ(c.kind, Kind::kRow);
  EXPECT_THAT(c.keys, ElementsAre(std::string("\x01")));
  // The empty key (not one asidekv writes, but the table allows it).
  c = ParseDecodedChange("table public.kv: DELETE: key[bytea]:'\\x'", "kv");
  EXPECT_EQ(c.kind, Kind::kRow);
  EXPECT_THAT(c.keys, ElementsAre(std::string()));
}

TEST(DecodedChangeTest, OtherTablesAndSchemasAndQuotedNames) {
  EXPECT_EQ(ParseDecodedChange("table public.kv2: INSERT: key[bytea]:'\\x61'", "kv").kind,
            Kind::kOther);
  EXPECT_EQ(ParseDecodedChange("table public.\"user\": INSERT: key[bytea]:'\\x78' "
                               "value[bytea]:'\\x79' version[bigint]:1",
                               "kv")
                .kind,
            Kind::kOther);
  EXPECT_EQ(ParseDecodedChange("table public.\"user\": INSERT: key[bytea]:'\\x78' "
                               "value[bytea]:'\\x79' version[bigint]:1",
                               "user")
                .kind,
            Kind::kRow);
  // Another schema's table of the same name counts (extra invalidations only).
  EXPECT_EQ(ParseDecodedChange("table app.kv: DELETE: key[bytea]:'\\x61'", "kv").kind, Kind::kRow);
  // A value that looks like a marker does not confuse the relation list.
  EXPECT_EQ(ParseDecodedChange("table public.notes: INSERT: id[text]:'x: DELETE: y'", "kv").kind,
            Kind::kOther);
  EXPECT_EQ(ParseDecodedChange("message: transactional: 1 prefix: p, sz: 1 content:x", "kv").kind,
            Kind::kOther);
}

TEST(DecodedChangeTest, TruncateNamesEveryTable) {
  EXPECT_EQ(ParseDecodedChange("table public.kv, public.\"user\": TRUNCATE: (no-flags)", "kv").kind,
            Kind::kTruncate);
  EXPECT_EQ(
      ParseDecodedChange("table public.a, public.kv: TRUNCATE: restart_seqs cascade", "kv").kind,
      Kind::kTruncate);
  EXPECT_EQ(ParseDecodedChange("table public.a, public.b: TRUNCATE: (no-flags)", "kv").kind,
            Kind::kOther);
}

TEST(DecodedChangeTest, AKeyItCannotReadIsUnknownNeverAGuess) {
  for (const char* line : {
           "table public.kv: DELETE: (no-tuple-data)",
           "table public.kv: INSERT: key[bytea]:'\\000abc' value[bytea]:'x'",  // Escape format.
           "table public.kv: INSERT: key[bytea]:'\\x0",                        // Cut short.
           "table public.kv: INSERT: key[bytea]:'\\x0g'",
           "table public.kv: UPDATE: old-key: key[bytea]:'\\x01' new-tuple: (no-tuple-data)",
       }) {
    const DecodedChange c = ParseDecodedChange(line, "kv");
    EXPECT_EQ(c.kind, Kind::kUnknownKey) << line;
    EXPECT_TRUE(c.keys.empty()) << line;
  }
}

TEST(DecodedChangeTest, Timestamps) {
  EXPECT_EQ(ParsePgTimestamp("2000-01-01 00:00:00+00"), 0);
  EXPECT_EQ(ParsePgTimestamp("2000-01-01 05:30:00.5+05:30"), 500000);
  EXPECT_EQ(ParsePgTimestamp("1999-12-31 23:59:59+00"), -1000000);
  EXPECT_FALSE(ParsePgTimestamp("2000-01-01 00:00:00").has_value());
  EXPECT_FALSE(ParsePgTimestamp("yesterday").has_value());
}

// Keys of every byte written through PostgresDb come back from the server's own decoding.
TEST(DecodedChangeTest, RoundTripThroughARealServer) {
  PostgresServer server;
  PostgresServerOptions server_options;
  server_options.logical_decoding = true;
  ASSERT_OK(server.Init(server_options));
  PostgresOptions options;
  options.conninfo = server.conninfo();
  options.table = "kv";
  absl::StatusOr<std::unique_ptr<PostgresDb>> db = PostgresDb::Open(options);
  ASSERT_OK(db.status());
  ASSERT_OK(server.Psql("SELECT 1 FROM pg_create_logical_replication_slot('t', 'test_decoding')")
                .status());
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes.push_back(static_cast<char>(b));
  const std::vector<std::string> keys = {std::string("\x00", 1), "'",     "\\",     "\"",
                                         "\xff\xfe not utf-8",   "plain", all_bytes};
  for (const std::string& k : keys) ASSERT_OK((*db)->Put(k, "value"));
  ASSERT_OK((*db)->Delete(keys[0]));
  absl::StatusOr<std::string> out = server.Psql(
      "SET bytea_output = 'hex'; SELECT data FROM pg_logical_slot_peek_changes('t', NULL, NULL, "
      "'include-xids', '1', 'include-timestamp', '1', 'skip-empty-xacts', '1')");
  ASSERT_OK(out.status());
  std::vector<std::string> seen;
  int commits = 0;
  std::istringstream lines(*out);
  for (std::string line; std::getline(lines, line);) {
    const DecodedChange c = ParseDecodedChange(line, "kv");
    ASSERT_NE(c.kind, Kind::kUnknownKey) << line;
    if (c.kind == Kind::kCommit) {
      ++commits;
      EXPECT_TRUE(c.commit_micros.has_value()) << line;
      EXPECT_TRUE(c.xid.has_value()) << line;
    }
    if (c.kind == Kind::kBegin) {
      EXPECT_TRUE(c.xid.has_value()) << line;
    }
    for (const std::string& k : c.keys) seen.push_back(k);
  }
  std::vector<std::string> expected = keys;
  expected.push_back(keys[0]);  // The delete.
  EXPECT_EQ(seen, expected);
  EXPECT_GE(commits, static_cast<int>(expected.size()));
  ASSERT_OK(server.Psql("SELECT pg_drop_replication_slot('t')").status());
}

}  // namespace
}  // namespace asidekv::db
