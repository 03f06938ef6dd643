// Tests of db::RocksDb: open errors, point reads and writes with binary data, batches, scans,
// read-only mode, reopen, properties.

#include "db/rocks_db.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "db/fault_injection.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/rocksdb_options_file.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace asidekv::db {
namespace {

namespace fs = std::filesystem;

using ::asidekv::testing::IsOk;
using ::asidekv::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

using Rows = std::vector<std::pair<std::string, std::string>>;

// --- Child process mode ------------------------------------------------------------------------
//
// OpenIsRefusedWhileAnotherProcessHoldsTheStore re-executes this test binary with
// kHoldStoreEnv=<path>. Before main() runs, the child opens that store, writes one byte to
// stdout ('R' ready, 'E' error), waits for EOF on stdin, closes the store and exits. Exec'ing
// (instead of only forking) gives the child a fresh RocksDB, as a real second process would have.

constexpr char kHoldStoreEnv[] = "ASIDEKV_DB_TEST_HOLD_STORE";

int MaybeHoldStoreAsChild() {
  const char* path = std::getenv(kHoldStoreEnv);
  if (path == nullptr) return 0;
  absl::StatusOr<std::unique_ptr<RocksDb>> db = RocksDb::Open(path, DbOptions());
  const char ready = db.ok() ? 'R' : 'E';
  if (write(STDOUT_FILENO, &ready, 1) != 1) _exit(2);
  char byte;
  while (read(STDIN_FILENO, &byte, 1) > 0) {
  }
  if (db.ok()) (*db)->Close().IgnoreError();
  _exit(db.ok() ? 0 : 1);
}

[[maybe_unused]] const int kChildMode = MaybeHoldStoreAsChild();

// --- Helpers -----------------------------------------------------------------------------------

// Debian's librocksdb is not built with ThreadSanitizer, and RocksDB hands data between threads
// through lock-free structures TSan cannot see (memtable skiplist, write-group hand-off), so
// concurrent use reports races that are not ours. Tests that drive RocksDB from several threads
// skip under TSan; they run in the plain and ASan builds.
#if defined(__SANITIZE_THREAD__)
constexpr bool kUninstrumentedRocksDbUnderTsan = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool kUninstrumentedRocksDbUnderTsan = true;
#else
constexpr bool kUninstrumentedRocksDbUnderTsan = false;
#endif
#else
constexpr bool kUninstrumentedRocksDbUnderTsan = false;
#endif
#define SKIP_IF_TSAN_OVER_ROCKSDB()                                         \
  if (kUninstrumentedRocksDbUnderTsan) {                                    \
    GTEST_SKIP() << "librocksdb is not TSan-instrumented (see the comment " \
                    "on kUninstrumentedRocksDbUnderTsan)";                  \
  }

void WriteFile(const std::string& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  ASSERT_TRUE(out.good()) << path;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The first file in `dir` whose name starts with `prefix` and ends with `suffix`.
std::string FindFile(const std::string& dir, std::string_view prefix, std::string_view suffix) {
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with(prefix) && name.ends_with(suffix)) return e.path().string();
  }
  return "";
}

// `n` bytes with every byte value and no short period, so compression cannot hide a bug.
std::string PatternBytes(size_t n, unsigned seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

ScanSpec Spec(std::string prefix, std::string start, std::string end, size_t limit) {
  ScanSpec spec;
  spec.prefix = std::move(prefix);
  spec.start = std::move(start);
  spec.end = std::move(end);
  spec.limit = limit;
  return spec;
}

class RocksDbTest : public ::testing::Test {
 protected:
  std::string DbPath() const { return dir_.Sub("db"); }

  std::unique_ptr<RocksDb> OpenOrDie(const DbOptions& options = DbOptions()) {
    absl::StatusOr<std::unique_ptr<RocksDb>> db = RocksDb::Open(DbPath(), options);
    EXPECT_THAT(db, IsOk());
    return db.ok() ? std::move(*db) : nullptr;
  }

  asidekv::testing::TempDir dir_;
};

// --- Open: options and errors ------------------------------------------------------------------

TEST_F(RocksDbTest, OpenCreatesStoreWithDefaults) {
  std::unique_ptr<RocksDb> db = OpenOrDie();
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->path(), DbPath());
  EXPECT_FALSE(db->read_only());
  EXPECT_TRUE(fs::exists(DbPath() + "/CURRENT"));
}

TEST_F(RocksDbTest, PipelinedWritesReachRocksDbUnlessTurnedOff) {
  {
    std::unique_ptr<RocksDb> db = OpenOrDie();
    ASSERT_NE(db, nullptr);
    ASSERT_OK(db->Put("k", "v"));
  }
  EXPECT_THAT(testing::RocksDbOptionsFileText(DbPath()), HasSubstr("enable_pipelined_write=true"));
  DbOptions off;
  off.pipelined_write = false;
  std::unique_ptr<RocksDb> db = OpenOrDie(off);
  ASSERT_NE(db, nullptr);
  EXPECT_THAT(testing::RocksDbOptionsFileText(DbPath()), HasSubstr("enable_pipelined_write=false"));
  std::string value;
  ASSERT_OK(db->Get("k", &value));
  EXPECT_EQ(value, "v");
}

// Bytes RocksDB's block cache holds now.
uint64_t BlockCacheUsage(const RocksDb& db) {
  absl::StatusOr<uint64_t> usage = db.GetIntProperty("rocksdb.block-cache-usage");
  EXPECT_OK(usage.status());
  return usage.value_or(0);
}

TEST_F(RocksDbTest, PointReadsLeaveTheBlockCacheToScansUnlessAsked) {
  std::vector<std::string> keys;
  {
    std::unique_ptr<RocksDb> db = OpenOrDie();
    ASSERT_NE(db, nullptr);
    for (int i = 0; i < 2000; ++i) {
      keys.push_back(absl::StrCat("key", 100000 + i));
      ASSERT_OK(db->Put(keys.back(), std::string(100, 'v')));
    }
    ASSERT_OK(db->Flush());  // Reads now come from an SST's blocks, not the memtable.
  }
  const std::vector<std::string_view> views(keys.begin(), keys.end());
  for (const bool fill : {false, true}) {
    SCOPED_TRACE(fill ? "filled by point reads" : "default");
    DbOptions options;
    options.point_reads_fill_block_cache = fill;
    std::unique_ptr<RocksDb> db = OpenOrDie(options);
    ASSERT_NE(db, nullptr);
    const uint64_t before = BlockCacheUsage(*db);
    std::string value;
    for (const std::string& k : keys) ASSERT_OK(db->Get(k, &value));
    EXPECT_EQ(value, std::string(100, 'v'));
    const uint64_t after_gets = BlockCacheUsage(*db);
    for (const absl::StatusOr<std::string>& v : db->MultiGet(views)) ASSERT_OK(v.status());
    const uint64_t after_multiget = BlockCacheUsage(*db);
    if (fill) {
      // 2,000 rows of about 110 bytes: dozens of 4 KiB blocks.
      EXPECT_GT(after_gets, before + 32 * 1024);
    } else {
      EXPECT_EQ(after_gets, before);
      EXPECT_EQ(after_multiget, before);
      absl::StatusOr<std::vector<std::pair<std::string, std::string>>> all = db->Scan(ScanSpec());
      ASSERT_OK(all.status());
      EXPECT_EQ(all->size(), keys.size());
      EXPECT_GT(BlockCacheUsage(*db), before + 32 * 1024);  // Scans still fill it.
    }
  }
}

TEST_F(RocksDbTest, MappedReadsReachRocksDbOnlyWhenAsked) {
  {
    std::unique_ptr<RocksDb> db = OpenOrDie();
    ASSERT_NE(db, nullptr);
    for (int i = 0; i < 1000; ++i) ASSERT_OK(db->Put(absl::StrCat("k", i), absl::StrCat("v", i)));
    ASSERT_OK(db->Flush());
  }
  EXPECT_THAT(testing::RocksDbOptionsFileText(DbPath()), HasSubstr("allow_mmap_reads=false"));
  DbOptions mapped;
  mapped.mmap_reads = true;
  std::unique_ptr<RocksDb> db = OpenOrDie(mapped);
  ASSERT_NE(db, nullptr);
  EXPECT_THAT(testing::RocksDbOptionsFileText(DbPath()), HasSubstr("allow_mmap_reads=true"));
  // The flushed SST is read through the map: every value comes back.
  std::string value;
  for (int i = 0; i < 1000; ++i) {
    ASSERT_OK(db->Get(absl::StrCat("k", i), &value));
    ASSERT_EQ(value, absl::StrCat("v", i));
  }
  EXPECT_THAT(db->Get("missing", &value), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(RocksDbTest, BlockSizeReachesRocksDb) {
  {
    std::unique_ptr<RocksDb> db = OpenOrDie();
    ASSERT_NE(db, nullptr);
  }
  EXPECT_THAT(testing::RocksDbOptionsFileText(DbPath()), HasSubstr("\n  block_size=4096\n"));
  DbOptions small;
  small.block_size = 1024;
  std::unique_ptr<RocksDb> db = OpenOrDie(small);
  ASSERT_NE(db, nullptr);
  EXPECT_THAT(testing::RocksDbOptionsFileText(DbPath()), HasSubstr("\n  block_size=1024\n"));
  // SSTs of either block size read back.
  for (int i = 0; i < 1000; ++i) ASSERT_OK(db->Put(absl::StrCat("k", i), std::string(100, 'v')));
  ASSERT_OK(db->Flush());
  std::string value;
  for (int i = 0; i < 1000; ++i) ASSERT_OK(db->Get(absl::StrCat("k", i), &value));
}

TEST_F(RocksDbTest, OpenRejectsBadOptions) {
  DbOptions bloom;
  bloom.bloom_bits_per_key = -1;
  EXPECT_THAT(RocksDb::Open(DbPath(), bloom), StatusIs(absl::StatusCode::kInvalidArgument));
  DbOptions buffer;
  buffer.write_buffer_size = 0;
  EXPECT_THAT(RocksDb::Open(DbPath(), buffer), StatusIs(absl::StatusCode::kInvalidArgument));
  DbOptions files;
  files.max_open_files = -2;
  EXPECT_THAT(RocksDb::Open(DbPath(), files), StatusIs(absl::StatusCode::kInvalidArgument));
  for (const size_t bad : {size_t{0}, size_t{255}, (size_t{256} << 20) + 1}) {
    DbOptions block;
    block.block_size = bad;
    EXPECT_THAT(RocksDb::Open(DbPath(), block),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("block_size")));
  }
  DbOptions mapped;
  mapped.mmap_reads = true;
  mapped.fault_injector = std::make_shared<FaultInjector>();
  EXPECT_THAT(RocksDb::Open(DbPath(), mapped),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("mmap_reads")));
  EXPECT_THAT(RocksDb::Open("", DbOptions()), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_FALSE(fs::exists(DbPath()));
}

TEST_F(RocksDbTest, MissingParentFolderIsNotFound) {
  const std::string path = dir_.Sub("missing/db");
  absl::StatusOr<std::unique_ptr<RocksDb>> db = RocksDb::Open(path, DbOptions());
  EXPECT_THAT(db, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(db.status().message(), HasSubstr("parent folder"));
  EXPECT_THAT(db.status().message(), HasSubstr(path));
}

TEST_F(RocksDbTest, FileInPlaceOfFolderIsFailedPrecondition) {
  WriteFile(DbPath(), "not a store");
  absl::StatusOr<std::unique_ptr<RocksDb>> db = RocksDb::Open(DbPath(), DbOptions());
  EXPECT_THAT(db, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(db.status().message(), HasSubstr("not a folder"));
  EXPECT_EQ(ReadFile(DbPath()), "not a store");  // Left alone.

  // A file where a parent folder should be.
  db = RocksDb::Open(DbPath() + "/inner", DbOptions());
  EXPECT_THAT(db, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(db.status().message(), HasSubstr("not a folder"));
}

TEST_F(RocksDbTest, MissingStoreWithoutCreateIfMissingIsNotFound) {
  DbOptions options;
  options.create_if_missing = false;
  EXPECT_THAT(RocksDb::Open(DbPath(), options), StatusIs(absl::StatusCode::kNotFound));
  // Also when the folder exists but holds no store.
  fs::create_directory(DbPath());
  absl::StatusOr<std::unique_ptr<RocksDb>> db = RocksDb::Open(DbPath(), options);
  EXPECT_THAT(db, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(db.status().message(), HasSubstr("create_if_missing is false"));
  EXPECT_FALSE(fs::exists(DbPath() + "/CURRENT"));
}

TEST_F(RocksDbTest, ErrorIfExists) {
  DbOptions options;
  options.error_if_exists = true;
  std::unique_ptr<RocksDb> db = OpenOrDie(options);  // A new store is fine.
  ASSERT_NE(db, nullptr);
  ASSERT_OK(db->Put("k", "v", {}));
  ASSERT_OK(db->Close());
  absl::StatusOr<std::unique_ptr<RocksDb>> again = RocksDb::Open(DbPath(), options);
  EXPECT_THAT(again, StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(again.status().message(), HasSubstr("error_if_exists"));
  // The existing data is untouched.
  db = OpenOrDie();
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->Get("k").value_or(""), "v");
}

TEST_F(RocksDbTest, SecondOpenInSameProcessIsRefusedAsInUse) {
  std::unique_ptr<RocksDb> first = OpenOrDie();
  ASSERT_NE(first, nullptr);
  absl::StatusOr<std::unique_ptr<RocksDb>> second = RocksDb::Open(DbPath(), DbOptions());
  EXPECT_THAT(second, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(second.status().message(), HasSubstr("in use"));
  EXPECT_THAT(second.status().message(), HasSubstr("LOCK"));  // RocksDB's text is kept.
  // Other spellings of the same folder are the same store.
  EXPECT_THAT(RocksDb::Open(DbPath() + "/", DbOptions()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(RocksDb::Open(dir_.Sub("./x/../db"), DbOptions()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  fs::create_directory_symlink(DbPath(), dir_.Sub("link"));
  EXPECT_THAT(RocksDb::Open(dir_.Sub("link"), DbOptions()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  // Closing the first releases the lock.
  ASSERT_OK(first->Close());
  EXPECT_THAT(RocksDb::Open(DbPath(), DbOptions()), IsOk());
}

TEST_F(RocksDbTest, OpenIsRefusedWhileAnotherProcessHoldsTheStore) {
  // Create the store, then let a child process hold it open.
  ASSERT_NE(OpenOrDie(), nullptr);
  int to_child[2];
  int from_child[2];
  ASSERT_EQ(pipe2(to_child, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(from_child, O_CLOEXEC), 0);
  // Everything exec needs is built before fork(): the child may only call async-signal-safe
  // functions until it execs, because this process has other threads.
  const std::string env_var = std::string(kHoldStoreEnv) + "=" + DbPath();
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) envp.push_back(*e);
  envp.push_back(const_cast<char*>(env_var.c_str()));
  envp.push_back(nullptr);
  char exe[] = "/proc/self/exe";
  char* argv[] = {exe, nullptr};

  const pid_t pid = fork();
  ASSERT_NE(pid, -1) << std::strerror(errno);
  if (pid == 0) {
    if (dup2(to_child[0], STDIN_FILENO) < 0 || dup2(from_child[1], STDOUT_FILENO) < 0) _exit(3);
    execve(exe, argv, envp.data());
    _exit(4);
  }
  close(to_child[0]);
  close(from_child[1]);
  char ready = 0;
  const ssize_t n = read(from_child[0], &ready, 1);
  close(from_child[0]);

  absl::StatusOr<std::unique_ptr<RocksDb>> db = RocksDb::Open(DbPath(), DbOptions());

  close(to_child[1]);  // Lets the child close the store and exit.
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  ASSERT_EQ(n, 1);
  ASSERT_EQ(ready, 'R') << "the child could not open the store";
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) << wstatus;

  EXPECT_THAT(db, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(db.status().message(), HasSubstr("in use"));
  EXPECT_THAT(db.status().message(), HasSubstr(DbPath()));
  // Once the child is gone the store opens again.
  EXPECT_THAT(RocksDb::Open(DbPath(), DbOptions()), IsOk());
}

// A store with a few keys, flushed to an SST file, then closed.
void MakeStore(const std::string& path) {
  absl::StatusOr<std::unique_ptr<RocksDb>> db = RocksDb::Open(path, DbOptions());
  ASSERT_THAT(db, IsOk());
  for (int i = 0; i < 100; ++i) {
    ASSERT_OK((*db)->Put("key" + std::to_string(i), PatternBytes(100, i), {}));
  }
  ASSERT_OK((*db)->Close());
}

TEST_F(RocksDbTest, GarbledCurrentFileIsDataLoss) {
  MakeStore(DbPath());
  WriteFile(DbPath() + "/CURRENT", "garbage without a newline");
  EXPECT_THAT(RocksDb::Open(DbPath(), DbOptions()), StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(RocksDbTest, GarbledManifestIsDataLoss) {
  MakeStore(DbPath());
  const std::string manifest = FindFile(DbPath(), "MANIFEST-", "");
  ASSERT_FALSE(manifest.empty());
  WriteFile(manifest, std::string(ReadFile(manifest).size(), '\xAB'));
  EXPECT_THAT(RocksDb::Open(DbPath(), DbOptions()), StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(RocksDbTest, GarbledTableFileIsDataLossOnRead) {
  MakeStore(DbPath());
  const std::string sst = FindFile(DbPath(), "", ".sst");
  ASSERT_FALSE(sst.empty());
  // Same size, garbled data blocks (the footer at the end is kept so the file still opens).
  std::string contents = ReadFile(sst);
  ASSERT_GT(contents.size(), 200u);
  for (size_t i = 0; i < contents.size() / 2; ++i) contents[i] = static_cast<char>(~contents[i]);
  WriteFile(sst, contents);

  DbOptions options;
  options.block_cache_bytes = 0;
  absl::StatusOr<std::unique_ptr<RocksDb>> db = RocksDb::Open(DbPath(), options);
  if (!db.ok()) {  // Some checks run at open; either way it must be DataLoss, not a crash.
    EXPECT_THAT(db, StatusIs(absl::StatusCode::kDataLoss));
    return;
  }
  EXPECT_THAT((*db)->Get("key1"), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT((*db)->Scan(ScanSpec()), StatusIs(absl::StatusCode::kDataLoss));
  std::vector<absl::StatusOr<std::string>> got = (*db)->MultiGet({"key1"});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_THAT(got[0], StatusIs(absl::StatusCode::kDataLoss));
}

// --- Compression -------------------------------------------------------------------------------

class RocksDbCompressionTest : public RocksDbTest,
                               public ::testing::WithParamInterface<Compression> {};

TEST_P(RocksDbCompressionTest, RoundTripsThroughTableFiles) {
  DbOptions options;
  options.compression = GetParam();
  std::unique_ptr<RocksDb> db = OpenOrDie(options);
  ASSERT_NE(db, nullptr);
  const std::string value = std::string(4096, 'x') + PatternBytes(4096, 7);
  ASSERT_OK(db->Put("k", value, {}));
  ASSERT_OK(db->Flush());
  EXPECT_EQ(db->Get("k").value_or(""), value);
  ASSERT_OK(db->Close());
  db = OpenOrDie(options);
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->Get("k").value_or(""), value);
}

INSTANTIATE_TEST_SUITE_P(AllCompressions, RocksDbCompressionTest,
                         ::testing::Values(Compression::kNone, Compression::kSnappy,
                                           Compression::kLz4, Compression::kZstd));

// --- Point reads and writes --------------------------------------------------------------------

TEST_F(RocksDbTest, PutGetDelete) {
  std::unique_ptr<RocksDb> db = OpenOrDie();
  ASSERT_NE(db, nullptr);
  EXPECT_THAT(db->Get("k"), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK(db->Put("k", "v1", {}));
  EXPECT_EQ(db->Get("k").value_or(""), "v1");
  ASSERT_OK(db->Put("k", "v2", WriteOptions{.sync = true}));
  EXPECT_EQ(db->Get("k").value_or(""), "v2");
  ASSERT_OK(db->Delete("k", {}));
  EXPECT_THAT(db->Get("k"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_OK(db->Delete("never-there", WriteOptions{.sync = true}));
}

TEST_F(RocksDbTest, GetIntoBufferReusesCapacityAndClearsOnMiss) {
  std::unique_ptr<RocksDb> db = OpenOrDie();
  ASSERT_NE(db, nullptr);
  ASSERT_OK(db->Put("k", "value", {}));
  std::string buffer;
  buffer.reserve(4096);
  const char* const data = buffer.data();
  ASSERT_OK(db->Get("k", &buffer));  // From the memtable.
  EXPECT_EQ(buffer, "value");
  EXPECT_EQ(buffer.data(), data);
  ASSERT_OK(db->Flush());
  buffer = "stale";
  ASSERT_OK(db->Get("k", &buffer));  // From an SST block (pinned in the block cache).
  EXPECT_EQ(buffer, "value");
  EXPECT_EQ(buffer.data(), data);
  EXPECT_THAT(db->Get("missing", &buffer), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_TRUE(buffer.empty());
}

TEST_F(RocksDbTest, BinaryKeysAndValues) {
  std::unique_ptr<RocksDb> db = OpenOrDie();
  ASSERT_NE(db, nullptr);
  const std::string nul_key("a\0b\0", 4);
  const std::string nul_value("\0\0x\0", 4);
  ASSERT_OK(db->Put(nul_key, nul_value, {}));
  ASSERT_OK(db->Put("empty", "", {}));
  ASSERT_OK(db->Put("", "empty key", {}));
  const std::string big_key = PatternBytes(size_t{1} << 20, 1);
  ASSERT_OK(db->Put(big_key, "big key", {}));

  for (int pass = 0; pass < 2; ++pass) {  // Memtable, then table files after reopen.
    SCOPED_TRACE(pass);
    EXPECT_EQ(db->Get(nul_key).value_or("?"), nul_value);
    EXPECT_THAT(db->Get(std::string_view("a\0b", 3)), StatusIs(absl::StatusCode::kNotFound));
    absl::StatusOr<std::string> empty = db->Get("empty");
    ASSERT_OK(empty);  // An empty value is found, not NotFound.
    EXPECT_EQ(*empty, "");
    EXPECT_EQ(db->Get("").value_or("?"), "empty key");
    EXPECT_EQ(db->Get(big_key).value_or("?"), "big key");
    EXPECT_THAT(db->Get(big_key.substr(0, big_key.size() - 1)),
                StatusIs(absl::StatusCode::kNotFound));
    ASSERT_OK(db->Close());
    db = OpenOrDie();
    ASSERT_NE(db, nullptr);
  }
}

TEST_F(RocksDbTest, SixtyFourMebibyteValue) {
  std::unique_ptr<RocksDb> db = OpenOrDie();
  ASSERT_NE(db, nullptr);
  // 64 chunks of 1 MiB (too long a period for LZ4's window), each stamped with its index.
  const std::string chunk = PatternBytes(size_t{1} << 20, 3);
  std::string value;
  value.reserve(size_t{64} << 20);
  for (int i = 0; i < 64; ++i) value.append(std::to_string(i + 100)).append(chunk, 3);
  ASSERT_OK(db->Put("big", value, {}));
  std::string out;
  ASSERT_OK(db->Get("big", &out));
  EXPECT_TRUE(out == value);  // Not EXPECT_EQ: a failure would print 64 MiB.
  EXPECT_EQ(out.size(), size_t{64} << 20);
  ASSERT_OK(db->Flush());
  out.clear();
  ASSERT_OK(db->Get("big", &out));
  EXPECT_TRUE(out == value);
}

TEST_F(RocksDbTest, MultiGetAnswersEachKeyInOrder) {
  std::unique_ptr<RocksDb> db = OpenOrDie();
  ASSERT_NE(db, nullptr);
  EXPECT_TRUE(db->MultiGet({}).empty());
  ASSERT_OK(db->Put("a", "1", {}));
  ASSERT_OK(db->Put("c", "", {}));
  ASSERT_OK(db->Flush());
  ASSERT_OK(db->Put("b", "2", {}));  // One in the memtable, two in an SST.
  const std::vector<std::string_view> keys = {"c", "missing", "a", "b", "a"};
  std::vector<absl::StatusOr<std::string>> got = db->MultiGet(keys);
  ASSERT_EQ(got.size(), keys.size());
  EXPECT_EQ(got[0].value_or("?"), "");
  EXPECT_THAT(got[1], StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(got[2].value_or("?"), "1");
  EXPECT_EQ(got[3].value_or("?"), "2");
  EXPECT_EQ(got[4].value_or("?"), "1");
}

// --- Batches -----------------------------------------------------------------------------------

TEST_F(RocksDbTest, WriteAppliesOpsInOrder) {
  std::unique_ptr<RocksDb> db = OpenOrDie();
  ASSERT_NE(db, nullptr);
  ASSERT_OK(db->Put("old", "x", {}));
  EXPECT_OK(db->Write({}, {}));
  const std::vector<WriteOp> ops = {
      {WriteOp::kPut, "a", "1"},     {WriteOp::kPut, "b", "2"},
      {WriteOp::kDelete, "old", ""}, {WriteOp::kPut, "a", "3"},  // Later op wins.
      {WriteOp::kPut, "b", ""},      {WriteOp::kDelete, "b", ""},
  };
  ASSERT_OK(db->Write(ops, WriteOptions{.sync = true}));
  EXPECT_EQ(db->Get("a").value_or("?"), "3");
  EXPECT_THAT(db->Get("b"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(db->Get("old"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(RocksDbTest, ConcurrentReadersSeeBatchesWhole) {
  SKIP_IF_TSAN_OVER_ROCKSDB();
  // Each batch moves a token between keys "left" and "right" and bumps "count" in both rows
  // it touches; a reader must never see zero or two tokens, nor mismatched counts.
  std::unique_ptr<RocksDb> db = OpenOrDie();
  ASSERT_NE(db, nullptr);
  ASSERT_OK(db->Put("left", "0", {}));
  constexpr int kBatches = 400;
  std::atomic<bool> done{false};
  std::atomic<int> torn{0};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    const std::vector<std::string_view> keys = {"left", "right"};
    while (!done.load() || reads.load() == 0) {
      std::vector<absl::StatusOr<std::string>> got = db->MultiGet(keys);
      if (got[0].ok() == got[1].ok()) ++torn;
      absl::StatusOr<Rows> rows = db->Scan(ScanSpec());
      if (!rows.ok() || rows->size() != 1) ++torn;
      ++reads;
    }
  });
  for (int i = 1; i <= kBatches; ++i) {
    const std::string count = std::to_string(i);
    const bool to_right = i % 2 == 1;
    const std::vector<WriteOp> ops = {
        {WriteOp::kDelete, to_right ? "left" : "right", ""},
        {WriteOp::kPut, to_right ? "right" : "left", count},
    };
    ASSERT_OK(db->Write(ops, {}));
    if (i == kBatches / 2) {
      ASSERT_OK(db->Flush());  // Mix memtable and SST reads.
    }
  }
  done = true;
  reader.join();
  EXPECT_EQ(torn.load(), 0) << "of " << reads.load() << " reads";
  EXPECT_EQ(db->Get("left").value_or("?"), std::to_string(kBatches));
}

// --- Scans -------------------------------------------------------------------------------------

TEST_F(RocksDbTest, ScanInKeyOrderWithPrefixRangeAndLimit) {
  std::unique_ptr<RocksDb> db = OpenOrDie();
  ASSERT_NE(db, nullptr);
  for (const char* k : {"user/3", "item/1", "user/1", "user/2", "users", "user0"}) {
    ASSERT_OK(db->Put(k, std::string("v-") + k, {}));
  }
  EXPECT_THAT(db->Scan(Spec("user/", "", "", 0)).value_or(Rows()),
              ElementsAre(Pair("user/1", "v-user/1"), Pair("user/2", "v-user/2"),
                          Pair("user/3", "v-user/3")));
  EXPECT_THAT(db->Scan(Spec("", "user/2", "users", 0)).value_or(Rows()),
              ElementsAre(Pair("user/2", "v-user/2"), Pair("user/3", "v-user/3"),
                          Pair("user0", "v-user0")));
  EXPECT_THAT(db->Scan(Spec("user/", "user/2", "", 1)).value_or(Rows()),
              ElementsAre(Pair("user/2", "v-user/2")));
  EXPECT_THAT(db->Scan(Spec("", "z", "", 0)).value_or(Rows{{"x", "x"}}), ElementsAre());
  EXPECT_THAT(db->Scan(Spec("", "b", "a", 0)).value_or(Rows{{"x", "x"}}), ElementsAre());
  absl::StatusOr<Rows> all = db->Scan(ScanSpec());
  ASSERT_OK(all);
  EXPECT_EQ(all->size(), 6u);
  EXPECT_EQ(all->front().first, "item/1");
  EXPECT_EQ(all->back().first, "users");
}

TEST_F(RocksDbTest, ScanCallbackStopsWhenAsked) {
  std::unique_ptr<RocksDb> db = OpenOrDie();
  ASSERT_NE(db, nullptr);
  for (char c = 'a'; c <= 'j'; ++c) ASSERT_OK(db->Put(std::string(1, c), "", {}));
  std::string seen;
  ASSERT_OK(db->Scan(Spec("", "c", "", 0), [&](std::string_view key, std::string_view) {
    seen += key;
    return key != "e";
  }));
  EXPECT_EQ(seen, "cde");
  seen.clear();
  ASSERT_OK(db->Scan(Spec("", "", "", 4), [&](std::string_view key, std::string_view) {
    seen += key;
    return true;
  }));
  EXPECT_EQ(seen, "abcd");
}

// Every prefix/start/end/limit combination over keys with 0x00 and 0xFF bytes at the prefix
// edges, checked against a std::map, in the memtable and again in table files.
TEST_F(RocksDbTest, ScanMatchesModelAroundBinaryPrefixEdges) {
  using namespace std::string_literals;
  const std::vector<std::string> keys = {
      ""s,         "\x00"s,         "\x00\xff"s,     "a"s,
      "a\x00"s,    "a\x00\x00"s,    "a\x01"s,        "a\xfe\xff"s,
      "a\xff"s,    "a\xff\x00"s,    "a\xff\xff"s,    "b"s,
      "b\x00"s,    "\xfe\xff\xff"s, "\xff"s,         "\xff\x00"s,
      "\xff\xff"s, "\xff\xff\x00"s, "\xff\xff\xff"s,
  };
  const std::vector<std::string> bounds = {
      ""s, "\x00"s, "a"s, "a\x00"s, "a\xff"s, "a\xff\xff"s, "b"s, "\xff"s, "\xff\xff"s,
  };
  std::unique_ptr<RocksDb> db = OpenOrDie();
  ASSERT_NE(db, nullptr);
  std::map<std::string, std::string> model;
  for (size_t i = 0; i < keys.size(); ++i) {
    ASSERT_OK(db->Put(keys[i], std::to_string(i), {}));
    model[keys[i]] = std::to_string(i);
  }
  for (int pass = 0; pass < 2; ++pass) {
    for (const std::string& prefix : bounds) {
      for (const std::string& start : bounds) {
        for (const std::string& end : bounds) {
          for (size_t limit : {0, 1, 3}) {
            Rows want;
            for (const auto& [k, v] : model) {
              if (!k.starts_with(prefix) || k < start || (!end.empty() && k >= end)) continue;
              if (limit != 0 && want.size() == limit) break;
              want.emplace_back(k, v);
            }
            const ScanSpec spec = Spec(prefix, start, end, limit);
            absl::StatusOr<Rows> got = db->Scan(spec);
            ASSERT_OK(got);
            ASSERT_EQ(*got, want) << "pass " << pass << " prefix "
                                  << ::testing::PrintToString(prefix) << " start "
                                  << ::testing::PrintToString(start) << " end "
                                  << ::testing::PrintToString(end) << " limit " << limit;
          }
        }
      }
    }
    ASSERT_OK(db->CompactAll());
  }
}

// --- Lifetime, read-only, properties -----------------------------------------------------------

TEST_F(RocksDbTest, DataSurvivesCloseAndDestructor) {
  std::unique_ptr<RocksDb> db = OpenOrDie();
  ASSERT_NE(db, nullptr);
  ASSERT_OK(db->Put("closed", "1", {}));
  ASSERT_OK(db->Close());
  EXPECT_OK(db->Close());  // Idempotent.
  EXPECT_THAT(db->Get("closed"), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(db->Put("k", "v", {}), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(db->Scan(ScanSpec()), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(db->MultiGet({"closed"}),
              ElementsAre(StatusIs(absl::StatusCode::kFailedPrecondition)));
  EXPECT_THAT(db->GetProperty("rocksdb.stats"), StatusIs(absl::StatusCode::kFailedPrecondition));

  db = OpenOrDie();
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->Get("closed").value_or("?"), "1");
  ASSERT_OK(db->Put("destroyed", "2", {}));
  db.reset();  // The destructor flushes and closes.
  EXPECT_FALSE(FindFile(DbPath(), "", ".sst").empty());

  db = OpenOrDie();
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->Get("closed").value_or("?"), "1");
  EXPECT_EQ(db->Get("destroyed").value_or("?"), "2");
}

TEST_F(RocksDbTest, ReadOnlySeesDataAndRefusesWrites) {
  DbOptions read_only;
  read_only.read_only = true;
  absl::StatusOr<std::unique_ptr<RocksDb>> missing = RocksDb::Open(DbPath(), read_only);
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_FALSE(fs::exists(DbPath()));

  std::unique_ptr<RocksDb> writer = OpenOrDie();
  ASSERT_NE(writer, nullptr);
  ASSERT_OK(writer->Put("flushed", "1", {}));
  ASSERT_OK(writer->Flush());
  ASSERT_OK(writer->Put("in-wal", "2", {}));

  // Read-only takes no LOCK, so it opens beside the writer and sees what was written so far.
  std::unique_ptr<RocksDb> db = OpenOrDie(read_only);
  ASSERT_NE(db, nullptr);
  EXPECT_TRUE(db->read_only());
  EXPECT_EQ(db->Get("flushed").value_or("?"), "1");
  EXPECT_EQ(db->Get("in-wal").value_or("?"), "2");
  EXPECT_THAT(db->Scan(ScanSpec()).value_or(Rows()),
              ElementsAre(Pair("flushed", "1"), Pair("in-wal", "2")));
  ASSERT_OK(writer->Put("later", "3", {}));
  EXPECT_THAT(db->Get("later"), StatusIs(absl::StatusCode::kNotFound));  // A fixed view.

  for (const absl::Status& s :
       {db->Put("k", "v", {}), db->Delete("flushed", {}),
        db->Write({{WriteOp{WriteOp::kPut, "k", "v"}}}, {}), db->Flush(), db->CompactAll()}) {
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_THAT(s.message(), HasSubstr("read-only"));
  }
  EXPECT_EQ(db->Get("flushed").value_or("?"), "1");
  EXPECT_OK(db->Close());
}

TEST_F(RocksDbTest, Properties) {
  std::unique_ptr<RocksDb> db = OpenOrDie();
  ASSERT_NE(db, nullptr);
  for (int i = 0; i < 10; ++i) ASSERT_OK(db->Put("k" + std::to_string(i), "v", {}));
  absl::StatusOr<std::string> stats = db->GetProperty("rocksdb.stats");
  ASSERT_OK(stats);
  EXPECT_THAT(*stats, HasSubstr("Compaction Stats"));
  EXPECT_EQ(db->GetProperty("rocksdb.estimate-num-keys").value_or("?"), "10");
  EXPECT_EQ(db->GetIntProperty("rocksdb.estimate-num-keys").value_or(0), 10u);
  EXPECT_THAT(db->GetProperty("rocksdb.no-such-property"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(db->GetIntProperty("rocksdb.no-such-property"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(db->GetIntProperty("rocksdb.stats"), StatusIs(absl::StatusCode::kInvalidArgument));

  ASSERT_OK(db->Flush());
  EXPECT_EQ(db->GetProperty("rocksdb.num-files-at-level0").value_or("?"), "1");
  ASSERT_OK(db->CompactAll());
  EXPECT_EQ(db->GetProperty("rocksdb.num-files-at-level0").value_or("?"), "0");
  EXPECT_EQ(db->GetIntProperty("rocksdb.num-immutable-mem-table").value_or(99), 0u);
  EXPECT_EQ(db->Get("k3").value_or("?"), "v");
}

TEST_F(RocksDbTest, ConcurrentPutsAndGets) {
  SKIP_IF_TSAN_OVER_ROCKSDB();
  std::unique_ptr<RocksDb> db = OpenOrDie();
  ASSERT_NE(db, nullptr);
  constexpr int kThreads = 4;
  constexpr int kKeys = 200;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string buffer;
      for (int i = 0; i < kKeys; ++i) {
        const std::string key = std::to_string(t) + "/" + std::to_string(i);
        if (!db->Put(key, key, {}).ok()) ++errors;
        if (!db->Get(key, &buffer).ok() || buffer != key) ++errors;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(db->Scan(ScanSpec()).value_or(Rows()).size(), size_t{kThreads * kKeys});
}

}  // namespace
}  // namespace asidekv::db
