// Bad input: every case returns a clear absl::Status (the right code, a message naming the
// problem) and never crashes: empty, largest and too-large keys and values, binary keys,
// invalid options, a corrupt or truncated store folder, a folder locked by another process, a
// read-only folder.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "asidekv/asidekv.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace asidekv {
namespace {

namespace fs = std::filesystem;
using ::asidekv::testing::StatusIs;
using ::asidekv::testing::TempDir;
using ::testing::HasSubstr;

// Prints one line per case, so the test log lists each bad input with the status it got.
void Report(const std::string& what, const absl::Status& s) {
  std::cout << "  " << what << " -> " << s << "\n";
}

class BadInputTest : public ::testing::Test {
 protected:
  Options MakeOptions() const {
    Options o;
    o.path = dir_.Sub("db");
    o.max_key_size = 1024;
    o.max_value_size = 64 << 10;
    o.cache_capacity_bytes = 1 << 20;
    return o;
  }
  std::unique_ptr<Store> OpenOrDie(const Options& o) {
    auto opened = Store::Open(o);
    EXPECT_OK(opened.status());
    return opened.ok() ? *std::move(opened) : nullptr;
  }
  // Writes a few keys, flushes them to an SST and closes the store.
  void MakeStore() {
    auto store = OpenOrDie(MakeOptions());
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 100; ++i) {
      ASSERT_OK(
          store->Put(absl::StrCat("k", i), std::string(100, static_cast<char>('a' + i % 26))));
    }
    ASSERT_OK(store->Flush());
  }
  std::vector<fs::path> FilesStartingWith(const std::string& prefix) const {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir_.Sub("db"))) {
      if (e.path().filename().string().rfind(prefix, 0) == 0) out.push_back(e.path());
    }
    return out;
  }
  std::vector<fs::path> FilesEndingWith(const std::string& suffix) const {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir_.Sub("db"))) {
      const std::string name = e.path().filename().string();
      if (name.size() >= suffix.size() &&
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
        out.push_back(e.path());
      }
    }
    return out;
  }

  TempDir dir_;
};

TEST_F(BadInputTest, KeysAndValuesAtAndPastTheLimits) {
  auto store = OpenOrDie(MakeOptions());
  ASSERT_NE(store, nullptr);
  const std::string max_key(1024, 'k');
  const std::string long_key(1025, 'k');
  const std::string max_value(64 << 10, 'v');
  const std::string long_value((64 << 10) + 1, 'v');

  absl::Status s = store->Put("", "v");
  Report("Put(empty key)", s);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(s.message(), HasSubstr("key is empty"));
  EXPECT_THAT(store->Get(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store->Delete(""), StatusIs(absl::StatusCode::kInvalidArgument));

  s = store->Put(long_key, "v");
  Report("Put(key of 1025 bytes, max_key_size 1024)", s);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(s.message(), HasSubstr("max_key_size"));
  EXPECT_THAT(store->Get(long_key), StatusIs(absl::StatusCode::kInvalidArgument));
  s = store->Put("k", long_value);
  Report("Put(value of 65537 bytes, max_value_size 65536)", s);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(s.message(), HasSubstr("max_value_size"));
  WriteBatch batch;
  batch.Put("fine", "v");
  batch.Put(long_key, "v");
  s = store->Write(batch);
  Report("Write(batch with one key too long)", s);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store->Get("fine"), StatusIs(absl::StatusCode::kNotFound));  // Nothing applied.
  std::vector<std::string> keys = {"", "k"};
  auto multi = store->MultiGet(keys);
  EXPECT_THAT(multi[0], StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(multi[1], StatusIs(absl::StatusCode::kNotFound));
  s = store->Put("k", "v", absl::ZeroDuration());
  Report("Put(cache_ttl 0)", s);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));

  // At the limits everything works, also an empty value.
  ASSERT_OK(store->Put(max_key, max_value));
  EXPECT_EQ(*store->Get(max_key), max_value);
  ASSERT_OK(store->Put("empty", ""));
  auto empty = store->Get("empty");
  ASSERT_OK(empty.status());
  EXPECT_EQ(*empty, "");
  store->ClearCache();
  EXPECT_EQ(*store->Get("empty"), "");
}

TEST_F(BadInputTest, LargeValuesUnderDefaultLimits) {
  Options o = MakeOptions();
  o.max_key_size = Options().max_key_size;
  o.max_value_size = Options().max_value_size;
  auto store = OpenOrDie(o);
  ASSERT_NE(store, nullptr);
  const std::string key(Options().max_key_size, 'K');  // 1 MiB key.
  std::string value(8 << 20, '\0');                    // 8 MiB value, larger than the cache.
  for (size_t i = 0; i < value.size(); i += 4096) value[i] = static_cast<char>(i / 4096);
  ASSERT_OK(store->Put(key, value));
  auto v = store->Get(key);
  ASSERT_OK(v.status());
  EXPECT_TRUE(*v == value);
  EXPECT_GE(store->GetStats().cache_rejected_oversize, 1u);
  ASSERT_OK(store->Flush());
  store->ClearCache();
  v = store->Get(key);
  ASSERT_OK(v.status());
  EXPECT_TRUE(*v == value);
}

TEST_F(BadInputTest, BinaryKeysRoundTripAndSortBytewise) {
  auto store = OpenOrDie(MakeOptions());
  ASSERT_NE(store, nullptr);
  const std::vector<std::string> keys = {std::string(1, '\0'),
                                         std::string("a\0b", 3),
                                         std::string("a\0c", 3),
                                         "\x7f",
                                         "\x80",
                                         "\xff",
                                         std::string("\xff\xff\0", 3)};
  for (size_t i = 0; i < keys.size(); ++i) ASSERT_OK(store->Put(keys[i], keys[i] + "!"));
  for (const std::string& k : keys) EXPECT_EQ(*store->Get(k), k + "!");
  EXPECT_THAT(store->Get(std::string("a\0", 2)), StatusIs(absl::StatusCode::kNotFound));
  auto rows = store->Scan(ScanOptions());
  ASSERT_OK(rows.status());
  ASSERT_EQ(rows->size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ((*rows)[i].key, keys[i]);  // Bytewise.
  ScanOptions prefix;
  prefix.prefix = std::string("a\0", 2);
  rows = store->Scan(prefix);
  ASSERT_OK(rows.status());
  EXPECT_EQ(rows->size(), 2u);
  prefix.prefix = "\xff";
  rows = store->Scan(prefix);
  ASSERT_OK(rows.status());
  EXPECT_EQ(rows->size(), 2u);
}

TEST_F(BadInputTest, InvalidOptions) {
  struct Case {
    std::string name;
    std::function<void(Options&)> spoil;
  };
  const std::vector<Case> cases = {
      {"path", [](Options& o) { o.path = ""; }},
      {"cache_shards", [](Options& o) { o.cache_shards = 3; }},
      {"cache_shards", [](Options& o) { o.cache_shards = -1; }},
      {"cache_capacity_bytes",
       [](Options& o) {
         o.cache_capacity_bytes = 10;
         o.cache_shards = 4;
       }},
      {"default_ttl", [](Options& o) { o.default_ttl = absl::ZeroDuration(); }},
      {"negative_ttl", [](Options& o) { o.negative_ttl = -absl::Seconds(1); }},
      {"ttl_jitter", [](Options& o) { o.ttl_jitter = 1.0; }},
      {"coalesced_wait_timeout",
       [](Options& o) { o.coalesced_wait_timeout = absl::ZeroDuration(); }},
      {"max_key_size", [](Options& o) { o.max_key_size = 0; }},
      {"max_value_size", [](Options& o) { o.max_value_size = size_t{3} << 31; }},
      {"eviction_policy", [](Options& o) { o.eviction_policy = static_cast<EvictionPolicy>(42); }},
      {"write_policy", [](Options& o) { o.write_policy = static_cast<WritePolicy>(42); }},
  };
  for (const Case& c : cases) {
    Options o = MakeOptions();
    c.spoil(o);
    auto opened = Store::Open(o);
    Report(absl::StrCat("Open(bad ", c.name, ")"), opened.status());
    EXPECT_THAT(opened, StatusIs(absl::StatusCode::kInvalidArgument)) << c.name;
    EXPECT_THAT(opened.status().message(), HasSubstr(c.name));
  }
  EXPECT_FALSE(fs::exists(dir_.Sub("db")));  // Refused before touching the disk.

  Options o = MakeOptions();
  o.create_if_missing = false;
  auto opened = Store::Open(o);
  Report("Open(missing store, create_if_missing=false)", opened.status());
  EXPECT_THAT(opened, StatusIs(absl::StatusCode::kNotFound));
  o = MakeOptions();
  o.path = dir_.Sub("no/such/parent/db");
  opened = Store::Open(o);
  Report("Open(missing parent folder)", opened.status());
  EXPECT_THAT(opened, StatusIs(absl::StatusCode::kNotFound));
  std::ofstream(dir_.Sub("file")) << "not a folder";
  o.path = dir_.Sub("file");
  opened = Store::Open(o);
  Report("Open(path is a file)", opened.status());
  EXPECT_THAT(opened, StatusIs(absl::StatusCode::kFailedPrecondition));
}

// Every duration the API takes, at its edges. The Store keeps whole nanoseconds: sub-nanosecond,
// zero (where not allowed), negative and -infinite durations are InvalidArgument; 1ns, huge
// finite values and infinity are accepted, and a key put with any accepted TTL stays readable
// (a 0.5ns TTL used to be stored as TTL 0, and every later read of the key failed with DataLoss).
TEST_F(BadInputTest, DurationsAtTheirEdges) {
  const absl::Duration inf = absl::InfiniteDuration();
  const absl::Duration nan_like = absl::Seconds(std::numeric_limits<double>::quiet_NaN());
  struct Case {
    std::string what;
    absl::Duration d;
    bool ok;
  };
  const std::vector<Case> ttls = {
      {"0.5ns", absl::Nanoseconds(0.5), false},
      {"0.25ns", absl::Nanoseconds(1) / 4, false},
      {"1ns / 3", absl::Nanoseconds(1) / 3, false},
      {"zero", absl::ZeroDuration(), false},
      {"-1ns", -absl::Nanoseconds(1), false},
      {"-infinite", -inf, false},
      {"inf - inf", inf - inf, true},  // absl saturates: still infinite.
      {"Seconds(NaN)", nan_like, nan_like == inf},
      {"1ns", absl::Nanoseconds(1), true},
      {"1.5ns", absl::Nanoseconds(1.5), true},
      {"1000 years", absl::Hours(24 * 365) * 1000, true},
      {"max finite", absl::Seconds(std::numeric_limits<int64_t>::max()), true},
      {"infinite", inf, true},
  };
  auto store = OpenOrDie(MakeOptions());
  ASSERT_NE(store, nullptr);
  for (const Case& c : ttls) {
    const std::string key = "ttl " + c.what;
    absl::Status s = store->Put(key, "v", c.d);
    Report(absl::StrCat("Put(cache_ttl = ", c.what, ")"), s);
    if (!c.ok) {
      EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument)) << c.what;
      EXPECT_THAT(s.message(), HasSubstr("cache_ttl")) << c.what;
      EXPECT_THAT(store->Get(key), StatusIs(absl::StatusCode::kNotFound)) << c.what;
      continue;
    }
    ASSERT_OK(s) << c.what;
    store->ClearCache();  // Read the stored form back, not the cached copy.
    absl::StatusOr<std::string> v = store->Get(key);
    ASSERT_OK(v.status()) << c.what;
    EXPECT_EQ(*v, "v") << c.what;
  }
  absl::StatusOr<std::vector<KeyValue>> all = store->Scan(ScanOptions());
  ASSERT_OK(all.status());
  store.reset();

  // The Options durations follow the same rule.
  struct OptionCase {
    std::string name;
    std::function<void(Options&, absl::Duration)> set;
    bool zero_ok;
  };
  const std::vector<OptionCase> fields = {
      {"default_ttl", [](Options& o, absl::Duration d) { o.default_ttl = d; }, false},
      {"negative_ttl", [](Options& o, absl::Duration d) { o.negative_ttl = d; }, true},
      {"coalesced_wait_timeout", [](Options& o, absl::Duration d) { o.coalesced_wait_timeout = d; },
       false},
      {"hot_set_interval", [](Options& o, absl::Duration d) { o.hot_set_interval = d; }, false},
  };
  for (const OptionCase& f : fields) {
    for (const Case& c : ttls) {
      Options o = MakeOptions();
      f.set(o, c.d);
      auto opened = Store::Open(o);
      const bool want_ok = c.ok || (f.zero_ok && c.d == absl::ZeroDuration());
      if (want_ok) {
        EXPECT_OK(opened.status()) << f.name << " = " << c.what;
      } else {
        Report(absl::StrCat("Open(", f.name, " = ", c.what, ")"), opened.status());
        EXPECT_THAT(opened, StatusIs(absl::StatusCode::kInvalidArgument)) << f.name << c.what;
        EXPECT_THAT(opened.status().message(), HasSubstr(f.name));
      }
    }
  }
}

TEST_F(BadInputTest, CorruptCurrentFile) {
  ASSERT_NO_FATAL_FAILURE(MakeStore());
  std::ofstream(dir_.Sub("db/CURRENT"), std::ios::trunc) << "garbage\n";
  auto opened = Store::Open(MakeOptions());
  Report("Open(CURRENT names no MANIFEST)", opened.status());
  EXPECT_FALSE(opened.ok());
  EXPECT_FALSE(opened.status().message().empty());
}

TEST_F(BadInputTest, TruncatedManifest) {
  ASSERT_NO_FATAL_FAILURE(MakeStore());
  const std::vector<fs::path> manifests = FilesStartingWith("MANIFEST-");
  ASSERT_FALSE(manifests.empty());
  for (const fs::path& m : manifests) fs::resize_file(m, 10);
  auto opened = Store::Open(MakeOptions());
  Report("Open(MANIFEST truncated to 10 bytes)", opened.status());
  EXPECT_THAT(opened, StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(BadInputTest, CorruptSstFooter) {
  ASSERT_NO_FATAL_FAILURE(MakeStore());
  const std::vector<fs::path> ssts = FilesEndingWith(".sst");
  ASSERT_FALSE(ssts.empty());
  for (const fs::path& p : ssts) {
    const auto size = fs::file_size(p);
    std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size) - 48);
    f << std::string(48, '\x5a');
  }
  auto opened = Store::Open(MakeOptions());
  Report("Open(SST footer overwritten)", opened.status());
  EXPECT_THAT(opened, StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(BadInputTest, CorruptSstBlockFailsReadsWithoutCachingThem) {
  ASSERT_NO_FATAL_FAILURE(MakeStore());
  const std::vector<fs::path> ssts = FilesEndingWith(".sst");
  ASSERT_FALSE(ssts.empty());
  {
    std::fstream f(ssts[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);  // Inside the first data block.
    f << std::string(64, '\x5a');
  }
  Options o = MakeOptions();
  o.negative_ttl = absl::Hours(1);
  auto store = OpenOrDie(o);
  ASSERT_NE(store, nullptr);
  absl::StatusOr<std::string> v = store->Get("k0");
  Report("Get(key in a corrupt SST block)", v.status());
  EXPECT_THAT(v, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_EQ(store->GetStats().cache_entries, 0u);
  EXPECT_THAT(store->Get("k0"), StatusIs(absl::StatusCode::kDataLoss));  // Still not cached.
  // Writes still work, and the written value is what reads return.
  ASSERT_OK(store->Put("k0", "new"));
  EXPECT_EQ(*store->Get("k0"), "new");
}

TEST_F(BadInputTest, TruncatedLogRecoversAPrefix) {
  {
    auto store = OpenOrDie(MakeOptions());
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 100; ++i)
      ASSERT_OK(store->Put(absl::StrCat("k", i), std::string(100, 'v')));
    // Leave without flushing: copy the folder while the log holds the writes.
    fs::copy(dir_.Sub("db"), dir_.Sub("copy"), fs::copy_options::recursive);
  }
  std::vector<fs::path> logs;
  for (const auto& e : fs::directory_iterator(dir_.Sub("copy"))) {
    if (e.path().extension() == ".log") logs.push_back(e.path());
  }
  ASSERT_FALSE(logs.empty());
  for (const fs::path& p : logs) fs::resize_file(p, fs::file_size(p) / 2);
  fs::remove(dir_.Sub("copy/LOCK"));
  Options o = MakeOptions();
  o.path = dir_.Sub("copy");
  auto store = OpenOrDie(o);
  ASSERT_NE(store, nullptr);
  // Some prefix of the writes is there: once one key is missing, all later ones are too.
  bool missing = false;
  int present = 0;
  for (int i = 0; i < 100; ++i) {
    auto v = store->Get(absl::StrCat("k", i));
    if (v.ok()) {
      EXPECT_FALSE(missing) << "k" << i << " survived a lost earlier write";
      ++present;
    } else {
      EXPECT_THAT(v, StatusIs(absl::StatusCode::kNotFound));
      missing = true;
    }
  }
  std::cout << "  log truncated to half: " << present << " of 100 writes recovered\n";
  EXPECT_GT(present, 0);
  EXPECT_LT(present, 100);
}

// Another process holds the store's LOCK (as a running Store in that process would).
TEST_F(BadInputTest, FolderLockedByAnotherProcess) {
  ASSERT_NO_FATAL_FAILURE(MakeStore());
  const std::string lock_path = dir_.Sub("db/LOCK");
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Child: only async-signal-safe calls until it is killed.
    close(ready[0]);
    const int fd = open(lock_path.c_str(), O_RDWR);
    struct flock fl = {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    const char ok = (fd >= 0 && fcntl(fd, F_SETLK, &fl) == 0) ? '1' : '0';
    if (write(ready[1], &ok, 1) != 1) _exit(1);
    for (;;) pause();
  }
  close(ready[1]);
  char ok = '0';
  ASSERT_EQ(read(ready[0], &ok, 1), 1);
  close(ready[0]);
  EXPECT_EQ(ok, '1');
  auto opened = Store::Open(MakeOptions());
  Report("Open(folder locked by another process)", opened.status());
  EXPECT_THAT(opened, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(opened.status().message(), HasSubstr("in use"));
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  // Once the other process is gone, the store opens.
  auto reopened = Store::Open(MakeOptions());
  EXPECT_OK(reopened.status());
}

TEST_F(BadInputTest, ReadOnlyFolder) {
  ASSERT_NO_FATAL_FAILURE(MakeStore());
  const fs::path db = dir_.Sub("db");
  for (const auto& e : fs::directory_iterator(db)) {
    fs::permissions(e.path(), fs::perms::owner_read | fs::perms::group_read);
  }
  fs::permissions(db, fs::perms::owner_read | fs::perms::owner_exec);
  // Permission bits do not stop root (CAP_DAC_OVERRIDE): detect it by trying.
  const std::string probe = (db / "probe").string();
  const int fd = open(probe.c_str(), O_CREAT | O_WRONLY, 0600);
  if (fd >= 0) {
    close(fd);
    unlink(probe.c_str());
    fs::permissions(db, fs::perms::owner_all);
    GTEST_SKIP() << "permission bits do not stop this process from writing (running as root or "
                    "with CAP_DAC_OVERRIDE), so a read-only folder cannot be simulated";
  }
  auto opened = Store::Open(MakeOptions());
  Report("Open(read-only folder)", opened.status());
  EXPECT_FALSE(opened.ok());
  EXPECT_THAT(opened.status().message(), HasSubstr("Permission denied"));
  fs::permissions(db, fs::perms::owner_all);
}

}  // namespace
}  // namespace asidekv
