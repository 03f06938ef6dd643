// YcsbConfig: everything `asidekv-bench ycsb` was asked to do, parsed and validated from its
// flags. Parsing never aborts: a bad flag comes back as InvalidArgument (exit code 2).

#ifndef ASIDEKV_TOOLS_BENCH_YCSB_CONFIG_H_
#define ASIDEKV_TOOLS_BENCH_YCSB_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tools/bench/backend.h"
#include "tools/bench/key_distribution.h"

namespace asidekv::bench {

inline constexpr const char* kAllBackends[] = {
    "aside", "rocksdb", "rocksdb-rowcache", "ceiling", "aside-postgres", "postgres", "redis-aside"};

// The backends over a shared database, which --nodes processes can share.
bool IsSharedBackend(const std::string& name);

struct YcsbConfig {
  std::vector<char> workloads;        // 'A'..'F', in run order
  std::vector<std::string> backends;  // names from kAllBackends, in run order
  // Times the backend list runs, alternating (a, b, a, b, ...), each time from a fresh load.
  int rounds = 1;
  uint64_t records = 0;
  uint64_t operations = 0;  // per workload, all threads; 0: run for `duration`
  absl::Duration duration;
  absl::Duration warmup;
  int threads = 1;
  size_t key_size = 16;
  size_t value_min = 100;
  size_t value_max = 100;
  // The request distribution: each workload's own (YCSB's), unless overridden.
  std::optional<Distribution> distribution_override;
  DistributionParams distribution;  // theta and hotspot fractions (distribution unused)
  size_t cache_bytes = 0;
  std::optional<double> cache_fraction;  // when the cache was sized as a fraction of the data
  size_t db_block_cache_bytes = 0;
  std::string write_policy;  // aside: "invalidate" or "update"
  std::string eviction;      // aside: "default", "adaptive", "s3fifo", "lru" or "wtinylfu"
  std::string compression;   // RocksDB baselines
  bool rocksdb_statistics = true;
  bool rocksdb_pipelined_write = false;              // RocksDB baselines
  bool latency_stats = true;                         // aside backends: Options::latency_stats
  bool db_point_reads_fill_block_cache = false;      // aside: the Options field of that name
  bool rocksdb_point_reads_fill_block_cache = true;  // RocksDB baselines: their point reads
  bool db_mmap_reads = false;                        // aside: Options::db_mmap_reads
  bool rocksdb_mmap_reads = false;                   // RocksDB baselines: allow_mmap_reads
  size_t db_block_size = kDefaultBlockSize;          // aside: Options::db_block_size
  size_t rocksdb_block_size = kDefaultBlockSize;     // RocksDB baselines: block_size
  std::string postgres;                              // PostgreSQL backends: libpq connection string
  absl::Duration max_staleness;                      // aside-postgres: Options::max_staleness
  double audit_fraction = 0;                         // aside backends: Options::audit_fraction
  absl::Duration audit_delay;                        // and Options::audit_delay
  // Redis: aside-postgres's tier (Options::redis) and redis-aside's cache; empty: none.
  std::string redis;
  std::string redis_password;
  bool strict = false;             // aside-postgres: Consistency::kStrict
  absl::Duration coherence_bound;  // aside-postgres: Options::coherence_bound
  absl::Duration redis_ttl;        // redis-aside: the TTL of the values it sets
  // Processes sharing the backend's tables (and Redis), each with `threads` threads; 1: this
  // process alone.
  int nodes = 1;
  std::string db_path;  // empty: a fresh temporary folder
  bool keep_db = false;
  bool compact_after_load = true;
  bool prewarm = false;  // read every record once after the load, untimed
  uint64_t seed = 1;
  uint64_t verify_every = 16;
  uint64_t op_buffer = 0;  // operations generated per thread in --duration mode
  std::string json_path;
  std::string svg_path;
  bool allow_debug = false;
  bool progress = true;

  // Bytes of the records: records * (key size + mean value size).
  double DataBytes() const {
    return static_cast<double>(records) * (key_size + (value_min + value_max) / 2.0);
  }
};

// Which preset fills the defaults before the flags apply.
enum class YcsbPreset {
  kYcsb,  // `ycsb`: 1M records, 10 s per workload, backend aside.
  kDemo,  // `demo`: a ~30 s --compare tour of A-F on 100k records.
};

// Parses argv[first..argc). Returns nullopt when --help was asked for (after printing usage to
// stdout); InvalidArgument naming the flag for any bad input.
absl::StatusOr<std::optional<YcsbConfig>> ParseYcsbFlags(YcsbPreset preset, int argc,
                                                         const char* const* argv, int first);

}  // namespace asidekv::bench

#endif  // ASIDEKV_TOOLS_BENCH_YCSB_CONFIG_H_
