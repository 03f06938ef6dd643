// Shard: one lock's worth of the cache: a table of entries, their eviction policy, their
// expiry index, in-flight fills and recent-write versions.
//
// Design
//   Everything lives under one Mutex (util/mutex.h) per shard; ShardedCache spreads keys over
//   shards by the top bits of a 64-bit key hash so that threads rarely meet on one lock. New
//   entries are built before locking and removed entries are released after unlocking; the
//   allocations made under the lock are a table rebuild's array, a miss's registration (its key
//   in the flight map) and, when a second caller joins the load, its Flight.
//
//   Hits take no lock, when the policy allows it (EvictionPolicy::FreqOnlyAccessCap: S3-FIFO; LRU
//   and W-TinyLFU keep the locked hit). The table is an EntryTable (cache/entry_table.h), which
//   readers probe while writers change it under the lock. A lock-free hit is: enter an epoch
//   guard (util/epoch.h: one store to the thread's own record), load the serving horizon, probe,
//   compare the key, check expiry and the horizon (the clock is read only for entries that have a
//   TTL, or while a horizon is set), bump the node's freq byte if below the cap (a relaxed load,
//   and a relaxed store only when it changes), add a reference, count the hit in the shard's hit
//   stripe of the thread, leave the guard. It writes no line another hit writes except the
//   entry's reference count (and a freq byte that is at its cap on hot keys). Anything else (a
//   miss, an expired or withheld entry, no free epoch record, a policy without a cap) takes the
//   locked path, which probes again and does what it always did. BeginFill's hit case probes the
//   same way before locking.
//
//   Removal (eviction, expiry, invalidation, replacement, Clear) unlinks an entry from the table
//   and policy under the lock, uncharges it at once, and retires the table's reference to the
//   shard's RetireList: it is dropped (Unref, after unlocking) only once every reader that could
//   have loaded the pointer has left its guard. Replaced table arrays are retired the same way.
//   The list is collected when it holds kRetireBatch entries or 1/kRetireShare of the capacity in
//   charge, and after Clear(); so at most about that much memory beyond the budget waits for
//   readers (as entries pinned by ValueRefs do), and only while a reader is inside a guard.
//
// Invariants of the lock-free hit (each also holds for the locked path)
//   - A pointer a reader loads inside its guard is to an entry whose table reference has not been
//     dropped (retired entries are released only after the grace period), so refs >= 1 and
//     Ref() is safe; every entry is released exactly once, by its last reference.
//   - A lookup that begins after Invalidate(), EndWrite(), Insert(), InvalidateAll() or Clear()
//     returned never returns the entry they removed: the store that overwrote its slot (or the
//     emptied array) was seq_cst and came before the call returned, and the probe reads it.
//   - Entries are immutable once published except `refs` (atomic) and the policy's node; the
//     reader touches the node's freq byte only, with relaxed atomics; the expiry is set before
//     the entry is published (Entry::New). An expired entry is never served; past the serving
//     horizon nothing is served (the horizon is loaded, acquire, before the probe, so invalidations
//     applied before it moved are seen).
//   - hits = stats_.hits (locked hits) + the stripes' hits, misses = stats_.misses + the stripes'
//     misses (LookupCopy's lock-free misses); the stripes are relaxed counters summed by
//     GetStats(): a lookup that returned before GetStats() began is counted.
//
//   Budget: after every publish the policy evicts until charge <= capacity, so the charged total
//   never exceeds the capacity once the call returns (there is no slack: an entry whose charge
//   alone exceeds the capacity is refused). Entries evicted while readers hold ValueRefs stay in
//   memory, uncharged, until the last reader releases them.
//
//   Bookkeeping: when charges are bytes (`charge_bookkeeping`), everything else the shard holds
//   counts in the same budget: the version records (KeyVersions::MemoryBytes), the policy's own
//   memory (the S3-FIFO ghost set, bounded to 1/kGhostShare of the capacity), and (through the
//   entry's charge, see kExpiryIndexOverhead in cache/sharded_cache.h) the expiry index.
//   In-flight loads are not counted: they last one DB read, and their number is bounded by the
//   callers (threads, a warming batch), not by the cache. Every call that may add
//   bookkeeping evicts entries until charge + bookkeeping <= capacity, where the policy's part
//   is counted at what it will hold once full (EvictionPolicy::FullMemoryBytes at the entries'
//   mean charge), not at what it holds yet. The ghost set grows after the entries have filled the
//   budget; had the entries filled it all, the ghost's growth would evict entries whose freed
//   blocks the allocator keeps for later entries of their size, and the process would hold both
//   (RSS up to 1.12x the budget with S3-FIFO, tools/bench_cache/cache_rss_budget). Set aside
//   first, the ghost grows into memory the entries never took. The version table keeps
//   at most capacity / kVersionShare / KeyVersions::kBytesPerRecord records (at least
//   kMinTrackedVersions unless that is over 1/8 of the capacity, at most the configured bound),
//   plus one per key with a write in flight. The policy sizes its queues for the capacity less the
//   bookkeeping's bounds, so that S3-FIFO's small/main split is of what entries may use. When
//   charges are not bytes (a trace replay's weight of 1 per entry) none of this applies: the budget
//   counts entries only. A shard of capacity 0 (a disabled cache) takes no fills and keeps no
//   version table.
//
//   Expiry: entries with a TTL are also indexed by expiry time. Lookups drop an expired entry
//   they find; every publish also reclaims up to two expired entries from the front of the index
//   (amortised sweeping), and SweepExpired() reclaims more on demand (tests, tools). Dead entries
//   stay charged until reclaimed, so they never push memory past the budget, and no background
//   thread or table scan is needed.
//
// Thread safety: all public methods lock mu_, except the lock-free probe of Lookup() and
//   BeginFill(). Lock order: a Shard's mu_ is a leaf (no other lock
//   is taken while it is held, except a Flight's mutex is never taken under it either).

#ifndef ASIDEKV_CACHE_SHARD_H_
#define ASIDEKV_CACHE_SHARD_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "cache/cache.h"
#include "cache/clock.h"
#include "cache/entry.h"
#include "cache/entry_table.h"
#include "cache/eviction_policy.h"
#include "cache/fill_flight.h"
#include "cache/key_versions.h"
#include "util/epoch.h"
#include "util/hash.h"
#include "util/mutex.h"

namespace asidekv::cache {

using util::Mutex;
using util::MutexLock;

// A key with its precomputed 64-bit hash (HashKey).
struct HashedKey {
  std::string_view key;
  uint64_t hash;
};

// The cache's key hash (util/hash.h): shards use its top bits, tables its low bits, policies
// all of it.
using util::HashKey;
using util::StringViewEq;
using util::StringViewHash;

class Shard {
 public:
  // Bookkeeping bounds, as shares of a byte-charged shard's capacity (see the design comment).
  static constexpr uint64_t kGhostShare = 8;
  static constexpr uint64_t kVersionShare = 64;
  static constexpr size_t kMinTrackedVersions = 16;
  // Retired entries are collected at this many, or at 1/kRetireShare of the capacity in charge.
  static constexpr size_t kRetireBatch = 32;
  static constexpr uint64_t kRetireShare = 64;
  // Counters of lock-free hits, one cache line each, picked by the thread's epoch record.
  static constexpr size_t kHitStripes = 8;

  // `clock` is borrowed and must outlive the shard. `charge_bookkeeping`: charges are bytes, and
  // the shard's own bookkeeping counts in the budget.
  // `horizon`: the cache's serving horizon (Cache::SetServingHorizon), read on lookups.
  Shard(uint64_t capacity, PolicyKind policy, Clock* clock, const std::atomic<int64_t>* horizon,
        size_t max_tracked_versions, bool charge_bookkeeping);
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  ValueRef Lookup(const HashedKey& k) ABSL_LOCKS_EXCLUDED(mu_);
  // Lookup() that copies the entry's value to *value and its tag to *tag instead of returning a
  // reference; false on a miss (*value and *tag untouched). A lock-free hit copies inside its
  // epoch guard and adds no reference, so hits of one key from many threads write no shared line.
  // When the lock-free probe finds no entry of the key, the miss is answered without the lock
  // (counted in the thread's stripe), so a key being replaced at that moment, or whose entry an
  // erasure of another key is moving back (EntryTable::Find), may read as a miss; a caller that
  // fills after a miss (BeginFill) probes again under the lock. An expired or withheld entry
  // takes the locked path as in Lookup().
  bool LookupCopy(const HashedKey& k, std::string* value, uint8_t* tag) ABSL_LOCKS_EXCLUDED(mu_);

  // Hit, waiter or leader (see FillTicket). `cache` is stored in leader tickets.
  FillTicket BeginFill(Cache* cache, const HashedKey& k) ABSL_LOCKS_EXCLUDED(mu_);
  // Leader (a new flight) if `seen` is still k's entry and no flight is registered; else bypass.
  FillTicket BeginRefresh(Cache* cache, const HashedKey& k, const Entry* seen)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Publishes `e` (refs == 1, adopted) if `token` is still valid for its key, withdraws the
  // load (WithdrawFill) and returns the outcome. `e` may be null (nothing to cache). `charge` is
  // e's. *flight: the load's Flight, for the caller to publish to (null when nobody joined).
  FillResult CompleteFill(const HashedKey& k, uint64_t token, Entry* e, uint32_t charge,
                          std::shared_ptr<Flight>* flight) ABSL_LOCKS_EXCLUDED(mu_);
  // Withdraws the load of `k` led under `token`, whether it is still registered or was detached
  // with waiters. Returns its Flight, for the caller to publish to (null when nobody joined, or
  // when it was withdrawn before).
  std::shared_ptr<Flight> WithdrawFill(const HashedKey& k, uint64_t token) ABSL_LOCKS_EXCLUDED(mu_);

  // Publishes `e` unconditionally. False (and e released) if too large, or if `e` is null (a
  // value too large to build an entry for); then the key's older entry, if any, is removed too.
  bool Insert(const HashedKey& k, Entry* e, uint32_t charge) ABSL_LOCKS_EXCLUDED(mu_);

  // Counts a value refused before it reached the shard (too large to build an entry for).
  void CountRejectedTooLarge() ABSL_LOCKS_EXCLUDED(mu_);

  void Invalidate(const HashedKey& k) ABSL_LOCKS_EXCLUDED(mu_);
  std::pair<uint64_t, bool> BeginWrite(const HashedKey& k) ABSL_LOCKS_EXCLUDED(mu_);
  // `e`: the written value's entry (adopted), or null for a delete; ignored unless db_ok.
  void EndWrite(const HashedKey& k, uint64_t version, bool solo, bool db_ok, Entry* e,
                uint32_t charge) ABSL_LOCKS_EXCLUDED(mu_);

  void Clear() ABSL_LOCKS_EXCLUDED(mu_);
  // Clear() that also rejects every fill token issued so far and every write in flight, and
  // detaches every in-flight load (Cache::InvalidateAll).
  void InvalidateAll() ABSL_LOCKS_EXCLUDED(mu_);
  size_t SweepExpired(size_t max_entries) ABSL_LOCKS_EXCLUDED(mu_);
  CacheStats GetStats() const ABSL_LOCKS_EXCLUDED(mu_);
  void HottestKeys(size_t n, std::vector<std::string>* out) const ABSL_LOCKS_EXCLUDED(mu_);

  uint64_t capacity() const { return capacity_; }

 private:
  // What a call releases after unlocking: entries removed or refused (an Unref each), and retired
  // objects whose grace period has passed.
  using Garbage = absl::InlinedVector<util::Retired, 4>;
  static util::Retired UnrefLater(Entry* e) { return {e, &UnrefEntry, 0}; }
  static void UnrefEntry(void* e) { static_cast<Entry*>(e)->Unref(); }

  struct alignas(64) HitStripe {
    std::atomic<uint64_t> hits{0};
    std::atomic<uint64_t> misses{0};  // LookupCopy's lock-free misses (the key is absent).
  };
  // Counts a lock-free hit (or miss) by the thread holding epoch record `thread_index`. Records
  // are held by one live thread each (handed over with release/acquire), so the first
  // kHitStripes - 1 stripes each have one writer at a time and need no atomic read-modify-write;
  // the other threads share the last stripe.
  static void CountIn(std::atomic<uint64_t>& n, uint32_t thread_index) {
    if (thread_index < kHitStripes - 1) {
      n.store(n.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    } else {
      n.fetch_add(1, std::memory_order_relaxed);
    }
  }
  HitStripe& StripeOf(uint32_t thread_index) {
    return hit_stripes_[thread_index < kHitStripes - 1 ? thread_index : kHitStripes - 1];
  }
  void CountLockFreeHit(uint32_t thread_index) {
    CountIn(StripeOf(thread_index).hits, thread_index);
  }
  void CountLockFreeMiss(uint32_t thread_index) {
    CountIn(StripeOf(thread_index).misses, thread_index);
  }

  // A registered load: its leader's token, and the Flight its waiters block on (made by the first
  // caller that joins; null while the leader loads alone).
  struct InFlight {
    uint64_t token = 0;
    std::shared_ptr<Flight> flight;
  };

  // Whether a lookup may return `e`: kServed; kExpired (its TTL passed: remove it); kWithheld
  // (past the serving horizon: answer a miss and leave it).
  enum class Servable { kServed, kExpired, kWithheld };
  Servable ServableLocked(const Entry* e) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // As ServableLocked, against a horizon the caller loaded. Needs no lock.
  Servable ServableAt(const Entry* e, int64_t horizon) const;
  // The live, servable entry of `k`, found without the lock, readable while `guard` is held; or
  // null (then the caller takes the locked path: also when the guard is inactive or the policy
  // has no lock-free hit). `count_hit`: tell the policy and count the hit. `absent` (if not
  // null): set when the probe found no entry of the key at all.
  Entry* LockFreeFind(const HashedKey& k, const util::EpochGuard& guard, bool count_hit,
                      bool* absent = nullptr);
  // LockFreeFind with a reference added (for the caller to adopt), or null.
  Entry* LockFreeHit(const HashedKey& k, bool count_hit);
  // Lookup's locked path: probes again under mu_, removes an expired entry.
  ValueRef LookupLocked(const HashedKey& k) ABSL_LOCKS_EXCLUDED(mu_);
  // The table, for the lock-free probe (EntryTable::Find needs no lock; see its header).
  const EntryTable& UnlockedTable() const ABSL_NO_THREAD_SAFETY_ANALYSIS { return table_; }
  // Removes `e` (whose key hashes to `hash`) from the table, the policy and the expiry index; its
  // table reference is retired (or goes to `garbage` when no lock-free reader can hold it).
  // `evicted`: chosen by the policy (it is already unlinked there).
  void RemoveLocked(Entry* e, uint64_t hash, bool evicted, Garbage* garbage)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Removes the entry of `k` if present. Returns whether there was one.
  bool EraseLocked(const HashedKey& k, Garbage* garbage) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Publishes `e` (replacing any entry of its key), then evicts to budget.
  void PublishLocked(const HashedKey& k, Entry* e, uint32_t charge, Garbage* garbage)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Detaches the load registered for `key`, if any (a write or invalidation began): later misses
  // start a new one. A Flight with waiters moves to orphans_ for its leader. Returns whether a
  // load was registered.
  bool DetachFlightLocked(std::string_view key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Detaches every registered load (InvalidateAll).
  void DetachAllFlightsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // WithdrawFill under the lock.
  std::shared_ptr<Flight> WithdrawFillLocked(std::string_view key, uint64_t token)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  size_t SweepLocked(size_t max_entries, Garbage* garbage) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Removes every entry; returns how many there were.
  size_t ClearLocked(Garbage* garbage) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Heap bytes of the bookkeeping held now (0 unless charge_bookkeeping_).
  uint64_t BookkeepingBytesLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The bookkeeping bytes the budget sets aside: the version records held now, and what the
  // policy will hold once full (FullMemoryBytes at the entries' mean charge), which is at least
  // what it holds now (0 unless charge_bookkeeping_).
  uint64_t BudgetedBookkeepingLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Evicts until charge + budgeted bookkeeping <= capacity (or no entry is left); updates the
  // gauges.
  void EvictToBudgetLocked(Garbage* garbage) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Registers a new flight for `k` in `slot` (just inserted in flights_) and returns its ticket.
  FillTicket NewFlightLocked(Cache* cache, const HashedKey& k, InFlight* slot)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves the retired objects whose grace period passed to `garbage`.
  void CollectRetiredLocked(Garbage* garbage) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static void Release(const Garbage& garbage);

  // Constant after construction.
  const uint64_t capacity_;
  const bool charge_bookkeeping_;
  Clock* const clock_;                         // Not owned; outlives the shard.
  const std::atomic<int64_t>* const horizon_;  // The cache's; outlives the shard.
  // Null when the shard is disabled (capacity 0).
  const std::unique_ptr<KeyVersions> versions_ ABSL_PT_GUARDED_BY(mu_);

  mutable Mutex mu_;
  // Written under mu_; probed without it too (UnlockedTable).
  EntryTable table_ ABSL_GUARDED_BY(mu_);
  // Entries (their table reference) and table arrays unlinked, waiting for readers to leave.
  util::RetireList retired_ ABSL_GUARDED_BY(mu_);
  uint64_t retired_charge_ ABSL_GUARDED_BY(mu_) = 0;
  size_t retire_threshold_ ABSL_GUARDED_BY(mu_) = kRetireBatch;
  std::unique_ptr<EvictionPolicy> policy_ ABSL_GUARDED_BY(mu_);
  // The policy's FreqOnlyAccessCap(), constant: 0 when hits take the lock.
  const uint8_t freq_cap_;
  absl::btree_set<std::pair<int64_t, Entry*>> expiry_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, InFlight, StringViewHash, StringViewEq> flights_
      ABSL_GUARDED_BY(mu_);
  // Flights of loads detached while they had waiters, by token, until their leaders withdraw them.
  absl::flat_hash_map<uint64_t, std::shared_ptr<Flight>> orphans_ ABSL_GUARDED_BY(mu_);
  uint64_t untracked_tokens_ ABSL_GUARDED_BY(mu_) = 0;  // Tokens of a shard without versions_.
  uint64_t charge_ ABSL_GUARDED_BY(mu_) = 0;
  CacheStats stats_ ABSL_GUARDED_BY(mu_);  // hits: the locked hits only.
  HitStripe hit_stripes_[kHitStripes];     // Lock-free hits.
};

}  // namespace asidekv::cache

#endif  // ASIDEKV_CACHE_SHARD_H_
