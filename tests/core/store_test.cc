// Tests of the Store's public behaviour, run across configurations (cache off, kInvalidate,
// kUpdate, negative caching), plus forced races on the fill path.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "asidekv/asidekv.h"
#include "core/store_opener.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/forwarding_cache.h"
#include "tests/testing/gated_fill_cache.h"
#include "tests/testing/rocksdb_options_file.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/sync_point_counter.h"
#include "tests/testing/temp_dir.h"

namespace asidekv {
namespace {

using ::asidekv::testing::FakeClock;
using ::asidekv::testing::IsOk;
using ::asidekv::testing::StatusIs;
using ::asidekv::testing::TempDir;
using ::testing::ElementsAre;

struct Config {
  const char* name;
  size_t capacity;
  WritePolicy policy;
  absl::Duration negative_ttl;
};

class StoreTest : public ::testing::TestWithParam<Config> {
 protected:
  Options MakeOptions() const {
    Options o;
    o.path = dir_.Sub("db");
    o.cache_capacity_bytes = GetParam().capacity;
    o.write_policy = GetParam().policy;
    o.negative_ttl = GetParam().negative_ttl;
    return o;
  }
  std::unique_ptr<Store> OpenStore(const Options& o) {
    core::StoreHooks hooks;
    hooks.clock = &clock_;
    auto s = core::StoreOpener::Open(o, hooks);
    EXPECT_THAT(s, IsOk());
    return s.ok() ? *std::move(s) : nullptr;
  }
  bool cache_on() const { return GetParam().capacity > 0; }
  // kUpdate writes put the value in the cache, so the first read after a Put is a hit.
  bool writes_fill() const { return cache_on() && GetParam().policy == WritePolicy::kUpdate; }

  TempDir dir_;
  FakeClock clock_;
};

TEST_P(StoreTest, PutGetDelete) {
  auto store = OpenStore(MakeOptions());
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->Get("k"), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK(store->Put("k", "v1"));
  ASSERT_OK_AND_ASSIGN(std::string v, store->Get("k"));
  EXPECT_EQ(v, "v1");
  ASSERT_OK(store->Put("k", "v2"));
  ASSERT_OK_AND_ASSIGN(v, store->Get("k"));
  EXPECT_EQ(v, "v2");
  ASSERT_OK(store->Delete("k"));
  EXPECT_THAT(store->Get("k"), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK(store->Delete("never-written"));
}

TEST_P(StoreTest, BinaryKeysAndValues) {
  auto store = OpenStore(MakeOptions());
  const std::string key("a\0b\xff", 4);
  const std::string value("\0\0x\x80", 4);
  ASSERT_OK(store->Put(key, value));
  ASSERT_OK(store->Put("empty", ""));
  for (int i = 0; i < 2; ++i) {  // Miss, then hit.
    ASSERT_OK_AND_ASSIGN(std::string v, store->Get(key));
    EXPECT_EQ(v, value);
    ASSERT_OK_AND_ASSIGN(v, store->Get("empty"));
    EXPECT_EQ(v, "");
  }
}

TEST_P(StoreTest, SecondGetIsAHit) {
  auto store = OpenStore(MakeOptions());
  ASSERT_OK(store->Put("k", "v"));
  ASSERT_OK(store->Get("k").status());
  ASSERT_OK(store->Get("k").status());
  const Stats s = store->GetStats();
  EXPECT_EQ(s.db_reads, writes_fill() ? 0u : cache_on() ? 1u : 2u);
  EXPECT_EQ(s.cache_hits, writes_fill() ? 2u : cache_on() ? 1u : 0u);
  EXPECT_EQ(s.get_latency.count, 2u);
}

TEST_P(StoreTest, InvalidKeysAndValues) {
  Options o = MakeOptions();
  o.max_key_size = 8;
  o.max_value_size = 16;
  auto store = OpenStore(o);
  EXPECT_THAT(store->Get(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store->Put("", "v"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store->Put("123456789", "v"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store->Put("k", std::string(17, 'x')), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store->Put("k", "v", absl::ZeroDuration()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  WriteBatch b;
  b.Put("ok", "v");
  b.Put("", "v");
  EXPECT_THAT(store->Write(b), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store->Get("ok"), StatusIs(absl::StatusCode::kNotFound));  // Nothing applied.
  EXPECT_THAT(store->Put("12345678", std::string(16, 'x')), IsOk());
}

TEST_P(StoreTest, WriteBatchIsAtomicAndInvalidatesEveryKey) {
  auto store = OpenStore(MakeOptions());
  ASSERT_OK(store->Put("a", "a0"));
  ASSERT_OK(store->Put("b", "b0"));
  ASSERT_OK(store->Get("a").status());  // Cache both.
  ASSERT_OK(store->Get("b").status());
  WriteBatch batch;
  batch.Put("a", "a1");
  batch.Delete("b");
  batch.Put("c", "c1");
  batch.Put("c", "c2");  // Last op on a key wins.
  ASSERT_OK(store->Write(batch));
  EXPECT_EQ(*store->Get("a"), "a1");
  EXPECT_THAT(store->Get("b"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(*store->Get("c"), "c2");
  ASSERT_OK(store->Write(WriteBatch()));
}

TEST_P(StoreTest, MultiGetMixesHitsMissesAndErrors) {
  auto store = OpenStore(MakeOptions());
  ASSERT_OK(store->Put("a", "1"));
  ASSERT_OK(store->Put("b", "2"));
  ASSERT_OK(store->Get("a").status());  // "a" is now cached.
  const uint64_t reads_before = store->GetStats().db_reads;
  std::vector<std::string> keys = {"a", "b", "missing", "", "b"};
  auto r = store->MultiGet(keys);
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(*r[0], "1");
  EXPECT_EQ(*r[1], "2");
  EXPECT_THAT(r[2], StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(r[3], StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(*r[4], "2");
  const uint64_t reads = store->GetStats().db_reads - reads_before;
  // "b" once (its duplicate waits on it) and "missing"; without a cache every key is read;
  // with kUpdate "b" is already cached by its Put.
  EXPECT_EQ(reads, writes_fill() ? 1u : cache_on() ? 2u : 4u);
}

TEST_P(StoreTest, ScanReadsTheDbInOrder) {
  auto store = OpenStore(MakeOptions());
  for (const char* k : {"p/b", "p/a", "q/a", "p/c", "o/z"}) ASSERT_OK(store->Put(k, k));
  ASSERT_OK(store->Delete("p/c"));
  ScanOptions so;
  so.prefix = "p/";
  ASSERT_OK_AND_ASSIGN(auto kvs, store->Scan(so));
  std::vector<std::string> keys;
  for (const auto& kv : kvs) keys.push_back(kv.key);
  EXPECT_THAT(keys, ElementsAre("p/a", "p/b"));
  EXPECT_EQ(kvs[0].value, "p/a");
  so = ScanOptions();
  so.start = "p/b";
  so.limit = 2;
  ASSERT_OK_AND_ASSIGN(kvs, store->Scan(so));
  ASSERT_EQ(kvs.size(), 2u);
  EXPECT_EQ(kvs[0].key, "p/b");
  EXPECT_EQ(kvs[1].key, "q/a");
}

TEST_P(StoreTest, DefaultTtlExpiresEntries) {
  Options o = MakeOptions();
  o.default_ttl = absl::Seconds(10);
  auto store = OpenStore(o);
  ASSERT_OK(store->Put("k", "v"));
  ASSERT_OK(store->Get("k").status());
  clock_.Advance(absl::Seconds(9));
  ASSERT_OK(store->Get("k").status());
  const uint64_t filled_by_put = writes_fill() ? 1 : 0;
  EXPECT_EQ(store->GetStats().db_reads, (cache_on() ? 1u : 2u) - filled_by_put);
  clock_.Advance(absl::Seconds(1));
  ASSERT_OK(store->Get("k").status());
  EXPECT_EQ(store->GetStats().db_reads, (cache_on() ? 2u : 3u) - filled_by_put);
  if (cache_on()) {
    EXPECT_EQ(store->GetStats().expirations, 1u);
  }
}

TEST_P(StoreTest, PerKeyTtlOutlivesEvictionAndReopen) {
  Options o = MakeOptions();
  {
    auto store = OpenStore(o);
    ASSERT_OK(store->Put("k", "v", absl::Seconds(5)));
  }
  auto store = OpenStore(o);  // The TTL is stored with the value.
  ASSERT_OK(store->Get("k").status());
  clock_.Advance(absl::Seconds(4));
  ASSERT_OK(store->Get("k").status());
  EXPECT_EQ(store->GetStats().db_reads, cache_on() ? 1u : 2u);
  clock_.Advance(absl::Seconds(1));
  ASSERT_OK_AND_ASSIGN(std::string v, store->Get("k"));
  EXPECT_EQ(v, "v");
  EXPECT_EQ(store->GetStats().db_reads, cache_on() ? 2u : 3u);
  // Writing again without a TTL returns the key to the default (infinite).
  ASSERT_OK(store->Put("k", "w"));
  ASSERT_OK(store->Get("k").status());
  clock_.Advance(absl::Hours(100));
  ASSERT_OK_AND_ASSIGN(v, store->Get("k"));
  EXPECT_EQ(v, "w");
}

TEST_P(StoreTest, NegativeCachingIsInvalidatedByWrites) {
  auto store = OpenStore(MakeOptions());
  const bool negative = cache_on() && GetParam().negative_ttl > absl::ZeroDuration();
  EXPECT_THAT(store->Get("k"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store->Get("k"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(store->GetStats().db_reads, negative ? 1u : 2u);
  ASSERT_OK(store->Put("k", "v"));
  EXPECT_EQ(*store->Get("k"), "v");
  if (negative) {
    ASSERT_OK(store->Delete("k"));
    EXPECT_THAT(store->Get("k"), StatusIs(absl::StatusCode::kNotFound));
    clock_.Advance(GetParam().negative_ttl);  // The negative entry expires.
    const uint64_t before = store->GetStats().db_reads;
    EXPECT_THAT(store->Get("k"), StatusIs(absl::StatusCode::kNotFound));
    EXPECT_EQ(store->GetStats().db_reads, before + 1);
  }
}

TEST_P(StoreTest, PinnedValueOutlivesEntryAndStore) {
  auto store = OpenStore(MakeOptions());
  ASSERT_OK(store->Put("k", std::string(1000, 'x')));
  ASSERT_OK_AND_ASSIGN(PinnedValue miss, store->GetPinned("k"));
  ASSERT_OK_AND_ASSIGN(PinnedValue hit, store->GetPinned("k"));
  ASSERT_OK(store->Put("k", "new"));
  store->ClearCache();
  store.reset();
  EXPECT_EQ(miss.value(), std::string(1000, 'x'));
  EXPECT_EQ(hit.value(), std::string(1000, 'x'));
}

TEST_P(StoreTest, ClearCacheKeepsReadsCorrect) {
  auto store = OpenStore(MakeOptions());
  ASSERT_OK(store->Put("k", "v"));
  ASSERT_OK(store->Get("k").status());
  store->ClearCache();
  EXPECT_EQ(store->GetStats().cache_entries, 0u);
  EXPECT_EQ(*store->Get("k"), "v");
}

TEST_P(StoreTest, DataSurvivesReopen) {
  Options o = MakeOptions();
  o.sync_writes = true;
  {
    auto store = OpenStore(o);
    ASSERT_OK(store->Put("k", "v"));
  }
  auto store = OpenStore(o);
  EXPECT_EQ(*store->Get("k"), "v");
}

// Bytes RocksDB's block cache holds now.
uint64_t BlockCacheUsage(const Store& store) {
  absl::StatusOr<std::string> text = store.GetProperty("rocksdb.block-cache-usage");
  uint64_t usage = 0;
  EXPECT_TRUE(text.ok() && absl::SimpleAtoi(*text, &usage)) << text.status();
  return usage;
}

TEST_P(StoreTest, PointReadsFillTheDbBlockCacheWhenAskedOrUncached) {
  for (const bool fill : {false, true}) {
    SCOPED_TRACE(fill ? "db_point_reads_fill_block_cache" : "default");
    Options o = MakeOptions();
    o.db_point_reads_fill_block_cache = fill;
    auto store = OpenStore(o);
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 2000; ++i)
      ASSERT_OK(store->Put(absl::StrCat("k", i), std::string(100, 'v')));
    ASSERT_OK(store->Flush());
    store->ClearCache();
    const uint64_t before = BlockCacheUsage(*store);
    for (int i = 0; i < 2000; ++i) ASSERT_OK(store->Get(absl::StrCat("k", i)).status());
    if (fill || !cache_on()) {  // Without the cache, the block cache is the reads' only one.
      EXPECT_GT(BlockCacheUsage(*store), before + 32 * 1024);
    } else {
      EXPECT_EQ(BlockCacheUsage(*store), before);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Configs, StoreTest,
    ::testing::Values(Config{"CacheOff", 0, WritePolicy::kInvalidate, absl::ZeroDuration()},
                      Config{"Invalidate", 1 << 20, WritePolicy::kInvalidate, absl::ZeroDuration()},
                      Config{"Update", 1 << 20, WritePolicy::kUpdate, absl::ZeroDuration()},
                      Config{"NegativeTtl", 1 << 20, WritePolicy::kInvalidate, absl::Seconds(3)}),
    [](const ::testing::TestParamInfo<Config>& info) { return info.param.name; });

TEST(StoreOpenTest, DbMmapReadsReachRocksDb) {
  TempDir dir;
  for (const bool mapped : {false, true}) {
    Options o;
    o.path = dir.Sub("db");
    o.db_mmap_reads = mapped;
    auto store = Store::Open(o);
    ASSERT_OK(store.status());
    ASSERT_OK((*store)->Put("k", "v"));
    EXPECT_THAT(testing::RocksDbOptionsFileText(o.path),
                ::testing::HasSubstr(mapped ? "allow_mmap_reads=true" : "allow_mmap_reads=false"));
    EXPECT_EQ(*(*store)->Get("k"), "v");
  }
}

TEST(StoreOpenTest, DbBlockSizeReachesRocksDb) {
  TempDir dir;
  Options o;
  o.path = dir.Sub("db");
  o.db_block_size = 2048;
  auto store = Store::Open(o);
  ASSERT_OK(store.status());
  EXPECT_THAT(testing::RocksDbOptionsFileText(o.path),
              ::testing::HasSubstr("\n  block_size=2048\n"));
}

TEST(StoreOpenTest, RejectsBadOptions) {
  TempDir dir;
  const auto bad = [&](auto mutate) {
    Options o;
    o.path = dir.Sub("db");
    mutate(o);
    return Store::Open(o).status();
  };
  EXPECT_THAT(bad([](Options& o) { o.path = ""; }), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(bad([](Options& o) { o.cache_shards = 3; }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(bad([](Options& o) { o.cache_shards = -1; }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(bad([](Options& o) { o.cache_capacity_bytes = 10; }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(bad([](Options& o) { o.default_ttl = absl::ZeroDuration(); }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(bad([](Options& o) { o.negative_ttl = -absl::Seconds(1); }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(bad([](Options& o) { o.ttl_jitter = 1; }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(bad([](Options& o) { o.db_block_size = 100; }),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("db_block_size")));
  EXPECT_THAT(bad([](Options& o) { o.max_key_size = 0; }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(bad([](Options& o) { o.path = "/nonexistent-parent/x/db"; }), ::testing::Not(IsOk()));
}

TEST(StoreOpenTest, SecondStoreOnTheSamePathFails) {
  TempDir dir;
  Options o;
  o.path = dir.Sub("db");
  auto first = Store::Open(o);
  ASSERT_OK(first.status());
  EXPECT_THAT(Store::Open(o), StatusIs(absl::StatusCode::kFailedPrecondition));
  first->reset();
  EXPECT_THAT(Store::Open(o), IsOk());
}

using GatedFillCache = testing::GatedFillCache;

class StoreRaceTest : public ::testing::TestWithParam<WritePolicy> {
 protected:
  void SetUp() override {
    Options o;
    o.path = dir_.Sub("db");
    o.write_policy = GetParam();
    core::StoreHooks hooks;
    hooks.wrap_cache = [this](std::unique_ptr<cache::Cache> c) -> std::unique_ptr<cache::Cache> {
      auto g = std::make_unique<GatedFillCache>(std::move(c));
      gate_ = g.get();
      return g;
    };
    auto s = core::StoreOpener::Open(o, hooks);
    ASSERT_OK(s.status());
    store_ = *std::move(s);
  }
  TempDir dir_;
  GatedFillCache* gate_ = nullptr;
  std::unique_ptr<Store> store_;
};

// A slow miss reads v1, a Put of v2 completes, then the miss tries to fill v1: rejected.
TEST_P(StoreRaceTest, SlowMissCannotFillAValueReadBeforeAWrite) {
  ASSERT_OK(store_->Put("k", "v1"));
  store_->Invalidate("k");  // With kUpdate the Put cached v1; the reader must miss.
  gate_->gate_armed = true;
  std::thread reader([&] { EXPECT_EQ(*store_->Get("k"), "v1"); });
  ASSERT_TRUE(gate_->at_gate.WaitForNotificationWithTimeout(
      absl::Seconds(60)));  // The reader has read v1 and is about to fill.
  ASSERT_OK(store_->Put("k", "v2"));
  gate_->release.Notify();
  reader.join();
  EXPECT_EQ(gate_->last_result.load(), static_cast<int>(cache::FillResult::kStale));
  EXPECT_EQ(store_->GetStats().stale_fills_rejected, 1u);
  EXPECT_EQ(*store_->Get("k"), "v2");
}

// A Get that starts after a Put returned must not join a load that began before the Put.
TEST_P(StoreRaceTest, GetAfterWriteDoesNotJoinAnOlderLoad) {
  ASSERT_OK(store_->Put("k", "v1"));
  store_->Invalidate("k");  // With kUpdate the Put cached v1; the reader must miss.
  gate_->gate_armed = true;
  std::thread slow([&] { EXPECT_EQ(*store_->Get("k"), "v1"); });
  ASSERT_TRUE(gate_->at_gate.WaitForNotificationWithTimeout(absl::Seconds(60)));
  ASSERT_OK(store_->Put("k", "v2"));
  // The slow load is still in flight; this Get must read v2, not wait for v1.
  EXPECT_EQ(*store_->Get("k"), "v2");
  gate_->release.Notify();
  slow.join();
  EXPECT_EQ(*store_->Get("k"), "v2");
}

// The same race with the entry evicted between token and fill.
TEST_P(StoreRaceTest, StaleFillRejectedEvenAfterClear) {
  ASSERT_OK(store_->Put("k", "v1"));
  store_->Invalidate("k");  // With kUpdate the Put cached v1; the reader must miss.
  gate_->gate_armed = true;
  std::thread reader([&] { (void)store_->Get("k"); });
  ASSERT_TRUE(gate_->at_gate.WaitForNotificationWithTimeout(absl::Seconds(60)));
  ASSERT_OK(store_->Put("k", "v2"));
  store_->ClearCache();
  gate_->release.Notify();
  reader.join();
  EXPECT_EQ(*store_->Get("k"), "v2");
}

INSTANTIATE_TEST_SUITE_P(Policies, StoreRaceTest,
                         ::testing::Values(WritePolicy::kInvalidate, WritePolicy::kUpdate));

// A cache whose fills wait until every other reader of the key has joined the leader's flight
// (counted by `joined`, which outlives the cache).
class WaitForWaitersCache : public testing::ForwardingCache {
 public:
  WaitForWaitersCache(std::unique_ptr<cache::Cache> inner, testing::SyncPointCounter* joined,
                      int64_t waiters)
      : ForwardingCache(std::move(inner)), joined_(joined), waiters_(waiters) {}
  cache::FillResult CompleteFill(cache::FillTicket* ticket, const std::string_view* value,
                                 const cache::EntryOptions& options,
                                 const absl::StatusOr<std::string>& result) override {
    EXPECT_TRUE(joined_->WaitFor(waiters_));
    return ForwardingCache::CompleteFill(ticket, value, options, result);
  }

 private:
  testing::SyncPointCounter* const joined_;
  const int64_t waiters_;
};

TEST(StoreCoalescingTest, SixtyFourColdMissesCauseOneDbRead) {
  constexpr int kThreads = 64;
  TempDir dir;
  Options o;
  o.path = dir.Sub("db");
  {
    auto s = Store::Open(o);
    ASSERT_OK(s.status());
    ASSERT_OK((*s)->Put("hot", "value"));
  }
  testing::SyncPointCounter joined("ShardedCache::BeginFill:Joined");
  core::StoreHooks hooks;
  hooks.wrap_cache = [&joined](std::unique_ptr<cache::Cache> c) -> std::unique_ptr<cache::Cache> {
    return std::make_unique<WaitForWaitersCache>(std::move(c), &joined, kThreads - 1);
  };
  auto opened = core::StoreOpener::Open(o, hooks);
  ASSERT_OK(opened.status());
  Store& store = **opened;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      auto v = store.Get("hot");
      if (v.ok() && *v == "value") ok.fetch_add(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads);
  const Stats s = store.GetStats();
  EXPECT_EQ(s.db_reads, 1u);
  EXPECT_EQ(s.coalesced_waits, static_cast<uint64_t>(kThreads - 1));
}

}  // namespace
}  // namespace asidekv
