#include "core/options_fields.h"

#include <iterator>

#include "core/field_count.h"
#include "db/postgres/conninfo.h"

namespace asidekv::core {
namespace {

using Value = OptionField::Value;

Value Size(size_t v) { return Value(uint64_t{v}); }

// The connection string without its password (which no listing may show).
std::string RedactedConninfo(const std::string& conninfo) {
  return conninfo.empty() ? std::string() : db::RedactConninfo(conninfo);
}

constexpr OptionField kOptionFields[] = {
    {"path", [](const Options& o) { return Value(o.path); }},
    {"postgres", [](const Options& o) { return Value(RedactedConninfo(o.postgres)); }},
    {"postgres_table", [](const Options& o) { return Value(o.postgres_table); }},
    {"postgres_connections",
     [](const Options& o) { return Value(int64_t{o.postgres_connections}); }},
    {"postgres_timeout", [](const Options& o) { return Value(o.postgres_timeout); }},
    {"max_staleness", [](const Options& o) { return Value(o.max_staleness); }},
    {"redis", [](const Options& o) { return Value(o.redis); }},
    {"redis_user", [](const Options& o) { return Value(o.redis_user); }},
    {"redis_password",
     [](const Options& o) { return Value(std::string(o.redis_password.empty() ? "" : "****")); }},
    {"redis_prefix", [](const Options& o) { return Value(o.redis_prefix); }},
    {"redis_connections", [](const Options& o) { return Value(int64_t{o.redis_connections}); }},
    {"redis_timeout", [](const Options& o) { return Value(o.redis_timeout); }},
    {"consistency",
     [](const Options& o) { return Value(std::string(ConsistencyName(o.consistency))); }},
    {"coherence_bound", [](const Options& o) { return Value(o.coherence_bound); }},
    {"lease_ttl", [](const Options& o) { return Value(o.lease_ttl); }},
    {"commit_log_relay", [](const Options& o) { return Value(o.commit_log_relay); }},
    {"relay_slot", [](const Options& o) { return Value(o.relay_slot); }},
    {"relay_max_lag", [](const Options& o) { return Value(o.relay_max_lag); }},
    {"create_if_missing", [](const Options& o) { return Value(o.create_if_missing); }},
    {"error_if_exists", [](const Options& o) { return Value(o.error_if_exists); }},
    {"raw_values", [](const Options& o) { return Value(o.raw_values); }},
    {"sync_writes", [](const Options& o) { return Value(o.sync_writes); }},
    {"cache_capacity_bytes", [](const Options& o) { return Size(o.cache_capacity_bytes); }},
    {"cache_shards", [](const Options& o) { return Value(int64_t{o.cache_shards}); }},
    {"eviction_policy",
     [](const Options& o) { return Value(std::string(EvictionPolicyName(o.eviction_policy))); }},
    {"default_ttl", [](const Options& o) { return Value(o.default_ttl); }},
    {"negative_ttl", [](const Options& o) { return Value(o.negative_ttl); }},
    {"ttl_jitter", [](const Options& o) { return Value(o.ttl_jitter); }},
    {"refresh_ahead",
     [](const Options& o) { return Value(std::string(RefreshAheadName(o.refresh_ahead))); }},
    {"refresh_ahead_fraction", [](const Options& o) { return Value(o.refresh_ahead_fraction); }},
    {"refresh_threads", [](const Options& o) { return Value(int64_t{o.refresh_threads}); }},
    {"refresh_queue_limit", [](const Options& o) { return Size(o.refresh_queue_limit); }},
    {"audit_fraction", [](const Options& o) { return Value(o.audit_fraction); }},
    {"audit_delay", [](const Options& o) { return Value(o.audit_delay); }},
    {"early_expiration_beta", [](const Options& o) { return Value(o.early_expiration_beta); }},
    {"hot_set_path", [](const Options& o) { return Value(o.hot_set_path); }},
    {"hot_set_keys", [](const Options& o) { return Size(o.hot_set_keys); }},
    {"hot_set_interval", [](const Options& o) { return Value(o.hot_set_interval); }},
    {"write_policy",
     [](const Options& o) { return Value(std::string(WritePolicyName(o.write_policy))); }},
    {"coalesced_wait_timeout", [](const Options& o) { return Value(o.coalesced_wait_timeout); }},
    {"max_key_size", [](const Options& o) { return Size(o.max_key_size); }},
    {"max_value_size", [](const Options& o) { return Size(o.max_value_size); }},
    {"latency_stats", [](const Options& o) { return Value(o.latency_stats); }},
    {"db_block_cache_bytes", [](const Options& o) { return Size(o.db_block_cache_bytes); }},
    {"db_point_reads_fill_block_cache",
     [](const Options& o) { return Value(o.db_point_reads_fill_block_cache); }},
    {"db_mmap_reads", [](const Options& o) { return Value(o.db_mmap_reads); }},
    {"db_block_size", [](const Options& o) { return Size(o.db_block_size); }},
    {"admin_socket", [](const Options& o) { return Value(o.admin_socket); }},
    {"metrics_address", [](const Options& o) { return Value(o.metrics_address); }},
    {"log", [](const Options& o) { return Value(std::string(o.log ? "set" : "default")); }},
};

static_assert(std::size(kOptionFields) == FieldCount<Options>(),
              "every field of Options needs a row in kOptionFields");

}  // namespace

absl::Span<const OptionField> OptionFields() { return kOptionFields; }

std::string_view EvictionPolicyName(EvictionPolicy p) {
  switch (p) {
    case EvictionPolicy::kDefault:
      return "default";
    case EvictionPolicy::kS3Fifo:
      return "s3fifo";
    case EvictionPolicy::kLru:
      return "lru";
    case EvictionPolicy::kWTinyLfu:
      return "wtinylfu";
    case EvictionPolicy::kAdaptiveS3Fifo:
      return "adaptive";
  }
  return "unknown";
}

std::string_view RefreshAheadName(RefreshAhead r) {
  switch (r) {
    case RefreshAhead::kOff:
      return "off";
    case RefreshAhead::kBackground:
      return "background";
    case RefreshAhead::kProbabilistic:
      return "probabilistic";
  }
  return "unknown";
}

std::string_view ConsistencyName(Consistency c) {
  switch (c) {
    case Consistency::kBounded:
      return "bounded";
    case Consistency::kStrict:
      return "strict";
  }
  return "unknown";
}

std::string_view WritePolicyName(WritePolicy w) {
  switch (w) {
    case WritePolicy::kInvalidate:
      return "invalidate";
    case WritePolicy::kUpdate:
      return "update";
  }
  return "unknown";
}

}  // namespace asidekv::core
