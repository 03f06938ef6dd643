// RocksDbBackend: the baselines, a plain rocksdb::DB opened directly (the bench is the one tool
// allowed to include RocksDB).
//
//   rocksdb            block cache of BackendOptions::cache_bytes, 10-bit bloom filters.
//   rocksdb-rowcache   row cache of cache_bytes in front of a block cache of
//                      db_block_cache_bytes (what asidekv keeps behind its own cache).
// Both use the configured compression, default WriteOptions (no fsync, as asidekv's default)
// and, if asked, ticker statistics (kExceptHistogramOrTimers: counters only) for the hit ratio.
//
// Thread safety: see backend.h. Owns the DB; destroying the backend closes it.

#ifndef ASIDEKV_TOOLS_BENCH_ROCKSDB_BACKEND_H_
#define ASIDEKV_TOOLS_BENCH_ROCKSDB_BACKEND_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "rocksdb/db.h"
#include "rocksdb/statistics.h"
#include "tools/bench/backend.h"

namespace asidekv::bench {

// rocksdb::Status -> absl::Status (NotFound keeps no message, so it costs no allocation).
absl::Status FromRocks(const rocksdb::Status& s);

class RocksDbBackendBase {
 public:
  bool SupportsScan() const { return true; }

  absl::Status Read(std::string_view key, std::string* value) {
    rocksdb::Status s =
        db_->Get(point_read_options_, rocksdb::Slice(key.data(), key.size()), value);
    if (s.ok()) return absl::OkStatus();
    return FromRocks(s);
  }

  absl::Status Write(std::string_view key, std::string_view value) {
    rocksdb::Status s = db_->Put(write_options_, rocksdb::Slice(key.data(), key.size()),
                                 rocksdb::Slice(value.data(), value.size()));
    if (s.ok()) return absl::OkStatus();
    return FromRocks(s);
  }

  absl::StatusOr<size_t> Scan(std::string_view start, size_t count);
  absl::Status LoadBatch(absl::Span<const std::string> keys, absl::Span<const std::string> values);
  absl::Status AfterLoad(bool compact);
  CacheCounters Counters() const;
  std::vector<std::pair<std::string, std::string>> Describe() const { return description_; }

 protected:
  // Opens the DB at options.path; `row_cache` selects the rocksdb-rowcache layout.
  absl::Status OpenDb(const BackendOptions& options, bool row_cache);

 private:
  bool row_cache_ = false;
  std::unique_ptr<rocksdb::DB> db_;
  std::shared_ptr<rocksdb::Statistics> statistics_;
  rocksdb::ReadOptions point_read_options_;  // Get's; scans use RocksDB's defaults.
  rocksdb::WriteOptions write_options_;
  std::vector<std::pair<std::string, std::string>> description_;
};

class RocksDbBackend : public RocksDbBackendBase {
 public:
  static constexpr std::string_view kName = "rocksdb";
  static absl::StatusOr<std::unique_ptr<RocksDbBackend>> Open(const BackendOptions& options);
};

class RocksDbRowCacheBackend : public RocksDbBackendBase {
 public:
  static constexpr std::string_view kName = "rocksdb-rowcache";
  static absl::StatusOr<std::unique_ptr<RocksDbRowCacheBackend>> Open(
      const BackendOptions& options);
};

}  // namespace asidekv::bench

#endif  // ASIDEKV_TOOLS_BENCH_ROCKSDB_BACKEND_H_
