// The kUpdate write path is exception-safe: an exception between a key's BeginWrite and its
// EndWrite (an allocation failing, say) must not leave the key's in-flight write count raised,
// which would keep the key out of the cache for good.
#include <atomic>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "asidekv/asidekv.h"
#include "core/store_opener.h"
#include "gtest/gtest.h"
#include "tests/testing/forwarding_cache.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace asidekv {
namespace {

// Throws std::bad_alloc from the n-th BeginWrite (counting from 1), once.
class ThrowingWriteCache : public testing::ForwardingCache {
 public:
  using ForwardingCache::ForwardingCache;
  void ThrowAtBeginWrite(int n) { countdown_ = n; }

  cache::WriteToken BeginWrite(std::string_view key) override {
    if (countdown_ > 0 && --countdown_ == 0) throw std::bad_alloc();
    return ForwardingCache::BeginWrite(key);
  }

 private:
  std::atomic<int> countdown_{0};
};

class WriteExceptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Options o;
    o.path = dir_.Sub("db");
    o.cache_capacity_bytes = 1 << 20;
    o.cache_shards = 1;
    o.write_policy = WritePolicy::kUpdate;
    core::StoreHooks hooks;
    hooks.wrap_cache = [this](std::unique_ptr<cache::Cache> c) -> std::unique_ptr<cache::Cache> {
      auto t = std::make_unique<ThrowingWriteCache>(std::move(c));
      cache_ = t.get();
      return t;
    };
    auto opened = core::StoreOpener::Open(o, hooks);
    ASSERT_OK(opened.status());
    store_ = *std::move(opened);
  }

  // Whether `key` is cached again after a write: a Put (kUpdate installs it) then a Get hit.
  bool CachedAfterPut(const std::string& key) {
    EXPECT_OK(store_->Put(key, "after"));
    const uint64_t hits = store_->GetStats().cache_hits;
    absl::StatusOr<std::string> v = store_->Get(key);
    EXPECT_OK(v.status());
    if (v.ok()) {
      EXPECT_EQ(*v, "after");
    }
    return store_->GetStats().cache_hits == hits + 1;
  }

  testing::TempDir dir_;
  ThrowingWriteCache* cache_ = nullptr;
  std::unique_ptr<Store> store_;
};

TEST_F(WriteExceptionTest, BatchThatThrowsMidwayEndsTheWritesItBegan) {
  WriteBatch batch;
  std::vector<std::string> keys;
  for (int i = 0; i < 8; ++i) {
    keys.push_back(absl::StrCat("k", i));
    batch.Put(keys.back(), "before");
  }
  cache_->ThrowAtBeginWrite(4);  // Three writes begun, then the fourth throws.
  EXPECT_THROW(store_->Write(batch).IgnoreError(), std::bad_alloc);
  for (const std::string& key : keys) EXPECT_TRUE(CachedAfterPut(key)) << key;
  EXPECT_EQ(store_->GetStats().stale_fills_rejected, 0u);
}

}  // namespace
}  // namespace asidekv
