// Lock-free lookups (cache/shard.h) racing every way an entry leaves the table: invalidations,
// replacements, evictions, expiry, Clear() and table rebuilds (growth and shrinking). Meant for
// ASan (an entry or table array released before a reader left its guard is a use after free)
// and TSan (every field a reader touches is written before publication or atomic).
//
// Each key belongs to one writer thread, so its writes are sequential. A value is
// "<version>:<key>": versions grow per key. After Insert(k, v) returns the writer raises k's floor
// to v; after Invalidate(k) returns, past every version written. A reader notes the floor before
// its lookup: whatever it gets must be of its key, at least the floor (a lookup that begins after
// an invalidation or replacement returned never sees the old entry), and at most the key's
// highest version written.

#include <atomic>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cache/entry_table.h"
#include "cache/sharded_cache.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "util/epoch.h"

namespace asidekv::cache {
namespace {

constexpr int kWriters = 2;
constexpr int kReaders = 2;

std::string Key(int k) { return absl::StrCat("key", k); }
std::string Value(int k, uint64_t version) { return absl::StrCat(version, ":", Key(k)); }

// The version of a value of key `k`, or UINT64_MAX if it is not one of k's values.
uint64_t VersionOf(int k, std::string_view value) {
  const size_t colon = value.find(':');
  uint64_t version = 0;
  if (colon == std::string_view::npos ||
      !absl::SimpleAtoi(absl::string_view(value.data(), colon), &version) ||
      value.substr(colon + 1) != Key(k)) {
    return UINT64_MAX;
  }
  return version;
}

struct RaceConfig {
  const char* name;
  int keys;           // Grows and shrinks the tables as the writers insert and invalidate.
  uint64_t capacity;  // Small: evictions on most inserts.
  bool ttl;
  bool clears;  // A thread calls Clear() and InvalidateAll() now and then.
};

class LockFreeLookupTest : public ::testing::TestWithParam<RaceConfig> {};

TEST_P(LockFreeLookupTest, ReadersSeeOnlyPublishedValuesAndNeverRemovedOnes) {
  const RaceConfig& config = GetParam();
  testing::FakeClock clock;
  CacheOptions options;
  options.capacity = config.capacity;
  options.num_shards = 2;
  options.clock = &clock;
  auto made = ShardedCache::Create(options);
  ASSERT_TRUE(made.ok());
  ShardedCache& cache = **made;

  struct KeyState {
    std::atomic<uint64_t> written{0};  // Highest version inserted (or being inserted).
    std::atomic<uint64_t> floor{0};    // Lookups starting now must not see a lower version.
  };
  std::vector<KeyState> keys(config.keys);
  std::atomic<bool> stop{false};
  std::atomic<int> violations{0};
  std::atomic<uint64_t> hits{0};
  std::atomic<uint64_t> lookups{0};

  auto writer = [&](int w) {
    std::mt19937 rng(w + 1);
    while (!stop.load(std::memory_order_relaxed)) {
      const int k = static_cast<int>(rng() % (config.keys / kWriters)) * kWriters + w;
      KeyState& s = keys[k];
      const uint32_t op = rng() % 8;
      if (op < 5) {
        const uint64_t v = s.written.load() + 1;
        s.written.store(v);
        EntryOptions entry;
        if (config.ttl) entry.ttl = absl::Microseconds(50 + rng() % 200);
        cache.Insert(Key(k), Value(k, v), entry);
        s.floor.store(v);  // Replaced: older versions must be gone.
      } else {
        cache.Invalidate(Key(k));
        s.floor.store(s.written.load() + 1);
      }
      if (config.ttl) clock.Advance(absl::Microseconds(5));
    }
  };
  auto reader = [&](int r) {
    std::mt19937 rng(100 + r);
    while (!stop.load(std::memory_order_relaxed)) {
      const int k = static_cast<int>(rng() % config.keys);
      const uint64_t floor = keys[k].floor.load();
      // Half the lookups pin the entry (Lookup), half copy it inside the guard (LookupCopy).
      ValueRef v;
      std::string copied;
      uint8_t tag = 0;
      const bool copy = (rng() & 1) != 0;
      const bool hit = copy ? cache.LookupCopy(Key(k), &copied, &tag)
                            : static_cast<bool>(v = cache.Lookup(Key(k)));
      lookups.fetch_add(1, std::memory_order_relaxed);
      if (!hit) continue;
      hits.fetch_add(1, std::memory_order_relaxed);
      const std::string_view value = copy ? std::string_view(copied) : v.value();
      const uint64_t got = VersionOf(k, value);
      const uint64_t written = keys[k].written.load();
      if (got == UINT64_MAX || got < floor || got > written) {
        if (violations.fetch_add(1) < 5) {
          ADD_FAILURE() << Key(k) << ": read \"" << value << "\" with floor " << floor << " and "
                        << written << " written" << (copy ? " (copied)" : "");
        }
      }
    }
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) threads.emplace_back(writer, w);
  for (int r = 0; r < kReaders; ++r) threads.emplace_back(reader, r);
  if (config.clears) {
    threads.emplace_back([&] {
      int n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        absl::SleepFor(absl::Microseconds(300));
        if (++n % 2 == 0) {
          cache.Clear();
        } else {
          cache.InvalidateAll();
        }
      }
    });
  }
  absl::SleepFor(absl::Milliseconds(700));
  stop.store(true);
  for (std::thread& t : threads) t.join();

  EXPECT_EQ(violations.load(), 0);
  EXPECT_GT(lookups.load(), 0u);
  // Every hit the readers saw was counted (lock-free hits in the stripes, locked ones in stats).
  EXPECT_GE(cache.GetStats().hits, hits.load());
  // At rest, the cache holds each key's latest value or nothing.
  for (int k = 0; k < config.keys; ++k) {
    if (ValueRef v = cache.Lookup(Key(k))) {
      EXPECT_GE(VersionOf(k, v.value()), keys[k].floor.load()) << Key(k);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Races, LockFreeLookupTest,
    ::testing::Values(RaceConfig{"few_keys_evicting", 16, 16 * 1024, false, false},
                      RaceConfig{"growing_tables", 4000, 1 << 20, false, false},
                      RaceConfig{"evicting_many", 4000, 64 * 1024, false, false},
                      RaceConfig{"ttl", 256, 64 * 1024, true, false},
                      RaceConfig{"clears", 1000, 1 << 20, false, true}),
    [](const ::testing::TestParamInfo<RaceConfig>& info) { return info.param.name; });

// A lookup that starts after Invalidate() returned misses, even on the lock-free path, and hits
// and misses are counted exactly.
TEST(LockFreeLookupStatsTest, CountsEveryHitAndMiss) {
  CacheOptions options;
  options.capacity = 1 << 20;
  options.num_shards = 4;
  auto made = ShardedCache::Create(options);
  ASSERT_TRUE(made.ok());
  ShardedCache& cache = **made;
  for (int k = 0; k < 100; ++k) cache.Insert(Key(k), Value(k, 1), {});
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        EXPECT_TRUE(cache.Lookup(Key(i % 100)));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int k = 0; k < 100; ++k) cache.Invalidate(Key(k));
  for (int k = 0; k < 100; ++k) EXPECT_FALSE(cache.Lookup(Key(k))) << k;
  const CacheStats stats = cache.GetStats();
  EXPECT_EQ(stats.hits, 2000u);
  EXPECT_EQ(stats.misses, 100u);
}

// LookupCopy answers as Lookup does: the value and tag on a hit (lock-free or locked), false and
// nothing written on a miss, never an expired entry, every hit and miss counted.
TEST(LookupCopyTest, CopiesHitsAndLeavesMissesUntouched) {
  for (PolicyKind policy : {PolicyKind::kAdaptiveS3Fifo, PolicyKind::kLru}) {  // Lock-free, locked.
    testing::FakeClock clock;
    CacheOptions options;
    options.capacity = 1 << 20;
    options.num_shards = 2;
    options.clock = &clock;
    options.policy = policy;
    auto made = ShardedCache::Create(options);
    ASSERT_TRUE(made.ok());
    ShardedCache& cache = **made;
    EntryOptions tagged;
    tagged.tag = 7;
    cache.Insert("a", "value-a", tagged);
    EntryOptions short_lived;
    short_lived.ttl = absl::Seconds(1);
    cache.Insert("b", "value-b", short_lived);

    std::string value = "untouched";
    uint8_t tag = 0;
    EXPECT_TRUE(cache.LookupCopy("a", &value, &tag));
    EXPECT_EQ(value, "value-a");
    EXPECT_EQ(tag, 7);
    EXPECT_TRUE(cache.LookupCopy("b", &value, &tag));
    EXPECT_EQ(value, "value-b");
    EXPECT_EQ(tag, 0);

    value = "untouched";
    tag = 3;
    EXPECT_FALSE(cache.LookupCopy("missing", &value, &tag));
    clock.Advance(absl::Seconds(2));
    EXPECT_FALSE(cache.LookupCopy("b", &value, &tag));  // Expired.
    cache.Invalidate("a");
    EXPECT_FALSE(cache.LookupCopy("a", &value, &tag));
    EXPECT_EQ(value, "untouched");
    EXPECT_EQ(tag, 3);

    const CacheStats stats = cache.GetStats();
    EXPECT_EQ(stats.hits, 2u);
    EXPECT_EQ(stats.misses, 3u);
  }
}

// Readers probing an EntryTable while it is rebuilt again and again (growth on inserts, shrinking
// after erases) only ever find entries of the key they asked for; the replaced arrays are freed
// only after the readers' guards end (ASan).
TEST(EntryTableTest, ProbesRacingRebuildsFindOnlyTheirKey) {
  constexpr int kKeys = 2000;
  std::vector<Entry*> entries;
  std::vector<uint64_t> hashes;
  for (int k = 0; k < kKeys; ++k) {
    entries.push_back(Entry::New(Key(k), Value(k, 1), 0));
    hashes.push_back(util::HashKey(Key(k)));
  }
  EntryTable table;
  util::RetireList retired;
  std::atomic<bool> stop{false};
  std::atomic<int> wrong{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      std::mt19937 rng(r);
      while (!stop.load(std::memory_order_relaxed)) {
        const int k = static_cast<int>(rng() % kKeys);
        util::EpochGuard guard;
        const std::string key = Key(k);
        Entry* e = table.Find(key, hashes[k]);
        if (e != nullptr && (e != entries[k] || e->key() != key)) wrong.fetch_add(1);
      }
    });
  }
  std::vector<util::Retired> ready;
  for (int round = 0; round < 30; ++round) {
    for (int k = 0; k < kKeys; ++k) table.Insert(entries[k], hashes[k], &retired);
    EXPECT_EQ(table.size(), static_cast<size_t>(kKeys));
    for (int k = 0; k < kKeys; ++k) table.Erase(entries[k], hashes[k]);
    EXPECT_TRUE(table.empty());
    retired.Collect(&ready);
    for (const util::Retired& r : ready) r.Release();
    ready.clear();
  }
  stop.store(true);
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(wrong.load(), 0);
  for (Entry* e : entries) e->Unref();
}

}  // namespace
}  // namespace asidekv::cache
