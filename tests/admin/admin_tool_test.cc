// Tests of asidekv-admin: the offline operations (tools/admin/offline.h) and the binary itself,
// offline on a store folder and live against a Store's admin socket.
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "asidekv/admin.h"
#include "asidekv/asidekv.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tools/admin/offline.h"

namespace asidekv::admin {
namespace {

using ::asidekv::testing::IsOk;
using ::asidekv::testing::StatusIs;
using ::testing::HasSubstr;

using Row = std::tuple<std::string, std::string, std::optional<absl::Duration>>;

std::vector<Row> ReadAll(const db::RocksDb& db) {
  std::vector<Row> rows;
  EXPECT_OK(ScanRecords(db, "", 0, [&](const Record& r) {
    rows.emplace_back(std::string(r.key), std::string(r.value), r.ttl);
    return true;
  }));
  return rows;
}

struct ToolRun {
  int exit_code = -1;
  std::string out;
};

// Runs asidekv-admin with `args` (shell words), capturing stdout.
ToolRun Admin(const std::string& args) {
  ToolRun r;
  const std::string cmd = std::string(ASIDEKV_ADMIN_BIN) + " " + args + " 2>/dev/null";
  std::FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class AdminToolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EnableAdminEndpoint();
    options_.path = dir_.Sub("db");
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, Store::Open(options_));
    ASSERT_OK(store->Put("user:1", "alice"));
    ASSERT_OK(store->Put("user:2", "bob", absl::Seconds(90)));
    ASSERT_OK(store->Put(std::string("\0bin\xff", 5), std::string("\x01\0\n\xfe", 4)));
    ASSERT_OK(store->Put("empty", ""));
    for (int i = 0; i < 1500; ++i) ASSERT_OK(store->Put("n:" + std::to_string(i), "x"));
  }

  testing::TempDir dir_;
  Options options_;
};

TEST_F(AdminToolTest, DumpThenLoadRoundTripsExactly) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<db::RocksDb> src, OpenOffline(options_.path, false));
  const std::string file = dir_.Sub("dump.bin");
  ASSERT_OK_AND_ASSIGN(uint64_t dumped, Dump(*src, file));
  EXPECT_EQ(dumped, 1504u);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<db::RocksDb> dst,
                       OpenOffline(dir_.Sub("copy"), /*writable=*/true, /*create=*/true));
  ASSERT_OK_AND_ASSIGN(uint64_t loaded, Load(*dst, file));
  EXPECT_EQ(loaded, dumped);
  const std::vector<Row> a = ReadAll(*src);
  EXPECT_EQ(a, ReadAll(*dst));
  EXPECT_EQ(std::get<2>(a[a.size() - 1]), absl::Seconds(90));  // user:2 keeps its TTL.
  EXPECT_EQ(std::get<0>(a[0]), std::string("\0bin\xff", 5));
  EXPECT_EQ(std::get<1>(a[0]), std::string("\x01\0\n\xfe", 4));
  // And the loaded folder opens as a Store that serves the values.
  dst.reset();
  Options copy = options_;
  copy.path = dir_.Sub("copy");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, Store::Open(copy));
  EXPECT_EQ(*store->Get(std::string("\0bin\xff", 5)), std::string("\x01\0\n\xfe", 4));
}

TEST_F(AdminToolTest, LoadRefusesADamagedDumpAndWritesNothing) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<db::RocksDb> src, OpenOffline(options_.path, false));
  const std::string file = dir_.Sub("dump.bin");
  ASSERT_THAT(Dump(*src, file), IsOk());
  std::string bytes;
  {
    std::ifstream in(file, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<db::RocksDb> dst, OpenOffline(dir_.Sub("copy"), true, true));
  const std::vector<std::string> damaged = {
      bytes.substr(0, bytes.size() / 2),                // truncated
      bytes.substr(0, 20) + "\x7f" + bytes.substr(21),  // flipped byte
      "NOT-A-DUMP" + bytes,                             // bad magic
      bytes + "x",                                      // trailing bytes
  };
  for (const std::string& d : damaged) {
    std::ofstream(file, std::ios::binary | std::ios::trunc) << d;
    EXPECT_THAT(Load(*dst, file), StatusIs(absl::StatusCode::kDataLoss));
  }
  EXPECT_TRUE(ReadAll(*dst).empty());
}

TEST_F(AdminToolTest, WritableOpenSaysWhenTheFolderIsInUse) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> live, Store::Open(options_));
  absl::StatusOr<std::unique_ptr<db::RocksDb>> w = OpenOffline(options_.path, true);
  EXPECT_THAT(w, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(w.status().message()), HasSubstr("in use"));
  // Read-only opens work beside it.
  EXPECT_THAT(OpenOffline(options_.path, false), IsOk());
  const ToolRun compact = Admin("--db " + options_.path + " compact");
  EXPECT_EQ(compact.exit_code, 1);
  EXPECT_THAT(OpenOffline(dir_.Sub("missing"), false), StatusIs(absl::StatusCode::kNotFound));
}

// The offline commands read a folder of raw values (Options::raw_values) as its format marker
// says: values as they are, no TTLs; and a dump with TTLs is not loaded into it.
TEST_F(AdminToolTest, OfflineCommandsReadRawValuesAsTheyAre) {
  Options raw;
  raw.path = dir_.Sub("raw");
  raw.raw_values = true;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, Store::Open(raw));
    ASSERT_OK(store->Put("a", std::string("\0abc", 4)));
    ASSERT_OK(store->Put("b", "hello"));
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<db::RocksDb> db, OpenOffline(raw.path, false));
  EXPECT_EQ(db->value_encoding(), db::ValueEncoding::kRaw);
  const std::vector<Row> rows = {{"a", std::string("\0abc", 4), std::nullopt},
                                 {"b", "hello", std::nullopt}};
  EXPECT_EQ(ReadAll(*db), rows);
  ASSERT_OK_AND_ASSIGN(CheckReport r, Check(*db));
  EXPECT_EQ(r.corrupt_values, 0u);
  const ToolRun get = Admin("--db " + raw.path + " get b");
  EXPECT_EQ(get.exit_code, 0);
  EXPECT_EQ(get.out, "hello\n");
  db.reset();

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<db::RocksDb> src, OpenOffline(options_.path, false));
  const std::string file = dir_.Sub("dump.bin");
  ASSERT_THAT(Dump(*src, file), IsOk());  // Holds user:2's TTL.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<db::RocksDb> dst, OpenOffline(raw.path, true));
  EXPECT_THAT(Load(*dst, file), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ReadAll(*dst), rows);
}

TEST_F(AdminToolTest, CheckReadsEveryKey) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<db::RocksDb> db, OpenOffline(options_.path, false));
  ASSERT_OK_AND_ASSIGN(CheckReport r, Check(*db));
  EXPECT_EQ(r.keys, 1504u);
  EXPECT_EQ(r.corrupt_values, 0u);
  EXPECT_EQ(r.read_errors, 0u);
}

TEST_F(AdminToolTest, OfflineCommandsOfTheBinary) {
  const std::string db = "--db " + options_.path + " ";
  ToolRun r = Admin(db + "get user:1");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "alice\n");
  r = Admin(db + "--hex get 0062696eff");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "01000afe\n");
  EXPECT_EQ(Admin(db + "get nope").exit_code, 1);
  r = Admin(db + "scan --prefix user: --limit 5");
  EXPECT_EQ(r.out, "user:1\talice\nuser:2\tbob\n");
  r = Admin(db + "scan --limit 1");
  EXPECT_EQ(r.out, "\\x00bin\\xff\t\\x01\\x00\\n\\xfe\n");
  r = Admin(db + "--json scan --prefix user:2");
  EXPECT_EQ(r.out, "{\"key\":\"user:2\",\"value\":\"bob\",\"ttl_ms\":90000}\n");
  EXPECT_EQ(Admin(db + "count").out, "1504\n");
  EXPECT_EQ(Admin(db + "--json count --prefix n:").out, "{\"count\":1500}\n");
  EXPECT_THAT(Admin(db + "stats").out, HasSubstr("rocksdb.estimate-num-keys: "));
  EXPECT_EQ(Admin(db + "check").exit_code, 0);
  EXPECT_EQ(Admin(db + "compact").exit_code, 0);
  EXPECT_EQ(Admin(db + "dump " + dir_.Sub("d.bin")).out, "dumped 1504 records\n");
  EXPECT_EQ(Admin("--db " + dir_.Sub("copy") + " load " + dir_.Sub("d.bin")).out,
            "loaded 1504 records\n");
  // Usage: help, errors, live-only commands offline.
  EXPECT_EQ(Admin("--help").exit_code, 0);
  r = Admin("dump --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("usage: asidekv-admin --db DIR dump FILE"));
  EXPECT_EQ(Admin("").exit_code, 2);
  EXPECT_EQ(Admin(db + "frob").exit_code, 2);
  EXPECT_EQ(Admin(db + "get").exit_code, 2);
  EXPECT_EQ(Admin(db + "peek k").exit_code, 2);
  EXPECT_EQ(Admin("get k").exit_code, 2);
  EXPECT_EQ(Admin(db + "--bogus count").exit_code, 2);
}

TEST_F(AdminToolTest, LiveCommandsOfTheBinaryUnderLoad) {
  Options live = options_;
  live.admin_socket = dir_.Sub("admin.sock");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, Store::Open(live));
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < 2; ++t) {
    workers.emplace_back([&, t] {
      for (uint64_t i = 0; !stop.load(); ++i) {
        const std::string key = "n:" + std::to_string((i * 13 + t) % 1500);
        if (i % 5 == 0) {
          EXPECT_OK(store->Put(key, "y"));
        } else {
          EXPECT_OK(store->Get(key).status());
        }
      }
    });
  }
  const std::string s = "--socket " + live.admin_socket + " ";
  ToolRun r = Admin(s + "get user:1");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("value: alice\n"));
  EXPECT_THAT(Admin(s + "get user:1").out, HasSubstr("from_cache: true\n"));
  EXPECT_EQ(Admin(s + "get nope").exit_code, 1);
  r = Admin(s + "--hex peek 0062696eff");
  EXPECT_EQ(r.exit_code, 1);  // Not cached yet.
  EXPECT_EQ(Admin(s + "warm user: 10").exit_code, 0);
  EXPECT_THAT(Admin(s + "peek user:2").out, HasSubstr("value: bob\n"));
  EXPECT_THAT(Admin(s + "stats").out, HasSubstr("stats.cache_hits: "));
  EXPECT_THAT(Admin(s + "metrics").out, HasSubstr("# TYPE asidekv_cache_hits_total counter\n"));
  EXPECT_THAT(Admin(s + "config").out, HasSubstr("config.admin_socket: " + live.admin_socket));
  EXPECT_EQ(Admin(s + "hot 3").exit_code, 0);
  EXPECT_EQ(Admin(s + "invalidate user:2").exit_code, 0);
  EXPECT_EQ(Admin(s + "clear-cache").exit_code, 0);
  r = Admin(s + "--json stats");
  EXPECT_THAT(r.out, HasSubstr("\"ok\":true"));
  r = Admin(s + "watch --count 3 --interval-ms 50");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 4);  // Header + 3 refreshes.
  r = Admin(s + "--json watch --count 2 --interval-ms 50");
  EXPECT_THAT(r.out, HasSubstr("\"hit_ratio\":"));
  EXPECT_EQ(Admin(s + "scan").exit_code, 2);  // Offline only.
  stop.store(true);
  for (std::thread& w : workers) w.join();
  EXPECT_EQ(Admin("--socket " + dir_.Sub("none.sock") + " ping").exit_code, 1);
}

}  // namespace
}  // namespace asidekv::admin
