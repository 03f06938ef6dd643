// Options for opening an asidekv Store.
//
// Options is a plain struct: set the fields you care about and pass it to Store::Open(), which
// validates every field once and returns InvalidArgument naming the first bad one. Each field's
// comment gives its default and unit. Durations are kept in whole nanoseconds: a positive
// duration must be at least 1ns (or absl::InfiniteDuration()); a finite one beyond about 292
// years counts as infinite. This header compiles as C++17.

#ifndef ASIDEKV_OPTIONS_H_
#define ASIDEKV_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/time/time.h"

namespace asidekv {

// What a successful Put/Delete does to the key's cache entry.
enum class WritePolicy {
  // Drop the cache entry; the next Get reads the DB and refills. Simplest and safest.
  kInvalidate,
  // Replace the cache entry with the written value, so the next Get is a hit. When two writers
  // of one key overlap, neither installs its value (the key is left invalidated), because only
  // the DB knows which of them landed last.
  kUpdate,
};

// Which keys the cache keeps when it is full.
enum class EvictionPolicy {
  kDefault,   // The recommended policy (currently kAdaptiveS3Fifo); may change between releases.
  kS3Fifo,    // S3-FIFO: small probationary FIFO, main FIFO with reinsertion, ghost queue.
  kLru,       // Plain least-recently-used; kept as a baseline.
  kWTinyLfu,  // W-TinyLFU: frequency-sketch admission, window sized by hill climbing.
  kAdaptiveS3Fifo,  // S3-FIFO whose small/main split follows ghost hits (ARC's rule).
};

// How a Store refreshes cache entries before their TTL runs out, so that a hot key does not
// send a crowd of misses to the DB when it expires (README: "Stampedes and cold starts").
enum class RefreshAhead {
  // Entries are reloaded only after they expire. No cost on hits.
  kOff,
  // Stale-while-revalidate: a hit on an entry with less than refresh_ahead_fraction of its TTL
  // left returns the cached value at once and queues one background reload of the key on the
  // Store's refresh threads (at most one per key at a time; misses meanwhile wait for it).
  kBackground,
  // Probabilistic early expiration (XFetch, Vattani et al., VLDB 2015): a hit reloads the key
  // itself, before returning, with a probability that rises as expiry nears, scaled by
  // early_expiration_beta and the measured DB read time. No background threads.
  kProbabilistic,
};

// What a Store with a Redis tier (Options::redis) promises to Gets on other Stores that share
// its database. Both keep the promise within one Store unchanged: a Get that starts after a write
// of this Store returned sees it (or something newer), even with Redis down.
enum class Consistency {
  // A Get that starts at least coherence_bound after a write returned, on any Store, sees it.
  // The write costs one Redis round trip beyond the database's commit.
  kBounded,
  // A write returns only once no Store can serve the value it replaced: a Get that starts after
  // it returned, on any Store, sees it. The write waits coherence_bound after its invalidation
  // reached Redis; if Redis cannot be reached within redis_timeout it returns Unavailable (the
  // write is committed; other Stores see it within max_staleness).
  kStrict,
};

// How serious a message from the library is (see Options::log).
enum class LogSeverity {
  kInfo,     // Something an operator may want to know (e.g. the metrics endpoint's address).
  kWarning,  // Something went wrong and the Store carries on (e.g. a corrupt hot-set file).
  kError,    // Something went wrong that the Store cannot work around.
};

// Receives every message the library emits. `message` is one line without a trailing newline
// and without the "asidekv: " prefix; it is valid only during the call. Called from any of the
// Store's threads (background threads included), possibly concurrently: it must be thread-safe,
// must not block for long and must not call back into the Store.
using LogFunction = std::function<void(LogSeverity severity, std::string_view message)>;

struct Options {
  // The source of truth is one of: a RocksDB folder at `path` (the embedded default), a
  // PostgreSQL table (`postgres`), or a Database the application passes to Store::Open(options,
  // database) (then both are empty). Exactly one.

  // Folder of the RocksDB database; its parent folder must exist. Required unless `postgres` is
  // set or a Database is passed to Open.
  std::string path;

  // PostgreSQL connection string, in libpq's keyword/value or URI form (e.g.
  // "host=/run/postgresql dbname=app user=app", "postgresql://app@db.example/app"): the data
  // then lives in the table `postgres_table` of that database, which any number of Stores, in
  // any number of processes, may share (see max_staleness). The schema is in the README. The
  // password, if any, never appears in an error, a log line or the admin endpoint's output.
  // Default: empty (no PostgreSQL).
  std::string postgres;

  // PostgreSQL: the table that holds the data, with its sequence `<postgres_table>_version`;
  // both are created by Open when missing (if create_if_missing). A lowercase SQL identifier:
  // [a-z_][a-z0-9_]*, at most 48 bytes. Default: "asidekv".
  std::string postgres_table = "asidekv";

  // PostgreSQL: connections kept open; each operation holds one for its round trips. In
  // [1, 256]. Default: 4.
  int postgres_connections = 4;

  // PostgreSQL: how long one operation may wait for the server (connect, query, result) before
  // it fails with DeadlineExceeded or Unavailable; a stalled server never hangs a caller longer.
  // Positive and finite. Default: 10 seconds.
  absl::Duration postgres_timeout = absl::Seconds(10);

  // With a shared source of truth (PostgreSQL, or a Database whose IsShared() is true) and the
  // cache on: the longest a cache entry may serve a value after another process overwrote or
  // deleted it in the database. A Get that starts at least max_staleness after such a write
  // returned sees it, on every Store; the Store that wrote sees its own writes at once. Every
  // cache entry is kept at most max_staleness from the moment its database read began. Required
  // (positive, finite) then; ignored otherwise. Default: zero (unset).
  absl::Duration max_staleness = absl::ZeroDuration();

  // A Redis server shared by the Stores of a shared database, as a second cache tier with
  // leases and push invalidation (README: "Many instances"): a miss in this Store's cache reads
  // Redis; a miss there takes a lease and only the lease holder, fleet-wide, reads the database
  // and fills Redis. Every write deletes the key from Redis after the database commit, and Redis
  // pushes that to every Store, whose cache drops the key within `coherence_bound` (see
  // `consistency`); a Store whose invalidation channel is lost or silent serves no cache hit
  // until it is back. Redis down or unreachable makes reads slower, never wrong: they go to the
  // database, and writes still succeed (in kBounded). The server must not persist (save "",
  // appendonly no: a restart would restore values deleted since). Forms: "HOST:PORT",
  // "[IPv6]:PORT", "unix:/path/to/socket", or a Redis Cluster
  // "redis-cluster://HOST:PORT,HOST:PORT,..." (seed nodes; the masters are read from any one of
  // them with CLUSTER SLOTS). A cluster must have masters only (no replicas: their asynchronous
  // failover loses invalidations), each without persistence; keys go to their slot's master
  // (MOVED and ASK followed), this Store tracks invalidations on every master, and a change of
  // the slot map or a lost master flushes this Store's cache, which serves no hit until every
  // master's invalidation channel answers again. Needs a shared database. Default: empty (no
  // Redis).
  std::string redis;
  // AUTH: `redis_password` alone (requirepass), or with `redis_user` (an ACL user). The
  // password never appears in an error, a log line or the admin endpoint's output. Default:
  // empty (no AUTH).
  std::string redis_user;
  std::string redis_password;
  // Namespace of this data set's keys in Redis ("<prefix>:v:{key}", "<prefix>:l:{key}", and the
  // write markers "<prefix>:w:{key}" the Stores' invalidation channels track): Stores
  // of one database use the same prefix; different databases sharing a Redis use different
  // ones. Non-empty, without '{' or '}'. Default: "akv".
  std::string redis_prefix = "akv";
  // Redis data connections kept open, in [1, 256] (plus one for invalidations). Default: 4.
  int redis_connections = 4;
  // How long one Redis round trip may take before it fails and Redis counts as down (reads go
  // to the database) for a backoff of 100 ms doubling to 2 s. Positive, finite. Default: 1 s.
  absl::Duration redis_timeout = absl::Seconds(1);
  // What a write promises to other Stores; see Consistency. Default: kBounded.
  Consistency consistency = Consistency::kBounded;
  // Δ: the invalidation channel is pinged every coherence_bound / 4, and this Store's cache
  // serves a hit only while it has had an answer to a ping sent within the last
  // coherence_bound. At least 1 ms, at most max_staleness. Default: 100 ms.
  absl::Duration coherence_bound = absl::Milliseconds(100);
  // How long a miss's Redis lease lasts: the longest other Stores wait for its holder's
  // database read before reading the database themselves (kBounded) or taking the lease over
  // (kStrict). At least 1 ms, finite. Default: 500 ms.
  absl::Duration lease_ttl = absl::Milliseconds(500);

  // The commit-log relay (README: "Many instances"): one Store at a time among those sharing
  // the table (leadership through a PostgreSQL advisory lock; when the leader's session ends,
  // another Store takes over within about a second) reads PostgreSQL's logical decoding of the
  // table (the test_decoding plugin) and UNLINKs every changed key in Redis, at least once and
  // in commit order, which also drops it from every Store's cache. It covers writers that crash
  // between their commit and their invalidation, writers that cannot reach Redis, and writes
  // other programs make to the table (a TRUNCATE, or a change whose key it cannot read,
  // flushes every key under redis_prefix). What it adds to each mode: in kBounded, a write whose
  // writer crashed or could not reach Redis is seen everywhere within the relay's lag +
  // coherence_bound (Stats::relay_lag; instead of max_staleness); kStrict is unchanged for
  // writes that return (they still wait for their own invalidation).
  // Needs postgres and redis, and a server with wal_level = logical, max_replication_slots > 0
  // and max_wal_senders > 0 (else Open fails with FailedPrecondition naming the setting, before
  // anything is created). Opt-in because the relay's replication slot keeps WAL on the server
  // while no relay reads it (every Store closed): set max_slot_wal_keep_size on the server to
  // cap that; a slot that falls further behind is lost, and the next relay flushes the tiers
  // and creates a new one. Dropping the slot (pg_drop_replication_slot) when the relay is
  // retired frees the WAL. Default: false.
  bool commit_log_relay = false;
  // The relay's replication slot, one per table: 1 to 63 bytes of [a-z0-9_]. Empty:
  // "asidekv_relay_<postgres_table>". Default: empty.
  std::string relay_slot;
  // A relay that receives a change committed longer than this ago flushes the tiers (every key
  // under redis_prefix) and skips to the end of the log, rather than replaying a backlog while
  // the values it invalidates are still served. At least 1 ms, finite. Default: 10 seconds.
  absl::Duration relay_max_lag = absl::Seconds(10);

  // Create the database if `path` holds none; with PostgreSQL, create the table and its sequence
  // when missing. Default: true.
  bool create_if_missing = true;

  // Fail Open() if a database already exists at `path` (RocksDB only). Default: false.
  bool error_if_exists = false;

  // Store values in RocksDB as they are, without asidekv's value header. For a folder written
  // by another RocksDB program (which Open() otherwise refuses, as it lacks asidekv's format
  // marker): its values are read as they are, and asidekv's writes stay readable by that
  // program. A new folder opened this way is marked raw, and a folder's mode is checked on
  // every Open (FailedPrecondition on a mismatch, nothing written). No per-key TTL in this mode:
  // Put(key, value, cache_ttl) returns FailedPrecondition. Default: false.
  bool raw_values = false;

  // fsync the write-ahead log before each write returns (RocksDB only: PostgreSQL's durability is
  // the server's synchronous_commit). Default: false (a crash of the machine, not of the process,
  // may lose the last writes).
  bool sync_writes = false;

  // Cache budget in bytes, charged key + value + per-entry bookkeeping (see Stats::cache_bytes).
  // 0 disables the cache: every read goes to the DB. Default: 64 MiB.
  size_t cache_capacity_bytes = 64 << 20;

  // Number of cache shards; a power of two, at most 1024. 0: chosen from the hardware
  // concurrency (4 shards per hardware thread, at least 16), raised so that no shard holds more
  // than 8 MiB (up to 1024 shards), capped so that each shard keeps at least 256 KiB. An entry
  // larger than its shard is not cached.
  // Default: 0.
  int cache_shards = 0;

  // Eviction policy of the cache. Default: kDefault.
  EvictionPolicy eviction_policy = EvictionPolicy::kDefault;

  // Time-to-live of a cache entry filled by a read or written by kUpdate. Infinite: entries live
  // until evicted or invalidated. Must be positive. Default: infinite.
  absl::Duration default_ttl = absl::InfiniteDuration();

  // Time-to-live of a cached "not found". Zero: absence is never cached. Default: zero.
  absl::Duration negative_ttl = absl::ZeroDuration();

  // Each finite TTL is stretched by a random factor in [1 - ttl_jitter, 1], so keys filled
  // together do not all expire together. In [0, 1). Default: 0 (no jitter).
  double ttl_jitter = 0;

  // Early refresh of entries with a TTL (entries without one are never refreshed). Default:
  // kOff.
  RefreshAhead refresh_ahead = RefreshAhead::kOff;

  // kBackground: a hit refreshes the entry when less than this fraction of its TTL is left. In
  // (0, 1). Default: 0.2.
  double refresh_ahead_fraction = 0.2;

  // kBackground: threads that run reloads, in [1, 16], and reloads that may wait for one, at
  // least 1; a refresh that finds the queue full is dropped (Stats::refreshes_dropped) and the
  // entry expires as usual. Defaults: 1 thread, 1024 queued.
  int refresh_threads = 1;
  size_t refresh_queue_limit = 1024;

  // kProbabilistic: XFetch's beta. A hit with `remaining` time to live reloads when
  // reload_time * beta * -ln(U(0,1)) >= remaining, where reload_time is a moving average of
  // this Store's DB reads. Above 1 favours earlier reloads. Positive. Default: 1.
  double early_expiration_beta = 1.0;

  // Consistency audit (after Polaris): this fraction of cache hits, in [0, 1], is read again from
  // the database audit_delay later, on a thread of the Store's own; a value the database no
  // longer holds counts in Stats::audit_mismatches (Stats::audits: hits checked). A write of the
  // key in between counts too, so the figure bounds from above the hits that served a value
  // older than the database's; keep audit_delay well under the keys' rewrite interval and, to
  // watch a promise, at least its bound (max_staleness, or coherence_bound with a Redis tier).
  // A hit costs one thread-local random draw; a sampled one copies its key. 0: off (no thread).
  // Defaults: 0, 1 s (positive, at most 1 hour).
  double audit_fraction = 0;
  absl::Duration audit_delay = absl::Seconds(1);

  // Warm restart: file where the Store records up to hot_set_keys of its hottest keys (by the
  // eviction policy's frequency data) on close and every hot_set_interval. On Open, the keys
  // found there are loaded into the cache by a background thread while the Store serves
  // requests. A missing, truncated or corrupt file (each file carries a checksum) is ignored
  // with a warning (see `log`). Empty: no hot set. Default: empty.
  std::string hot_set_path;
  // Most keys recorded in the hot set. At least 1. Default: 10000.
  size_t hot_set_keys = 10000;
  // How often the hot set is recorded while open. Infinite: only on close. Positive. Default:
  // 5 minutes.
  absl::Duration hot_set_interval = absl::Minutes(5);

  // What a write does to the cache. Default: kInvalidate.
  WritePolicy write_policy = WritePolicy::kInvalidate;

  // How long a Get that found another Get already loading the same key waits for that load
  // before reading the DB itself. Infinite: wait for the load. Default: infinite.
  absl::Duration coalesced_wait_timeout = absl::InfiniteDuration();

  // Largest key accepted, in bytes (keys may not be empty). With PostgreSQL, at most 2048 (a
  // key must fit in a B-tree index entry): a larger value is lowered to 2048, as options()
  // shows. Default: 1 MiB.
  size_t max_key_size = 1 << 20;

  // Largest value accepted, in bytes. Default: 256 MiB.
  size_t max_value_size = size_t{256} << 20;

  // Record per-operation latency histograms (Stats::get_latency etc.). Costs two reads of the
  // CPU's time-stamp counter per operation (of steady_clock where the kernel does not keep time
  // with that counter) and a histogram update. Default: true.
  bool latency_stats = true;

  // RocksDB block cache in bytes (the DB's own cache of SST blocks, separate from the asidekv
  // cache above; RocksDB only). Default: 8 MiB.
  size_t db_block_cache_bytes = 8 << 20;

  // Whether the cache's misses (the DB's point reads) put the blocks they read into that block
  // cache; scans always do. Off, the block cache keeps what scans reuse instead of one 4 KiB
  // block per missed row, whose row the cache above already keeps. Turn it on when
  // db_block_cache_bytes is large beside cache_capacity_bytes. With the cache off
  // (cache_capacity_bytes = 0) point reads fill it whatever this says. RocksDB only.
  // Default: false.
  bool db_point_reads_fill_block_cache = false;

  // Size of RocksDB's SST data blocks (db::DbOptions::block_size). Smaller blocks make the
  // cache's misses cheaper (a point read copies and searches one block) but take more memory for
  // the index, compress worse and cost scans more blocks; in [256 B, 256 MiB]. RocksDB only.
  // Default: 4 KiB.
  size_t db_block_size = 4 << 10;

  // RocksDB reads SST files through memory maps instead of a pread per block (RocksDB's
  // allow_mmap_reads): cheaper misses, but an I/O error under a mapped page (a failing disk)
  // ends the process with SIGBUS instead of returning an error. RocksDB only. Default: false.
  bool db_mmap_reads = false;

  // Path of a Unix domain socket on which the Store serves admin requests (stats, get, peek,
  // invalidate, warm, hot, metrics...; see core/admin_protocol.h and the asidekv-admin tool).
  // Created with mode 0600 and removed when the Store closes; an existing non-socket file there
  // is never replaced. At most 107 bytes (sockaddr_un). Empty: no admin endpoint. Default: empty.
  std::string admin_socket;

  // Address of an HTTP endpoint serving `GET /metrics` in the Prometheus text format (every
  // Stats field, latency histograms, per-shard and database gauges; the README lists them).
  // Needs asidekv::EnableMetricsEndpoint() (<asidekv/metrics.h>, link asidekv::metrics). Forms:
  // "PORT" or ":PORT" (loopback, 127.0.0.1), "HOST:PORT" with HOST an IPv4 literal or
  // "localhost", "[IPv6]:PORT". Port 0 picks a free port, reported through `log` (kInfo). Use
  // "0.0.0.0:PORT" to serve other machines: the endpoint has no authentication. Empty: no
  // endpoint. Default: empty.
  std::string metrics_address;

  // Where the library's messages go (warnings about the hot-set file, the metrics endpoint's
  // address and errors...). Empty: each is written to stderr as one line "asidekv: SEVERITY:
  // MESSAGE". Default: empty.
  LogFunction log;
};

}  // namespace asidekv

#endif  // ASIDEKV_OPTIONS_H_
