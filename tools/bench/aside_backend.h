// AsideBackend: the system under test, an asidekv::Store driven through its public API only,
// over RocksDB in BackendOptions::path (`aside`). AsidePostgresBackend: the same over a fresh
// PostgreSQL table (`aside-postgres`).
//
// Thread safety and method contracts: see backend.h. Owns the Store; destroying the backend
// closes it.

#ifndef ASIDEKV_TOOLS_BENCH_ASIDE_BACKEND_H_
#define ASIDEKV_TOOLS_BENCH_ASIDE_BACKEND_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "asidekv/asidekv.h"
#include "tools/bench/backend.h"

namespace asidekv::bench {

class AsideBackend {
 public:
  static constexpr std::string_view kName = "aside";

  static absl::StatusOr<std::unique_ptr<AsideBackend>> Open(const BackendOptions& options);

  bool SupportsScan() const { return true; }

  absl::Status Read(std::string_view key, std::string* value) {
    absl::StatusOr<std::string> got = store_->Get(key);
    if (!got.ok()) return got.status();
    *value = *std::move(got);
    return absl::OkStatus();
  }

  absl::Status Write(std::string_view key, std::string_view value) {
    return store_->Put(key, value);
  }

  absl::StatusOr<size_t> Scan(std::string_view start, size_t count);

  absl::Status LoadBatch(absl::Span<const std::string> keys, absl::Span<const std::string> values);
  absl::Status AfterLoad(bool compact);
  CacheCounters Counters() const;
  std::vector<std::pair<std::string, std::string>> Describe() const;

  // The Store's own counters (for the JSON output).
  Stats GetStats() const { return store_->GetStats(); }

 protected:
  explicit AsideBackend(std::unique_ptr<Store> store) : store_(std::move(store)) {}
  // The Store's options of BackendOptions (cache, write policy, eviction); no source of truth.
  static Options StoreOptions(const BackendOptions& options);

  std::unique_ptr<Store> store_;
};

// The Store with Options::postgres = BackendOptions::postgres, a fresh table (dropped when the
// backend is destroyed, unless BackendOptions::keep_tables) or BackendOptions::existing_table
// (kept), postgres_connections = threads and BackendOptions::max_staleness; with
// BackendOptions::redis, the Redis tier too (redis_prefix = the table's name, redis_connections
// = threads, the consistency and coherence_bound of BackendOptions).
class AsidePostgresBackend : public AsideBackend {
 public:
  static constexpr std::string_view kName = "aside-postgres";

  static absl::StatusOr<std::unique_ptr<AsidePostgresBackend>> Open(const BackendOptions& options);
  ~AsidePostgresBackend();

  std::vector<std::pair<std::string, std::string>> Describe() const;
  // AsideBackend's, and Redis's hits (remote_hits) when there is a Redis tier.
  CacheCounters Counters() const;
  const std::string& table() const;

 private:
  AsidePostgresBackend(std::unique_ptr<Store> store, bool keep_table)
      : AsideBackend(std::move(store)), keep_table_(keep_table) {}

  const bool keep_table_;
};

}  // namespace asidekv::bench

#endif  // ASIDEKV_TOOLS_BENCH_ASIDE_BACKEND_H_
