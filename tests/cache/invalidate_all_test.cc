// Cache::InvalidateAll: what a lost invalidation channel needs. Every entry goes, every fill whose
// token predates the call is rejected (on every shard, whatever key it is for), every write in
// flight ends without installing its value, and every in-flight load is detached so the next
// miss of its key leads a new one. Fills and writes that begin afterwards behave as usual.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cache/sharded_cache.h"
#include "gtest/gtest.h"

namespace asidekv::cache {
namespace {

std::unique_ptr<ShardedCache> MakeCache() {
  CacheOptions options;
  options.capacity = 1 << 20;
  options.num_shards = 4;
  auto cache = ShardedCache::Create(options);
  EXPECT_TRUE(cache.ok()) << cache.status();
  return cache.ok() ? std::move(*cache) : nullptr;
}

FillResult Fill(Cache& cache, FillTicket* ticket, std::string_view value) {
  return cache.CompleteFill(ticket, &value, EntryOptions(), std::string(value));
}

TEST(InvalidateAllTest, RemovesEveryEntry) {
  auto cache = MakeCache();
  for (int i = 0; i < 100; ++i) cache->Insert(absl::StrCat("k", i), "v", EntryOptions());
  ASSERT_EQ(cache->GetStats().entries, 100u);
  cache->InvalidateAll();
  EXPECT_EQ(cache->GetStats().entries, 0u);
  EXPECT_EQ(cache->GetStats().charge, 0u);
  EXPECT_EQ(cache->GetStats().invalidations, 100u);
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(cache->Lookup(absl::StrCat("k", i)));
}

TEST(InvalidateAllTest, RejectsEveryFillInFlightOfAnyKey) {
  auto cache = MakeCache();
  std::vector<FillTicket> tickets;
  for (int i = 0; i < 16; ++i) {
    tickets.push_back(cache->BeginFill(absl::StrCat("key", i)));
    ASSERT_EQ(tickets.back().role(), FillTicket::Role::kLeader);
  }
  cache->InvalidateAll();
  for (FillTicket& t : tickets) EXPECT_EQ(Fill(*cache, &t, "old"), FillResult::kStale);
  EXPECT_EQ(cache->GetStats().entries, 0u);
  // Loads that begin afterwards fill as usual.
  FillTicket after = cache->BeginFill("key0");
  ASSERT_EQ(after.role(), FillTicket::Role::kLeader);
  EXPECT_EQ(Fill(*cache, &after, "new"), FillResult::kInserted);
  EXPECT_EQ(cache->Lookup("key0").value(), "new");
}

TEST(InvalidateAllTest, DetachesLoadsSoTheNextMissLeadsANewOne) {
  auto cache = MakeCache();
  FillTicket old_leader = cache->BeginFill("k");
  ASSERT_EQ(old_leader.role(), FillTicket::Role::kLeader);
  cache->InvalidateAll();
  FillTicket next = cache->BeginFill("k");
  EXPECT_EQ(next.role(), FillTicket::Role::kLeader);  // Not a waiter on the old load.
  EXPECT_EQ(Fill(*cache, &next, "new"), FillResult::kInserted);
  EXPECT_EQ(Fill(*cache, &old_leader, "old"), FillResult::kStale);
  EXPECT_EQ(cache->Lookup("k").value(), "new");
}

TEST(InvalidateAllTest, WriteInFlightEndsWithoutInstallingItsValue) {
  auto cache = MakeCache();
  cache->Insert("k", "before", EntryOptions());
  WriteToken w = cache->BeginWrite("k");
  cache->InvalidateAll();
  const std::string_view written = "written";
  cache->EndWrite(w, /*db_ok=*/true, &written, EntryOptions());
  EXPECT_FALSE(cache->Lookup("k"));
  // A write that begins afterwards installs its value as usual.
  WriteToken w2 = cache->BeginWrite("k");
  cache->EndWrite(w2, /*db_ok=*/true, &written, EntryOptions());
  EXPECT_EQ(cache->Lookup("k").value(), "written");
}

TEST(InvalidateAllTest, ClearKeepsFillsInFlightValid) {
  // The contrast that makes InvalidateAll necessary: Clear() judges in-flight fills as before.
  auto cache = MakeCache();
  FillTicket t = cache->BeginFill("k");
  cache->Clear();
  EXPECT_EQ(Fill(*cache, &t, "v"), FillResult::kInserted);
}

}  // namespace
}  // namespace asidekv::cache
