// The cache failing never breaks reads: with the cache disabled, cleared at runtime, or replaced
// by a double that drops and fails its operations, every read returns the DB's data.
#include <atomic>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "asidekv/asidekv.h"
#include "core/store_opener.h"
#include "gtest/gtest.h"
#include "tests/testing/forwarding_cache.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace asidekv {
namespace {

using ::asidekv::testing::TempDir;

// Misses lookups, refuses fills, drops inserts and clears itself at random. Invalidations and
// writes are always passed on: a cache that ignored them would be a different bug (one the
// Store cannot defend against), not a failure.
class FlakyCache : public testing::ForwardingCache {
 public:
  using ForwardingCache::ForwardingCache;

  cache::ValueRef Lookup(std::string_view key) override {
    if (Roll(4)) return cache::ValueRef();
    return ForwardingCache::Lookup(key);
  }
  cache::FillTicket BeginFill(std::string_view key) override {
    if (Roll(4)) return cache::FillTicket::Bypass();
    return ForwardingCache::BeginFill(key);
  }
  cache::FillResult CompleteFill(cache::FillTicket* ticket, const std::string_view* value,
                                 const cache::EntryOptions& options,
                                 const absl::StatusOr<std::string>& result) override {
    if (Roll(50)) Clear();
    if (Roll(3)) value = nullptr;  // Drop the fill; the waiters still get the result.
    return ForwardingCache::CompleteFill(ticket, value, options, result);
  }

 private:
  bool Roll(int one_in) {
    absl::MutexLock lock(&mu_);
    return rng_() % one_in == 0;
  }
  absl::Mutex mu_;
  std::mt19937 rng_ ABSL_GUARDED_BY(mu_){42};
};

enum class Mode { kDisabled, kFlaky, kClearedAtRuntime };

class StoreCacheFailureTest : public ::testing::TestWithParam<Mode> {};

TEST_P(StoreCacheFailureTest, ReadsStayCorrect) {
  TempDir dir;
  Options o;
  o.path = dir.Sub("db");
  o.cache_capacity_bytes = GetParam() == Mode::kDisabled ? 0 : 64 << 10;
  core::StoreHooks hooks;
  if (GetParam() == Mode::kFlaky) {
    hooks.wrap_cache = [](std::unique_ptr<cache::Cache> c) -> std::unique_ptr<cache::Cache> {
      return std::make_unique<FlakyCache>(std::move(c));
    };
  }
  auto opened = core::StoreOpener::Open(o, hooks);
  ASSERT_OK(opened.status());
  Store& store = **opened;

  constexpr int kKeys = 64;
  for (int k = 0; k < kKeys; ++k) ASSERT_OK(store.Put(absl::StrCat("k", k), absl::StrCat(k)));

  // Writers change even keys; readers check odd keys (stable) exactly and even keys loosely.
  std::atomic<bool> stop{false};
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  threads.emplace_back([&] {
    int n = 0;
    while (!stop) {
      const int k = 2 * (n++ % (kKeys / 2));
      ASSERT_OK(store.Put(absl::StrCat("k", k), absl::StrCat(k, ".", n)));
      if (GetParam() == Mode::kClearedAtRuntime && n % 16 == 0) store.ClearCache();
    }
  });
  for (int r = 0; r < 3; ++r) {
    threads.emplace_back([&, r] {
      std::mt19937 rng(r);
      for (int i = 0; i < 20000; ++i) {
        const int k = static_cast<int>(rng() % kKeys);
        auto v = store.Get(absl::StrCat("k", k));
        if (!v.ok()) {
          wrong.fetch_add(1);
        } else if (k % 2 == 1 && *v != absl::StrCat(k)) {
          wrong.fetch_add(1);
        } else if (k % 2 == 0 && v->rfind(absl::StrCat(k), 0) != 0) {
          wrong.fetch_add(1);
        }
      }
    });
  }
  for (size_t i = 1; i < threads.size(); ++i) threads[i].join();
  stop = true;
  threads[0].join();
  EXPECT_EQ(wrong.load(), 0);
  // Once writes stop, every key reads as written.
  auto all = store.Scan(ScanOptions());
  ASSERT_OK(all.status());
  for (const KeyValue& kv : *all) {
    auto v = store.Get(kv.key);
    ASSERT_OK(v.status());
    EXPECT_EQ(*v, kv.value);
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, StoreCacheFailureTest,
                         ::testing::Values(Mode::kDisabled, Mode::kFlaky, Mode::kClearedAtRuntime));

}  // namespace
}  // namespace asidekv
