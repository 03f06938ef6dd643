// ShardedCache: the in-process Cache: a byte-budgeted, sharded, concurrent map of byte-string
// keys to immutable values, with TTLs, fill coalescing and stale-fill rejection.
//
// Design
//   Keys are spread over a power-of-two number of Shards (cache/shard.h) by the top bits of a
//   64-bit hash; each shard has its own mutex, table, eviction policy (S3-FIFO with an adaptive
//   split by default; fixed S3-FIFO, W-TinyLFU and LRU selectable), expiry index, in-flight fills
//   and recent-write versions, and 1/N of the budget.
//   See cache/cache.h for the protocol (fills, tokens, writes) and cache/shard.h for costs.
//
// Budget
//   Each entry is charged by the weigher; by default key + value + kEntryOverhead, the header and
//   the measured table and allocator bookkeeping of one entry, plus kExpiryIndexOverhead when it
//   has a TTL. With the default weigher, what else a shard holds (version records, the S3-FIFO
//   ghost set) counts in the same budget (CacheStats::bookkeeping, see
//   cache/shard.h), so the cache's heap stays within its capacity. After every call returns, each
//   shard's charge (plus bookkeeping) is at most its capacity (capacity / num_shards): there is
//   no per-shard slack.
//   An entry larger than one shard's capacity is refused (counted in rejected_too_large).
//   Capacity 0 makes a disabled cache: lookups miss, fills are bypassed, inserts are refused.
//
// Thread safety: every method may be called concurrently.
// Ownership: Create() returns the sole owner. ValueRefs may outlive the cache.
//
// Example:
//   CacheOptions options;
//   options.capacity = 256 << 20;
//   auto cache = ShardedCache::Create(options);
//   if (!cache.ok()) return cache.status();
//   (*cache)->Insert("k", "v", {});
//   if (ValueRef v = (*cache)->Lookup("k")) Use(v.value());

#ifndef ASIDEKV_CACHE_SHARDED_CACHE_H_
#define ASIDEKV_CACHE_SHARDED_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cache/cache.h"
#include "cache/clock.h"
#include "cache/eviction_policy.h"
#include "cache/shard.h"

namespace asidekv::cache {

// Bytes charged per entry beyond its key and value by the default weigher: the Entry header and
// key size (for keys under 64 KiB), the allocator's per-block overhead and rounding (16 on glibc
// for typical sizes), and the table's 8-byte slot at its average load (about 2/3: 12 bytes;
// cache/entry_table.h).
inline constexpr uint64_t kEntryOverhead = sizeof(Entry) + sizeof(uint16_t) + 16 + 12;
// Bytes charged by the default weigher for an entry's place in its shard's expiry index (an
// absl::btree_set of 16-byte (expiry, entry) pairs, in nodes between half and fully used, and
// the allocator's header of each node), on top of kEntryOverhead and of the expiry the entry
// itself carries (Entry::kTtlBytes), when the entry has a TTL.
inline constexpr uint64_t kExpiryIndexOverhead = 32;

struct CacheOptions {
  // Budget in weigher units (bytes by default). 0: a disabled cache.
  uint64_t capacity = 64 << 20;
  // Power of two in [1, 1024]. 0: 4 per hardware thread, at least 16, but more when each shard
  // would get over 8 MiB (up to 1024) and fewer when it would get less than 256 KiB (never
  // fewer than 1).
  int num_shards = 0;
  PolicyKind policy = PolicyKind::kS3Fifo;
  // Charge of one entry. Default (empty): key.size() + value.size() + kEntryOverhead. A replay
  // of a key trace uses a weigher returning 1 to count entries.
  std::function<uint64_t(std::string_view key, std::string_view value)> weigher;
  // Borrowed; must outlive the cache. Default: the monotonic clock.
  Clock* clock = RealClock();
  // TTL of entries stored without one. Infinite: no expiry. Must be positive.
  absl::Duration default_ttl = absl::InfiniteDuration();
  // Each finite TTL is multiplied by a random factor in [1 - ttl_jitter, 1]. In [0, 1).
  double ttl_jitter = 0;
  // Recently written keys whose versions each shard remembers exactly (see key_versions.h).
  size_t max_tracked_versions_per_shard = 1024;
};

class ShardedCache final : public Cache {
 public:
  // InvalidArgument for bad options.
  static absl::StatusOr<std::unique_ptr<ShardedCache>> Create(const CacheOptions& options);
  ~ShardedCache() override;

  ValueRef Lookup(std::string_view key) override;
  bool LookupCopy(std::string_view key, std::string* value, uint8_t* tag) override;
  FillTicket BeginFill(std::string_view key) override;
  FillTicket BeginRefresh(const ValueRef& seen) override;
  FillResult CompleteFill(FillTicket* ticket, const std::string_view* value,
                          const EntryOptions& options,
                          const absl::StatusOr<std::string>& result) override;
  void AbandonFill(const FillTicket& ticket) override;
  bool Insert(std::string_view key, std::string_view value, const EntryOptions& options) override;
  void Invalidate(std::string_view key) override;
  WriteToken BeginWrite(std::string_view key) override;
  void EndWrite(const WriteToken& token, bool db_ok, const std::string_view* value,
                const EntryOptions& options) override;
  void Clear() override;
  void InvalidateAll() override;
  void SetServingHorizon(int64_t nanos) override;
  CacheStats GetStats() const override;
  std::vector<CacheStats> GetShardStats() const override;
  std::vector<std::string> HottestKeys(size_t n) const override;

  // Reclaims up to `max_entries` expired entries now. The cache needs no background sweep (each
  // publish reclaims up to two expired entries, lookups drop the ones they find, and expired
  // entries stay charged until then, so they never push memory past the budget); this is for
  // tests of the expiry index and for tools. Returns how many were reclaimed.
  size_t SweepExpired(size_t max_entries);

  // Looks `key` up; on a miss runs `loader` once for all concurrent callers (others wait up to
  // `wait_timeout` for its result), caches its value unless stale, and returns it. A loader that
  // returns an error, or throws, releases every waiter with an error (the exception propagates
  // to the loader's own caller). NotFound results are returned, not cached.
  absl::StatusOr<std::string> GetOrLoad(std::string_view key,
                                        const std::function<absl::StatusOr<std::string>()>& loader,
                                        absl::Duration wait_timeout = absl::InfiniteDuration());

  int num_shards() const { return static_cast<int>(shards_.size()); }
  uint64_t capacity() const { return capacity_; }
  // Charge `key`/`value` would have without a TTL (with one, the default weigher adds
  // kExpiryIndexOverhead).
  uint64_t ChargeOf(std::string_view key, std::string_view value) const;

 private:
  explicit ShardedCache(const CacheOptions& options, int num_shards);

  Shard& ShardFor(uint64_t hash) const {
    return *shards_[shard_shift_ >= 64 ? 0 : hash >> shard_shift_];
  }
  // Builds the entry for key/value, with its expiry when it has a TTL, and sets *charge.
  Entry* MakeEntry(std::string_view key, std::string_view value, const EntryOptions& options,
                   uint64_t* charge);
  absl::Duration Jitter(absl::Duration ttl) ABSL_LOCKS_EXCLUDED(rng_mu_);

  const uint64_t capacity_;
  const std::function<uint64_t(std::string_view, std::string_view)> weigher_;
  Clock* const clock_;  // Not owned.
  // SetServingHorizon(); read by every shard on each hit of an entry that expires or while set.
  std::atomic<int64_t> horizon_{kNoHorizon};
  const absl::Duration default_ttl_;
  const double ttl_jitter_;
  int shard_shift_ = 64;
  std::vector<std::unique_ptr<Shard>> shards_;
  absl::Mutex rng_mu_;
  absl::BitGen rng_ ABSL_GUARDED_BY(rng_mu_);
};

}  // namespace asidekv::cache

#endif  // ASIDEKV_CACHE_SHARDED_CACHE_H_
