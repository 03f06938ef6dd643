// Store::Impl: the cache-aside engine behind the public Store.
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
//   StartBackground() and stopped by ~Impl before the cache and the DB go.
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
#include "asidekv/store.h"
#include "cache/cache.h"
#include "cache/clock.h"
#include "core/filler.h"
#include "core/introspection.h"
#include "core/latency_histogram.h"
#include "core/refresher.h"
#include "core/warming.h"
#include "db/rocks_db.h"

namespace asidekv {

// Hidden: the Store it serves is exported from a shared build, its implementation is not.
class __attribute__((visibility("hidden"))) Store::Impl final : public core::Introspection {
 public:
  // Tag of cache entries that record "not found".
  static constexpr uint8_t kNegativeTag = core::Filler::kNegativeTag;

  // `clock` is the cache's (borrowed; outlives the Store).
  Impl(const Options& options, std::unique_ptr<db::RocksDb> db, std::unique_ptr<cache::Cache> cache,
       cache::Clock* clock);
  // Stops the admin endpoint (if any) before the cache and the DB go.
  ~Impl() override;

  absl::StatusOr<std::string> Get(std::string_view key);
  absl::StatusOr<PinnedValue> GetPinned(std::string_view key);
  std::vector<absl::StatusOr<std::string>> MultiGet(absl::Span<const std::string_view> keys);
  absl::StatusOr<std::vector<KeyValue>> Scan(const ScanOptions& options);

  absl::Status Put(std::string_view key, std::string_view value, std::optional<absl::Duration> ttl);
  absl::Status Delete(std::string_view key);
  absl::Status Write(const WriteBatch& batch);

  // core::Introspection (the admin endpoint's view; see core/introspection.h).
  const Options& options() const override { return options_; }
  Stats GetStats() const override;
  std::vector<core::ShardStats> GetShardStats() const override;
  std::optional<core::CachedEntry> Peek(std::string_view key) override;
  absl::StatusOr<std::string> GetAfterMiss(std::string_view key) override { return GetMiss(key); }
  std::vector<std::string> HottestKeys(size_t n) const override { return cache_->HottestKeys(n); }
  absl::StatusOr<size_t> WarmPrefix(std::string_view prefix, size_t limit) override {
    return warmer_->WarmPrefix(prefix, limit);
  }
  void Invalidate(std::string_view key) override { cache_->Invalidate(key); }
  void ClearCache() override { cache_->Clear(); }
  absl::StatusOr<uint64_t> DbIntProperty(std::string_view name) const override {
    return db_->GetIntProperty(name);
  }

  db::RocksDb& db() { return *db_; }
  cache::Cache& cache() { return *cache_; }
  // Starts refresh-ahead and the hot-set keeper as the options ask. Called once by the opener,
  // after everything that can fail, so a failed Open never records a hot set.
  void StartBackground();
  absl::StatusOr<size_t> Warm(absl::Span<const std::string> keys) { return warmer_->Warm(keys); }
  // The hot-set keeper, or null without Options::hot_set_path (tests wait on its warming).
  core::HotSetKeeper* hot_set() { return hot_set_.get(); }
  // Takes ownership of the admin endpoint (core/introspection.h), set once by the opener.
  void set_admin_endpoint(std::unique_ptr<core::AdminEndpoint> endpoint);

 private:
  using Loaded = core::Filler::Loaded;

  absl::Status CheckKey(std::string_view key) const;
  absl::Status CheckValue(std::string_view value) const;
  // Reads a leader ticket's key from the DB and completes it (refresh-ahead reloads).
  void Reload(cache::FillTicket* ticket);
  // Returns the result a waiter ticket receives, reading the DB itself if the wait fails.
  absl::StatusOr<std::string> AwaitOrRead(const cache::FillTicket& ticket, std::string_view key);
  // The miss path of Get (after the lookup missed).
  absl::StatusOr<std::string> GetMiss(std::string_view key);
  cache::EntryOptions EntryOptionsFor(std::optional<absl::Duration> ttl) const;
  // One Put (value set) or Delete (value unset) of `key`, with the write policy around it.
  absl::Status WriteOne(std::string_view key, std::optional<std::string_view> value,
                        std::optional<absl::Duration> ttl);
  // Nanoseconds since `start_ns` into `h`, if latency stats are on.
  void RecordLatency(core::LatencyHistogram& h, int64_t start_ns) const;
  int64_t StartTimer() const;

  const Options options_;
  const db::WriteOptions write_options_;
  // How values are stored: with asidekv's header, or raw (Options::raw_values).
  const db::ValueEncoding encoding_;
  std::unique_ptr<db::RocksDb> db_;
  std::unique_ptr<cache::Cache> cache_;
  cache::Clock* const clock_;  // Not owned; outlives the Store.

  std::atomic<uint64_t> puts_{0};
  std::atomic<uint64_t> deletes_{0};
  std::atomic<uint64_t> batches_{0};
  std::atomic<uint64_t> write_errors_{0};
  core::LatencyHistogram get_latency_;
  core::LatencyHistogram put_latency_;
  core::LatencyHistogram delete_latency_;
  // The warmer is built with the Impl; the others by StartBackground() (the refresher is null
  // with refresh_ahead kOff, the keeper without a hot_set_path). ~Impl stops them first.
  // The one owner of the fill (decode, negative entries, db_reads); before warmer_, which uses it.
  core::Filler filler_;
  std::unique_ptr<core::Warmer> warmer_;
  std::unique_ptr<core::Refresher> refresher_;
  std::unique_ptr<core::HotSetKeeper> hot_set_;
  // Last member: destroyed first, so its thread stops before everything it uses.
  std::unique_ptr<core::AdminEndpoint> admin_endpoint_;
};

}  // namespace asidekv

#endif  // ASIDEKV_CORE_STORE_IMPL_H_
