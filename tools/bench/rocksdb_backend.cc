#include "tools/bench/rocksdb_backend.h"

#include "absl/strings/str_cat.h"
#include "rocksdb/cache.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/iterator.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"

namespace asidekv::bench {
namespace {

absl::StatusOr<rocksdb::CompressionType> ParseCompression(const std::string& name) {
  if (name == "snappy") return rocksdb::kSnappyCompression;
  if (name == "lz4") return rocksdb::kLZ4Compression;
  if (name == "zstd") return rocksdb::kZSTD;
  if (name == "none") return rocksdb::kNoCompression;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown compression '", name, "' (snappy, lz4, zstd or none)"));
}

}  // namespace

absl::Status FromRocks(const rocksdb::Status& s) {
  if (s.ok()) return absl::OkStatus();
  if (s.IsNotFound()) return absl::NotFoundError("");
  if (s.IsCorruption()) return absl::DataLossError(s.ToString());
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(s.ToString());
  if (s.IsIOError()) return absl::UnavailableError(s.ToString());
  return absl::InternalError(s.ToString());
}

absl::Status RocksDbBackendBase::OpenDb(const BackendOptions& options, bool row_cache) {
  absl::StatusOr<rocksdb::CompressionType> compression = ParseCompression(options.compression);
  if (!compression.ok()) return compression.status();
  row_cache_ = row_cache;

  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.error_if_exists = true;
  db_options.compression = *compression;
  db_options.enable_pipelined_write = options.rocksdb_pipelined_write;
  point_read_options_.fill_cache = options.rocksdb_point_reads_fill_block_cache;
  db_options.allow_mmap_reads = options.rocksdb_mmap_reads;
  rocksdb::BlockBasedTableOptions table;
  table.block_size = options.rocksdb_block_size;
  const size_t block_cache_bytes = row_cache ? options.db_block_cache_bytes : options.cache_bytes;
  table.block_cache = rocksdb::NewLRUCache(block_cache_bytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  db_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  if (row_cache) db_options.row_cache = rocksdb::NewLRUCache(options.cache_bytes);
  if (options.rocksdb_statistics) {
    statistics_ = rocksdb::CreateDBStatistics();
    statistics_->set_stats_level(rocksdb::StatsLevel::kExceptHistogramOrTimers);
    db_options.statistics = statistics_;
  }

  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, &db);
  if (!s.ok()) return FromRocks(s);
  db_.reset(db);

  description_ = {
      {"block_cache_bytes", absl::StrCat(block_cache_bytes)},
      {"row_cache_bytes", absl::StrCat(row_cache ? options.cache_bytes : 0)},
      {"bloom_bits_per_key", "10"},
      {"compression", options.compression},
      {"statistics", options.rocksdb_statistics ? "tickers" : "off"},
      {"pipelined_write", options.rocksdb_pipelined_write ? "on" : "off"},
      {"point_reads_fill_block_cache", options.rocksdb_point_reads_fill_block_cache ? "on" : "off"},
      {"mmap_reads", options.rocksdb_mmap_reads ? "on" : "off"},
      {"block_size", absl::StrCat(options.rocksdb_block_size)},
      {"rocksdb_version", absl::StrCat(ROCKSDB_MAJOR, ".", ROCKSDB_MINOR, ".", ROCKSDB_PATCH)},
  };
  return absl::OkStatus();
}

absl::StatusOr<size_t> RocksDbBackendBase::Scan(std::string_view start, size_t count) {
  // Copy the pairs out, as asidekv's Scan does, so both pay for the same result.
  std::vector<std::pair<std::string, std::string>> pairs;
  pairs.reserve(count);
  // Scans fill the block cache whatever the point reads do, as asidekv's scans do.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(rocksdb::Slice(start.data(), start.size())); it->Valid() && pairs.size() < count;
       it->Next()) {
    pairs.emplace_back(it->key().ToString(), it->value().ToString());
  }
  if (!it->status().ok()) return FromRocks(it->status());
  return pairs.size();
}

absl::Status RocksDbBackendBase::LoadBatch(absl::Span<const std::string> keys,
                                           absl::Span<const std::string> values) {
  rocksdb::WriteBatch batch;
  for (size_t i = 0; i < keys.size(); ++i) {
    rocksdb::Status s = batch.Put(keys[i], values[i]);
    if (!s.ok()) return FromRocks(s);
  }
  return FromRocks(db_->Write(write_options_, &batch));
}

absl::Status RocksDbBackendBase::AfterLoad(bool compact) {
  rocksdb::Status s = db_->Flush(rocksdb::FlushOptions());
  if (!s.ok()) return FromRocks(s);
  if (compact) {
    s = db_->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr);
    if (!s.ok()) return FromRocks(s);
  }
  return absl::OkStatus();
}

CacheCounters RocksDbBackendBase::Counters() const {
  CacheCounters counters;
  if (statistics_ == nullptr) return counters;
  if (row_cache_) {
    counters.hits = statistics_->getTickerCount(rocksdb::ROW_CACHE_HIT);
    counters.misses = statistics_->getTickerCount(rocksdb::ROW_CACHE_MISS);
  } else {
    counters.hits = statistics_->getTickerCount(rocksdb::BLOCK_CACHE_HIT);
    counters.misses = statistics_->getTickerCount(rocksdb::BLOCK_CACHE_MISS);
  }
  return counters;
}

absl::StatusOr<std::unique_ptr<RocksDbBackend>> RocksDbBackend::Open(
    const BackendOptions& options) {
  std::unique_ptr<RocksDbBackend> backend(new RocksDbBackend());
  absl::Status s = backend->OpenDb(options, /*row_cache=*/false);
  if (!s.ok()) return s;
  return backend;
}

absl::StatusOr<std::unique_ptr<RocksDbRowCacheBackend>> RocksDbRowCacheBackend::Open(
    const BackendOptions& options) {
  std::unique_ptr<RocksDbRowCacheBackend> backend(new RocksDbRowCacheBackend());
  absl::Status s = backend->OpenDb(options, /*row_cache=*/true);
  if (!s.ok()) return s;
  return backend;
}

}  // namespace asidekv::bench
