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
  // aside: "default", "s3fifo" or "lru".
  std::string eviction = "default";
  // Benchmark threads (the ceiling backend locks only when there are 2 or more).
  int threads = 1;
  // RocksDB baselines: "snappy", "lz4", "zstd" or "none".
  std::string compression = "lz4";
  // RocksDB baselines: collect ticker statistics (for the block/row cache hit ratio).
  bool rocksdb_statistics = true;
  // PostgreSQL backends (aside-postgres, postgres): the server's libpq connection string. Each
  // Open uses a fresh table, dropped when the backend is destroyed unless keep_tables.
  std::string postgres;
  bool keep_tables = false;
  // aside-postgres: Options::max_staleness.
  absl::Duration max_staleness = absl::Seconds(1);
};

// Cumulative counters; the runner subtracts a snapshot taken before the measured run.
struct CacheCounters {
  // Cache lookups answered / not answered by the cache under comparison; nullopt when the
  // backend has no such figure.
  std::optional<uint64_t> hits;
  std::optional<uint64_t> misses;
  // Keys read from RocksDB. nullopt: every point read goes to RocksDB (the runner counts them).
  std::optional<uint64_t> db_reads;
};

}  // namespace asidekv::bench

#endif  // ASIDEKV_TOOLS_BENCH_BACKEND_H_
