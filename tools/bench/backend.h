// What every benchmark backend shares: how it is configured and what it reports.
//
// A backend is a class with this shape (no base class: the runner is a template per backend, so
// the inner loop makes direct, inlinable calls):
//
//   static constexpr std::string_view kName;
//   static absl::StatusOr<std::unique_ptr<B>> Open(const BackendOptions& options);
//   bool SupportsScan() const;
//   absl::Status Read(std::string_view key, std::string* value);   // OK, NotFound or an error
//   absl::Status Write(std::string_view key, std::string_view value);
//   absl::StatusOr<size_t> Scan(std::string_view start, size_t count);   // pairs returned
//   absl::Status LoadBatch(absl::Span<const std::string> keys,
//                          absl::Span<const std::string> values);
//   absl::Status AfterLoad(bool compact);   // flush (and compact) before the runs
//   CacheCounters Counters() const;         // cumulative since Open
//   std::vector<std::pair<std::string, std::string>> Describe() const;   // its configuration
//
// The shared backends (over PostgreSQL) also have `std::string table() const`: the table they
// use, which other processes may open with BackendOptions::existing_table.
//
// Thread safety: Read/Write/Scan/LoadBatch/Counters may be called from every benchmark thread
// at once. Open/AfterLoad run alone.

#ifndef ASIDEKV_TOOLS_BENCH_BACKEND_H_
#define ASIDEKV_TOOLS_BENCH_BACKEND_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"

namespace asidekv::bench {

// The SST block size asidekv's RocksDB and plain RocksDB use unless told otherwise (4 KiB,
// RocksDB's default and Options::db_block_size's).
inline constexpr size_t kDefaultBlockSize = 4096;

struct BackendOptions {
  // Folder for the backend's data (DB backends). Its parent exists; the folder does not yet.
  std::string path;
  // The cache under comparison: asidekv's cache, the RocksDB block cache of `rocksdb`, or the
  // row cache of `rocksdb-rowcache`.
  size_t cache_bytes = 64 << 20;
  // RocksDB block cache behind asidekv (Options::db_block_cache_bytes) and behind the row cache
  // of `rocksdb-rowcache`, so those two spend the same memory.
  size_t db_block_cache_bytes = 8 << 20;
  // aside: WritePolicy::kUpdate instead of kInvalidate.
  bool write_policy_update = false;
  // aside: "default", "adaptive", "s3fifo", "lru" or "wtinylfu".
  std::string eviction = "default";
  // Benchmark threads (the ceiling backend locks only when there are 2 or more).
  int threads = 1;
  // RocksDB baselines: "snappy", "lz4", "zstd" or "none".
  std::string compression = "lz4";
  // RocksDB baselines: collect ticker statistics (for the block/row cache hit ratio).
  bool rocksdb_statistics = true;
  // aside backends: Options::latency_stats (the Store's own latency histograms).
  bool latency_stats = true;
  // RocksDB baselines: DBOptions::enable_pipelined_write, which asidekv's RocksDB sets (RocksDB's
  // default, and so the baselines' unless asked, is off).
  bool rocksdb_pipelined_write = false;
  // aside: Options::db_point_reads_fill_block_cache (the Store's default, off).
  bool db_point_reads_fill_block_cache = false;
  // RocksDB baselines: ReadOptions::fill_cache of their point reads (RocksDB's default, on).
  // Off, the row cache's misses leave the block cache to scans as asidekv's do; plain rocksdb
  // then has no cache for point reads at all.
  bool rocksdb_point_reads_fill_block_cache = true;
  // aside: Options::db_mmap_reads; RocksDB baselines: allow_mmap_reads (both off by default).
  bool db_mmap_reads = false;
  bool rocksdb_mmap_reads = false;
  // aside: Options::db_block_size; RocksDB baselines: BlockBasedTableOptions::block_size.
  size_t db_block_size = kDefaultBlockSize;
  size_t rocksdb_block_size = kDefaultBlockSize;
  // PostgreSQL backends (aside-postgres, postgres, redis-aside): the server's libpq connection
  // string. Each Open uses a fresh table, dropped when the backend is destroyed unless
  // keep_tables.
  std::string postgres;
  bool keep_tables = false;
  // Non-empty: open over this existing, loaded table instead (the processes of --nodes share
  // the table their parent loaded); it is neither created nor dropped.
  std::string existing_table;
  // aside-postgres: Options::max_staleness.
  absl::Duration max_staleness = absl::Seconds(1);
  // aside, aside-postgres: Options::audit_fraction and audit_delay (0: no audit).
  double audit_fraction = 0;
  absl::Duration audit_delay = absl::Seconds(1);
  // Redis (aside-postgres: Options::redis, its tier; redis-aside: the cache it reads first):
  // "host:port", "[v6]:port" or "unix:/path"; empty: none. Keys live under a prefix named
  // after the table, so each table (a backend in a round) starts with nothing in Redis.
  std::string redis;
  std::string redis_password;
  // aside-postgres with Redis: Consistency::kStrict instead of kBounded, and coherence_bound.
  bool strict = false;
  absl::Duration coherence_bound = absl::Milliseconds(100);
  // redis-aside: the TTL of the values it sets in Redis (SET ... PX).
  absl::Duration redis_ttl = absl::Hours(1);
};

// Cumulative counters; the runner subtracts a snapshot taken before the measured run.
struct CacheCounters {
  // Cache lookups answered / not answered by the cache under comparison; nullopt when the
  // backend has no such figure.
  std::optional<uint64_t> hits;
  std::optional<uint64_t> misses;
  // Keys read from RocksDB or PostgreSQL. nullopt: every point read goes to the database (the
  // runner counts them).
  std::optional<uint64_t> db_reads;
  // Reads answered by Redis after a miss of the in-process cache (aside-postgres with Redis), or
  // Redis GETs that found the key (redis-aside); nullopt without Redis. The Redis hit ratio is
  // remote_hits / (remote_hits + db_reads): a read Redis did not answer reads the database.
  std::optional<uint64_t> remote_hits;
};

}  // namespace asidekv::bench

#endif  // ASIDEKV_TOOLS_BENCH_BACKEND_H_
