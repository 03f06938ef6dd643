// Cache: the interface the core's Store uses to keep copies of DB values in memory.
//
// The core drives cache-aside through this interface only, so another tier (e.g. a remote cache)
// could implement it later. ShardedCache (cache/sharded_cache.h) is the in-process
// implementation. The cache never loads anything by itself: on a miss the caller loads and fills.
//
// Read path (one key):
//   ValueRef v = cache.Lookup(key);                 // hit: done
//   FillTicket t = cache.BeginFill(key);            // miss: one leader per key, others wait
//   kLeader: load from the DB, then cache.CompleteFill(&t, &value_to_cache, opts, result)
//   kWaiter: t.Wait(timeout) returns the leader's result
// Write path:
//   kInvalidate:  db write; then cache.Invalidate(key)
//   kUpdate:      w = cache.BeginWrite(key); db write; cache.EndWrite(w, db_ok, &value)
//
// Stale-fill defence (as memcache leases do it)
//   Each leader's ticket carries a token from a per-shard sequence. Invalidate(), BeginWrite()
//   and EndWrite() advance the key's version past every token handed out before them. A fill is
//   rejected (counted in stale_fills_rejected) when the key's version is newer than the fill's
//   token, or when a BeginWrite() of the key has not yet been matched by its EndWrite(): so a
//   slow miss that read the DB before a write can never fill after it, even if the key was
//   evicted or expired in between (versions are kept apart from entries, for a bounded number of
//   recently written keys per shard; older ones are covered by a per-shard floor below which
//   every token is rejected: rejecting a fill is always safe, it only costs a later miss).
//   Only the tokens of loads in flight can still be judged, and a load is registered until it
//   completes or an invalidation or write detaches it (recording a version as it does): so an
//   Invalidate() of a key with no load and no write in flight records nothing, and a
//   write-heavy workload does not churn the version table with keys nobody reads.
//
// kUpdate writers: EndWrite() installs the written value only if no other write or invalidation
// of the key overlapped this one (began after BeginWrite, or was in flight at BeginWrite).
// Otherwise the entry is left invalidated, because only the DB knows which write landed last.
//
// Thread safety: every method may be called concurrently.

#ifndef ASIDEKV_CACHE_CACHE_H_
#define ASIDEKV_CACHE_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cache/entry.h"
#include "cache/fill_flight.h"

namespace asidekv::cache {

// How to store one entry.
struct EntryOptions {
  // Time to live. nullopt: the cache's default TTL. Must be positive (or infinite).
  std::optional<absl::Duration> ttl;
  // Caller-defined marker returned by ValueRef::tag() (the core marks cached "not found").
  uint8_t tag = 0;
};

enum class FillResult {
  kInserted,  // The value is now cached.
  kStale,     // A write or invalidation of the key began after the token: not cached.
  kTooLarge,  // The entry's charge exceeds a shard's capacity: not cached.
  kSkipped,   // No value was given to cache, or the cache is disabled.
};

// A write in progress on one key (kUpdate write path). Returned by BeginWrite(), passed to
// EndWrite() exactly once.
struct WriteToken {
  std::string key;
  uint64_t seq = 0;   // The key's version set by BeginWrite().
  bool solo = false;  // No other write of the key was in flight at BeginWrite().
};

// Counters since creation (monotonic) and gauges (now). Per shard and in total.
struct CacheStats {
  uint64_t hits = 0;             // Lookup() found a live entry.
  uint64_t misses = 0;           // Lookup() found nothing, or an expired entry.
  uint64_t inserts = 0;          // Entries published by Insert(), CompleteFill() or EndWrite().
  uint64_t evictions = 0;        // Entries removed by the eviction policy to make room.
  uint64_t expirations = 0;      // Entries removed because their TTL ran out.
  uint64_t invalidations = 0;    // Entries removed by Invalidate(), writes or Erase().
  uint64_t coalesced_waits = 0;  // BeginFill() callers that joined another's load.
  uint64_t stale_fills_rejected = 0;
  uint64_t rejected_too_large = 0;
  uint64_t entries = 0;  // Gauge: published entries.
  uint64_t charge = 0;   // Gauge: sum of the published entries' charges.
  // Gauge: heap bytes of what else the cache holds, counted in the budget when charges are bytes
  // (version records, the ghost set); 0 with a custom weigher. After every call
  // charge + bookkeeping <= capacity, unless the bookkeeping alone exceeds it (a tiny shard, or
  // many writes in flight): then no entry is left.
  uint64_t bookkeeping = 0;
  uint64_t capacity = 0;  // Budget in charge units.
};

class Cache {
 public:
  virtual ~Cache() = default;

  // The live entry for `key`, or an empty ValueRef. An expired entry is never returned.
  virtual ValueRef Lookup(std::string_view key) = 0;

  // Lookup() that copies: on a hit sets *value to the entry's value and *tag to its tag and
  // returns true; on a miss returns false and leaves both untouched. For callers that copy the
  // value anyway: a cache may then serve the hit without pinning the entry (ShardedCache's
  // lock-free hits add no reference, so readers of one hot key write no shared line; a key
  // found absent without the lock is a miss without taking it, so a key being replaced at that
  // instant may read as a miss, which a caller that goes on to BeginFill() resolves). The default
  // copies from Lookup().
  virtual bool LookupCopy(std::string_view key, std::string* value, uint8_t* tag) {
    ValueRef v = Lookup(key);
    if (!v) return false;
    value->assign(v.value());
    *tag = v.tag();
    return true;
  }

  // Call after a miss. See FillTicket for the roles.
  virtual FillTicket BeginFill(std::string_view key) = 0;

  // Starts a reload of the key of `seen`, an entry a Lookup() returned (refresh-ahead of an
  // entry near its expiry). Returns kLeader, to be completed like a leader from BeginFill(): its
  // fill replaces the entry unless a write or invalidation began after it (the token rule), and
  // misses of the key meanwhile wait for it. Returns kBypass when `seen` is no longer the key's
  // entry (it was replaced, e.g. by an earlier refresh, or removed) or a load of the key is in
  // flight: the caller has nothing to do. So each entry is refreshed at most once. Never waits.
  // The default (for caches that cannot refresh) always returns kBypass. REQUIRES: seen is not
  // empty.
  virtual FillTicket BeginRefresh(const ValueRef& seen) {
    (void)seen;
    return FillTicket::Bypass();
  }

  // Completes a leader ticket: caches `*value` (if not null) with `options` unless the fill is
  // stale, then publishes `result` to the waiters (copied only if there are waiters). `value`
  // may point into `result`.
  // REQUIRES: ticket->role() == kLeader, not yet completed.
  virtual FillResult CompleteFill(FillTicket* ticket, const std::string_view* value,
                                  const EntryOptions& options,
                                  const absl::StatusOr<std::string>& result) = 0;

  // Withdraws a leader's load that will not complete (called by ~FillTicket); its waiters, if any
  // joined, receive Aborted.
  virtual void AbandonFill(const FillTicket& ticket) = 0;

  // Publishes key=value unconditionally (no token): for tools, warming with a token taken by the
  // caller is done through BeginFill/CompleteFill instead. False if too large (the key's older
  // entry, if any, is removed all the same).
  virtual bool Insert(std::string_view key, std::string_view value,
                      const EntryOptions& options) = 0;

  // Removes `key`'s entry, if any, detaches any in-flight load of it, and rejects every fill
  // whose token predates this call.
  virtual void Invalidate(std::string_view key) = 0;

  // kUpdate write path; see the file comment.
  virtual WriteToken BeginWrite(std::string_view key) = 0;
  // `db_ok`: the DB write succeeded. Then `value` is the value the DB now holds for the key, or
  // nullptr if the write deleted it; the old entry is removed and, when the write did not
  // overlap another, `*value` is cached. When the DB write failed the entry is left as it was.
  // The write ends even if EndWrite throws (e.g. std::bad_alloc building the entry): the token is
  // consumed either way and must not be passed again.
  virtual void EndWrite(const WriteToken& token, bool db_ok, const std::string_view* value,
                        const EntryOptions& options) = 0;

  // Removes every entry. Versions are kept, so in-flight fills are judged as before.
  virtual void Clear() = 0;

  // Every key may have changed and the cache was not told which (an invalidation channel was
  // lost): removes every entry, rejects every fill whose token was issued before this call,
  // ends every write in flight without installing its value (EndWrite then only removes), and
  // detaches every in-flight load, so a later miss starts a new one. Invalidate() of every key
  // at once.
  virtual void InvalidateAll() = 0;

  // The serving horizon, for a cache whose invalidations can be lost unnoticed for a while (a
  // near cache kept coherent by a heartbeat): an entry is served (by Lookup() and as
  // BeginFill()'s kHit) only while the clock reads before `nanos`, on the clock's time line.
  // Past it, each lookup answers as for a missing key (a miss; BeginFill() starts or joins a
  // load) and leaves the entry in place for whoever moves the horizon or flushes. kNoHorizon,
  // the default, serves every live entry. The check shares the expiry check's clock reading, so
  // a hit pays one atomic load for it. May be called from any thread at any time.
  static constexpr int64_t kNoHorizon = INT64_MAX;
  virtual void SetServingHorizon(int64_t nanos) = 0;

  virtual CacheStats GetStats() const = 0;
  virtual std::vector<CacheStats> GetShardStats() const = 0;

  // Up to `n` keys the eviction policy values most, hottest first (spread over shards).
  virtual std::vector<std::string> HottestKeys(size_t n) const = 0;
};

}  // namespace asidekv::cache

#endif  // ASIDEKV_CACHE_CACHE_H_
