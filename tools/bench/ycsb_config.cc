#include "tools/bench/ycsb_config.h"

#include <algorithm>
#include <cstdio>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tools/bench/flags.h"
#include "tools/bench/records.h"
#include "tools/bench/redis_address.h"
#include "tools/bench/workload.h"

namespace asidekv::bench {
namespace {

absl::Status Invalid(absl::string_view flag, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("flag --", flag, ": ", message));
}

absl::Status ParseWorkloads(const std::string& text, std::vector<char>* out) {
  out->clear();
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    item = absl::StripAsciiWhitespace(item);
    if (item.size() != 1 || !FindWorkload(item[0]).has_value()) {
      return Invalid("workloads", absl::StrCat("unknown workload '", item, "' (A to F)"));
    }
    const char name = FindWorkload(item[0])->name;
    if (std::find(out->begin(), out->end(), name) != out->end()) {
      return Invalid("workloads", absl::StrCat("workload ", std::string(1, name), " twice"));
    }
    out->push_back(name);
  }
  if (out->empty()) return Invalid("workloads", "no workload given");
  return absl::OkStatus();
}

absl::Status ParseBackends(const std::string& text, std::vector<std::string>* out) {
  out->clear();
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    item = absl::StripAsciiWhitespace(item);
    const bool known = std::any_of(std::begin(kAllBackends), std::end(kAllBackends),
                                   [&](const char* name) { return item == name; });
    if (!known) {
      return Invalid(
          "backends",
          absl::StrCat("unknown backend '", item, "' (",
                       absl::StrJoin(std::begin(kAllBackends), std::end(kAllBackends), ", "), ")"));
    }
    if (std::find(out->begin(), out->end(), item) != out->end()) {
      return Invalid("backends", absl::StrCat("backend ", item, " twice"));
    }
    out->emplace_back(item);
  }
  if (out->empty()) return Invalid("backends", "no backend given");
  return absl::OkStatus();
}

// "100" or "64-256".
absl::Status ParseValueSize(const std::string& text, size_t* min, size_t* max) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, '-');
  uint64_t lo = 0;
  uint64_t hi = 0;
  bool ok = false;
  if (parts.size() == 1) {
    ok = absl::SimpleAtoi(parts[0], &lo);
    hi = lo;
  } else if (parts.size() == 2) {
    ok = absl::SimpleAtoi(parts[0], &lo) && absl::SimpleAtoi(parts[1], &hi);
  }
  if (!ok) return Invalid("value-size", absl::StrCat("expected N or MIN-MAX, got '", text, "'"));
  constexpr uint64_t kMax = 64 << 20;
  if (lo < RecordCodec::kValueHeaderSize || hi > kMax || lo > hi) {
    return Invalid("value-size", absl::StrCat("need ", RecordCodec::kValueHeaderSize,
                                              " <= MIN <= MAX <= ", kMax, ", got '", text, "'"));
  }
  *min = lo;
  *max = hi;
  return absl::OkStatus();
}

// --redis and the flags that only mean something with it.
absl::Status CheckRedisFlags(const FlagParser& flags, const std::vector<std::string>& backends,
                             const std::string& redis, const std::string& consistency,
                             absl::Duration coherence_bound, absl::Duration max_staleness,
                             absl::Duration redis_ttl) {
  auto uses = [&](const char* name) {
    return std::find(backends.begin(), backends.end(), name) != backends.end();
  };
  if (redis.empty()) {
    if (uses("redis-aside")) {
      return Invalid("redis",
                     "the redis-aside backend needs a server: give --redis=<address>, or run "
                     "tools/bench/fleet_bench.sh, which starts a private one");
    }
    for (const char* flag : {"redis-password", "consistency", "coherence-bound"}) {
      if (flags.WasSet(flag)) return Invalid(flag, "needs --redis");
    }
    return absl::OkStatus();
  }
  if (!uses("aside-postgres") && !uses("redis-aside")) {
    return Invalid("redis", "only aside-postgres and redis-aside use Redis; neither runs");
  }
  absl::StatusOr<RedisEndpoint> endpoint = ParseRedisEndpoint(redis);
  if (!endpoint.ok()) return Invalid("redis", endpoint.status().message());
  if (consistency != "bounded" && consistency != "strict") {
    return Invalid("consistency", absl::StrCat("unknown '", consistency, "' (bounded, strict)"));
  }
  if (coherence_bound < absl::Milliseconds(1) || coherence_bound > max_staleness) {
    return Invalid("coherence-bound", absl::StrCat("must be in [1ms, --max-staleness = ",
                                                   absl::FormatDuration(max_staleness), "]"));
  }
  if (redis_ttl < absl::Milliseconds(1) || redis_ttl == absl::InfiniteDuration()) {
    return Invalid("redis-ttl", "must be at least 1ms and finite");
  }
  return absl::OkStatus();
}

}  // namespace

bool IsSharedBackend(const std::string& name) {
  return name == "aside-postgres" || name == "postgres" || name == "redis-aside";
}

absl::StatusOr<std::optional<YcsbConfig>> ParseYcsbFlags(YcsbPreset preset, int argc,
                                                         const char* const* argv, int first) {
  const bool demo = preset == YcsbPreset::kDemo;
  const int64_t cpus = std::max<int64_t>(1, std::thread::hardware_concurrency());

  std::string workloads = "A,B,C,D,E,F";
  std::string backends = "aside";
  bool compare = demo;
  int64_t records = demo ? 100'000 : 1'000'000;
  int64_t operations = 0;
  // The demo: five interleaved rounds of short runs, so that its ratios are medians (three left
  // the median at the mercy of one noisy round on a two-core machine).
  absl::Duration duration = demo ? absl::Milliseconds(500) : absl::Seconds(10);
  absl::Duration warmup = demo ? absl::Milliseconds(200) : absl::Seconds(2);
  int64_t threads = std::min<int64_t>(cpus, 64);
  int64_t key_size = 16;
  std::string value_size = "100";
  std::string distribution;
  DistributionParams params;
  double cache_mb = 64;
  double cache_fraction = 0;
  double db_block_cache_mb = 8;
  std::string write_policy = "invalidate";
  std::string eviction = "default";
  std::string compression = "lz4";
  bool rocksdb_statistics = true;
  bool rocksdb_pipelined_write = false;
  bool latency_stats = true;
  bool db_point_reads_fill_block_cache = false;
  bool rocksdb_point_reads_fill_block_cache = true;
  bool db_mmap_reads = false;
  bool rocksdb_mmap_reads = false;
  int64_t db_block_size = kDefaultBlockSize;
  int64_t rocksdb_block_size = kDefaultBlockSize;
  std::string postgres;
  absl::Duration max_staleness = absl::Seconds(1);
  double audit_fraction = 0;
  absl::Duration audit_delay = absl::Seconds(1);
  std::string redis;
  std::string redis_password;
  std::string consistency = "bounded";
  absl::Duration coherence_bound = absl::Milliseconds(100);
  absl::Duration redis_ttl = absl::Hours(1);
  int64_t nodes = 1;
  int64_t rounds = demo ? 5 : 1;
  std::string db_path;
  bool keep_db = false;
  bool compact = true;
  bool prewarm = false;
  int64_t seed = 1;
  int64_t verify_every = 16;
  int64_t op_buffer = demo ? 500'000 : 1'000'000;
  std::string json_path;
  std::string svg_path;
  bool allow_debug = false;
  bool progress = true;

  FlagParser flags;
  flags.AddString("workloads", &workloads, "YCSB core workloads to run, in order: A,B,C,D,E,F");
  flags.AddString("backends", &backends,
                  "backends to run, in order: aside, rocksdb, rocksdb-rowcache, ceiling, "
                  "aside-postgres (asidekv over PostgreSQL), postgres (PostgreSQL directly), "
                  "redis-aside (PostgreSQL behind Redis, cache-aside by hand)");
  flags.AddInt("rounds", &rounds, 1, 1000,
               "run the backend list this many times, alternating, each from a fresh load; "
               "ratios are reported per round and as their median");
  flags.AddBool("compare", &compare, "run all four backends (overrides --backends)");
  flags.AddInt("records", &records, 1, int64_t{1} << 36, "records loaded before the runs");
  flags.AddInt("operations", &operations, 0, int64_t{1} << 40,
               "operations per workload (all threads); 0: run for --duration");
  flags.AddDuration("duration", &duration, "measured time per workload (without --operations)");
  flags.AddDuration("warmup", &warmup, "untimed warm-up per workload, reported separately");
  flags.AddInt("threads", &threads, 1, 1024, "client threads");
  flags.AddInt("key-size", &key_size, RecordCodec::kMinKeySize, 4096, "key size in bytes");
  flags.AddString("value-size", &value_size, "value size in bytes: N, or MIN-MAX (uniform)");
  flags.AddString("distribution", &distribution,
                  "request distribution for every workload: zipfian, uniform, latest, hotspot "
                  "(empty: YCSB's per workload: latest for D, zipfian otherwise)");
  flags.AddDouble("zipfian-theta", &params.zipfian_theta, 0.01, 0.9999,
                  "zipfian skew theta (zipfian and latest)");
  flags.AddDouble("hotspot-set-fraction", &params.hot_set_fraction, 0.0001, 1,
                  "hotspot: fraction of records that are hot");
  flags.AddDouble("hotspot-op-fraction", &params.hot_op_fraction, 0, 1,
                  "hotspot: fraction of requests that go to the hot records");
  flags.AddDouble("cache-mb", &cache_mb, 0, 1 << 30,
                  "cache under comparison in MiB (asidekv cache, rocksdb block cache, row cache)");
  flags.AddDouble("cache-fraction", &cache_fraction, 0, 1000,
                  "cache as a fraction of the data bytes (records * (key + mean value)); "
                  "overrides --cache-mb when > 0");
  flags.AddDouble("db-block-cache-mb", &db_block_cache_mb, 0, 1 << 30,
                  "RocksDB block cache behind the asidekv cache and behind the row cache, MiB");
  flags.AddString("write-policy", &write_policy, "aside: invalidate or update");
  flags.AddString("eviction", &eviction, "aside: default, adaptive, s3fifo, lru or wtinylfu");
  flags.AddString("compression", &compression,
                  "RocksDB baselines: snappy, lz4 (asidekv's), zstd or none");
  flags.AddBool("rocksdb-statistics", &rocksdb_statistics,
                "RocksDB baselines: ticker statistics for the cache hit ratio");
  flags.AddBool("latency-stats", &latency_stats,
                "aside backends: Options::latency_stats, the Store's own latency histograms (two "
                "clock reads and a histogram update per operation)");
  flags.AddBool("db-point-reads-fill-block-cache", &db_point_reads_fill_block_cache,
                "aside: Options::db_point_reads_fill_block_cache, whether the cache's misses fill "
                "the RocksDB block cache behind it (the Store's default is off)");
  flags.AddBool("rocksdb-point-reads-fill-block-cache", &rocksdb_point_reads_fill_block_cache,
                "RocksDB baselines: whether their point reads fill their block cache (RocksDB's "
                "default; off leaves plain rocksdb without a cache for point reads)");
  flags.AddBool("db-mmap-reads", &db_mmap_reads,
                "aside: Options::db_mmap_reads, RocksDB reads SST files through memory maps");
  flags.AddBool("rocksdb-mmap-reads", &rocksdb_mmap_reads,
                "RocksDB baselines: allow_mmap_reads (RocksDB's default is off)");
  flags.AddInt("db-block-size", &db_block_size, 256, int64_t{256} << 20,
               "aside: Options::db_block_size, RocksDB's SST data block size in bytes");
  flags.AddInt("rocksdb-block-size", &rocksdb_block_size, 256, int64_t{256} << 20,
               "RocksDB baselines: SST data block size in bytes");
  flags.AddBool("rocksdb-pipelined-write", &rocksdb_pipelined_write,
                "RocksDB baselines: enable_pipelined_write, as asidekv's RocksDB has it (RocksDB's "
                "default is off)");
  flags.AddString("postgres", &postgres,
                  "PostgreSQL backends: libpq connection string of the server (each backend uses "
                  "a fresh table, dropped afterwards); tools/bench/postgres_bench.sh starts a "
                  "private server and passes it");
  flags.AddDuration("max-staleness", &max_staleness,
                    "aside-postgres: Options::max_staleness (cached values live at most this "
                    "long)");
  flags.AddDouble("audit-fraction", &audit_fraction, 0, 1,
                  "aside backends: Options::audit_fraction, the share of cache hits read again "
                  "from the database --audit-delay later (the Store's audits and "
                  "audit_mismatches counters are in the JSON report)");
  flags.AddDuration("audit-delay", &audit_delay, "aside backends: Options::audit_delay");
  flags.AddString("redis", &redis,
                  "Redis server (host:port, [v6]:port or unix:/path) for aside-postgres's tier "
                  "(Options::redis) and for redis-aside; tools/bench/fleet_bench.sh starts a "
                  "private one");
  flags.AddString("redis-password", &redis_password, "Redis AUTH password (requirepass)");
  flags.AddString("consistency", &consistency,
                  "aside-postgres with --redis: bounded or strict (Options::consistency)");
  flags.AddDuration("coherence-bound", &coherence_bound,
                    "aside-postgres with --redis: Options::coherence_bound (at least 1ms, at most "
                    "--max-staleness)");
  flags.AddDuration("redis-ttl", &redis_ttl, "redis-aside: TTL of the values it sets in Redis");
  flags.AddInt("nodes", &nodes, 1, 64,
               "processes running each workload together over the same table and Redis, each "
               "with --threads threads (aside-postgres, postgres, redis-aside only); the figures "
               "are summed");
  flags.AddString("db", &db_path,
                  "folder for the databases (one sub-folder per backend); empty: a fresh "
                  "temporary folder");
  flags.AddBool("keep-db", &keep_db, "keep the databases afterwards");
  flags.AddBool("compact-after-load", &compact, "flush and compact after the load phase");
  flags.AddBool("prewarm", &prewarm,
                "read every record once after the load (not timed), e.g. to start with "
                "everything cached");
  flags.AddInt("seed", &seed, 0, INT64_MAX, "seed of the operation sequences");
  flags.AddInt("verify-every", &verify_every, 0, INT64_MAX,
               "check the value of every N-th read of each thread (0: never)");
  flags.AddInt("op-buffer", &op_buffer, 1000, int64_t{1} << 28,
               "operations pre-generated per thread with --duration (replayed in a loop)");
  flags.AddString("json", &json_path, "write every figure, the configuration and machine here");
  flags.AddString("svg", &svg_path, "draw throughput and latency percentiles here");
  flags.AddBool("allow-debug", &allow_debug, "run even in a non-Release or assertion build");
  flags.AddBool("progress", &progress, "progress line on stderr (only when it is a terminal)");

  absl::Status s = flags.Parse(argc, argv, first);
  if (!s.ok()) return s;
  if (flags.help_requested()) {
    std::printf("usage: asidekv-bench %s [--flag=value ...]\n\n%s", demo ? "demo" : "ycsb",
                flags.Usage().c_str());
    return std::optional<YcsbConfig>();
  }

  YcsbConfig config;
  s = ParseWorkloads(workloads, &config.workloads);
  if (!s.ok()) return s;
  if (compare && flags.WasSet("backends")) {
    return absl::InvalidArgumentError("give --compare or --backends, not both");
  }
  s = ParseBackends(compare ? "aside,rocksdb,rocksdb-rowcache,ceiling" : backends,
                    &config.backends);
  if (!s.ok()) return s;
  config.records = static_cast<uint64_t>(records);
  config.operations = static_cast<uint64_t>(operations);
  if (operations > 0 && flags.WasSet("duration")) {
    return absl::InvalidArgumentError("give --operations or --duration, not both");
  }
  if (operations == 0 && duration <= absl::ZeroDuration()) {
    return Invalid("duration", "must be > 0 (or give --operations)");
  }
  if (operations > 0 && operations < threads) {
    return Invalid("operations", "must be at least --threads");
  }
  config.duration = duration;
  config.warmup = warmup;
  config.threads = static_cast<int>(threads);
  config.key_size = static_cast<size_t>(key_size);
  s = ParseValueSize(value_size, &config.value_min, &config.value_max);
  if (!s.ok()) return s;
  if (!distribution.empty()) {
    config.distribution_override = ParseDistribution(distribution);
    if (!config.distribution_override.has_value()) {
      return Invalid("distribution", absl::StrCat("unknown '", distribution,
                                                  "' (zipfian, uniform, latest, hotspot)"));
    }
  }
  config.distribution = params;
  if (flags.WasSet("cache-mb") && flags.WasSet("cache-fraction")) {
    return absl::InvalidArgumentError("give --cache-mb or --cache-fraction, not both");
  }
  if (cache_fraction > 0) {
    config.cache_fraction = cache_fraction;
    config.cache_bytes = static_cast<size_t>(cache_fraction * config.DataBytes());
  } else {
    config.cache_bytes = static_cast<size_t>(cache_mb * (1 << 20));
  }
  config.db_block_cache_bytes = static_cast<size_t>(db_block_cache_mb * (1 << 20));
  if (write_policy != "invalidate" && write_policy != "update") {
    return Invalid("write-policy",
                   absl::StrCat("unknown '", write_policy, "' (invalidate, update)"));
  }
  config.write_policy = write_policy;
  if (eviction != "default" && eviction != "adaptive" && eviction != "s3fifo" &&
      eviction != "lru" && eviction != "wtinylfu") {
    return Invalid("eviction", absl::StrCat("unknown '", eviction,
                                            "' (default, adaptive, s3fifo, lru, wtinylfu)"));
  }
  config.eviction = eviction;
  if (compression != "snappy" && compression != "lz4" && compression != "zstd" &&
      compression != "none") {
    return Invalid("compression",
                   absl::StrCat("unknown '", compression, "' (snappy, lz4, zstd, none)"));
  }
  config.compression = compression;
  config.rocksdb_statistics = rocksdb_statistics;
  config.rocksdb_pipelined_write = rocksdb_pipelined_write;
  config.latency_stats = latency_stats;
  config.db_point_reads_fill_block_cache = db_point_reads_fill_block_cache;
  config.rocksdb_point_reads_fill_block_cache = rocksdb_point_reads_fill_block_cache;
  config.db_mmap_reads = db_mmap_reads;
  config.rocksdb_mmap_reads = rocksdb_mmap_reads;
  config.db_block_size = static_cast<size_t>(db_block_size);
  config.rocksdb_block_size = static_cast<size_t>(rocksdb_block_size);
  const bool uses_postgres = std::any_of(config.backends.begin(), config.backends.end(),
                                         [](const std::string& b) { return IsSharedBackend(b); });
  if (uses_postgres && postgres.empty()) {
    return Invalid("postgres",
                   "the PostgreSQL backends need a server: give --postgres=<conninfo>, or run "
                   "tools/bench/postgres_bench.sh, which starts a private one");
  }
  config.postgres = postgres;
  if (max_staleness <= absl::ZeroDuration() || max_staleness == absl::InfiniteDuration()) {
    return Invalid("max-staleness", "must be positive and finite");
  }
  config.max_staleness = max_staleness;
  if (audit_delay <= absl::ZeroDuration() || audit_delay > absl::Hours(1)) {
    return Invalid("audit-delay", "must be positive and at most 1h");
  }
  config.audit_fraction = audit_fraction;
  config.audit_delay = audit_delay;
  s = CheckRedisFlags(flags, config.backends, redis, consistency, coherence_bound, max_staleness,
                      redis_ttl);
  if (!s.ok()) return s;
  config.redis = redis;
  config.redis_password = redis_password;
  config.strict = consistency == "strict";
  config.coherence_bound = coherence_bound;
  config.redis_ttl = redis_ttl;
  if (nodes > 1) {
    for (const std::string& b : config.backends) {
      if (!IsSharedBackend(b)) {
        return Invalid("nodes", absl::StrCat("backend ", b,
                                             " keeps its data in this process; --nodes needs "
                                             "shared backends (aside-postgres, postgres, "
                                             "redis-aside)"));
      }
    }
  }
  if (operations > 0 && operations < threads * nodes) {
    return Invalid("operations", "must be at least --threads times --nodes");
  }
  config.nodes = static_cast<int>(nodes);
  config.rounds = static_cast<int>(rounds);
  config.db_path = db_path;
  config.keep_db = keep_db;
  config.compact_after_load = compact;
  config.prewarm = prewarm;
  config.seed = static_cast<uint64_t>(seed);
  config.verify_every = static_cast<uint64_t>(verify_every);
  config.op_buffer = static_cast<uint64_t>(op_buffer);
  config.json_path = json_path;
  config.svg_path = svg_path;
  config.allow_debug = allow_debug;
  config.progress = progress;
  return std::optional<YcsbConfig>(std::move(config));
}

}  // namespace asidekv::bench
