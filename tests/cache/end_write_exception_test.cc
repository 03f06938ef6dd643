// EndWrite ends its write even when building the written value's entry throws: the key's
// in-flight write count comes down, so the key is cached again afterwards.

#include <memory>
#include <new>
#include <string>
#include <string_view>

#include "cache/sharded_cache.h"
#include "gtest/gtest.h"

namespace asidekv::cache {
namespace {

TEST(EndWriteExceptionTest, ThrowingEntryBuildStillEndsTheWrite) {
  CacheOptions options;
  options.capacity = 1 << 20;
  options.num_shards = 1;
  bool throw_next = false;
  options.weigher = [&throw_next](std::string_view key, std::string_view value) -> uint64_t {
    if (throw_next) {
      throw_next = false;
      throw std::bad_alloc();
    }
    return key.size() + value.size() + kEntryOverhead;
  };
  auto built = ShardedCache::Create(options);
  ASSERT_TRUE(built.ok()) << built.status();
  ShardedCache& cache = **built;

  const WriteToken w = cache.BeginWrite("k");
  const std::string_view value = "new";
  throw_next = true;
  EXPECT_THROW(cache.EndWrite(w, /*db_ok=*/true, &value, EntryOptions()), std::bad_alloc);

  // A later fill of the key is accepted: no write of it is still counted as in flight.
  FillTicket t = cache.BeginFill("k");
  ASSERT_EQ(t.role(), FillTicket::Role::kLeader);
  const absl::StatusOr<std::string> loaded = std::string("new");
  const std::string_view v = *loaded;
  EXPECT_EQ(cache.CompleteFill(&t, &v, EntryOptions(), loaded), FillResult::kInserted);
  EXPECT_TRUE(cache.Lookup("k"));
  // And a later solo write installs its value again.
  const WriteToken w2 = cache.BeginWrite("k");
  EXPECT_TRUE(w2.solo);
  const std::string_view newer = "newer";
  cache.EndWrite(w2, true, &newer, EntryOptions());
  ValueRef r = cache.Lookup("k");
  ASSERT_TRUE(r);
  EXPECT_EQ(r.value(), "newer");
}

}  // namespace
}  // namespace asidekv::cache
