// Tests of stale-fill rejection: KeyVersions on its own, then the protocol through ShardedCache
// (fill tokens against invalidations, evictions, expiry, the bounded version table, and kUpdate
// writes).

#include "cache/key_versions.h"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cache/shard.h"
#include "cache/sharded_cache.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"

namespace asidekv::cache {
namespace {

// --- KeyVersions ------------------------------------------------------------------------------

// Records are keyed by the cache's key hash.
uint64_t H(std::string_view key) { return HashKey(key); }

TEST(KeyVersionsTest, TokensAreAllowedUntilTheKeyIsInvalidated) {
  KeyVersions v(16);
  const uint64_t before = v.NextToken();
  EXPECT_TRUE(v.FillAllowed(H("k"), before));
  v.Invalidate(H("k"));
  EXPECT_FALSE(v.FillAllowed(H("k"), before));
  EXPECT_TRUE(v.FillAllowed(H("other"), before));
  const uint64_t after = v.NextToken();
  EXPECT_GT(after, before);
  EXPECT_TRUE(v.FillAllowed(H("k"), after));
  EXPECT_EQ(v.tracked_keys(), 1u);
}

TEST(KeyVersionsTest, WriteInFlightRejectsEveryToken) {
  KeyVersions v(16);
  const uint64_t before = v.NextToken();
  const auto [version, solo] = v.BeginWrite(H("k"));
  EXPECT_TRUE(solo);
  EXPECT_GT(version, before);
  const uint64_t during = v.NextToken();
  EXPECT_FALSE(v.FillAllowed(H("k"), before));
  EXPECT_FALSE(v.FillAllowed(H("k"), during));  // Issued after BeginWrite, but the write is open.
  EXPECT_TRUE(v.EndWrite(H("k"), version, solo));
  EXPECT_FALSE(v.FillAllowed(H("k"), during));  // EndWrite moved the version past it too.
  EXPECT_TRUE(v.FillAllowed(H("k"), v.NextToken()));
}

TEST(KeyVersionsTest, SoloWriteInstalls) {
  KeyVersions v(16);
  for (int i = 0; i < 3; ++i) {
    const auto [version, solo] = v.BeginWrite(H("k"));
    EXPECT_TRUE(solo);
    EXPECT_TRUE(v.EndWrite(H("k"), version, solo));
  }
}

TEST(KeyVersionsTest, OverlappingWritesNeitherInstall) {
  for (const bool first_ends_first : {true, false}) {
    KeyVersions v(16);
    const auto [v1, solo1] = v.BeginWrite(H("k"));
    const auto [v2, solo2] = v.BeginWrite(H("k"));
    EXPECT_TRUE(solo1);
    EXPECT_FALSE(solo2);
    if (first_ends_first) {
      EXPECT_FALSE(v.EndWrite(H("k"), v1, solo1));
      EXPECT_FALSE(v.EndWrite(H("k"), v2, solo2));
    } else {
      EXPECT_FALSE(v.EndWrite(H("k"), v2, solo2));
      EXPECT_FALSE(v.EndWrite(H("k"), v1, solo1));
    }
    // Once both ended, the key is free again.
    EXPECT_TRUE(v.FillAllowed(H("k"), v.NextToken()));
    const auto [v3, solo3] = v.BeginWrite(H("k"));
    EXPECT_TRUE(solo3);
    EXPECT_TRUE(v.EndWrite(H("k"), v3, solo3));
  }
}

TEST(KeyVersionsTest, InvalidationDuringWriteStopsItsInstall) {
  KeyVersions v(16);
  const auto [version, solo] = v.BeginWrite(H("k"));
  v.Invalidate(H("k"));
  EXPECT_FALSE(v.EndWrite(H("k"), version, solo));
}

TEST(KeyVersionsTest, BoundedTableRaisesTheFloor) {
  KeyVersions v(4);
  const uint64_t old_token = v.NextToken();
  v.Invalidate(H("k"));
  for (int i = 0; i < 20; ++i) v.Invalidate(H(absl::StrCat("other", i)));
  EXPECT_LE(v.tracked_keys(), 4u);
  // "k"'s record is gone, but the floor covers it.
  EXPECT_GE(v.floor(), old_token);
  EXPECT_FALSE(v.FillAllowed(H("k"), old_token));
  EXPECT_TRUE(v.FillAllowed(H("k"), v.NextToken()));
}

TEST(KeyVersionsTest, RepeatedInvalidationsOfOneKeyStayBounded) {
  KeyVersions v(2);
  for (int i = 0; i < 1000; ++i) {
    const uint64_t t = v.NextToken();
    v.Invalidate(H("hot"));
    ASSERT_FALSE(v.FillAllowed(H("hot"), t));
    ASSERT_TRUE(v.FillAllowed(H("hot"), v.NextToken()));
  }
  EXPECT_EQ(v.tracked_keys(), 1u);
}

TEST(KeyVersionsTest, WritesInFlightAreNeverDropped) {
  KeyVersions v(2);
  const auto [version, solo] = v.BeginWrite(H("w"));
  for (int i = 0; i < 50; ++i) v.Invalidate(H(absl::StrCat("other", i)));
  EXPECT_FALSE(v.FillAllowed(H("w"), v.NextToken()));  // Still known to be in flight.
  EXPECT_TRUE(v.EndWrite(H("w"), version, solo));      // And still solo and unmatched.
  EXPECT_TRUE(v.FillAllowed(H("w"), v.NextToken()));
}

TEST(KeyVersionsTest, ZeroBoundKeepsOneRecord) {
  KeyVersions v(0);
  const uint64_t t = v.NextToken();
  v.Invalidate(H("a"));
  v.Invalidate(H("b"));
  EXPECT_LE(v.tracked_keys(), 1u);
  EXPECT_FALSE(v.FillAllowed(H("a"), t));
  EXPECT_FALSE(v.FillAllowed(H("b"), t));
}

// Two keys with one hash share a record: a write of one rejects fills of the other too (a
// spurious miss, never a stale value), and overlapping writes of the two install neither.
TEST(KeyVersionsTest, KeysSharingAHashShareTheirRecord) {
  constexpr uint64_t kShared = 42;
  KeyVersions v(16);
  const uint64_t before = v.NextToken();
  const auto [va, solo_a] = v.BeginWrite(kShared);  // Key a.
  const auto [vb, solo_b] = v.BeginWrite(kShared);  // Key b, same hash.
  EXPECT_TRUE(solo_a);
  EXPECT_FALSE(solo_b);
  EXPECT_FALSE(v.FillAllowed(kShared, before));
  EXPECT_FALSE(v.EndWrite(kShared, va, solo_a));
  EXPECT_FALSE(v.EndWrite(kShared, vb, solo_b));
  EXPECT_FALSE(v.FillAllowed(kShared, before));
  EXPECT_TRUE(v.FillAllowed(kShared, v.NextToken()));
}

// A kUpdate batch begins a write of every key, then ends them all: each call must cost O(1)
// amortised however many writes are in flight. Counted in FIFO items examined, not in time.
TEST(KeyVersionsTest, ManyWritesInFlightCostConstantWorkPerCall) {
  constexpr size_t kMaxKeys = 1024;
  constexpr int kWrites = 20000;
  KeyVersions v(kMaxKeys);
  const uint64_t before = v.NextToken();
  std::vector<std::pair<uint64_t, bool>> writes;
  writes.reserve(kWrites);
  for (int i = 0; i < kWrites; ++i) writes.push_back(v.BeginWrite(H(absl::StrCat("key", i))));
  EXPECT_LE(v.queued(), 2 * kMaxKeys + 1);
  EXPECT_LE(v.trim_steps(), static_cast<uint64_t>(kWrites)) << "after the BeginWrites";
  for (int i = 0; i < kWrites; ++i) {
    ASSERT_FALSE(v.FillAllowed(H(absl::StrCat("key", i)), before));
    ASSERT_TRUE(v.EndWrite(H(absl::StrCat("key", i)), writes[i].first, writes[i].second)) << i;
  }
  EXPECT_LE(v.queued(), 2 * kMaxKeys + 1);
  EXPECT_LE(v.trim_steps(), 2u * kWrites) << "after the EndWrites";
  EXPECT_LE(v.tracked_keys(), kMaxKeys);
  // The invariant holds for every key, tracked or not.
  for (int i = 0; i < kWrites; ++i) ASSERT_FALSE(v.FillAllowed(H(absl::StrCat("key", i)), before));
  EXPECT_TRUE(v.FillAllowed(H("key0"), v.NextToken()));
}

// --- Through the cache ------------------------------------------------------------------------

class StaleFillTest : public ::testing::Test {
 protected:
  void SetUp() override { cache_ = Make(/*max_tracked=*/1024); }

  std::unique_ptr<ShardedCache> Make(size_t max_tracked) {
    CacheOptions options;
    options.capacity = 4096;
    options.num_shards = 1;
    options.clock = &clock_;
    options.max_tracked_versions_per_shard = max_tracked;
    auto cache = ShardedCache::Create(options);
    EXPECT_TRUE(cache.ok()) << cache.status();
    return cache.ok() ? std::move(*cache) : nullptr;
  }

  static FillResult Complete(Cache& cache, FillTicket& t, std::string_view value) {
    return cache.CompleteFill(&t, &value, {}, std::string(value));
  }

  std::string Get(std::string_view key) {
    ValueRef v = cache_->Lookup(key);
    return v ? std::string(v.value()) : "<miss>";
  }

  testing::FakeClock clock_;
  std::unique_ptr<ShardedCache> cache_;
};

TEST_F(StaleFillTest, FillAfterInvalidateIsRejected) {
  FillTicket t = cache_->BeginFill("k");
  ASSERT_EQ(t.role(), FillTicket::Role::kLeader);
  cache_->Invalidate("k");
  EXPECT_EQ(Complete(*cache_, t, "old"), FillResult::kStale);
  EXPECT_EQ(Get("k"), "<miss>");
  EXPECT_EQ(cache_->GetStats().stale_fills_rejected, 1u);
  EXPECT_EQ(cache_->GetStats().inserts, 0u);
}

TEST_F(StaleFillTest, UnrelatedInvalidationDoesNotRejectTheFill) {
  FillTicket t = cache_->BeginFill("k");
  cache_->Invalidate("other");
  EXPECT_EQ(Complete(*cache_, t, "v"), FillResult::kInserted);
  EXPECT_EQ(Get("k"), "v");
}

TEST_F(StaleFillTest, RejectedEvenWhenTheKeyWasEvictedInBetween) {
  FillTicket t = cache_->BeginFill("k");
  ASSERT_TRUE(cache_->Insert("k", "newer", {}));
  cache_->Invalidate("k");
  ASSERT_TRUE(cache_->Insert("k", "newest", {}));
  for (int i = 0; i < 100; ++i)
    cache_->Insert(absl::StrCat("filler", i), std::string(200, 'f'), {});
  ASSERT_EQ(Get("k"), "<miss>");  // Evicted.
  ASSERT_GT(cache_->GetStats().evictions, 0u);
  EXPECT_EQ(Complete(*cache_, t, "old"), FillResult::kStale);
  EXPECT_EQ(Get("k"), "<miss>");
}

TEST_F(StaleFillTest, RejectedEvenWhenTheKeyExpiredInBetween) {
  ASSERT_TRUE(cache_->Insert("k", "v0", {.ttl = absl::Seconds(1)}));
  clock_.Advance(absl::Seconds(2));
  FillTicket t = cache_->BeginFill("k");  // Finds the expired entry and drops it.
  ASSERT_EQ(t.role(), FillTicket::Role::kLeader);
  EXPECT_EQ(cache_->GetStats().expirations, 1u);
  cache_->Invalidate("k");
  ASSERT_TRUE(cache_->Insert("k", "v1", {.ttl = absl::Seconds(1)}));
  clock_.Advance(absl::Seconds(2));
  EXPECT_EQ(cache_->SweepExpired(10), 1u);
  EXPECT_EQ(Complete(*cache_, t, "old"), FillResult::kStale);
  EXPECT_EQ(Get("k"), "<miss>");
}

TEST_F(StaleFillTest, RequestAfterInvalidationLeadsANewLoad) {
  FillTicket old_leader = cache_->BeginFill("k");
  FillTicket old_waiter = cache_->BeginFill("k");
  ASSERT_EQ(old_leader.role(), FillTicket::Role::kLeader);
  ASSERT_EQ(old_waiter.role(), FillTicket::Role::kWaiter);
  cache_->Invalidate("k");
  FillTicket new_leader = cache_->BeginFill("k");
  ASSERT_EQ(new_leader.role(), FillTicket::Role::kLeader);
  EXPECT_GT(new_leader.token(), old_leader.token());

  // The old leader finishing does not withdraw the new flight: later misses still join it.
  EXPECT_EQ(Complete(*cache_, old_leader, "old"), FillResult::kStale);
  FillTicket new_waiter = cache_->BeginFill("k");
  ASSERT_EQ(new_waiter.role(), FillTicket::Role::kWaiter);

  EXPECT_EQ(Complete(*cache_, new_leader, "new"), FillResult::kInserted);
  // Each waiter gets the result of the load it joined.
  auto old_result = old_waiter.Wait(absl::InfiniteDuration());
  auto new_result = new_waiter.Wait(absl::InfiniteDuration());
  ASSERT_TRUE(old_result.ok() && new_result.ok());
  EXPECT_EQ(*old_result, "old");
  EXPECT_EQ(*new_result, "new");
  EXPECT_EQ(Get("k"), "new");
  EXPECT_EQ(cache_->GetStats().coalesced_waits, 2u);
}

TEST_F(StaleFillTest, RequestAfterBeginWriteLeadsANewLoad) {
  FillTicket old_leader = cache_->BeginFill("k");
  WriteToken w = cache_->BeginWrite("k");
  FillTicket during = cache_->BeginFill("k");
  ASSERT_EQ(during.role(), FillTicket::Role::kLeader);
  EXPECT_EQ(Complete(*cache_, during, "during"), FillResult::kStale);  // Write in flight.
  const std::string_view written = "written";
  cache_->EndWrite(w, /*db_ok=*/true, &written, {});
  EXPECT_EQ(Complete(*cache_, old_leader, "old"), FillResult::kStale);
  EXPECT_EQ(Get("k"), "written");
  EXPECT_EQ(cache_->GetStats().stale_fills_rejected, 2u);
}

TEST_F(StaleFillTest, OldTokenIsRejectedAfterItsRecordIsDropped) {
  cache_ = Make(/*max_tracked=*/4);
  ASSERT_NE(cache_, nullptr);
  FillTicket t = cache_->BeginFill("k");
  cache_->Invalidate("k");
  // Invalidations of keys being loaded: each records a version, pushing k's record out.
  for (int i = 0; i < 100; ++i) {
    const std::string other = absl::StrCat("other", i);
    FillTicket loading = cache_->BeginFill(other);
    cache_->Invalidate(other);
  }
  EXPECT_EQ(Complete(*cache_, t, "old"), FillResult::kStale);
  // A fresh load after all that is accepted.
  FillTicket fresh = cache_->BeginFill("k");
  ASSERT_EQ(fresh.role(), FillTicket::Role::kLeader);
  EXPECT_EQ(Complete(*cache_, fresh, "new"), FillResult::kInserted);
  EXPECT_EQ(Get("k"), "new");
}

TEST_F(StaleFillTest, InvalidatingKeysNobodyLoadsRecordsNoVersion) {
  const uint64_t before = cache_->GetStats().bookkeeping;
  for (int i = 0; i < 100; ++i) cache_->Invalidate(absl::StrCat("k", i));
  EXPECT_EQ(cache_->GetStats().bookkeeping, before);
  // A key with a load in flight, or a write in flight, still gets its version.
  FillTicket t = cache_->BeginFill("loaded");
  ASSERT_EQ(t.role(), FillTicket::Role::kLeader);
  cache_->Invalidate("loaded");
  EXPECT_GT(cache_->GetStats().bookkeeping, before);
  EXPECT_EQ(Complete(*cache_, t, "old"), FillResult::kStale);
}

TEST_F(StaleFillTest, InvalidationOfAKeyWithNoLoadStillStopsAWriteInFlight) {
  ASSERT_TRUE(cache_->Insert("k", "v0", {}));
  WriteToken w = cache_->BeginWrite("k");
  FillTicket unrelated = cache_->BeginFill("other");  // Another key's load, not k's.
  cache_->Invalidate("k");  // E.g. another process wrote k after this write committed.
  const std::string_view value = "v1";
  cache_->EndWrite(w, /*db_ok=*/true, &value, {});
  EXPECT_EQ(Get("k"), "<miss>");
}

TEST_F(StaleFillTest, ClearKeepsVersions) {
  FillTicket t = cache_->BeginFill("k");
  cache_->Invalidate("k");
  cache_->Clear();
  EXPECT_EQ(Complete(*cache_, t, "old"), FillResult::kStale);
}

TEST_F(StaleFillTest, FillWithoutValueIsSkippedAndPublished) {
  FillTicket leader = cache_->BeginFill("k");
  FillTicket waiter = cache_->BeginFill("k");
  EXPECT_EQ(cache_->CompleteFill(&leader, nullptr, {}, absl::NotFoundError("k")),
            FillResult::kSkipped);
  EXPECT_EQ(waiter.Wait(absl::InfiniteDuration()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Get("k"), "<miss>");
}

// --- kUpdate writes ---------------------------------------------------------------------------

TEST_F(StaleFillTest, SoloWriteInstallsItsValue) {
  ASSERT_TRUE(cache_->Insert("k", "old", {}));
  WriteToken w = cache_->BeginWrite("k");
  EXPECT_TRUE(w.solo);
  EXPECT_EQ(Get("k"), "old");  // The write has not landed yet.
  const std::string_view value = "new";
  cache_->EndWrite(w, /*db_ok=*/true, &value, {.ttl = std::nullopt, .tag = 3});
  ValueRef v = cache_->Lookup("k");
  ASSERT_TRUE(v);
  EXPECT_EQ(v.value(), "new");
  EXPECT_EQ(v.tag(), 3);
}

TEST_F(StaleFillTest, OverlappingWritesNeverInstall) {
  for (const bool first_ends_first : {true, false}) {
    SCOPED_TRACE(first_ends_first);
    ASSERT_TRUE(cache_->Insert("k", "old", {}));
    WriteToken w1 = cache_->BeginWrite("k");
    WriteToken w2 = cache_->BeginWrite("k");
    EXPECT_FALSE(w2.solo);
    const std::string_view a = "a";
    const std::string_view b = "b";
    if (first_ends_first) {
      cache_->EndWrite(w1, true, &a, {});
      EXPECT_EQ(Get("k"), "<miss>");
      cache_->EndWrite(w2, true, &b, {});
    } else {
      cache_->EndWrite(w2, true, &b, {});
      EXPECT_EQ(Get("k"), "<miss>");
      cache_->EndWrite(w1, true, &a, {});
    }
    EXPECT_EQ(Get("k"), "<miss>");
  }
}

TEST_F(StaleFillTest, FailedWriteLeavesTheEntry) {
  ASSERT_TRUE(cache_->Insert("k", "old", {}));
  WriteToken w = cache_->BeginWrite("k");
  const std::string_view value = "new";
  cache_->EndWrite(w, /*db_ok=*/false, &value, {});
  EXPECT_EQ(Get("k"), "old");
  EXPECT_EQ(cache_->GetStats().invalidations, 0u);
}

TEST_F(StaleFillTest, DeleteWriteRemovesTheEntry) {
  ASSERT_TRUE(cache_->Insert("k", "old", {}));
  WriteToken w = cache_->BeginWrite("k");
  cache_->EndWrite(w, /*db_ok=*/true, nullptr, {});
  EXPECT_EQ(Get("k"), "<miss>");
  EXPECT_EQ(cache_->GetStats().invalidations, 1u);
}

TEST_F(StaleFillTest, InvalidationDuringWriteStopsTheInstall) {
  WriteToken w = cache_->BeginWrite("k");
  cache_->Invalidate("k");
  const std::string_view value = "new";
  cache_->EndWrite(w, /*db_ok=*/true, &value, {});
  EXPECT_EQ(Get("k"), "<miss>");
}

TEST_F(StaleFillTest, FillStartedDuringAWriteIsRejectedEvenAfterItEnds) {
  WriteToken w = cache_->BeginWrite("k");
  FillTicket t = cache_->BeginFill("k");
  ASSERT_EQ(t.role(), FillTicket::Role::kLeader);
  const std::string_view value = "new";
  cache_->EndWrite(w, /*db_ok=*/true, &value, {});
  EXPECT_EQ(Complete(*cache_, t, "maybe-old"), FillResult::kStale);
  EXPECT_EQ(Get("k"), "new");
}

TEST_F(StaleFillTest, FailedWriteStillRejectsFillsThatOverlappedIt) {
  FillTicket t = cache_->BeginFill("k");
  WriteToken w = cache_->BeginWrite("k");
  cache_->EndWrite(w, /*db_ok=*/false, nullptr, {});
  // Whether the DB write landed is unknown to the cache: rejecting is the safe answer.
  EXPECT_EQ(Complete(*cache_, t, "v"), FillResult::kStale);
}

}  // namespace
}  // namespace asidekv::cache
