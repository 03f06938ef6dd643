// RemoteTier: the core's side of the Redis tier (Options::redis). It owns the Redis connections
// (remote::RedisTier) and, when this Store has a cache, the invalidation channel that keeps the
// cache coherent with every other Store's writes (remote::InvalidationChannel, whose sink this
// is). StoreImpl calls it at three points:
//
// Read (a leader's load, after this Store's cache missed and its fill token was taken):
//   GetOrLease -> kHit:  the value Redis holds (its remaining Redis TTL caps the cache entry's)
//              -> kWon:  read the database, Fill Redis with the lease's token (a value, a "not
//                        found" when negative_ttl > 0, else only release the lease); a refused
//                        fill (a write deleted the lease) keeps the result out of this cache too
//              -> kHeld: another Store is loading: ask again after 1, 2, 4, 8 ms...; after
//                        lease_ttl, read the database without filling Redis (kBounded), or go on
//                        asking until the lease expires and is won (kStrict, up to 2 lease_ttl)
//   Redis down, or the key owed (below): read the database; Redis is not filled.
//
// Write (after the database write returned, before this Store's cache drops the keys):
//   UNLINK value and lease of every key in Redis. So a Redis read that follows sees no older
//   value, and the local invalidation that follows rejects every local fill that may have read
//   Redis before the UNLINK. If Redis cannot be reached the keys become *owed*: this Store
//   reads them from the database (never from Redis) until a background retry (every 20 ms)
//   lands the UNLINK; other Stores may serve the old value meanwhile, for at most
//   max_staleness. kStrict: the write then waits coherence_bound * 1.01 after the UNLINK's
//   answer (every other Store's gate has by then required a PONG that followed the
//   invalidation), or, when the UNLINK cannot land within redis_timeout, returns Unavailable
//   (committed, not confirmed invalidated).
//
// Coherence (the channel's thread): OnInvalidate(keys) -> Cache::Invalidate(each key);
//   OnInvalidateAll() -> Cache::InvalidateAll(). NearServing() is the channel's gate: while it
//   is false the Store serves no cache hit and fills nothing into its cache. The cache enforces
//   the hit side itself: its serving horizon follows the gate's deadline (OnServingUntil), so a
//   hit pays one atomic load for the gate, inside the expiry check it makes anyway. On a Redis
//   Cluster the channel is one per master (remote::ClusterInvalidation, which hands this sink
//   the horizon of all of them together), each calling the sink from its own thread; a write
//   whose keys span masters owes only the keys of the masters it could not reach.
//
// Thread safety: every method may be called concurrently.
// Ownership: borrows the cache, the database and the filler, which outlive it; the destructor
//   stops the retry thread and the channel.

#ifndef ASIDEKV_CORE_REMOTE_TIER_H_
#define ASIDEKV_CORE_REMOTE_TIER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "asidekv/database.h"
#include "asidekv/options.h"
#include "asidekv/stats.h"
#include "cache/cache.h"
#include "core/filler.h"
#include "remote/cluster_invalidation.h"
#include "remote/invalidation_channel.h"
#include "remote/redis_tier.h"
#include "util/hash.h"

namespace asidekv::core {

class RemoteTier final : public remote::InvalidationSink {
 public:
  // Connects to Options::redis (errors as remote::RedisTier::Connect / InvalidationChannel::Start)
  // and, when the cache is on, starts the channel and waits up to redis_timeout for its gate.
  static absl::StatusOr<std::unique_ptr<RemoteTier>> Open(const Options& options,
                                                          cache::Cache* cache, Database* db,
                                                          Filler* filler);
  ~RemoteTier() override;
  RemoteTier(const RemoteTier&) = delete;
  RemoteTier& operator=(const RemoteTier&) = delete;

  // Whether this Store's cache may serve hits and take fills now (see the file comment).
  bool NearServing() const {
    if (channel_ != nullptr) return channel_->Serving();
    return cluster_channels_ == nullptr || cluster_channels_->Serving();
  }

  // The load of one key for a leader (see the file comment). *cache_it: whether the result may
  // be put in this Store's cache.
  Filler::Loaded Load(std::string_view key, bool* cache_it);
  // The same for several keys, with one Redis round trip for all, one database MultiGet for
  // the leases won and one round trip for their fills. Parallel outputs.
  void LoadMany(absl::Span<const std::string_view> keys, std::vector<Filler::Loaded>* loaded,
                std::vector<bool>* cache_it);

  // After a write of `keys` changed (or may have changed) the database, before this Store's
  // cache drops them: UNLINKs them in Redis, or owes them. Returns whether the UNLINK landed.
  bool InvalidateRemote(absl::Span<const std::string_view> keys);
  // Then, before the write returns: OK at once in kBounded; in kStrict waits until no other
  // Store can serve the keys' old values, or returns Unavailable when that cannot be confirmed
  // (see the file comment). `landed`: what InvalidateRemote returned.
  absl::Status AwaitVisibility(absl::Span<const std::string_view> keys, bool landed);

  // The Redis connections, for the commit-log relay (core/relay.h); lives as long as this.
  remote::RedisTier* redis() { return redis_.get(); }

  // Adds the tier's counters to `stats`.
  void AddStats(Stats* stats) const;

  // remote::InvalidationSink (the channel's thread).
  void OnInvalidate(absl::Span<const std::string_view> keys) override;
  void OnInvalidateAll() override;
  // Moves the cache's serving horizon with the gate, so a cache hit checks the gate within the
  // cache's own expiry check (the cache's clock is util::MonotonicNanos()'s: StoreOpener).
  void OnServingUntil(int64_t nanos) override;

 private:
  RemoteTier(const Options& options, cache::Cache* cache, Database* db, Filler* filler,
             std::unique_ptr<remote::RedisTier> redis);

  // Sets fill->value (pointing into *bytes) and fill->ttl for a loaded result: 'v' + the value in
  // asidekv's header format (with its per-key TTL), or 'n' for "not found" when negative_ttl is
  // on, living until its TTL, max_staleness or an hour (the least) after `read_began` (the
  // database read's start, monotonic). Leaves fill->value unset (release the lease only) for an
  // error, an uncached "not found", or a load already older than that.
  void PrepareFill(const Filler::Loaded& loaded, int64_t read_began, std::string* bytes,
                   remote::FillRequest* fill) const;
  // A Redis hit's bytes as a load result; DataLoss-free: unknown bytes give nullopt.
  std::optional<Filler::Loaded> DecodeFromRedis(std::string_view bytes, absl::Duration redis_ttl,
                                                int64_t read_start) const;
  // Reads `key` from the database and fills Redis with lease `token`.
  Filler::Loaded ReadAndFill(std::string_view key, uint64_t token, bool* cache_it);
  // A kHit answer as a load result, counted as a hit; nullopt (counted as an error) for bytes
  // asidekv did not write.
  std::optional<Filler::Loaded> TakeHit(const remote::LeaseResult& hit, int64_t read_start);

  bool IsOwed(std::string_view key) const;
  // The keys whose `landed` entry is false (all of them when `landed` is empty).
  void AddOwed(absl::Span<const std::string_view> keys, const std::vector<bool>& landed);
  // The retry thread: UNLINKs owed keys until each lands.
  void RetryOwed();

  const Options& options_;  // The StoreImpl's; outlives this.
  cache::Cache* const cache_;
  Database* const db_;
  Filler* const filler_;
  std::unique_ptr<remote::RedisTier> redis_;
  // Null without a cache; at most one of the two is set (cluster_channels_ on a Redis Cluster).
  std::unique_ptr<remote::InvalidationChannel> channel_;
  std::unique_ptr<remote::ClusterInvalidation> cluster_channels_;

  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> leases_won_{0};
  std::atomic<uint64_t> lease_waits_{0};
  std::atomic<uint64_t> fills_rejected_{0};
  std::atomic<uint64_t> errors_{0};
  std::atomic<uint64_t> invalidations_received_{0};
  std::atomic<uint64_t> flushes_{0};
  std::atomic<uint64_t> owed_total_{0};

  // Owed keys, each with the generation of its last failed invalidation (a retry that read an
  // older generation does not clear a key owed again since).
  mutable absl::Mutex owed_mu_;
  absl::CondVar owed_cv_;
  absl::flat_hash_map<std::string, uint64_t, util::StringViewHash, util::StringViewEq> owed_
      ABSL_GUARDED_BY(owed_mu_);
  uint64_t owed_generation_ ABSL_GUARDED_BY(owed_mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(owed_mu_) = false;
  std::atomic<size_t> owed_count_{0};  // owed_.size(), read without the lock on every load.
  std::thread retry_thread_;
};

}  // namespace asidekv::core

#endif  // ASIDEKV_CORE_REMOTE_TIER_H_
