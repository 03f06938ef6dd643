// Tests of ShardedCache as a map: options, the byte budget, ValueRef lifetime, and a
// model-based randomized run against a reference map.

#include "cache/sharded_cache.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace asidekv::cache {
namespace {

using ::asidekv::testing::StatusIs;
using ::testing::IsEmpty;

std::unique_ptr<ShardedCache> MakeCache(const CacheOptions& options) {
  auto cache = ShardedCache::Create(options);
  EXPECT_TRUE(cache.ok()) << cache.status();
  return cache.ok() ? std::move(*cache) : nullptr;
}

CacheOptions Options(uint64_t capacity, int num_shards) {
  CacheOptions options;
  options.capacity = capacity;
  options.num_shards = num_shards;
  return options;
}

// Every shard's charge is within its capacity.
void ExpectWithinBudget(const ShardedCache& cache) {
  for (const CacheStats& s : cache.GetShardStats()) {
    ASSERT_LE(s.charge, s.capacity);
  }
}

TEST(ShardedCacheOptionsTest, RejectsBadOptions) {
  CacheOptions options;
  options.num_shards = 3;
  EXPECT_THAT(ShardedCache::Create(options), StatusIs(absl::StatusCode::kInvalidArgument));
  options.num_shards = 2048;
  EXPECT_THAT(ShardedCache::Create(options), StatusIs(absl::StatusCode::kInvalidArgument));
  options.num_shards = -1;
  EXPECT_THAT(ShardedCache::Create(options), StatusIs(absl::StatusCode::kInvalidArgument));

  options = CacheOptions();
  options.clock = nullptr;
  EXPECT_THAT(ShardedCache::Create(options), StatusIs(absl::StatusCode::kInvalidArgument));

  options = CacheOptions();
  options.default_ttl = absl::ZeroDuration();
  EXPECT_THAT(ShardedCache::Create(options), StatusIs(absl::StatusCode::kInvalidArgument));
  options.default_ttl = -absl::Seconds(1);
  EXPECT_THAT(ShardedCache::Create(options), StatusIs(absl::StatusCode::kInvalidArgument));

  options = CacheOptions();
  options.ttl_jitter = 1.0;
  EXPECT_THAT(ShardedCache::Create(options), StatusIs(absl::StatusCode::kInvalidArgument));
  options.ttl_jitter = -0.1;
  EXPECT_THAT(ShardedCache::Create(options), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ShardedCacheOptionsTest, AutoShardsArePowersOfTwoAndKeepShardsLarge) {
  auto big = MakeCache(Options(1ull << 30, 0));
  ASSERT_NE(big, nullptr);
  EXPECT_GE(big->num_shards(), 16);
  EXPECT_EQ(big->num_shards() & (big->num_shards() - 1), 0);

  // Shards of at most 8 MiB, so few keys share a position hash in each table.
  EXPECT_LE((uint64_t{1} << 30) / big->num_shards(), uint64_t{8} << 20);
  auto huge = MakeCache(Options(uint64_t{4} << 30, 0));
  ASSERT_NE(huge, nullptr);
  EXPECT_GE(huge->num_shards(), 512);

  auto small = MakeCache(Options(512 << 10, 0));
  ASSERT_NE(small, nullptr);
  EXPECT_EQ(small->num_shards(), 2);

  auto tiny = MakeCache(Options(1000, 0));
  ASSERT_NE(tiny, nullptr);
  EXPECT_EQ(tiny->num_shards(), 1);
}

TEST(ShardedCacheTest, InsertLookupReplaceInvalidate) {
  auto cache = MakeCache(Options(1 << 20, 4));
  ASSERT_NE(cache, nullptr);
  EXPECT_FALSE(cache->Lookup("k"));
  ASSERT_TRUE(cache->Insert("k", "v1", {}));
  ValueRef v = cache->Lookup("k");
  ASSERT_TRUE(v);
  EXPECT_EQ(v.value(), "v1");
  EXPECT_EQ(v.key(), "k");
  EXPECT_EQ(v.tag(), 0);
  EXPECT_EQ(v.expire_nanos(), 0);

  ASSERT_TRUE(cache->Insert("k", "v2", {.ttl = std::nullopt, .tag = 7}));
  ValueRef v2 = cache->Lookup("k");
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2.value(), "v2");
  EXPECT_EQ(v2.tag(), 7);

  cache->Invalidate("k");
  EXPECT_FALSE(cache->Lookup("k"));
  cache->Invalidate("never-there");

  const CacheStats s = cache->GetStats();
  EXPECT_EQ(s.hits, 2u);
  EXPECT_EQ(s.misses, 2u);
  EXPECT_EQ(s.inserts, 2u);
  EXPECT_EQ(s.invalidations, 1u);
  EXPECT_EQ(s.entries, 0u);
  EXPECT_EQ(s.charge, 0u);
  EXPECT_EQ(s.capacity, 1u << 20);
}

TEST(ShardedCacheTest, EmptyKeyAndValueAreOrdinaryEntries) {
  auto cache = MakeCache(Options(1 << 20, 2));
  ASSERT_NE(cache, nullptr);
  ASSERT_TRUE(cache->Insert("", "", {}));
  ValueRef v = cache->Lookup("");
  ASSERT_TRUE(v);
  EXPECT_EQ(v.value(), "");
  EXPECT_EQ(cache->GetStats().charge, kEntryOverhead);
}

TEST(ShardedCacheTest, DisabledCacheStoresNothing) {
  auto cache = MakeCache(Options(0, 1));
  ASSERT_NE(cache, nullptr);
  EXPECT_FALSE(cache->Insert("k", "v", {}));
  EXPECT_FALSE(cache->Lookup("k"));
  FillTicket t = cache->BeginFill("k");
  EXPECT_EQ(t.role(), FillTicket::Role::kBypass);
  WriteToken w = cache->BeginWrite("k");
  const std::string_view value = "v";
  cache->EndWrite(w, /*db_ok=*/true, &value, {});
  EXPECT_FALSE(cache->Lookup("k"));
  int loads = 0;
  auto r = cache->GetOrLoad("k", [&]() -> absl::StatusOr<std::string> {
    ++loads;
    return std::string("v");
  });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "v");
  EXPECT_EQ(loads, 1);
  EXPECT_EQ(cache->GetStats().entries, 0u);
}

// --- Byte budget ------------------------------------------------------------------------------

TEST(ShardedCacheBudgetTest, DefaultChargeIsKeyPlusValuePlusOverhead) {
  auto cache = MakeCache(Options(1 << 20, 1));
  ASSERT_NE(cache, nullptr);
  const std::string key(16, 'k');
  const std::string value(100, 'v');
  EXPECT_EQ(cache->ChargeOf(key, value), 16 + 100 + kEntryOverhead);
  ASSERT_TRUE(cache->Insert(key, value, {}));
  ASSERT_TRUE(cache->Insert("k2", "", {}));
  const CacheStats s = cache->GetStats();
  EXPECT_EQ(s.entries, 2u);
  EXPECT_EQ(s.charge, (16 + 100 + kEntryOverhead) + (2 + kEntryOverhead));
  // Replacing an entry swaps its charge.
  ASSERT_TRUE(cache->Insert("k2", "abc", {}));
  EXPECT_EQ(cache->GetStats().charge, (16 + 100 + kEntryOverhead) + (5 + kEntryOverhead));
}

TEST(ShardedCacheBudgetTest, CustomWeigherCountsEntries) {
  CacheOptions options = Options(10, 1);
  options.weigher = [](std::string_view, std::string_view) -> uint64_t { return 1; };
  auto cache = MakeCache(options);
  ASSERT_NE(cache, nullptr);
  EXPECT_EQ(cache->ChargeOf("any", std::string(1000, 'x')), 1u);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(cache->Insert(absl::StrCat("key", i), std::string(1000, 'x'), {}));
    ExpectWithinBudget(*cache);
  }
  const CacheStats s = cache->GetStats();
  EXPECT_EQ(s.entries, 10u);
  EXPECT_EQ(s.charge, 10u);
  EXPECT_EQ(s.evictions, 90u);
  EXPECT_EQ(s.inserts, 100u);
}

TEST(ShardedCacheBudgetTest, OversizedEntriesAreRefusedEverywhere) {
  // Two shards of 500: an entry of 600 fits the total but no shard.
  auto cache = MakeCache(Options(1000, 2));
  ASSERT_NE(cache, nullptr);
  const std::string big(600, 'x');
  ASSERT_TRUE(cache->Insert("small", "v", {}));

  EXPECT_FALSE(cache->Insert("big", big, {}));
  EXPECT_FALSE(cache->Lookup("big"));

  FillTicket t = cache->BeginFill("big");
  ASSERT_EQ(t.role(), FillTicket::Role::kLeader);
  const std::string_view big_view = big;
  EXPECT_EQ(cache->CompleteFill(&t, &big_view, {}, big), FillResult::kTooLarge);
  EXPECT_FALSE(cache->Lookup("big"));

  WriteToken w = cache->BeginWrite("big");
  cache->EndWrite(w, /*db_ok=*/true, &big_view, {});
  EXPECT_FALSE(cache->Lookup("big"));

  // The small entry was never displaced to make room.
  EXPECT_TRUE(cache->Lookup("small"));
  const CacheStats s = cache->GetStats();
  EXPECT_EQ(s.rejected_too_large, 3u);
  EXPECT_EQ(s.entries, 1u);
  EXPECT_EQ(s.evictions, 0u);
  EXPECT_EQ(s.inserts, 1u);
}

// Insert() publishes "unconditionally": a refused newer value must not leave the older one to be
// served as if it were current.
TEST(ShardedCacheBudgetTest, RefusedInsertDoesNotLeaveOlderValue) {
  auto cache = MakeCache(Options(1000, 1));
  ASSERT_NE(cache, nullptr);
  ASSERT_TRUE(cache->Insert("k", "old", {}));
  EXPECT_FALSE(cache->Insert("k", std::string(2000, 'n'), {}));
  EXPECT_FALSE(cache->Lookup("k"));
  const CacheStats s = cache->GetStats();
  EXPECT_EQ(s.entries, 0u);
  EXPECT_EQ(s.charge, 0u);
  EXPECT_EQ(s.rejected_too_large, 1u);
  EXPECT_EQ(s.invalidations, 1u);
}

TEST(ShardedCacheBudgetTest, EntryOfExactlyShardCapacityFits) {
  auto cache = MakeCache(Options(1000, 1));
  ASSERT_NE(cache, nullptr);
  const std::string value(1000 - 1 - kEntryOverhead, 'x');
  ASSERT_EQ(cache->ChargeOf("k", value), 1000u);
  EXPECT_TRUE(cache->Insert("k", value, {}));
  EXPECT_EQ(cache->GetStats().charge, 1000u);
  EXPECT_FALSE(cache->Insert("k", value + "x", {}));
}

TEST(ShardedCacheBudgetTest, WeigherBeyondFourGiBIsRefused) {
  CacheOptions options = Options(1 << 20, 1);
  options.weigher = [](std::string_view, std::string_view v) -> uint64_t {
    return v == "huge" ? (uint64_t{1} << 33) : 1;
  };
  auto cache = MakeCache(options);
  ASSERT_NE(cache, nullptr);
  ASSERT_TRUE(cache->Insert("k", "old", {}));
  EXPECT_FALSE(cache->Insert("k", "huge", {}));
  EXPECT_FALSE(cache->Lookup("k")) << "the refused value superseded the old one";
  EXPECT_EQ(cache->GetStats().entries, 0u);
  EXPECT_EQ(cache->GetStats().rejected_too_large, 1u);

  // A write and a fill of such a value are refused and counted the same way.
  ASSERT_TRUE(cache->Insert("w", "old", {}));
  const WriteToken w = cache->BeginWrite("w");
  const std::string_view huge = "huge";
  cache->EndWrite(w, /*db_ok=*/true, &huge, {});
  EXPECT_FALSE(cache->Lookup("w"));
  FillTicket t = cache->BeginFill("f");
  ASSERT_EQ(t.role(), FillTicket::Role::kLeader);
  EXPECT_EQ(cache->CompleteFill(&t, &huge, {}, std::string(huge)), FillResult::kTooLarge);
  EXPECT_FALSE(cache->Lookup("f"));
  EXPECT_EQ(cache->GetStats().rejected_too_large, 3u);
}

TEST(ShardedCacheBudgetTest, ConcurrentInsertsNeverExceedCapacity) {
  constexpr int kThreads = 4;
  constexpr int kOpsPerThread = 3000;
  auto cache = MakeCache(Options(8 << 10, 4));
  ASSERT_NE(cache, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&cache, t] {
      std::mt19937 rng(t);
      for (int i = 0; i < kOpsPerThread; ++i) {
        const std::string key = absl::StrCat("k", rng() % 500);
        switch (rng() % 4) {
          case 0:
            cache->Invalidate(key);
            break;
          case 1:
            cache->Lookup(key);
            break;
          default:
            cache->Insert(key, std::string(rng() % 400, 'v'), {});
        }
        for (const CacheStats& s : cache->GetShardStats()) {
          ASSERT_LE(s.charge, s.capacity);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  const CacheStats s = cache->GetStats();
  EXPECT_LE(s.charge, s.capacity);
  EXPECT_GT(s.evictions, 0u);
}

// --- ValueRef lifetime ------------------------------------------------------------------------

TEST(ValueRefTest, SurvivesEvictionInvalidationClearAndTheCache) {
  auto cache = MakeCache(Options(2000, 1));
  ASSERT_NE(cache, nullptr);
  const std::string v_evicted(300, 'e');
  const std::string v_invalidated(300, 'i');
  const std::string v_replaced(300, 'r');
  const std::string v_cleared(300, 'c');
  ASSERT_TRUE(cache->Insert("evicted", v_evicted, {}));
  ValueRef evicted = cache->Lookup("evicted");
  ASSERT_TRUE(cache->Insert("invalidated", v_invalidated, {}));
  ValueRef invalidated = cache->Lookup("invalidated");
  ASSERT_TRUE(cache->Insert("replaced", v_replaced, {}));
  ValueRef replaced = cache->Lookup("replaced");
  ASSERT_TRUE(evicted && invalidated && replaced);

  cache->Invalidate("invalidated");
  ASSERT_TRUE(cache->Insert("replaced", "new", {}));
  // Push "evicted" out with a stream of other keys.
  for (int i = 0; i < 50; ++i) cache->Insert(absl::StrCat("filler", i), std::string(300, 'f'), {});
  EXPECT_FALSE(cache->Lookup("evicted"));
  ASSERT_TRUE(cache->Insert("cleared", v_cleared, {}));
  ValueRef cleared = cache->Lookup("cleared");
  ASSERT_TRUE(cleared);
  ValueRef cleared_copy = cleared;  // Copies share the entry.
  cache->Clear();
  EXPECT_FALSE(cache->Lookup("cleared"));
  EXPECT_EQ(cache->GetStats().charge, 0u);

  EXPECT_EQ(evicted.value(), v_evicted);
  EXPECT_EQ(invalidated.value(), v_invalidated);
  EXPECT_EQ(replaced.value(), v_replaced);
  EXPECT_EQ(cleared.value(), v_cleared);

  // Fill the cache again so the freed table memory is reused, then destroy the cache.
  for (int i = 0; i < 20; ++i) cache->Insert(absl::StrCat("again", i), std::string(300, 'a'), {});
  ASSERT_TRUE(cache->Insert("live", "still here", {}));
  ValueRef live = cache->Lookup("live");
  cache.reset();
  EXPECT_EQ(evicted.value(), v_evicted);
  EXPECT_EQ(evicted.key(), "evicted");
  EXPECT_EQ(invalidated.value(), v_invalidated);
  EXPECT_EQ(replaced.value(), v_replaced);
  EXPECT_EQ(cleared_copy.value(), v_cleared);
  ASSERT_TRUE(live);
  EXPECT_EQ(live.value(), "still here");

  ValueRef moved = std::move(live);
  EXPECT_FALSE(live);  // NOLINT(bugprone-use-after-move): moved-from is documented empty.
  EXPECT_EQ(moved.value(), "still here");
}

TEST(ValueRefTest, PinnedEntriesAreNotCharged) {
  auto cache = MakeCache(Options(1 << 20, 1));
  ASSERT_NE(cache, nullptr);
  ASSERT_TRUE(cache->Insert("k", std::string(1000, 'x'), {}));
  ValueRef v = cache->Lookup("k");
  cache->Invalidate("k");
  EXPECT_EQ(cache->GetStats().charge, 0u);
  EXPECT_EQ(cache->GetStats().entries, 0u);
  EXPECT_EQ(v.value().size(), 1000u);
}

TEST(ShardedCacheTest, HottestKeysPrefersHitKeys) {
  auto cache = MakeCache(Options(1 << 20, 4));
  ASSERT_NE(cache, nullptr);
  EXPECT_THAT(cache->HottestKeys(5), IsEmpty());
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(cache->Insert(absl::StrCat("k", i), "v", {}));
  for (int round = 0; round < 3; ++round) {
    for (const char* hot : {"k3", "k17", "k29"}) ASSERT_TRUE(cache->Lookup(hot));
  }
  // Each shard contributes up to ceil(n / shards) keys, so ask for more than there are.
  const std::vector<std::string> hottest = cache->HottestKeys(400);
  EXPECT_EQ(hottest.size(), 40u);
  // Each hot key is its shard's hottest, so it is within the first round of the interleave.
  for (const char* hot : {"k3", "k17", "k29"}) {
    const auto it = std::find(hottest.begin(), hottest.end(), hot);
    ASSERT_NE(it, hottest.end()) << hot;
    EXPECT_LT(it - hottest.begin(), 3 * cache->num_shards()) << hot;
  }
  EXPECT_EQ(cache->HottestKeys(3).size(), 3u);
}

TEST(ShardedCacheTest, HottestKeysReturnsAsManyAsAskedWhenShardsAreUneven) {
  auto cache = MakeCache(Options(1 << 20, 16));
  ASSERT_NE(cache, nullptr);
  // 20 keys over 16 shards: some shards hold several, many none.
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(cache->Insert(absl::StrCat("k", i), "v", {}));
  for (size_t n : {1u, 5u, 16u, 19u, 20u}) {
    const std::vector<std::string> hottest = cache->HottestKeys(n);
    EXPECT_EQ(hottest.size(), n);
    EXPECT_EQ(std::set<std::string>(hottest.begin(), hottest.end()).size(), n) << "duplicates";
  }
  EXPECT_EQ(cache->HottestKeys(100).size(), 20u);
}

// --- Model-based randomized test --------------------------------------------------------------

// (num_shards, policy)
class ShardedCacheModelTest : public ::testing::TestWithParam<std::tuple<int, PolicyKind>> {};

// Random inserts, fills, writes, invalidations, lookups and clears on a small cache, checked after
// every call against a reference map of what the cache may hold: every hit returns the last value
// stored for its key, invalidated keys never come back, each shard stays within budget, and the
// stats' entries and charge match the entries actually present.
TEST_P(ShardedCacheModelTest, AgreesWithReferenceMap) {
  const auto [num_shards, policy] = GetParam();
  CacheOptions options = Options(4096, num_shards);
  options.policy = policy;
  auto cache = MakeCache(options);
  ASSERT_NE(cache, nullptr);

  constexpr int kKeys = 64;
  constexpr int kOps = 20000;
  std::mt19937 rng(1234 + num_shards);
  std::map<std::string, std::string> model;  // Key -> last value stored; absent if removed.
  uint64_t lookups = 0;
  uint64_t expected_inserts = 0;
  auto random_value = [&rng](int i) {
    return absl::StrCat("v", i, "-", std::string(rng() % 200, 'x'));
  };

  for (int i = 0; i < kOps; ++i) {
    const std::string key = absl::StrCat("key", rng() % kKeys);
    const int op = static_cast<int>(rng() % 100);
    if (op < 40) {
      ++lookups;
      ValueRef v = cache->Lookup(key);
      if (v) {
        auto it = model.find(key);
        ASSERT_NE(it, model.end()) << "removed key came back: " << key;
        ASSERT_EQ(v.value(), it->second) << key;
      }
    } else if (op < 65) {
      const std::string value = random_value(i);
      ASSERT_TRUE(cache->Insert(key, value, {}));
      model[key] = value;
      ++expected_inserts;
    } else if (op < 80) {
      ++lookups;  // BeginFill's probe does not count, but the Lookup before it does.
      if (ValueRef v = cache->Lookup(key)) {
        auto it = model.find(key);
        ASSERT_NE(it, model.end()) << "removed key came back: " << key;
        ASSERT_EQ(v.value(), it->second);
        continue;
      }
      FillTicket t = cache->BeginFill(key);
      ASSERT_EQ(t.role(), FillTicket::Role::kLeader);
      const std::string value = random_value(i);
      const std::string_view view = value;
      const FillResult r = cache->CompleteFill(&t, &view, {}, value);
      ASSERT_EQ(r, FillResult::kInserted);
      model[key] = value;
      ++expected_inserts;
    } else if (op < 90) {
      cache->Invalidate(key);
      model.erase(key);
    } else if (op < 99) {
      WriteToken w = cache->BeginWrite(key);
      const std::string value = random_value(i);
      const std::string_view view = value;
      if (rng() % 4 == 0) {
        cache->EndWrite(w, /*db_ok=*/false, &view, {});  // Leaves the entry as it was.
      } else if (rng() % 3 == 0) {
        cache->EndWrite(w, /*db_ok=*/true, nullptr, {});  // A delete.
        model.erase(key);
      } else {
        cache->EndWrite(w, /*db_ok=*/true, &view, {});
        model[key] = value;
        ++expected_inserts;
      }
    } else {
      cache->Clear();
      model.clear();
    }
    ExpectWithinBudget(*cache);
    if (::testing::Test::HasFatalFailure()) return;

    if (i % 500 == 0) {
      // Probe every key: what is present must match the model, and the gauges must add up.
      const CacheStats before = cache->GetStats();
      uint64_t entries = 0;
      uint64_t charge = 0;
      for (int k = 0; k < kKeys; ++k) {
        const std::string probe = absl::StrCat("key", k);
        ++lookups;
        if (ValueRef v = cache->Lookup(probe)) {
          auto it = model.find(probe);
          ASSERT_NE(it, model.end()) << probe;
          ASSERT_EQ(v.value(), it->second);
          ++entries;
          charge += cache->ChargeOf(probe, v.value());
        }
      }
      ASSERT_EQ(before.entries, entries);
      ASSERT_EQ(before.charge, charge);
      // Entries the model holds but the cache lacks were evicted: keep the model exact.
      for (auto it = model.begin(); it != model.end();) {
        it = cache->Lookup(it->first) ? std::next(it) : model.erase(it);
        ++lookups;
      }
    }
  }
  const CacheStats s = cache->GetStats();
  EXPECT_EQ(s.hits + s.misses, lookups);
  EXPECT_EQ(s.inserts, expected_inserts);
  EXPECT_GT(s.evictions, 0u);
  EXPECT_EQ(s.expirations, 0u);
  EXPECT_EQ(s.stale_fills_rejected, 0u);
}

INSTANTIATE_TEST_SUITE_P(ShardsAndPolicies, ShardedCacheModelTest,
                         ::testing::Combine(::testing::Values(1, 4),
                                            ::testing::Values(PolicyKind::kS3Fifo, PolicyKind::kLru,
                                                              PolicyKind::kAdaptiveS3Fifo)),
                         [](const auto& info) {
                           const PolicyKind kind = std::get<1>(info.param);
                           return absl::StrCat(std::get<0>(info.param), "Shards",
                                               kind == PolicyKind::kLru      ? "Lru"
                                               : kind == PolicyKind::kS3Fifo ? "S3Fifo"
                                                                             : "AdaptiveS3Fifo");
                         });

}  // namespace
}  // namespace asidekv::cache
