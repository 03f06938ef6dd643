// Tests of refresh-ahead (Options::refresh_ahead): one background reload per entry however many
// readers hit it, no expired value served, writes win over reloads, XFetch, the bounded queue.
#include <atomic>
#include <barrier>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "asidekv/asidekv.h"
#include "core/store_opener.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/forwarding_cache.h"
#include "tests/testing/gated_fill_cache.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/sync_point_counter.h"
#include "tests/testing/temp_dir.h"

namespace asidekv {
namespace {

using ::asidekv::testing::FakeClock;
using ::asidekv::testing::TempDir;

constexpr absl::Duration kTtl = absl::Seconds(10);

// A cache that can hold the next fill at a gate, counts completed fills, and checks that no
// lookup ever returns an entry whose expiry has passed on the test's clock.
class RefreshProbeCache : public testing::GatedFillCache {
 public:
  RefreshProbeCache(std::unique_ptr<cache::Cache> inner, const FakeClock* clock)
      : GatedFillCache(std::move(inner)), clock_(clock) {}

  cache::ValueRef Lookup(std::string_view key) override {
    cache::ValueRef v = GatedFillCache::Lookup(key);
    if (v && v.expire_nanos() != 0 && v.expire_nanos() <= clock_->NowNanos()) {
      expired_served.fetch_add(1);
    }
    return v;
  }

  std::atomic<int> expired_served{0};

 private:
  const FakeClock* clock_;
};

class RefreshTest : public ::testing::TestWithParam<WritePolicy> {
 protected:
  Options MakeOptions(RefreshAhead mode) const {
    Options o;
    o.path = dir_.Sub("db");
    o.default_ttl = kTtl;
    o.write_policy = GetParam();
    o.refresh_ahead = mode;
    o.refresh_ahead_fraction = 0.2;
    return o;
  }
  void Open(const Options& o) {
    core::StoreHooks hooks;
    hooks.clock = &clock_;
    hooks.wrap_cache = [this](std::unique_ptr<cache::Cache> c) -> std::unique_ptr<cache::Cache> {
      auto p = std::make_unique<RefreshProbeCache>(std::move(c), &clock_);
      probe_ = p.get();
      return p;
    };
    auto s = core::StoreOpener::Open(o, hooks);
    ASSERT_OK(s.status());
    store_ = *std::move(s);
  }
  // Puts key=value and makes sure it is cached, filled now (so it expires at now + kTtl).
  void PutCached(const std::string& key, const std::string& value) {
    ASSERT_OK(store_->Put(key, value));
    store_->Invalidate(key);
    ASSERT_EQ(*store_->Get(key), value);
  }
  // Waits until the background threads have finished `reloads` reloads since Open(), then checks
  // that the probe has seen `n` completed fills.
  void WaitCompleted(int reloads, int n) {
    ASSERT_TRUE(reloaded_.WaitFor(reloads));
    ASSERT_GE(probe_->completed.load(), n);
  }

  TempDir dir_;
  FakeClock clock_;
  RefreshProbeCache* probe_ = nullptr;
  // Background reloads finished (outlives store_, whose threads pass the point).
  testing::SyncPointCounter reloaded_{"Refresher::Run:Reloaded"};
  std::unique_ptr<Store> store_;
};

TEST_P(RefreshTest, OffNeverRefreshes) {
  Open(MakeOptions(RefreshAhead::kOff));
  PutCached("k", "v");
  clock_.Advance(kTtl - absl::Milliseconds(1));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(*store_->Get("k"), "v");
  const Stats s = store_->GetStats();
  EXPECT_EQ(s.refreshes, 0u);
  EXPECT_EQ(s.db_reads, 1u);
}

TEST_P(RefreshTest, FarFromExpiryNoRefresh) {
  Open(MakeOptions(RefreshAhead::kBackground));
  PutCached("k", "v");
  clock_.Advance(kTtl * 0.79);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(*store_->Get("k"), "v");
  EXPECT_EQ(store_->GetStats().refreshes, 0u);
}

TEST_P(RefreshTest, OneRefreshUnder32ConcurrentReaders) {
  Open(MakeOptions(RefreshAhead::kBackground));
  PutCached("k", "v1");
  ASSERT_OK(store_->Put("other", "x"));  // The DB changes behind the entry: "k" stays v1.
  const int fills_before = probe_->completed.load();
  clock_.Advance(kTtl * 0.9);  // 10% of the TTL left: below the 20% threshold.
  probe_->gate_armed = true;   // Hold the reload until every reader is done.
  std::vector<std::thread> readers;
  for (int t = 0; t < 32; ++t) {
    readers.emplace_back([this] {
      for (int i = 0; i < 200; ++i) EXPECT_EQ(*store_->Get("k"), "v1");
    });
  }
  for (std::thread& r : readers) r.join();
  probe_->at_gate.WaitForNotification();
  probe_->release.Notify();
  WaitCompleted(1, fills_before + 1);
  Stats s = store_->GetStats();
  EXPECT_EQ(s.refreshes, 1u);
  EXPECT_EQ(s.db_reads, 2u);  // The first fill and the one refresh.
  EXPECT_EQ(s.cache_misses, 1u);
  // The refreshed entry lives a full TTL from the reload: past the old expiry it still hits.
  clock_.Advance(kTtl * 0.2);
  EXPECT_EQ(*store_->Get("k"), "v1");
  s = store_->GetStats();
  EXPECT_EQ(s.db_reads, 2u);
  EXPECT_EQ(s.expirations, 0u);
  EXPECT_EQ(probe_->expired_served.load(), 0);
}

TEST_P(RefreshTest, WriteDuringRefreshIsNeverOverwritten) {
  Open(MakeOptions(RefreshAhead::kBackground));
  PutCached("k", "v1");
  clock_.Advance(kTtl * 0.9);
  probe_->gate_armed = true;
  EXPECT_EQ(*store_->Get("k"), "v1");  // Queues the reload, which reads v1 and stops at the gate.
  probe_->at_gate.WaitForNotification();
  ASSERT_OK(store_->Put("k", "v2"));
  probe_->release.Notify();
  ASSERT_TRUE(reloaded_.WaitFor(1));
  EXPECT_EQ(probe_->last_result.load(), static_cast<int>(cache::FillResult::kStale));
  EXPECT_EQ(*store_->Get("k"), "v2");
  clock_.Advance(kTtl * 0.5);
  EXPECT_EQ(*store_->Get("k"), "v2");
  EXPECT_GE(store_->GetStats().stale_fills_rejected, 1u);
}

// Readers and the clock move in lock-step phases (so "expired" is exact), a writer changes the
// value between some phases: every Get returns the last written value, none an expired entry.
TEST_P(RefreshTest, NoReaderSeesAnExpiredOrOldValue) {
  Open(MakeOptions(RefreshAhead::kBackground));
  PutCached("k", "v0");
  constexpr int kReaders = 32;
  constexpr int kPhases = 60;
  std::atomic<int> version{0};
  std::atomic<int> wrong{0};
  std::barrier sync(kReaders + 1);
  std::vector<std::thread> readers;
  for (int t = 0; t < kReaders; ++t) {
    readers.emplace_back([&] {
      for (int p = 0; p < kPhases; ++p) {
        sync.arrive_and_wait();  // The driver has advanced the clock and maybe written.
        const std::string want = absl::StrCat("v", version.load());
        for (int i = 0; i < 20; ++i) {
          absl::StatusOr<std::string> got = store_->Get("k");
          if (!got.ok() || *got != want) wrong.fetch_add(1);
        }
        sync.arrive_and_wait();  // Phase done: the clock may move.
      }
    });
  }
  for (int p = 0; p < kPhases; ++p) {
    clock_.Advance(absl::Milliseconds(700));
    if (p % 17 == 16) {
      EXPECT_OK(store_->Put("k", absl::StrCat("v", p)));
      version.store(p);
    }
    sync.arrive_and_wait();
    sync.arrive_and_wait();
  }
  for (std::thread& r : readers) r.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(probe_->expired_served.load(), 0);
  EXPECT_GT(store_->GetStats().refreshes, 0u);
}

TEST_P(RefreshTest, FullQueueDropsRefreshes) {
  Options o = MakeOptions(RefreshAhead::kBackground);
  o.refresh_threads = 1;
  o.refresh_queue_limit = 1;
  Open(o);
  PutCached("a", "1");
  PutCached("b", "2");
  PutCached("c", "3");
  clock_.Advance(kTtl * 0.9);
  probe_->gate_armed = true;
  EXPECT_EQ(*store_->Get("a"), "1");  // Runs on the only thread, held at the gate.
  probe_->at_gate.WaitForNotification();
  EXPECT_EQ(*store_->Get("b"), "2");  // Queued.
  EXPECT_EQ(*store_->Get("c"), "3");  // Queue full: dropped.
  Stats s = store_->GetStats();
  EXPECT_EQ(s.refreshes, 2u);
  EXPECT_EQ(s.refreshes_dropped, 1u);
  const int fills_before = probe_->completed.load();
  probe_->release.Notify();
  WaitCompleted(2, fills_before + 2);  // The reloads of "a" and "b".
  // A dropped refresh withdrew its flight: "c" is refreshed by a later hit.
  EXPECT_EQ(*store_->Get("c"), "3");
  EXPECT_EQ(store_->GetStats().refreshes, 3u);
}

TEST_P(RefreshTest, ProbabilisticReloadsNearExpiryOnly) {
  Options o = MakeOptions(RefreshAhead::kProbabilistic);
  o.early_expiration_beta = 1e-6;  // reload_time * beta is far below a millisecond.
  Open(o);
  PutCached("k", "v");
  clock_.Advance(kTtl - absl::Seconds(1));
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(*store_->Get("k"), "v");
  EXPECT_EQ(store_->GetStats().early_expirations, 0u);
  EXPECT_EQ(store_->GetStats().db_reads, 1u);
}

TEST_P(RefreshTest, ProbabilisticReloadsOncePerEntryWithHugeBeta) {
  Options o = MakeOptions(RefreshAhead::kProbabilistic);
  o.early_expiration_beta = 1e15;  // Any measured reload time makes every draw "reload now".
  Open(o);
  PutCached("k", "v1");
  ASSERT_OK(store_->Put("k2", "x"));
  EXPECT_EQ(*store_->Get("k"), "v1");  // Reloads in this thread.
  Stats s = store_->GetStats();
  EXPECT_EQ(s.early_expirations, 1u);
  EXPECT_EQ(s.refreshes, 1u);
  EXPECT_EQ(s.db_reads, 2u);
  // 32 readers at once: each refreshed entry is reloaded by exactly one of them.
  std::vector<std::thread> readers;
  for (int t = 0; t < 32; ++t) {
    readers.emplace_back([this] {
      for (int i = 0; i < 50; ++i) EXPECT_EQ(*store_->Get("k"), "v1");
    });
  }
  for (std::thread& r : readers) r.join();
  s = store_->GetStats();
  EXPECT_EQ(s.db_reads, 1 + s.refreshes);
  EXPECT_EQ(s.cache_misses, 1u);
  EXPECT_EQ(probe_->expired_served.load(), 0);
}

TEST_P(RefreshTest, ProbabilisticWriteDuringReloadWins) {
  Options o = MakeOptions(RefreshAhead::kProbabilistic);
  o.early_expiration_beta = 1e15;
  Open(o);
  PutCached("k", "v1");
  probe_->gate_armed = true;
  std::thread reader([this] { EXPECT_EQ(*store_->Get("k"), "v1"); });
  probe_->at_gate.WaitForNotification();
  ASSERT_OK(store_->Put("k", "v2"));
  probe_->release.Notify();
  reader.join();
  EXPECT_EQ(probe_->last_result.load(), static_cast<int>(cache::FillResult::kStale));
  EXPECT_EQ(*store_->Get("k"), "v2");
}

TEST(RefreshOptionsTest, BadOptionsAreRejected) {
  TempDir dir;
  Options o;
  o.path = dir.Sub("db");
  o.refresh_ahead_fraction = 1;
  EXPECT_FALSE(Store::Open(o).ok());
  o.refresh_ahead_fraction = 0.5;
  o.refresh_threads = 0;
  EXPECT_FALSE(Store::Open(o).ok());
  o.refresh_threads = 2;
  o.early_expiration_beta = 0;
  EXPECT_FALSE(Store::Open(o).ok());
  o.early_expiration_beta = 1;
  o.refresh_queue_limit = 0;
  EXPECT_FALSE(Store::Open(o).ok());
}

INSTANTIATE_TEST_SUITE_P(Policies, RefreshTest,
                         ::testing::Values(WritePolicy::kInvalidate, WritePolicy::kUpdate),
                         [](const auto& info) {
                           return info.param == WritePolicy::kInvalidate ? "Invalidate" : "Update";
                         });

}  // namespace
}  // namespace asidekv
