#include "core/options_validation.h"

#include <sys/un.h>

#include <bit>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cache/sharded_cache.h"
#include "db/postgres/change_feed.h"
#include "db/rocks_db.h"
#include "remote/redis_config.h"
#include "util/string_view.h"

namespace asidekv::core {
namespace {

absl::Status Bad(const std::string& msg) {
  return absl::InvalidArgumentError(absl::StrCat("invalid Options: ", msg));
}

// A lowercase SQL identifier that needs no quoting, short enough for "<table>_version".
absl::Status CheckPostgresTable(const std::string& t) {
  bool ok = !t.empty() && t.size() <= 48 && !(t[0] >= '0' && t[0] <= '9');
  for (char c : t) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  if (ok) return absl::OkStatus();
  return Bad(absl::StrCat(
      "postgres_table must match [a-z_][a-z0-9_]* and be at most 48 bytes, got \"", t, "\""));
}

// A positive finite duration of at least `least`.
absl::Status CheckBoundedDuration(absl::Duration d, std::string_view what, absl::Duration least) {
  if (d >= least && d < absl::InfiniteDuration()) return absl::OkStatus();
  return Bad(absl::StrCat(util::ToAbsl(what), " must be finite and at least ",
                          absl::FormatDuration(least), ", got ", absl::FormatDuration(d)));
}

absl::Status CheckRedis(const Options& o) {
  absl::StatusOr<std::vector<remote::RedisAddress>> addresses =
      remote::ParseRedisAddresses(o.redis);
  if (!addresses.ok()) return Bad(absl::StrCat("redis: ", addresses.status().message()));
  if (o.redis_prefix.empty() || o.redis_prefix.find_first_of("{}") != std::string::npos) {
    return Bad(absl::StrCat("redis_prefix must be non-empty without '{' or '}', got \"",
                            o.redis_prefix, "\""));
  }
  if (!o.redis_user.empty() && o.redis_password.empty()) {
    return Bad("redis_user is set without redis_password (AUTH needs both)");
  }
  if (o.redis_connections < 1 || o.redis_connections > 256) {
    return Bad(absl::StrCat("redis_connections must be in [1, 256], got ", o.redis_connections));
  }
  switch (o.consistency) {
    case Consistency::kBounded:
    case Consistency::kStrict:
      break;
    default:
      return Bad("consistency is not a known mode");
  }
  absl::Status s = CheckBoundedDuration(o.redis_timeout, "redis_timeout", absl::Milliseconds(1));
  if (s.ok()) s = CheckBoundedDuration(o.coherence_bound, "coherence_bound", absl::Milliseconds(1));
  if (s.ok()) s = CheckBoundedDuration(o.lease_ttl, "lease_ttl", absl::Milliseconds(1));
  return s;
}

}  // namespace

absl::Status CheckStalenessBound(const Options& o, bool shared) {
  if (!o.redis.empty() && !shared) {
    return Bad(
        "redis is set but the database is not shared: a Redis tier serves Stores of one shared "
        "database (PostgreSQL, or a Database whose IsShared() is true)");
  }
  if (!shared || o.cache_capacity_bytes == 0 || o.max_staleness > absl::ZeroDuration()) {
    if (!o.redis.empty() && o.max_staleness > absl::ZeroDuration() &&
        o.coherence_bound > o.max_staleness) {
      return Bad(absl::StrCat("coherence_bound (", absl::FormatDuration(o.coherence_bound),
                              ") exceeds max_staleness (", absl::FormatDuration(o.max_staleness),
                              ")"));
    }
    return absl::OkStatus();
  }
  return Bad(
      "max_staleness is required with a database other processes write too (PostgreSQL) while "
      "the cache is on: it bounds how long a cached value may outlive another process's write "
      "(or set cache_capacity_bytes to 0)");
}

absl::Status CheckDuration(absl::Duration d, std::string_view what, bool zero_ok) {
  if (d == absl::InfiniteDuration()) return absl::OkStatus();
  if (d == absl::ZeroDuration() && zero_ok) return absl::OkStatus();
  if (d < absl::Nanoseconds(1)) {
    return absl::InvalidArgumentError(
        absl::StrCat(util::ToAbsl(what), " must be ", zero_ok ? "zero, " : "",
                     "at least 1ns or absl::InfiniteDuration(), got ", absl::FormatDuration(d)));
  }
  return absl::OkStatus();
}

absl::Status ValidateOptions(const Options& o, bool database_given) {
  if (database_given && (!o.path.empty() || !o.postgres.empty())) {
    return Bad(absl::StrCat(o.path.empty() ? "postgres" : "path",
                            " is set, but a Database was passed to Store::Open: a Store has one "
                            "source of truth"));
  }
  if (!database_given && o.path.empty() && o.postgres.empty()) {
    return Bad("path is empty (a RocksDB folder), and so is postgres (a PostgreSQL database)");
  }
  if (!o.path.empty() && !o.postgres.empty()) {
    return Bad("path and postgres are both set: a Store has one source of truth");
  }
  if (!o.path.empty() && (o.db_block_size < db::DbOptions::kMinBlockSize ||
                          o.db_block_size > db::DbOptions::kMaxBlockSize)) {
    return Bad(absl::StrCat("db_block_size must be in [", db::DbOptions::kMinBlockSize, ", ",
                            db::DbOptions::kMaxBlockSize, "], got ", o.db_block_size));
  }
  if (!o.postgres.empty()) {
    absl::Status s = CheckPostgresTable(o.postgres_table);
    if (!s.ok()) return s;
    if (o.postgres_connections < 1 || o.postgres_connections > 256) {
      return Bad(
          absl::StrCat("postgres_connections must be in [1, 256], got ", o.postgres_connections));
    }
    s = CheckDuration(o.postgres_timeout, "postgres_timeout", /*zero_ok=*/false);
    if (s.ok() && o.postgres_timeout == absl::InfiniteDuration()) {
      s = absl::InvalidArgumentError("postgres_timeout must be finite");
    }
    if (!s.ok()) return Bad(std::string(s.message()));
  }
  {
    absl::Status s = CheckDuration(o.max_staleness, "max_staleness", /*zero_ok=*/true);
    if (s.ok() && o.max_staleness == absl::InfiniteDuration()) {
      s = absl::InvalidArgumentError("max_staleness must be finite (zero: unset)");
    }
    if (!s.ok()) return Bad(std::string(s.message()));
  }
  if (!o.redis.empty()) {
    absl::Status r = CheckRedis(o);
    if (!r.ok()) return r;
  }
  if (o.commit_log_relay) {
    if (o.postgres.empty() || o.redis.empty()) {
      return Bad(
          "commit_log_relay needs postgres (the log it reads) and redis (the tier it "
          "invalidates)");
    }
    if (!o.relay_slot.empty()) {
      absl::Status r = db::ChangeFeed::ValidateSlotName(o.relay_slot);
      if (!r.ok()) return Bad(absl::StrCat("relay_slot: ", r.message()));
    }
    absl::Status r = CheckBoundedDuration(o.relay_max_lag, "relay_max_lag", absl::Milliseconds(1));
    if (!r.ok()) return r;
  }
  if (o.cache_shards < 0 || o.cache_shards > 1024 ||
      (o.cache_shards > 0 && !std::has_single_bit(static_cast<unsigned>(o.cache_shards)))) {
    return Bad(
        absl::StrCat("cache_shards must be 0 or a power of two up to 1024, got ", o.cache_shards));
  }
  if (o.cache_capacity_bytes > 0) {
    const uint64_t shards = o.cache_shards > 0 ? static_cast<uint64_t>(o.cache_shards) : 1;
    const uint64_t smallest_entry = cache::kEntryOverhead + 1;
    if (o.cache_capacity_bytes / shards < smallest_entry) {
      return Bad(absl::StrCat("cache_capacity_bytes (", o.cache_capacity_bytes,
                              ") is below one entry (", smallest_entry, " bytes) per shard"));
    }
  }
  absl::Status s = CheckDuration(o.default_ttl, "default_ttl", /*zero_ok=*/false);
  if (s.ok()) s = CheckDuration(o.negative_ttl, "negative_ttl", /*zero_ok=*/true);
  if (s.ok()) s = CheckDuration(o.coalesced_wait_timeout, "coalesced_wait_timeout", false);
  if (s.ok()) s = CheckDuration(o.hot_set_interval, "hot_set_interval", /*zero_ok=*/false);
  if (!s.ok()) return Bad(std::string(s.message()));
  if (!(o.ttl_jitter >= 0 && o.ttl_jitter < 1)) {
    return Bad(absl::StrCat("ttl_jitter must be in [0, 1), got ", o.ttl_jitter));
  }
  if (o.max_key_size == 0) return Bad("max_key_size must be at least 1");
  if (o.max_key_size > (uint64_t{1} << 31)) return Bad("max_key_size must be at most 2 GiB");
  if (o.max_value_size > (uint64_t{1} << 31)) return Bad("max_value_size must be at most 2 GiB");
  switch (o.eviction_policy) {
    case EvictionPolicy::kDefault:
    case EvictionPolicy::kS3Fifo:
    case EvictionPolicy::kLru:
    case EvictionPolicy::kWTinyLfu:
    case EvictionPolicy::kAdaptiveS3Fifo:
      break;
    default:
      return Bad("eviction_policy is not a known policy");
  }
  if (o.admin_socket.size() >= sizeof(sockaddr_un::sun_path)) {
    return Bad(
        absl::StrCat("admin_socket is longer than ", sizeof(sockaddr_un::sun_path) - 1, " bytes"));
  }
  switch (o.refresh_ahead) {
    case RefreshAhead::kOff:
    case RefreshAhead::kBackground:
    case RefreshAhead::kProbabilistic:
      break;
    default:
      return Bad("refresh_ahead is not a known mode");
  }
  if (!(o.refresh_ahead_fraction > 0 && o.refresh_ahead_fraction < 1)) {
    return Bad(
        absl::StrCat("refresh_ahead_fraction must be in (0, 1), got ", o.refresh_ahead_fraction));
  }
  if (o.refresh_threads < 1 || o.refresh_threads > 16) {
    return Bad(absl::StrCat("refresh_threads must be in [1, 16], got ", o.refresh_threads));
  }
  if (o.refresh_queue_limit == 0) return Bad("refresh_queue_limit must be at least 1");
  if (!(o.early_expiration_beta > 0) || o.early_expiration_beta == HUGE_VAL) {
    return Bad(absl::StrCat("early_expiration_beta must be positive and finite, got ",
                            o.early_expiration_beta));
  }
  if (!(o.audit_fraction >= 0 && o.audit_fraction <= 1)) {
    return Bad(absl::StrCat("audit_fraction must be in [0, 1], got ", o.audit_fraction));
  }
  if (o.audit_delay <= absl::ZeroDuration() || o.audit_delay > absl::Hours(1)) {
    return Bad(absl::StrCat("audit_delay must be positive and at most 1h, got ",
                            absl::FormatDuration(o.audit_delay)));
  }
  if (o.hot_set_keys == 0) return Bad("hot_set_keys must be at least 1");
  switch (o.write_policy) {
    case WritePolicy::kInvalidate:
    case WritePolicy::kUpdate:
      break;
    default:
      return Bad("write_policy is not a known policy");
  }
  return absl::OkStatus();
}

}  // namespace asidekv::core
