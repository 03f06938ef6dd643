// StoreImpl: the cache-aside engine behind the public Store (store.cc derives Store::Rep from
// it, so the installed store.h names nothing of it).
//
// Read path (read_path.cc)
//   Lookup in the cache; on a hit return the copy. On a miss, BeginFill():
//     leader  -> read the DB and complete the ticket through the Filler (core/filler.h, the one
//                owner of every fill: decode, value or negative entry, counters), return;
//                waiters receive the same result.
//     waiter  -> wait for the leader (up to coalesced_wait_timeout), then return its result; if
//                the wait times out or the leader gave up, read the DB directly (no fill).
//     bypass  -> (cache disabled) read the DB.
//   The fill is rejected by the cache if a write or invalidation of the key began after the
//   leader's token was taken, which closes the slow-miss-fills-stale-value race.
//
// Write path (write_path.cc)
//   kInvalidate: DB write; on success Invalidate(key) for every key written. The invalidation
//     comes after the DB write, so any fill whose DB read may have preceded the write holds an
//     older token and is rejected, and a Get starting after the write returns cannot hit an old
//     entry or join an old load.
//   kUpdate: BeginWrite(key) for every key, DB write, EndWrite(key, ok, value): the cache takes
//     the written value only if no other write of the key overlapped.
//   A failed DB write leaves cache entries as they were.
//
// Refresh-ahead and warming (refresher.h, warming.h)
//   With Options::refresh_ahead on, every hit is shown to the Refresher, which may reload the
//   key through BeginRefresh() (a leader ticket completed by Reload(), like a miss). Warm and the
//   hot set fill through BeginFill() leaders too, completed by the same Filler. Both are started by
//   StartBackground() and stopped by ~StoreImpl before the cache and the DB go.
//
// Thread safety: all methods may be called concurrently; state is the (thread-safe) DB and
//   cache plus relaxed atomic counters.

#ifndef ASIDEKV_CORE_STORE_IMPL_H_
#define ASIDEKV_CORE_STORE_IMPL_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "asidekv/database.h"
#include "asidekv/store.h"
#include "cache/cache.h"
#include "cache/clock.h"
#include "core/auditor.h"
#include "core/filler.h"
#include "core/introspection.h"
#include "core/latency_histogram.h"
#include "core/refresher.h"
#include "core/relay.h"
#include "core/remote_tier.h"
#include "core/warming.h"
#include "db/format_marker.h"

namespace asidekv::core {

// Hidden: the Store it serves is exported from a shared build, its implementation is not.
class __attribute__((visibility("hidden"))) StoreImpl : public Introspection {
 public:
  // Tag of cache entries that record "not found".
  static constexpr uint8_t kNegativeTag = Filler::kNegativeTag;

  // `clock` is the cache's (borrowed; outlives the Store). `options` are validated and resolved.
  StoreImpl(const Options& options, std::unique_ptr<Database> db,
            std::unique_ptr<cache::Cache> cache, cache::Clock* clock);
  // Stops the admin and metrics endpoints (if any) before the cache and the DB go.
  ~StoreImpl() override;

  absl::StatusOr<std::string> Get(std::string_view key);
  absl::StatusOr<PinnedValue> GetPinned(std::string_view key);
  std::vector<absl::StatusOr<std::string>> MultiGet(absl::Span<const std::string_view> keys);
  absl::StatusOr<std::vector<KeyValue>> Scan(const ScanOptions& options);

  absl::Status Put(std::string_view key, std::string_view value, std::optional<absl::Duration> ttl);
  absl::Status Delete(std::string_view key);
  absl::Status Write(const WriteBatch& batch);

  // Introspection (the admin endpoint's view; see core/introspection.h).
  const Options& options() const override { return options_; }
  Stats GetStats() const override;
  std::vector<ShardStats> GetShardStats() const override;
  LatencyHistogramData GetLatencyHistogram(std::string_view op) const override;
  std::optional<CachedEntry> Peek(std::string_view key) override;
  absl::StatusOr<std::string> GetAfterMiss(std::string_view key) override { return GetMiss(key); }
  std::vector<std::string> HottestKeys(size_t n) const override { return cache_->HottestKeys(n); }
  absl::StatusOr<size_t> WarmPrefix(std::string_view prefix, size_t limit) override {
    return warmer_->WarmPrefix(prefix, limit);
  }
  void Invalidate(std::string_view key) override { cache_->Invalidate(key); }
  void ClearCache() override { cache_->Clear(); }
  absl::StatusOr<uint64_t> DbIntProperty(std::string_view name) const override;

  Database& db() { return *db_; }
  cache::Cache& cache() { return *cache_; }
  // Connects the Redis tier when Options::redis asks for one, and starts the commit-log relay
  // when Options::commit_log_relay does. Called once by the opener, before anything else runs.
  absl::Status ConnectRemote();
  // Starts refresh-ahead and the hot-set keeper as the options ask. Called once by the opener,
  // after everything that can fail, so a failed Open never records a hot set.
  void StartBackground();
  absl::StatusOr<size_t> Warm(absl::Span<const std::string> keys) { return warmer_->Warm(keys); }
  // The hot-set keeper, or null without Options::hot_set_path (tests wait on its warming).
  HotSetKeeper* hot_set() { return hot_set_.get(); }
  // Takes ownership of the admin endpoint (core/introspection.h), set once by the opener.
  void set_admin_endpoint(std::unique_ptr<AdminEndpoint> endpoint);
  // The same for the metrics endpoint (Options::metrics_address).
  void set_metrics_endpoint(std::unique_ptr<AdminEndpoint> endpoint);

 private:
  using Loaded = Filler::Loaded;

  absl::Status CheckKey(std::string_view key) const;
  absl::Status CheckValue(std::string_view value) const;
  // Reads a leader ticket's key from the DB and completes it (refresh-ahead reloads).
  void Reload(cache::FillTicket* ticket);
  // Returns the result a waiter ticket receives, reading the DB itself if the wait fails.
  absl::StatusOr<std::string> AwaitOrRead(const cache::FillTicket& ticket, std::string_view key);
  // The miss path of Get, after the lookup missed.
  absl::StatusOr<std::string> GetMiss(std::string_view key);
  // A leader's load: through the Redis tier when there is one. *cache_it: may be cached here.
  Loaded Load(std::string_view key, bool* cache_it);
  // After a write of `keys` changed (or may have changed) the database: the Redis tier's part
  // (RemoteTier::InvalidateRemote); returns whether it landed (true without a tier).
  bool InvalidateRemote(absl::Span<const std::string_view> keys);
  // Before the write returns: RemoteTier::AwaitVisibility (OK without a tier).
  absl::Status AwaitVisibility(absl::Span<const std::string_view> keys, bool landed);
  cache::EntryOptions EntryOptionsFor(std::optional<absl::Duration> ttl) const;
  // One Put (value set) or Delete (value unset) of `key`, with the write policy around it.
  absl::Status WriteOne(std::string_view key, std::optional<std::string_view> value,
                        std::optional<absl::Duration> ttl);
  // Latency timing (util/cycle_clock.h: the TSC where the kernel trusts it, two reads per
  // operation): StartTimer() is a reading in ticks (0 with latency stats off); RecordLatency
  // records the nanoseconds since it into `h`, if latency stats are on.
  int64_t StartTimer() const;
  void RecordLatency(LatencyHistogram& h, int64_t start_ticks) const;

  const Options options_;
  // How values are stored: with asidekv's header, or raw (Options::raw_values).
  const db::ValueEncoding encoding_;
  std::unique_ptr<Database> db_;
  // With a shared database and the cache on: Options::max_staleness, the most any entry lives.
  const std::optional<absl::Duration> staleness_bound_;
  std::unique_ptr<cache::Cache> cache_;
  cache::Clock* const clock_;  // Not owned; outlives the Store.

  std::atomic<uint64_t> puts_{0};
  std::atomic<uint64_t> deletes_{0};
  std::atomic<uint64_t> batches_{0};
  std::atomic<uint64_t> write_errors_{0};
  LatencyHistogram get_latency_;
  LatencyHistogram put_latency_;
  LatencyHistogram delete_latency_;
  // The warmer is built with the StoreImpl; the others by StartBackground() (the refresher is null
  // with refresh_ahead kOff, the keeper without a hot_set_path). ~StoreImpl stops them first.
  // The one owner of the fill (decode, negative entries, db_reads); before warmer_, which uses it.
  Filler filler_;
  // The Redis tier (Options::redis), or null. After the filler and the cache, which it uses;
  // destroyed before them (its channel thread invalidates the cache).
  std::unique_ptr<RemoteTier> remote_;
  // The commit-log relay (Options::commit_log_relay), or null. After remote_, whose Redis
  // connections it borrows; destroyed before it.
  std::unique_ptr<CommitLogRelay> relay_;
  std::unique_ptr<Warmer> warmer_;
  std::unique_ptr<Refresher> refresher_;
  // The consistency audit (Options::audit_fraction > 0), or null.
  std::unique_ptr<Auditor> auditor_;
  std::unique_ptr<HotSetKeeper> hot_set_;
  // Last members: destroyed first, so their threads stop before everything they use.
  std::unique_ptr<AdminEndpoint> metrics_endpoint_;
  std::unique_ptr<AdminEndpoint> admin_endpoint_;
};

}  // namespace asidekv::core

#endif  // ASIDEKV_CORE_STORE_IMPL_H_
