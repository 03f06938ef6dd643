// Introspection: what the admin endpoint (admin/) may see and do beyond the public Store API.
//
// This is the core's one declared internal interface for other modules. It speaks plain types
// only (no cache/ or db/ type crosses it), so admin/ depends on core/ and util/ alone and the
// engine's internals can change behind it. core::StoreImpl (core/store_impl.h) implements it.
//
// Admin endpoints are optional: an application that never enables one (asidekv/admin.h,
// asidekv/metrics.h) does not link admin/. The core knows them only through the starter hooks
// below, which admin/ registers when EnableAdminEndpoint() or EnableMetricsEndpoint() is called;
// Store::Open then starts one for Options::admin_socket (Options::metrics_address) and destroys
// it before anything it borrows. Messages go through core/log.h.
//
// Thread safety: every method may be called concurrently with the Store's own calls.

#ifndef ASIDEKV_CORE_INTROSPECTION_H_
#define ASIDEKV_CORE_INTROSPECTION_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "asidekv/options.h"
#include "asidekv/stats.h"

namespace asidekv::core {

// A cache entry as an operator sees it.
struct CachedEntry {
  bool negative = false;  // A cached "not found" (Options::negative_ttl).
  std::string value;      // Empty when negative.
  // Time to live left; nullopt when the entry never expires.
  std::optional<absl::Duration> ttl_left;
};

// One cache shard's counters and gauges (see Stats for their meaning).
struct ShardStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t inserts = 0;
  uint64_t evictions = 0;
  uint64_t expirations = 0;
  uint64_t invalidations = 0;
  uint64_t entries = 0;
  uint64_t bytes = 0;
  uint64_t capacity = 0;
};

// One operation's latency histogram, the data behind its LatencySummary: counts[i] records fell
// in log-linear bucket i (util/log_linear_buckets.h; util::kLogLinearBuckets entries), and
// sum_ns is their total. Read without a lock, so the sum may lag the counts by a record or two.
struct LatencyHistogramData {
  std::vector<uint64_t> counts;
  uint64_t sum_ns = 0;
};

class Introspection {
 public:
  virtual ~Introspection() = default;

  // The options in force, and Store::GetStats().
  virtual const Options& options() const = 0;
  virtual Stats GetStats() const = 0;
  virtual std::vector<ShardStats> GetShardStats() const = 0;
  // The histogram of LatencyField `op` ("get", "put", "delete"; asidekv/stats.h). An unknown op
  // has no counts.
  virtual LatencyHistogramData GetLatencyHistogram(std::string_view op) const = 0;

  // The key's live cache entry, without reading the DB; counts a cache hit or miss like a Get's
  // lookup.
  virtual std::optional<CachedEntry> Peek(std::string_view key) = 0;
  // Get's miss path for a caller whose Peek() of `key` just missed: a coalesced DB read that
  // fills the cache, without counting a second miss. Not timed in the latency stats.
  virtual absl::StatusOr<std::string> GetAfterMiss(std::string_view key) = 0;
  // Up to `n` keys the eviction policy values most, hottest first.
  virtual std::vector<std::string> HottestKeys(size_t n) const = 0;
  // Store::WarmPrefix, Store::Invalidate, Store::ClearCache.
  virtual absl::StatusOr<size_t> WarmPrefix(std::string_view prefix, size_t limit) = 0;
  virtual void Invalidate(std::string_view key) = 0;
  virtual void ClearCache() = 0;
  // An integer property of the database (e.g. "rocksdb.estimate-num-keys"); NotFound if unknown.
  virtual absl::StatusOr<uint64_t> DbIntProperty(std::string_view name) const = 0;
};

// A running admin endpoint; destroying it stops it.
class AdminEndpoint {
 public:
  virtual ~AdminEndpoint() = default;
};

// Starts an admin endpoint on `address` (a socket path, or the metrics endpoint's listen address)
// over `store` (borrowed; it outlives the endpoint).
using AdminStarter = absl::StatusOr<std::unique_ptr<AdminEndpoint>> (*)(const std::string& address,
                                                                        Introspection* store);

// Registers the starter Store::Open uses for Options::admin_socket (admin/ does, from
// asidekv::EnableAdminEndpoint()). Thread-safe; the last registration wins.
void SetAdminStarter(AdminStarter starter);
// The registered starter, or null when no admin module is enabled in this process.
AdminStarter GetAdminStarter();
// The same for Options::metrics_address (admin/ registers it from
// asidekv::EnableMetricsEndpoint()).
void SetMetricsStarter(AdminStarter starter);
AdminStarter GetMetricsStarter();

}  // namespace asidekv::core

#endif  // ASIDEKV_CORE_INTROSPECTION_H_
