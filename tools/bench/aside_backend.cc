#include "tools/bench/aside_backend.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "tools/bench/postgres_backend.h"

namespace asidekv::bench {

Options AsideBackend::StoreOptions(const BackendOptions& options) {
  Options store_options;
  store_options.create_if_missing = true;
  store_options.cache_capacity_bytes = options.cache_bytes;
  store_options.db_block_cache_bytes = options.db_block_cache_bytes;
  store_options.write_policy =
      options.write_policy_update ? WritePolicy::kUpdate : WritePolicy::kInvalidate;
  store_options.eviction_policy = options.eviction == "lru"        ? EvictionPolicy::kLru
                                  : options.eviction == "s3fifo"   ? EvictionPolicy::kS3Fifo
                                  : options.eviction == "wtinylfu" ? EvictionPolicy::kWTinyLfu
                                  : options.eviction == "adaptive" ? EvictionPolicy::kAdaptiveS3Fifo
                                                                   : EvictionPolicy::kDefault;
  store_options.audit_fraction = options.audit_fraction;
  store_options.audit_delay = options.audit_delay;
  store_options.latency_stats = options.latency_stats;
  store_options.db_point_reads_fill_block_cache = options.db_point_reads_fill_block_cache;
  store_options.db_mmap_reads = options.db_mmap_reads;
  store_options.db_block_size = options.db_block_size;
  return store_options;
}

absl::StatusOr<std::unique_ptr<AsideBackend>> AsideBackend::Open(const BackendOptions& options) {
  Options store_options = StoreOptions(options);
  store_options.path = options.path;
  store_options.error_if_exists = true;
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(store_options);
  if (!store.ok()) return store.status();
  return std::unique_ptr<AsideBackend>(new AsideBackend(*std::move(store)));
}

absl::StatusOr<size_t> AsideBackend::Scan(std::string_view start, size_t count) {
  ScanOptions options;
  options.start = std::string(start);
  options.limit = count;
  absl::StatusOr<std::vector<KeyValue>> pairs = store_->Scan(options);
  if (!pairs.ok()) return pairs.status();
  return pairs->size();
}

absl::Status AsideBackend::LoadBatch(absl::Span<const std::string> keys,
                                     absl::Span<const std::string> values) {
  WriteBatch batch;
  for (size_t i = 0; i < keys.size(); ++i) batch.Put(keys[i], values[i]);
  return store_->Write(batch);
}

absl::Status AsideBackend::AfterLoad(bool compact) {
  absl::Status s = store_->Flush();
  if (!s.ok()) return s;
  if (compact) {
    s = store_->CompactAll();
    if (!s.ok()) return s;
  }
  // Every backend starts its runs with a cold cache; the warm-up fills it.
  store_->ClearCache();
  return absl::OkStatus();
}

CacheCounters AsideBackend::Counters() const {
  const Stats stats = store_->GetStats();
  CacheCounters counters;
  counters.hits = stats.cache_hits;
  counters.misses = stats.cache_misses;
  counters.db_reads = stats.db_reads;
  return counters;
}

std::vector<std::pair<std::string, std::string>> AsideBackend::Describe() const {
  const Options& o = store_->options();
  std::vector<std::pair<std::string, std::string>> out = {
      {"cache_capacity_bytes", absl::StrCat(o.cache_capacity_bytes)},
      {"cache_shards", absl::StrCat(o.cache_shards)},
      {"db_block_cache_bytes", absl::StrCat(o.db_block_cache_bytes)},
      {"write_policy", o.write_policy == WritePolicy::kUpdate ? "update" : "invalidate"},
      {"eviction_policy", o.eviction_policy == EvictionPolicy::kLru        ? "lru"
                          : o.eviction_policy == EvictionPolicy::kWTinyLfu ? "wtinylfu"
                          : o.eviction_policy == EvictionPolicy::kS3Fifo   ? "s3fifo"
                                                                           : "adaptive"},
      {"latency_stats", o.latency_stats ? "on" : "off"},
      {"db_point_reads_fill_block_cache", o.db_point_reads_fill_block_cache ? "on" : "off"},
      {"db_mmap_reads", o.db_mmap_reads ? "on" : "off"},
      {"db_block_size", absl::StrCat(o.db_block_size)},
  };
  if (o.audit_fraction > 0) {
    out.emplace_back("audit_fraction", absl::StrCat(o.audit_fraction));
    out.emplace_back("audit_delay", absl::FormatDuration(o.audit_delay));
  }
  return out;
}

absl::StatusOr<std::unique_ptr<AsidePostgresBackend>> AsidePostgresBackend::Open(
    const BackendOptions& options) {
  if (options.postgres.empty()) {
    return absl::InvalidArgumentError("the aside-postgres backend needs --postgres=<conninfo>");
  }
  const bool existing = !options.existing_table.empty();
  Options store_options = StoreOptions(options);
  store_options.postgres = options.postgres;
  store_options.postgres_table = existing ? options.existing_table : FreshTableName();
  store_options.create_if_missing = !existing;
  store_options.postgres_connections = std::max(1, options.threads);
  store_options.max_staleness = options.max_staleness;
  if (!options.redis.empty()) {
    store_options.redis = options.redis;
    store_options.redis_password = options.redis_password;
    // A fresh namespace per table, so that no earlier backend's values help this one.
    store_options.redis_prefix = store_options.postgres_table;
    store_options.redis_connections = std::max(1, options.threads);
    store_options.consistency = options.strict ? Consistency::kStrict : Consistency::kBounded;
    store_options.coherence_bound = options.coherence_bound;
  }
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(store_options);
  if (!store.ok()) return store.status();
  return std::unique_ptr<AsidePostgresBackend>(
      new AsidePostgresBackend(*std::move(store), options.keep_tables || existing));
}

CacheCounters AsidePostgresBackend::Counters() const {
  CacheCounters counters = AsideBackend::Counters();
  if (!store_->options().redis.empty()) counters.remote_hits = store_->GetStats().remote_hits;
  return counters;
}

const std::string& AsidePostgresBackend::table() const { return store_->options().postgres_table; }

AsidePostgresBackend::~AsidePostgresBackend() {
  const std::string conninfo = store_->options().postgres;
  const std::string table = store_->options().postgres_table;
  store_.reset();
  if (!keep_table_) DropPostgresTable(conninfo, table).IgnoreError();
}

std::vector<std::pair<std::string, std::string>> AsidePostgresBackend::Describe() const {
  std::vector<std::pair<std::string, std::string>> out = AsideBackend::Describe();
  const Options& o = store_->options();
  out.erase(std::remove_if(out.begin(), out.end(),
                           [](const auto& p) { return p.first == "db_block_cache_bytes"; }),
            out.end());
  out.emplace_back("postgres_table", o.postgres_table);
  out.emplace_back("postgres_connections", absl::StrCat(o.postgres_connections));
  out.emplace_back("max_staleness", absl::FormatDuration(o.max_staleness));
  if (!o.redis.empty()) {
    out.emplace_back("redis_prefix", o.redis_prefix);
    out.emplace_back("redis_connections", absl::StrCat(o.redis_connections));
    out.emplace_back("consistency", o.consistency == Consistency::kStrict ? "strict" : "bounded");
    out.emplace_back("coherence_bound", absl::FormatDuration(o.coherence_bound));
  }
  return out;
}

}  // namespace asidekv::bench
