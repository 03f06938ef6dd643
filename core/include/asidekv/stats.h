// Counters and gauges of a Store, as returned by Store::GetStats().
//
// Counters count events since Open(); gauges describe the cache right now. The comment on each
// field names the event that bumps it. This header compiles as C++17.

#ifndef ASIDEKV_STATS_H_
#define ASIDEKV_STATS_H_

#include <cstdint>

#include "absl/types/span.h"
#include "asidekv/export.h"

namespace asidekv {

// Latency percentiles of one operation type, in nanoseconds, since Open(). The histogram has
// log-linear buckets, so each figure is within 1/16 (6.25%) above the true value.
struct LatencySummary {
  uint64_t count = 0;
  uint64_t p50_ns = 0;
  uint64_t p99_ns = 0;
  uint64_t p999_ns = 0;
  uint64_t max_ns = 0;
};

struct Stats {
  // A Get (or one key of a MultiGet) answered from the cache, including a cached "not found".
  uint64_t cache_hits = 0;
  // A Get (or one key of a MultiGet) the cache could not answer.
  uint64_t cache_misses = 0;
  // A key read from RocksDB on behalf of a miss (one per key, also inside a MultiGet) or of a
  // refresh (Options::refresh_ahead). Reads by warming are counted in warm_reads instead.
  uint64_t db_reads = 0;
  // A miss that waited for another caller's in-flight read of the same key instead of reading
  // the DB itself.
  uint64_t coalesced_waits = 0;
  // An entry removed to make room (the eviction policy chose it).
  uint64_t evictions = 0;
  // An entry removed because its TTL ran out (found by a lookup or by the background sweep).
  uint64_t expirations = 0;
  // A fill refused because a write or invalidation of its key began after the read it carries.
  uint64_t stale_fills_rejected = 0;
  // Entries in the cache now.
  uint64_t cache_entries = 0;
  // Bytes charged to the cache now: for each entry key + value + its bookkeeping overhead.
  uint64_t cache_bytes = 0;
  // The configured cache budget (Options::cache_capacity_bytes).
  uint64_t cache_capacity_bytes = 0;

  // Writes: Put, Delete, and each Write(batch) call, successful or not.
  uint64_t puts = 0;
  uint64_t deletes = 0;
  uint64_t batches = 0;
  // Write calls that returned an error from the DB (the cache was left untouched).
  uint64_t write_errors = 0;
  // Entries put in the cache by reads (fills) and by kUpdate writes.
  uint64_t cache_inserts = 0;
  // Entries refused because they are larger than a cache shard can hold.
  uint64_t cache_rejected_oversize = 0;

  // Refresh-ahead (Options::refresh_ahead). A reload started because a hit found its entry near
  // expiry (kBackground: queued; kProbabilistic: run by the reader); each reads the DB once.
  uint64_t refreshes = 0;
  // A kBackground reload not run because the refresh queue was full (or the Store closing).
  uint64_t refreshes_dropped = 0;
  // A kProbabilistic hit that drew "reload now" (an XFetch early expiration); it becomes a
  // refresh unless a load of the key is already in flight.
  uint64_t early_expirations = 0;
  // Warming (Store::Warm, Store::WarmPrefix, the hot set on open): keys read from the DB, and
  // entries put in the cache (a key already cached or written meanwhile is not counted).
  uint64_t warm_reads = 0;
  uint64_t warmed_keys = 0;

  // Consistency audit (Options::audit_fraction): sampled hits read again from the database, those
  // whose value the database no longer held, and samples dropped because too many waited.
  uint64_t audits = 0;
  uint64_t audit_mismatches = 0;
  uint64_t audits_dropped = 0;

  // The Redis tier (Options::redis); all zero without one. A miss of this Store's cache that
  // Redis answered (remote_hits), or whose Redis lease this Store won and so read the database
  // (remote_leases_won); a lease another Store held, so this one waited and asked again
  // (remote_lease_waits); a fill Redis refused because a write deleted the lease meanwhile
  // (remote_fills_rejected); a Redis call that failed or was skipped while Redis counted as
  // down (remote_errors: the read went to the database).
  uint64_t remote_hits = 0;
  uint64_t remote_leases_won = 0;
  uint64_t remote_lease_waits = 0;
  uint64_t remote_fills_rejected = 0;
  uint64_t remote_errors = 0;
  // Keys the invalidation channel dropped from this Store's cache (others' writes, and echoes
  // of this Store's own); flushes of the whole cache because the channel was lost, lapsed or
  // told of a FLUSHALL; heartbeat lapses among them. On a Redis Cluster, changes of the slot
  // map this Store followed (cluster_topology_changes: each one flushed the cache, counted in
  // coherence_flushes too).
  uint64_t invalidations_received = 0;
  uint64_t coherence_flushes = 0;
  uint64_t heartbeat_lapses = 0;
  uint64_t cluster_topology_changes = 0;
  // Keys whose Redis invalidation failed after their write committed; this Store reads them
  // from the database, bypassing Redis, until a retry lands (owed_keys: now, a gauge).
  uint64_t owed_invalidations = 0;
  uint64_t owed_keys = 0;

  // The commit-log relay (Options::commit_log_relay); all zero without it. relay_leader: 1 while
  // this Store is the one relaying (a gauge). A committed transaction of the table relayed
  // (relay_transactions); a key it changed, UNLINKed in Redis by the relay
  // (relay_invalidations); a flush of every key under redis_prefix, which every Store's cache
  // follows (relay_flushes: the slot was created or lost, a TRUNCATE, or the relay fell more
  // than relay_max_lag behind). Its lag: relay_lag below.
  uint64_t relay_leader = 0;
  uint64_t relay_transactions = 0;
  uint64_t relay_invalidations = 0;
  uint64_t relay_flushes = 0;

  LatencySummary get_latency;
  LatencySummary put_latency;
  LatencySummary delete_latency;
  // The commit-log relay's lag per transaction, from its commit to Redis's acknowledgement of
  // its invalidation, while this Store relayed (as a histogram on the metrics endpoint).
  LatencySummary relay_lag;
};

// One counter or gauge of Stats, for code that lists them all (the admin endpoint, metrics
// exporters, benchmarks), so that no listing can forget a field.
struct StatField {
  const char* name;  // The field's name, e.g. "cache_hits".
  // true: a counter (monotonic since Open()); false: a gauge (a value now).
  bool counter;
  const char* help;  // One line.
  uint64_t Stats::*member;
};

// One latency summary of Stats.
struct LatencyField {
  const char* op;  // "get", "put", "delete" or "relay_lag".
  LatencySummary Stats::*member;
};

// Every uint64_t field of Stats, in declaration order, and every LatencySummary field. Together
// they list every field of Stats: the library does not compile when a field has no row.
ASIDEKV_EXPORT absl::Span<const StatField> StatFields();
ASIDEKV_EXPORT absl::Span<const LatencyField> LatencyFields();

}  // namespace asidekv

#endif  // ASIDEKV_STATS_H_
