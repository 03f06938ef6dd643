// Tests of db::PostgresDb against a real PostgreSQL server (tests/testing/postgres_server.h), one
// private server per test: binary round trips, MultiGet, atomic batches, batches that cannot
// deadlock one another and deadlock victims run again, scans (order, bounds, pages, snapshot),
// concurrency, versions, schema and marker checks, open errors, a killed and a paused server,
// passwords kept out of messages; and the SQLSTATE table and RedactConninfo.

#include "db/postgres/postgres_db.h"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "asidekv/database.h"
#include "db/format_marker.h"
#include "db/postgres/conninfo.h"
#include "db/postgres/pg_connection.h"
#include "db/postgres/sqlstate.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/status_matchers.h"
#include "util/monotonic_clock.h"

namespace asidekv::db {
namespace {

using ::asidekv::testing::IsOk;
using ::asidekv::testing::PostgresServer;
using ::asidekv::testing::PostgresServerOptions;
using ::asidekv::testing::StatusIs;
using ::testing::AnyOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

using Rows = std::vector<std::pair<std::string, std::string>>;

constexpr char kPassword[] = "s3cr3t-pass";

// The status (of a Status or StatusOr) has one of `codes`.
MATCHER_P(HasCodeIn, codes, "has one of the expected status codes") {
  const absl::Status& s = ::asidekv::testing::GetStatus(arg);
  *result_listener << "status is " << s;
  for (absl::StatusCode c : codes) {
    if (s.code() == c) return true;
  }
  return false;
}

std::string Bytes(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

Rows ScanAll(const PostgresDb& db, const ScanOptions& options) {
  Rows rows;
  absl::Status s = db.Scan(options, [&](std::string_view k, std::string_view v) {
    rows.emplace_back(std::string(k), std::string(v));
    return true;
  });
  EXPECT_OK(s);
  return rows;
}

absl::Status PutAll(PostgresDb& db, const std::map<std::string, std::string>& kv) {
  std::vector<DatabaseOp> ops;
  for (const auto& [k, v] : kv) ops.push_back(DatabaseOp{DatabaseOp::kPut, k, v});
  return db.Write(ops);
}

// --- Without a server ---------------------------------------------------------------------------

TEST(SqlStateTest, MapsSpecificCodesThenClasses) {
  EXPECT_EQ(SqlStateCode("57014"), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(SqlStateCode("57P01"), absl::StatusCode::kUnavailable);
  EXPECT_EQ(SqlStateCode("57P02"), absl::StatusCode::kUnavailable);
  EXPECT_EQ(SqlStateCode("57P03"), absl::StatusCode::kUnavailable);
  EXPECT_EQ(SqlStateCode("40001"), absl::StatusCode::kAborted);
  EXPECT_EQ(SqlStateCode("40P01"), absl::StatusCode::kAborted);
  EXPECT_EQ(SqlStateCode("08006"), absl::StatusCode::kUnavailable);
  EXPECT_EQ(SqlStateCode("53300"), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(SqlStateCode("53100"), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(SqlStateCode("23505"), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(SqlStateCode("22P02"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SqlStateCode("28P01"), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(SqlStateCode("42P01"), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(SqlStateCode("42501"), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(SqlStateCode("3D000"), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(SqlStateCode("54000"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SqlStateCode("58030"), absl::StatusCode::kUnavailable);
  EXPECT_EQ(SqlStateCode("XX001"), absl::StatusCode::kInternal);
  EXPECT_EQ(SqlStateCode("57000"), absl::StatusCode::kInternal);
  EXPECT_EQ(SqlStateCode("40002"), absl::StatusCode::kInternal);
  EXPECT_EQ(SqlStateCode(""), absl::StatusCode::kInternal);
  EXPECT_EQ(SqlStateCode("08"), absl::StatusCode::kInternal);
}

TEST(SqlStateTest, NeverNotFound) {
  const std::string chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  for (char a : chars) {
    for (char b : chars) {
      for (const char* rest : {"000", "P01", "001", "P02"}) {
        const std::string code = absl::StrCat(std::string{a, b}, rest);
        EXPECT_NE(SqlStateCode(code), absl::StatusCode::kNotFound) << code;
      }
    }
  }
}

TEST(ConninfoTest, RedactsThePasswordInBothForms) {
  EXPECT_EQ(RedactConninfo("host=db port=5433 user=app password=s3cr3t-pass dbname=prod"),
            "user=app password=**** dbname=prod host=db port=5433");
  EXPECT_EQ(RedactConninfo("postgresql://app:s3cr3t-pass@db:5433/prod?sslmode=disable"),
            "user=app password=**** dbname=prod host=db port=5433 sslmode=disable");
  EXPECT_EQ(RedactConninfo("host='/tmp/a b' password='it\\'s'"), "password=**** host='/tmp/a b'");
  EXPECT_EQ(RedactConninfo("host=db"), "host=db");
  EXPECT_EQ(RedactConninfo("host=db password"), "(unparsable connection string)");
  EXPECT_EQ(RedactConninfo("bogus_keyword=1"), "(unparsable connection string)");
  EXPECT_EQ(RedactConninfo("postgresql://app:s3cr3t-pass@[::1"), "(unparsable connection string)");
}

TEST(ConninfoTest, ParseErrorsNeverQuoteAPassword) {
  for (const char* bad : {"host=db password=s3cr3t-pass bogus",
                          "password=s3cr3t-pass x=", "postgresql://app:s3cr3t-pass@[::1"}) {
    absl::StatusOr<ParsedConninfo> parsed = ParseConninfo(bad);
    EXPECT_THAT(parsed, StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
    EXPECT_THAT(std::string(parsed.status().message()), Not(HasSubstr(kPassword)));
  }
}

TEST(PostgresOpenTest, RejectsBadOptionsBeforeConnecting) {
  PostgresOptions options;
  options.conninfo = "host=/nonexistent port=1";
  for (const char* table : {"", "Upper", "1abc", "a-b", "a b", "x;drop", "\xc3\xa9t\xc3\xa9"}) {
    options.table = table;
    EXPECT_THAT(PostgresDb::Open(options), StatusIs(absl::StatusCode::kInvalidArgument)) << table;
  }
  options.table = std::string(49, 'a');
  EXPECT_THAT(PostgresDb::Open(options), StatusIs(absl::StatusCode::kInvalidArgument));
  options.table = "ok_name_9";
  options.connections = 0;
  EXPECT_THAT(PostgresDb::Open(options), StatusIs(absl::StatusCode::kInvalidArgument));
  options.connections = 4;
  options.timeout = absl::ZeroDuration();
  EXPECT_THAT(PostgresDb::Open(options), StatusIs(absl::StatusCode::kInvalidArgument));
  options.timeout = absl::Seconds(1);
  options.conninfo = "host=x nonsense";
  EXPECT_THAT(PostgresDb::Open(options), StatusIs(absl::StatusCode::kInvalidArgument));
  options.conninfo = "";
  EXPECT_THAT(PostgresDb::Open(options), StatusIs(absl::StatusCode::kInvalidArgument));
}

// --- Against a server ---------------------------------------------------------------------------

class PostgresDbTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(server_.Init()); }

  PostgresOptions Options() const {
    PostgresOptions options;
    options.conninfo = server_.conninfo();
    options.timeout = absl::Seconds(10);
    return options;
  }

  std::unique_ptr<PostgresDb> OpenOrDie(const PostgresOptions& options) {
    absl::StatusOr<std::unique_ptr<PostgresDb>> db = PostgresDb::Open(options);
    EXPECT_OK(db);
    return db.ok() ? *std::move(db) : nullptr;
  }

  std::string Sql(std::string_view sql) {
    absl::StatusOr<std::string> out = server_.Psql(sql);
    EXPECT_OK(out);
    return out.ok() ? *out : "";
  }

  // Server processes waiting for a lock now.
  int LockWaiters() {
    return std::stoi(Sql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"));
  }

  PostgresServer server_;
};

TEST_F(PostgresDbTest, RoundTripsBinaryKeysAndValues) {
  std::unique_ptr<PostgresDb> db = OpenOrDie(Options());
  ASSERT_NE(db, nullptr);
  EXPECT_TRUE(db->IsShared());
  EXPECT_EQ(db->value_encoding(), ValueEncoding::kHeader);
  const std::string nul_key = Bytes({'a', 0, 'b', 0});
  const std::string ff_key = Bytes({0xFF, 0xFF, 0x00, 0x80});
  const std::string nul_value = Bytes({0, 0, 1, 0xFF, 0});
  ASSERT_OK(db->Put(nul_key, nul_value));
  ASSERT_OK(db->Put(ff_key, ""));
  ASSERT_OK(db->Put("", "empty key"));
  std::string value = "junk";
  ASSERT_OK(db->Get(nul_key, &value));
  EXPECT_EQ(value, nul_value);
  ASSERT_OK(db->Get(ff_key, &value));
  EXPECT_EQ(value, "");
  ASSERT_OK(db->Get("", &value));
  EXPECT_EQ(value, "empty key");
  EXPECT_THAT(db->Get("a", &value), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(value, "");
  EXPECT_THAT(db->Get(Bytes({'a', 0}), &value), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK(db->Put(nul_key, "second"));
  ASSERT_OK(db->Get(nul_key, &value));
  EXPECT_EQ(value, "second");
  ASSERT_OK(db->Delete(nul_key));
  EXPECT_THAT(db->Get(nul_key, &value), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK(db->Delete("never there"));
  // A large value (TOASTed by the server) comes back whole.
  std::string big(3 << 20, '\0');
  std::mt19937 rng(7);
  for (char& c : big) c = static_cast<char>(rng());
  ASSERT_OK(db->Put("big", big));
  ASSERT_OK(db->Get("big", &value));
  EXPECT_TRUE(value == big);
}

TEST_F(PostgresDbTest, MultiGetAnswersEachPositionWithRepeatsAndAbsentKeys) {
  std::unique_ptr<PostgresDb> db = OpenOrDie(Options());
  ASSERT_NE(db, nullptr);
  ASSERT_OK(db->Put("a", "1"));
  ASSERT_OK(db->Put(Bytes({0, 0xFF}), Bytes({0})));
  ASSERT_OK(db->Put("c", ""));
  const std::string bin = Bytes({0, 0xFF});
  std::vector<std::string_view> keys = {"a", "missing", bin, "a", "c", "missing", ""};
  std::vector<absl::StatusOr<std::string>> got = db->MultiGet(keys);
  ASSERT_EQ(got.size(), keys.size());
  ASSERT_OK(got[0]);
  EXPECT_EQ(*got[0], "1");
  EXPECT_THAT(got[1], StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK(got[2]);
  EXPECT_EQ(*got[2], Bytes({0}));
  ASSERT_OK(got[3]);
  EXPECT_EQ(*got[3], "1");
  ASSERT_OK(got[4]);
  EXPECT_EQ(*got[4], "");
  EXPECT_THAT(got[5], StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(got[6], StatusIs(absl::StatusCode::kNotFound));
  EXPECT_TRUE(db->MultiGet({}).empty());
}

TEST_F(PostgresDbTest, WriteIsAtomicAndALaterOpWins) {
  std::unique_ptr<PostgresDb> db = OpenOrDie(Options());
  ASSERT_NE(db, nullptr);
  ASSERT_OK(db->Put("gone", "x"));
  std::vector<DatabaseOp> ops = {
      {DatabaseOp::kPut, "k", "first"},  {DatabaseOp::kPut, "j", "j1"},
      {DatabaseOp::kDelete, "gone", ""}, {DatabaseOp::kPut, "k", "second"},
      {DatabaseOp::kDelete, "j", ""},    {DatabaseOp::kPut, "gone", "back"},
  };
  ASSERT_OK(db->Write(ops));
  std::string value;
  ASSERT_OK(db->Get("k", &value));
  EXPECT_EQ(value, "second");
  EXPECT_THAT(db->Get("j", &value), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK(db->Get("gone", &value));
  EXPECT_EQ(value, "back");
  ASSERT_OK(db->Write({}));

  // A key too large for the primary key's B-tree (random bytes do not compress) fails the
  // whole batch on the server: nothing of it is applied.
  std::string huge(10000, '\0');
  std::mt19937 rng(1);
  for (char& c : huge) c = static_cast<char>(rng());
  std::vector<DatabaseOp> failing = {
      {DatabaseOp::kPut, "k", "third"},
      {DatabaseOp::kPut, "new", "n"},
      {DatabaseOp::kPut, huge, "v"},
      {DatabaseOp::kDelete, "gone", ""},
  };
  absl::Status s = db->Write(failing);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(s.message()), HasSubstr("54000"));
  ASSERT_OK(db->Get("k", &value));
  EXPECT_EQ(value, "second");
  EXPECT_THAT(db->Get("new", &value), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK(db->Get("gone", &value));
  // The same as a single Put: a definite failure, not an unknown outcome.
  EXPECT_THAT(db->Put(huge, "v"), StatusIs(absl::StatusCode::kInvalidArgument));
  // The connection stays usable.
  ASSERT_OK(db->Put("after", "ok"));
}

// A connection of the test's own, for holding row locks in an open transaction.
std::unique_ptr<PgConnection> ConnectOrDie(const PostgresServer& server) {
  absl::StatusOr<std::unique_ptr<PgConnection>> c =
      PgConnection::Connect(server.conninfo(), "test", "",
                            util::MonotonicNanos() + absl::ToInt64Nanoseconds(absl::Seconds(10)));
  EXPECT_OK(c);
  return c.ok() ? *std::move(c) : nullptr;
}

absl::Status RunSql(PgConnection& c, const std::string& sql) {
  return c
      .Run(PgStatement::Sql(sql),
           util::MonotonicNanos() + absl::ToInt64Nanoseconds(absl::Seconds(30)))
      .status();
}

int64_t WriteRetries(const PostgresDb& db) {
  return std::stoll(*db.GetProperty("postgres.write_retries"));
}

// Two batches whose keys come in opposite orders, made to overlap by a third transaction
// holding a row lock: sent in the callers' orders they would deadlock (the server aborting one),
// in key order they only queue.
TEST_F(PostgresDbTest, BatchesInOppositeKeyOrdersDoNotDeadlock) {
  PostgresOptions options = Options();
  options.connections = 2;
  std::unique_ptr<PostgresDb> db = OpenOrDie(options);
  ASSERT_NE(db, nullptr);
  std::unique_ptr<PgConnection> holder = ConnectOrDie(server_);
  ASSERT_NE(holder, nullptr);
  ASSERT_OK(PutAll(*db, {{"a", "0"}, {"b", "0"}, {"m", "0"}}));
  ASSERT_OK(RunSql(*holder, "BEGIN"));
  ASSERT_OK(RunSql(*holder, "UPDATE asidekv SET value = 'h' WHERE key = 'm'"));
  auto await_waiting = [&](int n) {
    for (int i = 0; i < 3000 && LockWaiters() < n; ++i) absl::SleepFor(absl::Milliseconds(5));
    ASSERT_EQ(LockWaiters(), n);
  };
  // First b, m, a: in the callers' order it would lock b and wait for m.
  absl::Status second_status;
  std::thread second([&] {
    second_status = db->Write(
        {{DatabaseOp::kPut, "b", "2"}, {DatabaseOp::kPut, "m", "2"}, {DatabaseOp::kPut, "a", "2"}});
  });
  await_waiting(1);
  // Then a, b: it would lock a and wait for b, closing the cycle once m is free.
  absl::Status first_status;
  std::thread first([&] {
    first_status = db->Write({{DatabaseOp::kPut, "a", "1"}, {DatabaseOp::kPut, "b", "1"}});
  });
  await_waiting(2);
  ASSERT_OK(RunSql(*holder, "COMMIT"));
  second.join();
  first.join();
  EXPECT_OK(second_status);
  EXPECT_OK(first_status);
  EXPECT_EQ(WriteRetries(*db), 0);
  std::string a;
  std::string b;
  ASSERT_OK(db->Get("a", &a));
  ASSERT_OK(db->Get("b", &b));
  EXPECT_EQ(a, b);  // Each batch is atomic; whichever committed last wrote both.
}

// A batch the server picks as a deadlock's victim (here, with another client's transaction that
// locks rows in its own order) applied nothing, so it is run again and succeeds.
TEST_F(PostgresDbTest, ABatchAbortedAsADeadlockVictimIsRunAgain) {
  std::unique_ptr<PostgresDb> db = OpenOrDie(Options());
  ASSERT_NE(db, nullptr);
  std::unique_ptr<PgConnection> other = ConnectOrDie(server_);
  ASSERT_NE(other, nullptr);
  ASSERT_OK(PutAll(*db, {{"a", "0"}, {"b", "0"}}));
  // The other transaction detects deadlocks late, so the batch, waiting first, is the victim.
  ASSERT_OK(RunSql(*other, "BEGIN"));
  ASSERT_OK(RunSql(*other, "SET LOCAL deadlock_timeout = '60s'"));
  ASSERT_OK(RunSql(*other, "UPDATE asidekv SET value = 'o' WHERE key = 'b'"));
  absl::Status batch_status;
  std::thread batch([&] {
    batch_status = db->Write({{DatabaseOp::kPut, "a", "1"}, {DatabaseOp::kPut, "b", "1"}});
  });
  for (int i = 0; i < 3000; ++i) {
    if (LockWaiters() == 1) break;
    absl::SleepFor(absl::Milliseconds(5));
  }
  // Waits for a, which the batch holds: a deadlock, which the batch's server process detects
  // after its deadlock_timeout (1 s) and ends by aborting the batch.
  ASSERT_OK(RunSql(*other, "UPDATE asidekv SET value = 'o' WHERE key = 'a'"));
  ASSERT_OK(RunSql(*other, "COMMIT"));
  batch.join();
  EXPECT_OK(batch_status);
  // At least once. When the other transaction's backend is slow to wake after the abort, the
  // first retry locks a before it does and the two deadlock again, so a second retry may follow.
  EXPECT_GE(WriteRetries(*db), 1);
  std::string value;
  ASSERT_OK(db->Get("a", &value));
  EXPECT_EQ(value, "1");  // The batch ran again after the other transaction committed.
  ASSERT_OK(db->Get("b", &value));
  EXPECT_EQ(value, "1");
}

TEST_F(PostgresDbTest, ScanFollowsByteOrderAndBounds) {
  std::unique_ptr<PostgresDb> db = OpenOrDie(Options());
  ASSERT_NE(db, nullptr);
  const std::string k80 = Bytes({0x80});
  const std::string kff = Bytes({0xFF});
  const std::string kff0 = Bytes({0xFF, 0x00});
  const std::string kffff = Bytes({0xFF, 0xFF});
  const std::string kffff1 = Bytes({0xFF, 0xFF, 0x01});
  const std::string a0 = Bytes({'a', 0});
  ASSERT_OK(PutAll(*db, {{"a", "1"},
                         {a0, "2"},
                         {"ab", "3"},
                         {"b", "4"},
                         {k80, "5"},
                         {kff, "6"},
                         {kff0, "7"},
                         {kffff, "8"},
                         {kffff1, "9"},
                         {Bytes({0x7F}), "10"}}));
  EXPECT_THAT(ScanAll(*db, {}),
              ElementsAre(Pair("a", "1"), Pair(a0, "2"), Pair("ab", "3"), Pair("b", "4"),
                          Pair(Bytes({0x7F}), "10"), Pair(k80, "5"), Pair(kff, "6"),
                          Pair(kff0, "7"), Pair(kffff, "8"), Pair(kffff1, "9")));
  ScanOptions prefix;
  prefix.prefix = "a";
  EXPECT_THAT(ScanAll(*db, prefix), ElementsAre(Pair("a", "1"), Pair(a0, "2"), Pair("ab", "3")));
  prefix.prefix = kff;  // Ends in 0xFF: no successor by increment.
  EXPECT_THAT(ScanAll(*db, prefix),
              ElementsAre(Pair(kff, "6"), Pair(kff0, "7"), Pair(kffff, "8"), Pair(kffff1, "9")));
  prefix.prefix = kffff;
  EXPECT_THAT(ScanAll(*db, prefix), ElementsAre(Pair(kffff, "8"), Pair(kffff1, "9")));
  ScanOptions range;
  range.start = "ab";
  range.end = kff0;
  EXPECT_THAT(ScanAll(*db, range),
              ElementsAre(Pair("ab", "3"), Pair("b", "4"), Pair(Bytes({0x7F}), "10"),
                          Pair(k80, "5"), Pair(kff, "6")));
  range.limit = 2;
  EXPECT_THAT(ScanAll(*db, range), ElementsAre(Pair("ab", "3"), Pair("b", "4")));
  ScanOptions both;
  both.prefix = "a";
  both.start = a0;
  EXPECT_THAT(ScanAll(*db, both), ElementsAre(Pair(a0, "2"), Pair("ab", "3")));
  both.end = "ab";
  EXPECT_THAT(ScanAll(*db, both), ElementsAre(Pair(a0, "2")));
  ScanOptions empty;
  empty.start = "z";
  empty.end = "c";
  EXPECT_TRUE(ScanAll(*db, empty).empty());
  // Stopped by fn: OK, and the rest is not visited.
  int seen = 0;
  EXPECT_OK(db->Scan({}, [&](std::string_view, std::string_view) { return ++seen < 3; }));
  EXPECT_EQ(seen, 3);
}

TEST_F(PostgresDbTest, LargeScanCrossesPagesFromOneSnapshot) {
  PostgresOptions options = Options();
  options.connections = 2;
  std::unique_ptr<PostgresDb> db = OpenOrDie(options);
  ASSERT_NE(db, nullptr);
  const int n = 2 * PostgresDb::kScanPageRows + 500;
  std::vector<DatabaseOp> ops;
  std::vector<std::string> keys;
  for (int i = 0; i < n; ++i) keys.push_back(absl::StrCat("k", 100000 + i));
  for (const std::string& k : keys) ops.push_back(DatabaseOp{DatabaseOp::kPut, k, k});
  ASSERT_OK(db->Write(ops));

  Rows all = ScanAll(*db, {});
  ASSERT_EQ(all.size(), static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) ASSERT_EQ(all[i].first, keys[i]);
  ScanOptions limited;
  limited.limit = PostgresDb::kScanPageRows + 1;
  EXPECT_EQ(ScanAll(*db, limited).size(), limited.limit);
  limited.limit = PostgresDb::kScanPageRows;
  EXPECT_EQ(ScanAll(*db, limited).size(), limited.limit);

  // Writes made while the scan runs (from its first row on) are not in it: one snapshot.
  int visited = 0;
  bool wrote = false;
  ASSERT_OK(db->Scan({}, [&](std::string_view key, std::string_view) {
    if (!wrote) {
      wrote = true;
      EXPECT_OK(db->Put("k999999", "late"));
      EXPECT_OK(db->Delete(keys.back()));
    }
    EXPECT_NE(key, "k999999");
    ++visited;
    return true;
  }));
  EXPECT_EQ(visited, n);
  EXPECT_EQ(ScanAll(*db, {}).size(), static_cast<size_t>(n));  // One added, one deleted.
}

TEST_F(PostgresDbTest, ConcurrentWritersAndReaders) {
  PostgresOptions options = Options();
  options.connections = 3;
  std::unique_ptr<PostgresDb> db = OpenOrDie(options);
  ASSERT_NE(db, nullptr);
  constexpr int kThreads = 6;
  constexpr int kOps = 150;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string value;
      for (int i = 0; i < kOps; ++i) {
        const std::string key = absl::StrCat("t", t, "/", i % 10);
        if (t % 2 == 0) {
          if (!db->Put(key, absl::StrCat(i)).ok()) ++failures;
          const std::string scratch = key + "x";
          std::vector<DatabaseOp> batch = {{DatabaseOp::kPut, scratch, "1"},
                                           {DatabaseOp::kDelete, scratch, ""}};
          if (!db->Write(batch).ok()) ++failures;
        } else {
          const std::string other = absl::StrCat("t", t - 1, "/", i % 10);
          absl::Status s = db->Get(other, &value);
          if (!s.ok() && !absl::IsNotFound(s)) ++failures;
          std::vector<std::string_view> keys = {other, key};
          for (const auto& r : db->MultiGet(keys)) {
            if (!r.ok() && !absl::IsNotFound(r.status())) ++failures;
          }
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  std::string value;
  for (int t = 0; t < kThreads; t += 2) {
    for (int j = 0; j < 10; ++j) {
      ASSERT_OK(db->Get(absl::StrCat("t", t, "/", j), &value));
      EXPECT_EQ(value, absl::StrCat(kOps - 10 + j));
    }
  }
  EXPECT_LE(std::stoi(*db->GetProperty("postgres.connections")), 3);
}

TEST_F(PostgresDbTest, EveryWriteTakesAHigherVersion) {
  std::unique_ptr<PostgresDb> db = OpenOrDie(Options());
  ASSERT_NE(db, nullptr);
  std::vector<int64_t> versions;
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(db->Put("k", absl::StrCat(i)));
    versions.push_back(std::stoll(Sql("SELECT version FROM asidekv WHERE key = 'k'::bytea")));
  }
  ASSERT_OK(db->Delete("other"));  // Advances the sequence too.
  std::vector<DatabaseOp> ops = {{DatabaseOp::kPut, "k", "a"}, {DatabaseOp::kPut, "k", "b"}};
  ASSERT_OK(db->Write(ops));
  versions.push_back(std::stoll(Sql("SELECT version FROM asidekv WHERE key = 'k'::bytea")));
  EXPECT_LT(versions[0], versions[1]);
  EXPECT_LT(versions[1], versions[2]);
  EXPECT_GE(versions[3], versions[2] + 3);  // The delete's and the batch's two.
  EXPECT_EQ(Sql("SELECT obj_description('asidekv'::regclass, 'pg_class')"),
            FormatMarkerLine(ValueEncoding::kHeader));
}

TEST_F(PostgresDbTest, SchemaMismatchIsRefusedAndChangesNothing) {
  Sql("CREATE TABLE asidekv (key bytea PRIMARY KEY, value text, extra int)");
  absl::StatusOr<std::unique_ptr<PostgresDb>> db = PostgresDb::Open(Options());
  EXPECT_THAT(db, StatusIs(absl::StatusCode::kFailedPrecondition));
  const std::string message(db.status().message());
  EXPECT_THAT(message, HasSubstr("column value is text, not bytea"));
  EXPECT_THAT(message, HasSubstr("no column version"));
  EXPECT_THAT(message, HasSubstr("extra column extra integer"));
  EXPECT_EQ(Sql("SELECT to_regclass('asidekv_version') IS NULL"), "t");
  EXPECT_EQ(Sql("SELECT obj_description('asidekv'::regclass, 'pg_class') IS NULL"), "t");

  Sql("CREATE TABLE other (key bytea, value bytea NOT NULL, version bigint NOT NULL)");
  PostgresOptions options = Options();
  options.table = "other";
  db = PostgresDb::Open(options);
  EXPECT_THAT(db, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(db.status().message()), HasSubstr("no primary key"));
}

TEST_F(PostgresDbTest, EncodingMarkerIsChecked) {
  PostgresOptions options = Options();
  ASSERT_NE(OpenOrDie(options), nullptr);
  options.value_encoding = ValueEncoding::kRaw;
  absl::StatusOr<std::unique_ptr<PostgresDb>> db = PostgresDb::Open(options);
  EXPECT_THAT(db, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(db.status().message()), HasSubstr("raw_values"));
  options.value_encoding = std::nullopt;
  std::unique_ptr<PostgresDb> any = OpenOrDie(options);
  ASSERT_NE(any, nullptr);
  EXPECT_EQ(any->value_encoding(), ValueEncoding::kHeader);
  EXPECT_EQ(*any->GetProperty("postgres.value_encoding"), "header");

  // A raw table refuses header opens.
  options.table = "rawt";
  options.value_encoding = ValueEncoding::kRaw;
  ASSERT_NE(OpenOrDie(options), nullptr);
  options.value_encoding = ValueEncoding::kHeader;
  EXPECT_THAT(PostgresDb::Open(options), StatusIs(absl::StatusCode::kFailedPrecondition));

  // A table made by hand, without a marker: refused with the header encoding, adopted as raw
  // (with a sequence past its versions).
  Sql("CREATE TABLE mine (key bytea PRIMARY KEY, value bytea NOT NULL, version bigint NOT NULL);"
      "INSERT INTO mine VALUES ('a'::bytea, 'b'::bytea, 41)");
  options.table = "mine";
  options.value_encoding = ValueEncoding::kHeader;
  EXPECT_THAT(PostgresDb::Open(options), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(Sql("SELECT to_regclass('mine_version') IS NULL"), "t");
  options.value_encoding = ValueEncoding::kRaw;
  std::unique_ptr<PostgresDb> mine = OpenOrDie(options);
  ASSERT_NE(mine, nullptr);
  EXPECT_EQ(mine->value_encoding(), ValueEncoding::kRaw);
  ASSERT_OK(mine->Put("a", "c"));
  EXPECT_EQ(Sql("SELECT version > 41 FROM mine WHERE key = 'a'::bytea"), "t");
  // A comment of another program is never overwritten.
  Sql("CREATE TABLE theirs (key bytea PRIMARY KEY, value bytea NOT NULL, version bigint NOT "
      "NULL); COMMENT ON TABLE theirs IS 'their notes'");
  options.table = "theirs";
  EXPECT_THAT(PostgresDb::Open(options), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(Sql("SELECT obj_description('theirs'::regclass, 'pg_class')"), "their notes");
}

TEST_F(PostgresDbTest, MissingTableWithoutCreateIfMissingCreatesNothing) {
  PostgresOptions options = Options();
  options.create_if_missing = false;
  EXPECT_THAT(PostgresDb::Open(options), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(Sql("SELECT count(*) FROM pg_class WHERE relname LIKE 'asidekv%'"), "0");
}

TEST_F(PostgresDbTest, ConcurrentOpensOfANewTableAllSucceed) {
  constexpr int kOpeners = 4;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < kOpeners; ++i) {
    threads.emplace_back([&] {
      absl::StatusOr<std::unique_ptr<PostgresDb>> db = PostgresDb::Open(Options());
      EXPECT_OK(db);
      if (db.ok()) ++ok;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), kOpeners);
}

TEST_F(PostgresDbTest, ServerDownAtOpenIsUnavailableNamingTheServer) {
  ASSERT_OK(server_.Stop());
  absl::StatusOr<std::unique_ptr<PostgresDb>> db = PostgresDb::Open(Options());
  EXPECT_THAT(db, StatusIs(absl::StatusCode::kUnavailable));
  const std::string message(db.status().message());
  EXPECT_THAT(message, HasSubstr(server_.socket_dir()));
  EXPECT_THAT(message, HasSubstr(absl::StrCat(server_.port())));
  PostgresOptions tcp = Options();
  tcp.conninfo = server_.tcp_conninfo();
  db = PostgresDb::Open(tcp);
  EXPECT_THAT(db, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(std::string(db.status().message()), HasSubstr("127.0.0.1"));
  ASSERT_OK(server_.Start());
  EXPECT_EQ(Sql("SELECT count(*) FROM pg_class WHERE relname LIKE 'asidekv%'"), "0");
}

TEST_F(PostgresDbTest, WorksOverTcp) {
  PostgresOptions options = Options();
  options.conninfo = server_.tcp_conninfo();
  std::unique_ptr<PostgresDb> db = OpenOrDie(options);
  ASSERT_NE(db, nullptr);
  ASSERT_OK(db->Put("k", "v"));
  std::string value;
  ASSERT_OK(db->Get("k", &value));
  EXPECT_EQ(value, "v");
}

TEST_F(PostgresDbTest, ReadsAndWritesRecoverAfterTheServerIsKilled) {
  PostgresOptions options = Options();
  options.connections = 3;
  options.timeout = absl::Seconds(5);
  std::unique_ptr<PostgresDb> db = OpenOrDie(options);
  ASSERT_NE(db, nullptr);
  ASSERT_OK(db->Put("k", "v"));
  // Open every connection, so that all of them are stale after the crash.
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 20; ++j) {
        ScanOptions all;
        EXPECT_OK(db->Scan(all, [](std::string_view, std::string_view) { return true; }));
      }
    });
  }
  for (std::thread& t : threads) t.join();

  ASSERT_OK(server_.Kill());
  std::string value;
  EXPECT_THAT(db->Get("k", &value), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(db->Put("k", "w"), HasCodeIn(std::vector<absl::StatusCode>{
                                     absl::StatusCode::kUnavailable, absl::StatusCode::kUnknown}));
  EXPECT_THAT(db->MultiGet(std::vector<std::string_view>{"k"})[0],
              StatusIs(absl::StatusCode::kUnavailable));

  ASSERT_OK(server_.Start());
  ASSERT_OK(db->Get("k", &value));
  EXPECT_EQ(value, "v");
  ASSERT_OK(db->Put("k", "after"));
  ASSERT_OK(db->Get("k", &value));
  EXPECT_EQ(value, "after");
  EXPECT_EQ(ScanAll(*db, {}).size(), 1u);
}

TEST_F(PostgresDbTest, ReadsRetryOnANewConnectionAfterARestart) {
  PostgresOptions options = Options();
  options.connections = 2;
  std::unique_ptr<PostgresDb> db = OpenOrDie(options);
  ASSERT_NE(db, nullptr);
  ASSERT_OK(db->Put("k", "v"));
  // A clean restart closes every session; the next calls connect anew and succeed.
  ASSERT_OK(server_.Stop());
  ASSERT_OK(server_.Start());
  std::string value;
  ASSERT_OK(db->Get("k", &value));
  EXPECT_EQ(value, "v");
  ASSERT_OK(db->Put("k", "w"));
  // Sessions ended by the server while idle (pg_terminate_backend) are replaced too.
  Sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
      "WHERE application_name = 'asidekv'");
  ASSERT_OK(db->Get("k", &value));
  EXPECT_EQ(value, "w");
  EXPECT_OK(db->Resume());
  EXPECT_EQ(*db->GetProperty("postgres.connections"), "0");
  ASSERT_OK(db->Get("k", &value));
}

TEST_F(PostgresDbTest, APausedServerTimesOutAndCallsRecoverAfterwards) {
  PostgresOptions options = Options();
  options.timeout = absl::Milliseconds(300);
  options.connections = 2;
  std::unique_ptr<PostgresDb> db = OpenOrDie(options);
  ASSERT_NE(db, nullptr);
  ASSERT_OK(db->Put("k", "v"));
  ASSERT_OK(server_.Pause());
  std::string value;
  const auto timed = [](auto fn) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  double seconds = timed([&] {
    EXPECT_THAT(db->Get("k", &value),
                HasCodeIn(std::vector<absl::StatusCode>{absl::StatusCode::kDeadlineExceeded,
                                                        absl::StatusCode::kUnavailable}));
  });
  EXPECT_GE(seconds, 0.25);
  EXPECT_LT(seconds, 3.0);
  absl::Status put;
  seconds = timed([&] { put = db->Put("k", "paused"); });
  // Sent and unanswered: may or may not commit once the server resumes.
  EXPECT_THAT(put, HasCodeIn(std::vector<absl::StatusCode>{absl::StatusCode::kUnknown,
                                                           absl::StatusCode::kDeadlineExceeded,
                                                           absl::StatusCode::kUnavailable}));
  if (put.code() == absl::StatusCode::kUnknown) {
    EXPECT_THAT(std::string(put.message()), HasSubstr("outcome is unknown"));
  }
  EXPECT_LT(seconds, 3.0);
  seconds = timed([&] {
    EXPECT_THAT(db->Scan({}, [](std::string_view, std::string_view) { return true; }),
                HasCodeIn(std::vector<absl::StatusCode>{absl::StatusCode::kDeadlineExceeded,
                                                        absl::StatusCode::kUnavailable}));
  });
  EXPECT_LT(seconds, 3.0);
  ASSERT_OK(server_.Unpause());
  ASSERT_OK(db->Get("k", &value));
  EXPECT_THAT(value, AnyOf("v", "paused"));
  ASSERT_OK(db->Put("k", "resumed"));
  ASSERT_OK(db->Get("k", &value));
  EXPECT_EQ(value, "resumed");
}

TEST_F(PostgresDbTest, PropertiesFlushCompactAndResume) {
  std::unique_ptr<PostgresDb> db = OpenOrDie(Options());
  ASSERT_NE(db, nullptr);
  ASSERT_OK(db->Put("k", "v"));
  absl::StatusOr<std::string> version = db->GetProperty("postgres.server_version");
  ASSERT_OK(version);
  EXPECT_THAT(*version, ::testing::MatchesRegex("[0-9]+\\..*"));
  EXPECT_EQ(*db->GetProperty("postgres.table"), "asidekv");
  EXPECT_EQ(*db->GetProperty("postgres.max_connections"), "4");
  EXPECT_EQ(*db->GetProperty("postgres.connections"), "1");
  EXPECT_THAT(*db->GetProperty("postgres.conninfo"), HasSubstr(server_.socket_dir()));
  EXPECT_THAT(db->GetProperty("rocksdb.stats"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_OK(db->Flush());
  EXPECT_OK(db->CompactAll());
  EXPECT_OK(db->Resume());
  std::string value;
  ASSERT_OK(db->Get("k", &value));
}

// Get's round trip over the Unix socket on this machine, in the test log.
TEST_F(PostgresDbTest, MeasuresGetRoundTrip) {
  std::unique_ptr<PostgresDb> db = OpenOrDie(Options());
  ASSERT_NE(db, nullptr);
  ASSERT_OK(db->Put("k", std::string(100, 'v')));
  std::string value;
  constexpr int kWarmup = 200;
  constexpr int kGets = 3000;
  for (int i = 0; i < kWarmup; ++i) ASSERT_OK(db->Get("k", &value));
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kGets; ++i) ASSERT_OK(db->Get("k", &value));
  const double us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() /
      kGets;
  std::vector<std::string> keys(64);
  std::vector<std::string_view> views;
  for (int i = 0; i < 64; ++i) {
    keys[i] = absl::StrCat("m", i);
    views.push_back(keys[i]);
  }
  const auto mstart = std::chrono::steady_clock::now();
  for (int i = 0; i < 300; ++i) db->MultiGet(views);
  const double multi_us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - mstart).count() /
      300;
  std::printf(
      "PostgresDb Get over the Unix socket: %.1f us per call (mean of %d); "
      "MultiGet of 64 keys: %.1f us\n",
      us, kGets, multi_us);
}

// --- Passwords ----------------------------------------------------------------------------------

class PostgresPasswordTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PostgresServerOptions options;
    options.password = kPassword;
    ASSERT_OK(server_.Init(options));
  }
  PostgresServer server_;
};

TEST_F(PostgresPasswordTest, ThePasswordIsInNoMessage) {
  constexpr char kWrong[] = "wrong-pass-0451";
  PostgresOptions options;
  options.timeout = absl::Seconds(5);
  std::vector<absl::Status> seen;
  auto open = [&](const std::string& conninfo) {
    options.conninfo = conninfo;
    absl::StatusOr<std::unique_ptr<PostgresDb>> db = PostgresDb::Open(options);
    seen.push_back(db.status());
    return db.status();
  };
  const std::string base = server_.conninfo_without_password();
  const std::string uri = absl::StrCat("postgresql://postgres:", kPassword,
                                       "@127.0.0.1:", server_.port(), "/asidekv_test");
  // Wrong password: authentication refused.
  EXPECT_THAT(open(absl::StrCat(base, " password=", kWrong)),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(open(absl::StrCat("postgresql://postgres:", kWrong, "@127.0.0.1:", server_.port(),
                                "/asidekv_test")),
              StatusIs(absl::StatusCode::kPermissionDenied));
  // No such database.
  EXPECT_THAT(open(absl::StrCat("host=", server_.socket_dir(), " port=", server_.port(),
                                " user=postgres dbname=nosuchdb password=", kPassword)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(seen.back().message()), HasSubstr("nosuchdb"));
  // Unparsable.
  EXPECT_THAT(open(absl::StrCat(base, " password=", kPassword, " junk")),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // The right password works, over the socket and over TCP in URI form, and the conninfo
  // property hides it.
  for (const std::string& conninfo : {server_.conninfo(), uri}) {
    options.conninfo = conninfo;
    absl::StatusOr<std::unique_ptr<PostgresDb>> db = PostgresDb::Open(options);
    ASSERT_OK(db);
    const std::string shown = *(*db)->GetProperty("postgres.conninfo");
    EXPECT_THAT(shown, Not(HasSubstr(kPassword)));
    EXPECT_THAT(shown, HasSubstr("password=****"));
  }
  // Server down.
  ASSERT_OK(server_.Stop());
  EXPECT_THAT(open(server_.conninfo()), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(open(uri), StatusIs(absl::StatusCode::kUnavailable));
  for (const absl::Status& s : seen) {
    EXPECT_THAT(std::string(s.message()), Not(HasSubstr(kPassword))) << s;
    EXPECT_THAT(std::string(s.message()), Not(HasSubstr(kWrong))) << s;
  }
}

}  // namespace
}  // namespace asidekv::db
