// Tests of per-key miss coalescing: one leader per missed key, waiters released by its result,
// its error, its exception or its disappearance, waiter timeouts, and no lock held while a
// loader runs.

#include <atomic>
#include <bit>
#include <latch>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "cache/sharded_cache.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/sync_point_counter.h"

namespace asidekv::cache {
namespace {

using ::asidekv::testing::StatusIs;

using Loader = std::function<absl::StatusOr<std::string>()>;

constexpr int kShards = 4;
constexpr int kCallers = 6;

std::unique_ptr<ShardedCache> MakeCache(int num_shards = kShards) {
  CacheOptions options;
  options.capacity = 1 << 20;
  options.num_shards = num_shards;
  auto cache = ShardedCache::Create(options);
  EXPECT_TRUE(cache.ok()) << cache.status();
  return cache.ok() ? std::move(*cache) : nullptr;
}

// The shard ShardedCache puts `key` in, for a power-of-two `num_shards`.
int ShardOf(std::string_view key, int num_shards) {
  if (num_shards == 1) return 0;
  return static_cast<int>(HashKey(key) >> (64 - std::countr_zero(unsigned(num_shards))));
}

// A key other than `avoid` whose shard is (same ? equal : unequal) to `avoid`'s.
std::string KeyInShard(std::string_view avoid, bool same, int num_shards = kShards) {
  const int shard = ShardOf(avoid, num_shards);
  for (int i = 0;; ++i) {
    std::string key = absl::StrCat("probe", i);
    if (key != avoid && (ShardOf(key, num_shards) == shard) == same) return key;
  }
}

// A loader that counts its calls in `loads` and returns `result` once `release` is notified.
Loader BlockingLoader(std::atomic<int>& loads, absl::Notification& release,
                      absl::StatusOr<std::string> result) {
  return [&loads, &release, result]() -> absl::StatusOr<std::string> {
    loads.fetch_add(1);
    release.WaitForNotification();
    return result;
  };
}

// Runs GetOrLoad(key, loader) on kCallers threads; the loader is released (by `release`) only
// once every other caller has joined its flight. Returns each caller's result; `thrown` counts
// callers that saw the loader's exception.
std::vector<absl::StatusOr<std::string>> RunCallers(ShardedCache& cache, std::string_view key,
                                                    const Loader& loader,
                                                    absl::Notification& release,
                                                    std::atomic<int>* thrown = nullptr) {
  std::vector<absl::StatusOr<std::string>> results(kCallers, absl::UnknownError("not run"));
  testing::SyncPointCounter joined("ShardedCache::BeginFill:Joined");
  std::vector<std::thread> threads;
  for (int i = 0; i < kCallers; ++i) {
    threads.emplace_back([&, i] {
      try {
        results[i] = cache.GetOrLoad(key, loader);
      } catch (const std::runtime_error&) {
        if (thrown != nullptr) thrown->fetch_add(1);
        results[i] = absl::InternalError("threw");
      }
    });
  }
  EXPECT_TRUE(joined.WaitFor(kCallers - 1));
  release.Notify();
  for (auto& t : threads) t.join();
  return results;
}

TEST(FillCoalescingTest, ConcurrentMissesShareOneLoad) {
  auto cache = MakeCache();
  ASSERT_NE(cache, nullptr);
  std::atomic<int> loads{0};
  absl::Notification release;
  const Loader loader = BlockingLoader(loads, release, std::string("value"));
  const auto results = RunCallers(*cache, "k", loader, release);
  EXPECT_EQ(loads.load(), 1);
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(*r, "value");
  }
  const CacheStats s = cache->GetStats();
  EXPECT_EQ(s.coalesced_waits, uint64_t{kCallers - 1});
  EXPECT_EQ(s.misses, uint64_t{kCallers});
  EXPECT_EQ(s.inserts, 1u);
  // The value is cached: the next caller does not load.
  auto again = cache->GetOrLoad("k", [&]() -> absl::StatusOr<std::string> {
    loads.fetch_add(1);
    return std::string("other");
  });
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, "value");
  EXPECT_EQ(loads.load(), 1);
}

TEST(FillCoalescingTest, FailingLoaderReleasesEveryWaiterWithItsError) {
  auto cache = MakeCache();
  ASSERT_NE(cache, nullptr);
  std::atomic<int> loads{0};
  absl::Notification release;
  const Loader loader = BlockingLoader(loads, release, absl::UnavailableError("db down"));
  for (const auto& r : RunCallers(*cache, "k", loader, release)) {
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kUnavailable));
  }
  EXPECT_EQ(loads.load(), 1);
  EXPECT_FALSE(cache->Lookup("k"));
  EXPECT_EQ(cache->GetStats().inserts, 0u);
  // The error was not cached: the next miss loads again.
  auto r = cache->GetOrLoad("k", []() -> absl::StatusOr<std::string> { return std::string("v"); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "v");
}

TEST(FillCoalescingTest, NotFoundIsSharedButNotCached) {
  auto cache = MakeCache();
  ASSERT_NE(cache, nullptr);
  std::atomic<int> loads{0};
  absl::Notification release;
  const Loader loader = BlockingLoader(loads, release, absl::NotFoundError("k"));
  for (const auto& r : RunCallers(*cache, "k", loader, release)) {
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kNotFound));
  }
  EXPECT_EQ(loads.load(), 1);
  EXPECT_EQ(cache->GetStats().entries, 0u);
}

TEST(FillCoalescingTest, ThrowingLoaderAbortsWaitersAndPropagates) {
  auto cache = MakeCache();
  ASSERT_NE(cache, nullptr);
  std::atomic<int> loads{0};
  std::atomic<int> thrown{0};
  absl::Notification release;
  const Loader loader = [&]() -> absl::StatusOr<std::string> {
    loads.fetch_add(1);
    release.WaitForNotification();
    throw std::runtime_error("loader failed");
  };
  int aborted = 0;
  for (const auto& r : RunCallers(*cache, "k", loader, release, &thrown)) {
    if (r.status().code() == absl::StatusCode::kAborted) ++aborted;
  }
  EXPECT_EQ(loads.load(), 1);
  EXPECT_EQ(thrown.load(), 1);
  EXPECT_EQ(aborted, kCallers - 1);
  // The flight is gone: a later miss leads a new load.
  FillTicket t = cache->BeginFill("k");
  EXPECT_EQ(t.role(), FillTicket::Role::kLeader);
}

TEST(FillCoalescingTest, WaitersTimeOut) {
  auto cache = MakeCache();
  ASSERT_NE(cache, nullptr);
  FillTicket leader = cache->BeginFill("k");
  ASSERT_EQ(leader.role(), FillTicket::Role::kLeader);
  FillTicket waiter = cache->BeginFill("k");
  ASSERT_EQ(waiter.role(), FillTicket::Role::kWaiter);
  EXPECT_THAT(waiter.Wait(absl::ZeroDuration()), StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_THAT(waiter.Wait(absl::Milliseconds(5)), StatusIs(absl::StatusCode::kDeadlineExceeded));

  bool loaded = false;
  auto r = cache->GetOrLoad(
      "k",
      [&]() -> absl::StatusOr<std::string> {
        loaded = true;
        return std::string("x");
      },
      absl::Milliseconds(5));
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_FALSE(loaded);  // A waiter that times out does not load.

  // The timed-out waiter can still collect the result later.
  const std::string_view v = "v";
  EXPECT_EQ(cache->CompleteFill(&leader, &v, {}, std::string(v)), FillResult::kInserted);
  auto late = waiter.Wait(absl::ZeroDuration());
  ASSERT_TRUE(late.ok()) << late.status();
  EXPECT_EQ(*late, "v");
}

TEST(FillCoalescingTest, DroppedLeaderReleasesWaiters) {
  auto cache = MakeCache();
  ASSERT_NE(cache, nullptr);
  auto leader = std::make_unique<FillTicket>(cache->BeginFill("k"));
  ASSERT_EQ(leader->role(), FillTicket::Role::kLeader);
  FillTicket waiter = cache->BeginFill("k");
  ASSERT_EQ(waiter.role(), FillTicket::Role::kWaiter);
  absl::StatusOr<std::string> result;
  std::thread t([&] { result = waiter.Wait(absl::InfiniteDuration()); });
  ASSERT_EQ(cache->GetStats().coalesced_waits, 1u);  // Joined above, before the thread started.
  leader.reset();
  t.join();
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(cache->BeginFill("k").role(), FillTicket::Role::kLeader);
}

TEST(FillCoalescingTest, OverwrittenLeaderTicketReleasesWaiters) {
  auto cache = MakeCache();
  ASSERT_NE(cache, nullptr);
  FillTicket leader = cache->BeginFill("a");
  FillTicket waiter = cache->BeginFill("a");
  ASSERT_EQ(waiter.role(), FillTicket::Role::kWaiter);
  leader = cache->BeginFill("b");  // Drops the leadership of "a".
  EXPECT_EQ(leader.role(), FillTicket::Role::kLeader);
  EXPECT_THAT(waiter.Wait(absl::ZeroDuration()), StatusIs(absl::StatusCode::kAborted));
  // A moved-from leader is inert; the moved-to one still leads.
  FillTicket moved = std::move(leader);
  FillTicket b_waiter = cache->BeginFill("b");
  ASSERT_EQ(b_waiter.role(), FillTicket::Role::kWaiter);
  const std::string_view v = "vb";
  EXPECT_EQ(cache->CompleteFill(&moved, &v, {}, std::string(v)), FillResult::kInserted);
  auto r = b_waiter.Wait(absl::ZeroDuration());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "vb");
}

TEST(FillCoalescingTest, CompletedLeaderTicketDoesNotAbortLaterFlights) {
  auto cache = MakeCache();
  ASSERT_NE(cache, nullptr);
  {
    FillTicket leader = cache->BeginFill("k");
    const std::string_view v = "v";
    EXPECT_EQ(cache->CompleteFill(&leader, &v, {}, std::string(v)), FillResult::kInserted);
    cache->Invalidate("k");
    FillTicket next = cache->BeginFill("k");
    ASSERT_EQ(next.role(), FillTicket::Role::kLeader);
    FillTicket waiter = cache->BeginFill("k");
    ASSERT_EQ(waiter.role(), FillTicket::Role::kWaiter);
    // `leader` is destroyed after `next` here; neither must disturb the other's flight.
    const std::string_view v2 = "v2";
    EXPECT_EQ(cache->CompleteFill(&next, &v2, {}, std::string(v2)), FillResult::kInserted);
    auto r = waiter.Wait(absl::ZeroDuration());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, "v2");
  }
  ValueRef v = cache->Lookup("k");
  ASSERT_TRUE(v);
  EXPECT_EQ(v.value(), "v2");
}

// A loader may use the cache freely: on other keys of its own shard and of other shards, and even
// see its own key's flight. absl::Mutex is not reentrant, so a lock held across the loader would
// deadlock here.
TEST(FillCoalescingTest, LoaderMayUseTheCacheOnAnyShard) {
  auto cache = MakeCache();
  ASSERT_NE(cache, nullptr);
  const std::string a = "key-a";
  const std::string same = KeyInShard(a, /*same=*/true);
  const std::string same2 = KeyInShard(same, /*same=*/true);
  const std::string other = KeyInShard(a, /*same=*/false);
  ASSERT_EQ(ShardOf(same2, kShards), ShardOf(a, kShards));
  int inner_loads = 0;
  const Loader inner = [&]() -> absl::StatusOr<std::string> {
    ++inner_loads;
    return std::string("inner");
  };
  const Loader outer = [&]() -> absl::StatusOr<std::string> {
    EXPECT_FALSE(cache->Lookup(a));
    EXPECT_EQ(cache->BeginFill(a).role(), FillTicket::Role::kWaiter);  // Its own flight.
    EXPECT_TRUE(cache->GetOrLoad(same, inner).ok());
    EXPECT_TRUE(cache->GetOrLoad(other, inner).ok());
    EXPECT_TRUE(cache->Insert(same2, "x", {}));
    cache->Invalidate(same2);
    WriteToken w = cache->BeginWrite(same2);
    const std::string_view y = "y";
    cache->EndWrite(w, true, &y, {});
    EXPECT_TRUE(cache->Lookup(same2));
    cache->GetStats();
    cache->HottestKeys(4);
    cache->SweepExpired(10);
    return std::string("outer");
  };
  auto r = cache->GetOrLoad(a, outer);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "outer");
  EXPECT_EQ(inner_loads, 2);
  EXPECT_TRUE(cache->Lookup(a));
  EXPECT_TRUE(cache->Lookup(same));
  EXPECT_TRUE(cache->Lookup(other));
}

// Two loads of different keys in one shard are in flight at the same time: each loader waits for
// the other to start.
TEST(FillCoalescingTest, LoadsOfOneShardRunConcurrently) {
  auto cache = MakeCache(/*num_shards=*/1);
  ASSERT_NE(cache, nullptr);
  std::latch both_loading(2);
  const Loader loader = [&]() -> absl::StatusOr<std::string> {
    both_loading.arrive_and_wait();
    return std::string("v");
  };
  std::thread t1([&] { EXPECT_TRUE(cache->GetOrLoad("x", loader).ok()); });
  std::thread t2([&] { EXPECT_TRUE(cache->GetOrLoad("y", loader).ok()); });
  t1.join();
  t2.join();
  EXPECT_EQ(cache->GetStats().entries, 2u);
  EXPECT_EQ(cache->GetStats().coalesced_waits, 0u);
}

// A loader blocked on key A of a shard does not stop other threads from using that shard.
TEST(FillCoalescingTest, OtherThreadsProceedWhileALoaderBlocks) {
  auto cache = MakeCache();
  ASSERT_NE(cache, nullptr);
  const std::string a = "key-a";
  const std::string same = KeyInShard(a, /*same=*/true);
  absl::Notification loading;
  absl::Notification release;
  std::thread leader([&] {
    auto r = cache->GetOrLoad(a, [&]() -> absl::StatusOr<std::string> {
      loading.Notify();
      release.WaitForNotification();
      return std::string("a");
    });
    EXPECT_TRUE(r.ok());
  });
  loading.WaitForNotification();
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(cache->Insert(same, absl::StrCat(i), {}));
    ASSERT_TRUE(cache->Lookup(same));
    cache->Invalidate(same);
  }
  auto r = cache->GetOrLoad(same, []() -> absl::StatusOr<std::string> { return std::string("s"); });
  EXPECT_TRUE(r.ok());
  release.Notify();
  leader.join();
  EXPECT_TRUE(cache->Lookup(a));
}

// A load detached by a write or an invalidation while callers wait on it still delivers to them:
// the leader's result when it completes, Aborted when it gives up. (The waiters' Flight is made
// when the first one joins and kept for the leader after the key's registration is gone.)
TEST(FillCoalescingTest, WaitersOfADetachedLoadReceiveItsOutcome) {
  enum class Detach { kInvalidate, kBeginWrite, kInvalidateAll };
  for (const Detach how : {Detach::kInvalidate, Detach::kBeginWrite, Detach::kInvalidateAll}) {
    for (const bool complete : {true, false}) {
      SCOPED_TRACE(absl::StrCat("detach ", static_cast<int>(how), ", complete ", complete));
      auto cache = MakeCache(/*num_shards=*/1);
      ASSERT_NE(cache, nullptr);
      auto leader = std::make_unique<FillTicket>(cache->BeginFill("k"));
      ASSERT_EQ(leader->role(), FillTicket::Role::kLeader);
      FillTicket waiter = cache->BeginFill("k");
      ASSERT_EQ(waiter.role(), FillTicket::Role::kWaiter);
      std::optional<WriteToken> write;
      switch (how) {
        case Detach::kInvalidate:
          cache->Invalidate("k");
          break;
        case Detach::kBeginWrite:
          write = cache->BeginWrite("k");
          break;
        case Detach::kInvalidateAll:
          cache->InvalidateAll();
          break;
      }
      // A later miss leads a load of its own, which the first leader's end does not touch.
      FillTicket next = cache->BeginFill("k");
      ASSERT_EQ(next.role(), FillTicket::Role::kLeader);
      EXPECT_GT(next.token(), leader->token());
      if (complete) {
        const std::string_view v = "old";
        EXPECT_EQ(cache->CompleteFill(leader.get(), &v, {}, std::string(v)), FillResult::kStale);
        auto r = waiter.Wait(absl::ZeroDuration());
        ASSERT_TRUE(r.ok()) << r.status();
        EXPECT_EQ(*r, "old");
      } else {
        leader.reset();
        EXPECT_THAT(waiter.Wait(absl::ZeroDuration()), StatusIs(absl::StatusCode::kAborted));
      }
      FillTicket next_waiter = cache->BeginFill("k");
      ASSERT_EQ(next_waiter.role(), FillTicket::Role::kWaiter);
      if (write.has_value()) cache->EndWrite(*write, /*db_ok=*/true, nullptr, {});
      const std::string_view v = "new";
      cache->CompleteFill(&next, &v, {}, std::string(v));
      auto r = next_waiter.Wait(absl::ZeroDuration());
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(*r, "new");
    }
  }
}

}  // namespace
}  // namespace asidekv::cache
