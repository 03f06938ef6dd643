// Tests of warming: Store::Warm, Store::WarmPrefix, the hot-set file and warm restarts.
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "asidekv/admin.h"
#include "asidekv/asidekv.h"
#include "cache/sharded_cache.h"
#include "core/store_opener.h"
#include "core/warming.h"
#include "db/rocks_db.h"
#include "db/value_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/forwarding_cache.h"
#include "tests/testing/gated_fill_cache.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/sync_point_counter.h"
#include "tests/testing/temp_dir.h"

namespace asidekv {
namespace {

using ::asidekv::testing::IsOk;
using ::asidekv::testing::StatusIs;
using ::asidekv::testing::TempDir;

std::string Key(int i) { return absl::StrCat("key", 100000 + i); }

// Holds the next fill at a gate, to force a write between a warm read and its fill.
using GatedCache = testing::GatedFillCache;

// Hooks that wrap the Store's cache in a `Double` and point *out at it.
template <typename Double>
core::StoreHooks WrapCache(Double** out) {
  core::StoreHooks hooks;
  hooks.wrap_cache = [out](std::unique_ptr<cache::Cache> c) -> std::unique_ptr<cache::Cache> {
    auto d = std::make_unique<Double>(std::move(c));
    *out = d.get();
    return d;
  };
  return hooks;
}

class WarmTest : public ::testing::Test {
 protected:
  Options MakeOptions() const {
    Options o;
    o.path = dir_.Sub("db");
    o.cache_shards = 1;
    return o;
  }
  std::unique_ptr<Store> Open(const Options& o) {
    auto s = Store::Open(o);
    EXPECT_THAT(s, IsOk());
    return s.ok() ? *std::move(s) : nullptr;
  }
  void Fill(Store* store, int n, const std::string& value) {
    for (int i = 0; i < n; ++i) ASSERT_OK(store->Put(Key(i), value));
  }
  TempDir dir_;
};

TEST_F(WarmTest, WarmLoadsKeysWithoutHitsOrMisses) {
  auto store = Open(MakeOptions());
  Fill(store.get(), 100, "v");
  std::vector<std::string> keys;
  for (int i = 0; i < 100; ++i) keys.push_back(Key(i));
  keys.push_back("absent");
  absl::StatusOr<size_t> n = store->Warm(keys);
  ASSERT_OK(n.status());
  EXPECT_EQ(*n, 100u);
  Stats s = store->GetStats();
  EXPECT_EQ(s.cache_hits + s.cache_misses, 0u);
  EXPECT_EQ(s.warm_reads, 101u);
  EXPECT_EQ(s.warmed_keys, 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(*store->Get(Key(i)), "v");
  s = store->GetStats();
  EXPECT_EQ(s.cache_hits, 100u);
  EXPECT_EQ(s.db_reads, 0u);
  // Already cached: skipped without a DB read.
  EXPECT_EQ(*store->Warm(keys), 0u);
  EXPECT_EQ(store->GetStats().warm_reads, 102u);  // Only "absent" again.
}

TEST_F(WarmTest, WarmStopsAtCapacity) {
  Options o = MakeOptions();
  o.cache_capacity_bytes = 20 * (100 + 8 + 80);  // About 20 entries of 100-byte values.
  auto store = Open(o);
  Fill(store.get(), 200, std::string(100, 'x'));
  std::vector<std::string> keys;
  for (int i = 0; i < 200; ++i) keys.push_back(Key(i));
  absl::StatusOr<size_t> n = store->Warm(keys);
  ASSERT_OK(n.status());
  EXPECT_LE(*n, 21u);
  EXPECT_GE(*n, 10u);
  const Stats s = store->GetStats();
  EXPECT_LE(s.cache_bytes, s.cache_capacity_bytes);
  EXPECT_EQ(s.evictions, 0u);     // Warming did not push out its own first keys.
  EXPECT_LE(s.warm_reads, 256u);  // At most one batch read past the budget.
}

TEST_F(WarmTest, DisabledCacheWarmsNothing) {
  Options o = MakeOptions();
  o.cache_capacity_bytes = 0;
  o.cache_shards = 0;
  auto store = Open(o);
  Fill(store.get(), 10, "v");
  EXPECT_EQ(*store->WarmPrefix("key", 0), 0u);
}

TEST_F(WarmTest, WarmPrefixListsInBatches) {
  auto store = Open(MakeOptions());
  Fill(store.get(), 600, "v");
  ASSERT_OK(store->Put("other", "o"));
  absl::StatusOr<size_t> n = store->WarmPrefix("key", 0);
  ASSERT_OK(n.status());
  EXPECT_EQ(*n, 600u);
  store->ClearCache();
  EXPECT_EQ(*store->WarmPrefix("key", 300), 300u);
  EXPECT_EQ(*store->WarmPrefix("", 0), 301u);  // The 300 others and "other".
}

TEST(WarmRaceTest, WriteDuringWarmWins) {
  for (WritePolicy policy : {WritePolicy::kInvalidate, WritePolicy::kUpdate}) {
    TempDir dir;
    Options o;
    o.path = dir.Sub("db");
    o.write_policy = policy;
    GatedCache* gate = nullptr;
    auto opened = core::StoreOpener::Open(o, WrapCache(&gate));
    ASSERT_OK(opened.status());
    std::unique_ptr<Store> store = *std::move(opened);
    ASSERT_OK(store->Put("k", "v1"));
    store->Invalidate("k");
    gate->gate_armed = true;
    std::thread warmer([&] {
      const std::vector<std::string> keys = {"k"};
      EXPECT_EQ(*store->Warm(keys), 0u);  // Its fill of v1 is rejected.
    });
    gate->at_gate.WaitForNotification();
    ASSERT_OK(store->Put("k", "v2"));
    gate->release.Notify();
    warmer.join();
    EXPECT_EQ(*store->Get("k"), "v2");
  }
}

// Holds the first fill at a gate (GatedFillCache) and says when a reader has joined a load of
// another caller as a waiter.
class WaiterGateCache : public testing::GatedFillCache {
 public:
  using GatedFillCache::GatedFillCache;
  cache::FillTicket BeginFill(std::string_view key) override {
    cache::FillTicket t = GatedFillCache::BeginFill(key);
    if (t.role() == cache::FillTicket::Role::kWaiter && !joined_once.exchange(true)) {
      joined.Notify();
    }
    return t;
  }
  std::atomic<bool> joined_once{false};
  absl::Notification joined;
};

// A reader that joins a warm's load of a key past the cache budget gets what Get would return:
// the value without its stored header, or DataLoss for a value that does not decode.
TEST(WarmRaceTest, WaiterOnKeyPastTheBudgetGetsTheDecodedValue) {
  enum class Stored { kPlain, kWithTtl, kCorrupt };
  for (const bool by_prefix : {false, true}) {
    for (const Stored stored : {Stored::kPlain, Stored::kWithTtl, Stored::kCorrupt}) {
      SCOPED_TRACE(
          absl::StrCat(by_prefix ? "WarmPrefix" : "Warm", " stored ", static_cast<int>(stored)));
      TempDir dir;
      Options o;
      o.path = dir.Sub("db");
      o.cache_shards = 1;
      o.cache_capacity_bytes = 4096;
      {
        auto store = Store::Open(o);
        ASSERT_OK(store.status());
        // "a" alone is past the budget, so every key of the warm after it is too.
        ASSERT_OK((*store)->Put("a", std::string(8192, 'x')));
        if (stored == Stored::kWithTtl) {
          ASSERT_OK((*store)->Put("k", "hello", absl::Hours(1)));
        } else {
          ASSERT_OK((*store)->Put("k", "hello"));
        }
      }
      if (stored == Stored::kCorrupt) {
        auto db = db::RocksDb::Open(o.path, db::DbOptions());
        ASSERT_OK(db.status());
        ASSERT_OK((*db)->Put("k", "\x07hello", db::WriteOptions()));
      }
      WaiterGateCache* gate = nullptr;
      auto opened = core::StoreOpener::Open(o, WrapCache(&gate));
      ASSERT_OK(opened.status());
      std::unique_ptr<Store> store = *std::move(opened);
      gate->gate_armed = true;
      std::thread warmer([&] {
        // Both tickets are taken before the DB read; the first completion ("a") waits.
        if (by_prefix) {
          EXPECT_OK(store->WarmPrefix("", 0).status());
        } else {
          const std::vector<std::string> keys = {"a", "k"};
          EXPECT_OK(store->Warm(keys).status());
        }
      });
      gate->at_gate.WaitForNotification();
      absl::StatusOr<std::string> read;
      std::thread reader([&] { read = store->Get("k"); });
      gate->joined.WaitForNotification();  // The reader waits on the warm's load of "k".
      gate->release.Notify();
      warmer.join();
      reader.join();
      if (stored == Stored::kCorrupt) {
        EXPECT_THAT(read.status(), StatusIs(absl::StatusCode::kDataLoss));
      } else {
        ASSERT_OK(read.status());
        EXPECT_EQ(*read, "hello");
      }
      EXPECT_EQ(store->GetStats().cache_entries, 0u);  // Past the budget: nothing cached.
    }
  }
}

TEST(HotSetFileTest, RoundTripAndCorruption) {
  TempDir dir;
  const std::string path = dir.Sub("hot");
  EXPECT_THAT(core::ReadHotSetFile(path).status(), StatusIs(absl::StatusCode::kNotFound));
  const std::vector<std::string> keys = {"a", "", std::string(1000, 'z'), "key\0with\0nul"};
  ASSERT_OK(core::WriteHotSetFile(path, keys));
  absl::StatusOr<std::vector<std::string>> read = core::ReadHotSetFile(path);
  ASSERT_OK(read.status());
  EXPECT_EQ(*read, keys);

  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  auto write = [&path](const std::string& b) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(b.data(), static_cast<std::streamsize>(b.size()));
  };
  for (size_t cut : {size_t{0}, size_t{5}, size_t{13}, bytes.size() / 2, bytes.size() - 1}) {
    write(bytes.substr(0, cut));
    EXPECT_THAT(core::ReadHotSetFile(path).status(), StatusIs(absl::StatusCode::kDataLoss))
        << "truncated to " << cut;
  }
  for (size_t at : {size_t{0}, size_t{9}, size_t{20}, bytes.size() - 2}) {
    std::string flipped = bytes;
    flipped[at] ^= 0x40;
    write(flipped);
    EXPECT_THAT(core::ReadHotSetFile(path).status(), StatusIs(absl::StatusCode::kDataLoss))
        << "flipped byte " << at;
  }
  write(bytes + "x");
  EXPECT_THAT(core::ReadHotSetFile(path).status(), StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(WarmTest, CorruptHotSetIsIgnored) {
  Options o = MakeOptions();
  o.hot_set_path = dir_.Sub("hot");
  {
    std::ofstream out(o.hot_set_path, std::ios::binary);
    out << "AKVHOT01 this is not a hot set";
  }
  auto store = Open(o);
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->Put("k", "v"));
  EXPECT_EQ(*store->Get("k"), "v");
  store.reset();  // Records a valid hot set over the corrupt one.
  EXPECT_OK(core::ReadHotSetFile(o.hot_set_path).status());
}

// Writes a file that is not a valid hot set at `path`.
void WriteCorruptHotSet(const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  out << "AKVHOT01 this is not a hot set";
}

// Options::log receives the warning about a corrupt hot set, and nothing reaches stderr.
TEST_F(WarmTest, CorruptHotSetWarningGoesToTheLogFunction) {
  Options o = MakeOptions();
  o.hot_set_path = dir_.Sub("hot");
  WriteCorruptHotSet(o.hot_set_path);
  struct Line {
    LogSeverity severity;
    std::string message;
  };
  absl::Mutex mu;
  std::vector<Line> lines;  // Guarded by mu.
  o.log = [&](LogSeverity severity, std::string_view message) {
    absl::MutexLock lock(&mu);
    lines.push_back({severity, std::string(message)});
  };
  ::testing::internal::CaptureStderr();
  auto store = Open(o);
  ASSERT_NE(store, nullptr);
  store.reset();  // Joins the hot-set keeper, which warns from its thread.
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(err, "");
  absl::MutexLock lock(&mu);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].severity, LogSeverity::kWarning);
  EXPECT_THAT(lines[0].message, ::testing::StartsWith("ignoring hot set: "));
}

// Without Options::log, the warning is one line on stderr, as before the hook existed.
TEST_F(WarmTest, CorruptHotSetWarningGoesToStderrByDefault) {
  Options o = MakeOptions();
  o.hot_set_path = dir_.Sub("hot");
  WriteCorruptHotSet(o.hot_set_path);
  ::testing::internal::CaptureStderr();
  auto store = Open(o);
  ASSERT_NE(store, nullptr);
  store.reset();
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, ::testing::StartsWith("asidekv: warning: ignoring hot set: "));
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
}

// A keeper stopped while it warms from its file (in the first batch) keeps every key of that
// file: a partial warm-up does not replace a complete hot set.
TEST(HotSetKeeperTest, StopDuringWarmUpKeepsTheWholeHotSet) {
  TempDir dir;
  const std::string hot_path = dir.Sub("hot");
  auto db = db::RocksDb::Open(dir.Sub("db"), db::DbOptions());
  ASSERT_OK(db.status());
  std::vector<std::string> keys;
  for (int i = 0; i < 2000; ++i) {
    keys.push_back(Key(i));
    std::string stored;
    db::EncodeValue("v", std::nullopt, db::ValueEncoding::kHeader, &stored);
    ASSERT_OK((*db)->Put(keys.back(), stored, db::WriteOptions()));
  }
  ASSERT_OK(core::WriteHotSetFile(hot_path, keys));

  cache::CacheOptions co;
  co.num_shards = 1;
  auto built = cache::ShardedCache::Create(co);
  ASSERT_OK(built.status());
  GatedCache cache(*std::move(built));
  core::Filler filler(&cache, db->get(), cache::RealClock(), core::Filler::Config());
  core::Warmer warmer(&cache, db->get(), &filler, co.capacity);
  cache.gate_armed = true;
  core::HotSetKeeper keeper(hot_path, 10000, absl::InfiniteDuration(), &cache, &warmer);
  cache.at_gate.WaitForNotification();  // Warming is in its first batch.
  keeper.RequestStop();
  cache.release.Notify();
  keeper.Stop();
  absl::StatusOr<std::vector<std::string>> after = core::ReadHotSetFile(hot_path);
  ASSERT_OK(after.status());
  EXPECT_EQ(after->size(), 2000u);
  std::vector<std::string> sorted = *after;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, keys);
}

// An Open that fails after the Store's parts are built (here: on the admin socket) leaves the
// hot-set file as it was.
TEST_F(WarmTest, FailedOpenLeavesTheHotSetFileAlone) {
  Options o = MakeOptions();
  o.hot_set_path = dir_.Sub("hot");
  std::vector<std::string> keys;
  {
    auto store = Open(o);
    ASSERT_NE(store, nullptr);
    Fill(store.get(), 2000, "v");
  }
  for (int i = 0; i < 2000; ++i) keys.push_back(Key(i));
  ASSERT_OK(core::WriteHotSetFile(o.hot_set_path, keys));
  struct stat before {};
  ASSERT_EQ(stat(o.hot_set_path.c_str(), &before), 0);
  EnableAdminEndpoint();  // So the Open fails in the admin server, after the DB opened.
  o.admin_socket = dir_.Sub("not-a-socket");
  std::ofstream(o.admin_socket) << "a regular file is never replaced";
  EXPECT_THAT(Store::Open(o).status(), StatusIs(absl::StatusCode::kFailedPrecondition));
  struct stat after {};
  ASSERT_EQ(stat(o.hot_set_path.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);  // Not replaced (a rewrite renames a new file over).
  absl::StatusOr<std::vector<std::string>> read = core::ReadHotSetFile(o.hot_set_path);
  ASSERT_OK(read.status());
  EXPECT_EQ(*read, keys);
}

// Counts the keys that warming has read (and filled), batch by batch.
class WarmReadCounter : public testing::SyncPointCounter {
 public:
  WarmReadCounter()
      : SyncPointCounter("Warmer::WarmWithin:BatchDone", [](void* arg) {
          return static_cast<int64_t>(static_cast<std::vector<std::string_view>*>(arg)->size());
        }) {}
};

// Skewed reads: 90% over 1000 hot keys, 10% over all 8000 keys.
std::vector<std::string> Workload(int n, uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::vector<std::string> keys;
  for (int i = 0; i < n; ++i) {
    const bool hot = absl::Uniform(gen, 0, 10) < 9;
    keys.push_back(Key(hot ? absl::Uniform(gen, 0, 1000) : absl::Uniform(gen, 0, 8000)));
  }
  return keys;
}

// Hit ratio of the first reads after a reopen, with and without the hot set.
TEST_F(WarmTest, WarmRestartRestoresHitRatio) {
  Options o = MakeOptions();
  o.cache_capacity_bytes = 1500 * (10 + 100 + 80);  // About 1500 entries of 8000 keys.
  o.hot_set_path = dir_.Sub("hot");
  o.hot_set_keys = 1200;
  {
    auto store = Open(o);
    Fill(store.get(), 8000, std::string(100, 'v'));
    for (const std::string& k : Workload(60000, 1)) ASSERT_OK(store->Get(k).status());
  }  // Close: records the hot set.
  absl::StatusOr<std::vector<std::string>> hot = core::ReadHotSetFile(o.hot_set_path);
  ASSERT_OK(hot.status());
  ASSERT_GT(hot->size(), 1000u);

  auto hit_ratio_after_reopen = [&](bool with_hot_set) {
    Options r = o;
    if (!with_hot_set) r.hot_set_path.clear();
    WarmReadCounter warm_reads;  // Outlives the store.
    auto store = Open(r);
    if (with_hot_set) {
      EXPECT_TRUE(warm_reads.WaitFor(static_cast<int64_t>(hot->size())));
    }
    const Stats before = store->GetStats();
    for (const std::string& k : Workload(1000, 2)) EXPECT_OK(store->Get(k).status());
    const Stats after = store->GetStats();
    const double hits = static_cast<double>(after.cache_hits - before.cache_hits);
    const double misses = static_cast<double>(after.cache_misses - before.cache_misses);
    return hits / (hits + misses);
  };
  const double cold = hit_ratio_after_reopen(false);
  const double warm = hit_ratio_after_reopen(true);
  std::printf("hit ratio in the first 1000 reads after reopen: cold %.3f, warm restart %.3f\n",
              cold, warm);
  EXPECT_GT(warm, cold + 0.2);
  EXPECT_GT(warm, 0.8);
}

}  // namespace
}  // namespace asidekv
