// Store: opening, the public methods (forwarded to Store::Impl) and stats.
#include "asidekv/store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cache/clock.h"
#include "cache/sharded_cache.h"
#include "core/options_validation.h"
#include "core/store_impl.h"
#include "core/store_opener.h"
#include "db/postgres/change_feed.h"
#include "db/postgres/postgres_db.h"
#include "db/rocks_db.h"
#include "util/cycle_clock.h"
#include "util/string_view.h"

namespace asidekv {
namespace {

cache::PolicyKind ToPolicyKind(EvictionPolicy p) {
  switch (p) {
    case EvictionPolicy::kLru:
      return cache::PolicyKind::kLru;
    case EvictionPolicy::kS3Fifo:
      return cache::PolicyKind::kS3Fifo;
    case EvictionPolicy::kWTinyLfu:
      return cache::PolicyKind::kWTinyLfu;
    case EvictionPolicy::kAdaptiveS3Fifo:
      return cache::PolicyKind::kAdaptiveS3Fifo;
    case EvictionPolicy::kDefault:
      break;
  }
  return cache::kDefaultPolicy;
}

// The public name of the policy the cache runs (kDefault resolved).
EvictionPolicy FromPolicyKind(cache::PolicyKind p) {
  switch (p) {
    case cache::PolicyKind::kLru:
      return EvictionPolicy::kLru;
    case cache::PolicyKind::kWTinyLfu:
      return EvictionPolicy::kWTinyLfu;
    case cache::PolicyKind::kAdaptiveS3Fifo:
      return EvictionPolicy::kAdaptiveS3Fifo;
    case cache::PolicyKind::kS3Fifo:
      break;
  }
  return EvictionPolicy::kS3Fifo;
}

}  // namespace

namespace core {
namespace {

// The hooks of the StoreOpener::Open call in progress on this thread, if any: Store::Open
// reads them, so that the public Store needs no friend and names no internal type.
thread_local const StoreHooks* open_hooks = nullptr;

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> StoreOpener::Open(const Options& options,
                                                         const StoreHooks& hooks) {
  return Open(options, nullptr, hooks);
}

absl::StatusOr<std::unique_ptr<Store>> StoreOpener::Open(const Options& options,
                                                         std::unique_ptr<Database> database,
                                                         const StoreHooks& hooks) {
  const StoreHooks* const saved = open_hooks;
  open_hooks = &hooks;
  absl::StatusOr<std::unique_ptr<Store>> store =
      database != nullptr ? Store::Open(options, std::move(database)) : Store::Open(options);
  open_hooks = saved;
  return store;
}

namespace {

// What a StoreImpl is built from.
struct Parts {
  Options resolved;  // The options in force (chosen values filled in).
  std::unique_ptr<Database> db;
  std::unique_ptr<cache::Cache> cache;
  cache::Clock* clock = nullptr;
};

absl::StatusOr<std::unique_ptr<Database>> OpenDatabase(const Options& options,
                                                       const StoreHooks& hooks) {
  if (!options.postgres.empty()) {
    db::PostgresOptions pg;
    pg.conninfo = options.postgres;
    pg.table = options.postgres_table;
    pg.connections = options.postgres_connections;
    pg.timeout = options.postgres_timeout;
    pg.create_if_missing = options.create_if_missing;
    pg.value_encoding = options.raw_values ? db::ValueEncoding::kRaw : db::ValueEncoding::kHeader;
    absl::StatusOr<std::unique_ptr<db::PostgresDb>> db = db::PostgresDb::Open(pg);
    if (!db.ok()) return db.status();
    return std::unique_ptr<Database>(*std::move(db));
  }
  db::DbOptions db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.error_if_exists = options.error_if_exists;
  db_options.block_cache_bytes = options.db_block_cache_bytes;
  // Without the cache, the block cache is the only cache point reads have.
  db_options.point_reads_fill_block_cache =
      options.db_point_reads_fill_block_cache || options.cache_capacity_bytes == 0;
  db_options.mmap_reads = options.db_mmap_reads;
  db_options.block_size = options.db_block_size;
  db_options.sync = options.sync_writes;
  db_options.fault_injector = hooks.fault_injector;
  db_options.value_encoding =
      options.raw_values ? db::ValueEncoding::kRaw : db::ValueEncoding::kHeader;
  absl::StatusOr<std::unique_ptr<db::RocksDb>> db = db::RocksDb::Open(options.path, db_options);
  if (!db.ok()) return db.status();
  return std::unique_ptr<Database>(*std::move(db));
}

// Validates `options`, builds the cache and opens (or adopts) the database. Nothing of the
// database is created when the options are refused.
absl::StatusOr<Parts> OpenParts(const Options& options, std::unique_ptr<Database> given) {
  static const StoreHooks kNoHooks;
  const StoreHooks& hooks = open_hooks != nullptr ? *open_hooks : kNoHooks;
  absl::Status s = ValidateOptions(options, /*database_given=*/given != nullptr);
  const bool shared = !options.postgres.empty() || (given != nullptr && given->IsShared());
  if (s.ok()) s = CheckStalenessBound(options, shared);
  if (!s.ok()) return s;
  if (hooks.clock != nullptr && !options.redis.empty() && options.cache_capacity_bytes > 0) {
    // The coherence gate's deadlines (the cache's serving horizon) are on the real clock.
    return absl::InvalidArgumentError("a test clock cannot drive a cache kept coherent by Redis");
  }
  if (options.commit_log_relay) {
    // Before the table exists: a server that cannot decode its log creates nothing.
    db::ChangeFeedOptions feed;
    feed.conninfo = options.postgres;
    feed.timeout = options.postgres_timeout;
    s = db::ChangeFeed::CheckServer(feed);
    if (!s.ok()) return s;
  }

  Parts parts;
  cache::CacheOptions cache_options;
  cache_options.capacity = options.cache_capacity_bytes;
  cache_options.num_shards = options.cache_shards;
  cache_options.policy = ToPolicyKind(options.eviction_policy);
  cache_options.clock = hooks.clock != nullptr ? hooks.clock : cache::RealClock();
  cache_options.default_ttl = options.default_ttl;
  cache_options.ttl_jitter = options.ttl_jitter;
  absl::StatusOr<std::unique_ptr<cache::ShardedCache>> built =
      cache::ShardedCache::Create(cache_options);
  if (!built.ok()) return built.status();
  // Store::options() reports what is in force: the shard count and policy the cache chose.
  parts.resolved = options;
  parts.resolved.cache_shards = (*built)->num_shards();
  parts.resolved.eviction_policy = FromPolicyKind(cache_options.policy);
  if (!options.postgres.empty()) {
    parts.resolved.max_key_size = std::min(options.max_key_size, kPostgresMaxKeySize);
  }
  parts.cache = *std::move(built);
  if (hooks.wrap_cache) parts.cache = hooks.wrap_cache(std::move(parts.cache));
  parts.clock = cache_options.clock;

  if (given != nullptr) {
    parts.db = std::move(given);
  } else {
    absl::StatusOr<std::unique_ptr<Database>> db = OpenDatabase(options, hooks);
    if (!db.ok()) return db.status();
    parts.db = *std::move(db);
  }
  return parts;
}

// An optional endpoint: the option naming its address, and the module that serves it.
struct EndpointKind {
  const char* option;  // "admin_socket"
  const char* target;  // "admin"
  const char* enable;  // "EnableAdminEndpoint"
  AdminStarter (*starter)();
};
constexpr EndpointKind kAdminKind = {"admin_socket", "admin", "EnableAdminEndpoint",
                                     &GetAdminStarter};
constexpr EndpointKind kMetricsKind = {"metrics_address", "metrics", "EnableMetricsEndpoint",
                                       &GetMetricsStarter};

// Starts the endpoint of `kind` at `address` over `impl`, or says how to enable its module.
absl::StatusOr<std::unique_ptr<AdminEndpoint>> StartEndpoint(const EndpointKind& kind,
                                                             const std::string& address,
                                                             StoreImpl* impl) {
  const AdminStarter start = kind.starter();
  if (start == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("Options::", kind.option, " is set, but no ", kind.target,
                     " endpoint is enabled in this process: link asidekv::", kind.target,
                     " and call asidekv::", kind.enable, "() before Store::Open"));
  }
  return start(address, impl);
}

// Starts what runs beside an opened engine: the admin and metrics endpoints, then the background
// work.
absl::Status Start(StoreImpl* impl) {
  const Options& options = impl->options();
  absl::Status s = impl->ConnectRemote();
  if (!s.ok()) return s;
  if (!options.admin_socket.empty()) {
    absl::StatusOr<std::unique_ptr<AdminEndpoint>> admin =
        StartEndpoint(kAdminKind, options.admin_socket, impl);
    if (!admin.ok()) return admin.status();
    impl->set_admin_endpoint(*std::move(admin));
  }
  if (!options.metrics_address.empty()) {
    absl::StatusOr<std::unique_ptr<AdminEndpoint>> metrics =
        StartEndpoint(kMetricsKind, options.metrics_address, impl);
    if (!metrics.ok()) return metrics.status();
    impl->set_metrics_endpoint(*std::move(metrics));
  }
  // Last: nothing after it fails, so a failed Open has no warm-up to stop and no hot set to
  // record over the file it would have warmed from.
  impl->StartBackground();
  return absl::OkStatus();
}

// Opens the engine of a Store: Engine is Store::Rep, a StoreImpl (named by Store::Open, which
// may name it).
template <typename Engine>
absl::StatusOr<std::unique_ptr<Engine>> OpenEngine(const Options& options,
                                                   std::unique_ptr<Database> given) {
  absl::StatusOr<Parts> parts = OpenParts(options, std::move(given));
  if (!parts.ok()) return parts.status();
  auto engine = std::make_unique<Engine>(parts->resolved, std::move(parts->db),
                                         std::move(parts->cache), parts->clock);
  absl::Status s = Start(engine.get());
  if (!s.ok()) return s;
  return engine;
}

}  // namespace

namespace {

Filler::Config FillerConfig(const Options& options, std::optional<absl::Duration> bound) {
  Filler::Config c;
  c.encoding = options.raw_values ? db::ValueEncoding::kRaw : db::ValueEncoding::kHeader;
  c.negative_ttl = options.negative_ttl;
  c.default_ttl = options.default_ttl;
  c.max_staleness = bound.value_or(absl::InfiniteDuration());
  return c;
}

}  // namespace

StoreImpl::StoreImpl(const Options& options, std::unique_ptr<Database> db,
                     std::unique_ptr<cache::Cache> cache, cache::Clock* clock)
    : options_(options),
      encoding_(options.raw_values ? db::ValueEncoding::kRaw : db::ValueEncoding::kHeader),
      db_(std::move(db)),
      staleness_bound_(db_->IsShared() && options.cache_capacity_bytes > 0
                           ? std::optional<absl::Duration>(options.max_staleness)
                           : std::nullopt),
      cache_(std::move(cache)),
      clock_(clock),
      filler_(cache_.get(), db_.get(), clock, FillerConfig(options, staleness_bound_)),
      warmer_(std::make_unique<Warmer>(cache_.get(), db_.get(), &filler_,
                                       options_.cache_capacity_bytes)) {
  // The cycle clock calibrates at its first use (2 ms, once per process): here, not in the
  // first operation.
  if (options_.latency_stats) util::CycleClock::UsesTsc();
}

StoreImpl::~StoreImpl() {
  relay_.reset();  // Ends the leadership first: another Store takes over while this one closes.
  admin_endpoint_.reset();
  metrics_endpoint_.reset();
  hot_set_.reset();  // Records the hot set one last time.
  // Join the refresh threads before refresher_ changes: a reload in flight reads it
  // (Reload() -> refresher_->RecordReloadCost), and reset() nulls the pointer before deleting.
  if (refresher_ != nullptr) refresher_->Stop();
  refresher_.reset();
}

absl::Status StoreImpl::ConnectRemote() {
  if (options_.redis.empty()) return absl::OkStatus();
  absl::StatusOr<std::unique_ptr<RemoteTier>> remote =
      RemoteTier::Open(options_, cache_.get(), db_.get(), &filler_);
  if (!remote.ok()) return remote.status();
  remote_ = *std::move(remote);
  if (options_.commit_log_relay) {
    absl::StatusOr<std::unique_ptr<CommitLogRelay>> relay =
        CommitLogRelay::Start(options_, remote_->redis());
    if (!relay.ok()) return relay.status();
    relay_ = *std::move(relay);
  }
  warmer_->set_load_many([remote = remote_.get()](absl::Span<const std::string_view> keys,
                                                  std::vector<Loaded>* loaded,
                                                  std::vector<bool>* cacheable) {
    remote->LoadMany(keys, loaded, cacheable);
  });
  return absl::OkStatus();
}

void StoreImpl::StartBackground() {
  if (options_.audit_fraction > 0) {
    auditor_ = std::make_unique<core::Auditor>(db_.get(), &filler_, options_.audit_fraction,
                                               options_.audit_delay);
  }
  if (options_.refresh_ahead != RefreshAhead::kOff) {
    refresher_ = std::make_unique<core::Refresher>(options_, cache_.get(), clock_,
                                                   [this](cache::FillTicket* t) { Reload(t); });
  }
  if (!options_.hot_set_path.empty()) {
    hot_set_ = std::make_unique<core::HotSetKeeper>(options_.hot_set_path, options_.hot_set_keys,
                                                    options_.hot_set_interval, cache_.get(),
                                                    warmer_.get(), options_.log);
  }
}

void StoreImpl::set_admin_endpoint(std::unique_ptr<core::AdminEndpoint> endpoint) {
  admin_endpoint_ = std::move(endpoint);
}

void StoreImpl::set_metrics_endpoint(std::unique_ptr<core::AdminEndpoint> endpoint) {
  metrics_endpoint_ = std::move(endpoint);
}

LatencyHistogramData StoreImpl::GetLatencyHistogram(std::string_view op) const {
  if (op == "get") return get_latency_.Data();
  if (op == "put") return put_latency_.Data();
  if (op == "delete") return delete_latency_.Data();
  if (op == "relay_lag" && relay_ != nullptr) return relay_->LagHistogram();
  return LatencyHistogramData();
}

std::vector<core::ShardStats> StoreImpl::GetShardStats() const {
  std::vector<core::ShardStats> out;
  for (const cache::CacheStats& c : cache_->GetShardStats()) {
    out.push_back(core::ShardStats{c.hits, c.misses, c.inserts, c.evictions, c.expirations,
                                   c.invalidations, c.entries, c.charge, c.capacity});
  }
  return out;
}

std::optional<core::CachedEntry> StoreImpl::Peek(std::string_view key) {
  cache::ValueRef v = cache_->Lookup(key);
  if (!v) return std::nullopt;
  core::CachedEntry e;
  e.negative = v.tag() == kNegativeTag;
  if (!e.negative) e.value = std::string(v.value());
  if (v.expire_nanos() != 0) {
    e.ttl_left = absl::Nanoseconds(std::max<int64_t>(0, v.expire_nanos() - clock_->NowNanos()));
  }
  return e;
}

int64_t StoreImpl::StartTimer() const {
  return options_.latency_stats ? util::CycleClock::Now() : 0;
}

void StoreImpl::RecordLatency(core::LatencyHistogram& h, int64_t start_ticks) const {
  if (!options_.latency_stats) return;
  const int64_t d = util::CycleClock::ToNanos(util::CycleClock::Now() - start_ticks);
  h.Record(d > 0 ? static_cast<uint64_t>(d) : 0);
}

Stats StoreImpl::GetStats() const {
  const cache::CacheStats c = cache_->GetStats();
  Stats s;
  s.cache_hits = c.hits;
  s.cache_misses = c.misses;
  s.db_reads = filler_.db_reads();
  s.coalesced_waits = c.coalesced_waits;
  s.evictions = c.evictions;
  s.expirations = c.expirations;
  s.stale_fills_rejected = c.stale_fills_rejected;
  s.cache_entries = c.entries;
  s.cache_bytes = c.charge;
  s.cache_capacity_bytes = options_.cache_capacity_bytes;
  s.puts = puts_.load(std::memory_order_relaxed);
  s.deletes = deletes_.load(std::memory_order_relaxed);
  s.batches = batches_.load(std::memory_order_relaxed);
  s.write_errors = write_errors_.load(std::memory_order_relaxed);
  s.cache_inserts = c.inserts;
  s.cache_rejected_oversize = c.rejected_too_large;
  if (auditor_ != nullptr) {
    s.audits = auditor_->audits();
    s.audit_mismatches = auditor_->mismatches();
    s.audits_dropped = auditor_->dropped();
  }
  if (refresher_ != nullptr) {
    s.refreshes = refresher_->refreshes();
    s.refreshes_dropped = refresher_->dropped();
    s.early_expirations = refresher_->early_expirations();
  }
  s.warm_reads = warmer_->reads();
  s.warmed_keys = warmer_->warmed();
  s.get_latency = get_latency_.Summary();
  s.put_latency = put_latency_.Summary();
  s.delete_latency = delete_latency_.Summary();
  if (remote_ != nullptr) remote_->AddStats(&s);
  if (relay_ != nullptr) relay_->AddStats(&s);
  return s;
}

absl::StatusOr<uint64_t> StoreImpl::DbIntProperty(std::string_view name) const {
  absl::StatusOr<std::string> text = db_->GetProperty(name);
  if (!text.ok()) return text.status();
  uint64_t value = 0;
  if (!absl::SimpleAtoi(util::ToAbsl(*text), &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("property ", util::ToAbsl(name), " is not an integer: ", util::ToAbsl(*text)));
  }
  return value;
}

}  // namespace core

// The Store's representation: the engine itself (no second indirection on each call).
struct Store::Rep final : core::StoreImpl {
  using StoreImpl::StoreImpl;
};

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const Options& options) {
  absl::StatusOr<std::unique_ptr<Rep>> rep = core::OpenEngine<Rep>(options, nullptr);
  if (!rep.ok()) return rep.status();
  return std::unique_ptr<Store>(new Store(*std::move(rep)));
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const Options& options,
                                                   std::unique_ptr<Database> database) {
  if (database == nullptr) {
    return absl::InvalidArgumentError("Store::Open: the Database passed is null");
  }
  absl::StatusOr<std::unique_ptr<Rep>> rep = core::OpenEngine<Rep>(options, std::move(database));
  if (!rep.ok()) return rep.status();
  return std::unique_ptr<Store>(new Store(*std::move(rep)));
}

Store::Store(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
Store::~Store() = default;

absl::StatusOr<std::string> Store::Get(std::string_view key) { return rep_->Get(key); }
absl::StatusOr<PinnedValue> Store::GetPinned(std::string_view key) { return rep_->GetPinned(key); }
absl::Status Store::Put(std::string_view key, std::string_view value) {
  return rep_->Put(key, value, std::nullopt);
}
absl::Status Store::Put(std::string_view key, std::string_view value, absl::Duration cache_ttl) {
  absl::Status s = core::CheckDuration(cache_ttl, "Put: cache_ttl", /*zero_ok=*/false);
  if (!s.ok()) return s;
  if (rep_->options().raw_values) {
    return absl::FailedPreconditionError(
        "Put: a per-key cache_ttl is stored in the value header, which a Store opened with "
        "Options::raw_values does not write");
  }
  return rep_->Put(key, value, cache_ttl);
}
absl::Status Store::Delete(std::string_view key) { return rep_->Delete(key); }
absl::Status Store::Write(const WriteBatch& batch) { return rep_->Write(batch); }
std::vector<absl::StatusOr<std::string>> Store::MultiGet(absl::Span<const std::string_view> keys) {
  return rep_->MultiGet(keys);
}
std::vector<absl::StatusOr<std::string>> Store::MultiGet(const std::vector<std::string>& keys) {
  const std::vector<std::string_view> views(keys.begin(), keys.end());
  return rep_->MultiGet(views);
}
absl::StatusOr<std::vector<KeyValue>> Store::Scan(const ScanOptions& options) {
  return rep_->Scan(options);
}
absl::StatusOr<size_t> Store::Warm(absl::Span<const std::string> keys) { return rep_->Warm(keys); }
absl::StatusOr<size_t> Store::WarmPrefix(std::string_view prefix, size_t limit) {
  return rep_->WarmPrefix(prefix, limit);
}
void Store::Invalidate(std::string_view key) { rep_->Invalidate(key); }
void Store::ClearCache() { rep_->ClearCache(); }
Stats Store::GetStats() const { return rep_->GetStats(); }
absl::StatusOr<std::string> Store::GetProperty(std::string_view property) const {
  return rep_->db().GetProperty(property);
}
absl::Status Store::Flush() { return rep_->db().Flush(); }
absl::Status Store::CompactAll() { return rep_->db().CompactAll(); }
absl::Status Store::Resume() { return rep_->db().Resume(); }
const Options& Store::options() const { return rep_->options(); }

}  // namespace asidekv
