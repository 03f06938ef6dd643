// Tests that what the cache holds stays within its budget: the heap the cache keeps (entries,
// table, ghost set, expiry index, version records), measured through glibc's allocator counters
// after filling far beyond the capacity, against the configured capacity.
//
// The counters are glibc's (mallinfo2); under a sanitizer the heap is the sanitizer's, and the
// tests skip themselves when a calibration allocation does not show up in the counters.

#include <malloc.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cache/sharded_cache.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"

namespace asidekv::cache {
namespace {

// Bytes of heap in use (small blocks and mmapped ones).
int64_t HeapInUse() {
  const struct mallinfo2 mi = mallinfo2();
  return static_cast<int64_t>(mi.uordblks + mi.hblkhd);
}

// Whether HeapInUse() sees allocations (false under a sanitizer's allocator).
bool HeapIsMeasurable() {
  const int64_t before = HeapInUse();
  auto block = std::make_unique<char[]>(1 << 20);
  std::memset(block.get(), 1, 1 << 20);
  return HeapInUse() - before >= (1 << 20);
}

std::unique_ptr<ShardedCache> MakeCache(const CacheOptions& options) {
  auto cache = ShardedCache::Create(options);
  EXPECT_TRUE(cache.ok()) << cache.status();
  return cache.ok() ? std::move(*cache) : nullptr;
}

// --- The version table ------------------------------------------------------------------------

// Invalidating many distinct long keys must not keep copies of them: the version table's memory
// depends on how many records it keeps, not on the keys' sizes, and a disabled cache keeps none.
class VersionTableMemoryTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(VersionTableMemoryTest, InvalidatedKeysAreNotCopied) {
  if (!HeapIsMeasurable()) GTEST_SKIP() << "heap counters do not see this allocator";
  CacheOptions options;
  options.capacity = GetParam();
  options.num_shards = 1;
  auto cache = MakeCache(options);
  ASSERT_NE(cache, nullptr);
  constexpr int kKeys = 2000;
  constexpr size_t kKeySize = 16 << 10;
  std::string key(kKeySize, 'k');
  const int64_t before = HeapInUse();
  for (int i = 0; i < kKeys; ++i) {
    const std::string prefix = absl::StrCat(i, ":");
    key.replace(0, prefix.size(), prefix);
    cache->Invalidate(key);
    if (i % 2 == 0) {
      const WriteToken w = cache->BeginWrite(key);
      cache->EndWrite(w, /*db_ok=*/true, nullptr, {});
    }
  }
  const int64_t grown = HeapInUse() - before;
  // 2,000 keys of 16 KiB are 31 MiB; the records kept must be a small fraction of the budget.
  EXPECT_LE(grown, static_cast<int64_t>(options.capacity / 16 + (64 << 10)))
      << "heap grew by " << grown << " bytes for capacity " << options.capacity;
}

INSTANTIATE_TEST_SUITE_P(DisabledAndEnabled, VersionTableMemoryTest,
                         ::testing::Values(uint64_t{0}, uint64_t{1} << 20),
                         [](const auto& info) { return absl::StrCat("capacity", info.param); });

// --- Everything the cache holds ---------------------------------------------------------------

struct BudgetCase {
  PolicyKind policy;
  bool ttl;
};

class HeapWithinBudgetTest : public ::testing::TestWithParam<BudgetCase> {};

// Small entries are where per-entry bookkeeping outside the charge shows most: fill a cache with
// many times its capacity of 8-byte keys and 8-byte values, with lookups of recent keys (so
// S3-FIFO moves some to main and remembers evicted ones in its ghost set), then compare the heap
// the cache holds with its capacity.
TEST_P(HeapWithinBudgetTest, SmallEntriesStayWithinCapacity) {
  if (!HeapIsMeasurable()) GTEST_SKIP() << "heap counters do not see this allocator";
  testing::FakeClock clock;
  CacheOptions options;
  options.capacity = 4 << 20;
  options.num_shards = 4;
  options.policy = GetParam().policy;
  options.clock = &clock;
  const int64_t before = HeapInUse();
  {
    auto cache = MakeCache(options);
    ASSERT_NE(cache, nullptr);
    const EntryOptions entry{.ttl = GetParam().ttl ? std::optional(absl::Hours(1)) : std::nullopt};
    const uint64_t n = 40 * options.capacity / cache->ChargeOf("12345678", "12345678");
    char key[9];
    for (uint64_t i = 0; i < n; ++i) {
      std::snprintf(key, sizeof(key), "%08x", static_cast<unsigned>(i));
      cache->Insert(key, "vvvvvvvv", entry);
      if (i % 3 == 0 && i >= 1000) {
        std::snprintf(key, sizeof(key), "%08x", static_cast<unsigned>(i - 1000));
        (void)cache->Lookup(key);
      }
    }
    const int64_t held = HeapInUse() - before;
    const double ratio = static_cast<double>(held) / static_cast<double>(options.capacity);
    EXPECT_LE(ratio, 1.05) << "the cache holds " << held << " bytes of heap for a capacity of "
                           << options.capacity;
    const CacheStats s = cache->GetStats();
    EXPECT_GT(s.evictions, n / 2);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Policies, HeapWithinBudgetTest,
    ::testing::Values(BudgetCase{PolicyKind::kLru, false}, BudgetCase{PolicyKind::kLru, true},
                      BudgetCase{PolicyKind::kS3Fifo, false}, BudgetCase{PolicyKind::kS3Fifo, true},
                      BudgetCase{PolicyKind::kAdaptiveS3Fifo, false},
                      BudgetCase{PolicyKind::kAdaptiveS3Fifo, true}),
    [](const auto& info) {
      return absl::StrCat(info.param.policy == PolicyKind::kLru      ? "Lru"
                          : info.param.policy == PolicyKind::kS3Fifo ? "S3Fifo"
                                                                     : "AdaptiveS3Fifo",
                          info.param.ttl ? "WithTtl" : "NoTtl");
    });

// --- Bookkeeping that grows after the entries filled the budget -------------------------------

class BookkeepingSetAsideTest : public ::testing::TestWithParam<PolicyKind> {};

// S3-FIFO's ghost set grows only once entries start being evicted, i.e. after the entries have
// filled the budget. If they may fill all of it, the ghost's growth then evicts entries, and the
// allocator keeps their freed blocks for later entries of their size: the process holds the
// entries' peak and the ghost's bytes at once (RSS 1.12x the budget). So at every moment the
// entries' charge plus the bookkeeping the cache will end up holding must fit the capacity:
// the largest charge ever seen plus the final bookkeeping <= capacity. Needs no heap counters.
TEST_P(BookkeepingSetAsideTest, EntriesNeverTakeWhatTheBookkeepingWillNeed) {
  CacheOptions options;
  options.capacity = 4 << 20;
  options.num_shards = 1;
  options.policy = GetParam();
  auto cache = MakeCache(options);
  ASSERT_NE(cache, nullptr);
  const uint64_t n = 8 * options.capacity / cache->ChargeOf("12345678", "12345678");
  uint64_t peak_charge = 0;
  char key[9];
  for (uint64_t i = 0; i < n; ++i) {
    std::snprintf(key, sizeof(key), "%08x", static_cast<unsigned>(i));
    cache->Insert(key, "vvvvvvvv", {});
    if (i % 3 == 0 && i >= 1000) {
      std::snprintf(key, sizeof(key), "%08x", static_cast<unsigned>(i - 1000));
      (void)cache->Lookup(key);
    }
    if (i % 64 == 0) peak_charge = std::max(peak_charge, cache->GetStats().charge);
  }
  const CacheStats s = cache->GetStats();
  EXPECT_GT(s.evictions, n / 2);
  EXPECT_LE(peak_charge + s.bookkeeping, options.capacity)
      << "entries peaked at " << peak_charge << " bytes, bookkeeping ended at " << s.bookkeeping
      << ", capacity " << options.capacity;
}

INSTANTIATE_TEST_SUITE_P(Policies, BookkeepingSetAsideTest,
                         ::testing::Values(PolicyKind::kLru, PolicyKind::kS3Fifo,
                                           PolicyKind::kWTinyLfu, PolicyKind::kAdaptiveS3Fifo),
                         [](const auto& info) {
                           switch (info.param) {
                             case PolicyKind::kLru:
                               return "Lru";
                             case PolicyKind::kS3Fifo:
                               return "S3Fifo";
                             case PolicyKind::kWTinyLfu:
                               return "WTinyLfu";
                             case PolicyKind::kAdaptiveS3Fifo:
                               return "AdaptiveS3Fifo";
                           }
                           return "Unknown";
                         });

}  // namespace
}  // namespace asidekv::cache
