#include "db/rocks_db.h"

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "db/fault_injection.h"
#include "db/format_marker.h"
#include "db/status_conversion.h"
#include "rocksdb/cache.h"
#include "rocksdb/convenience.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/iterator.h"
#include "rocksdb/listener.h"
#include "rocksdb/options.h"
#include "rocksdb/slice.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"
#include "util/string_view.h"

#if defined(__SANITIZE_THREAD__)
#define ASIDEKV_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ASIDEKV_TSAN 1
#endif
#endif

namespace asidekv::db {

struct RocksDb::Impl {
#ifdef ASIDEKV_TSAN
  // Under ThreadSanitizer only: Debian's librocksdb is not built with TSan, so the hand-offs it
  // makes between threads (a write-group leader copying its followers' batches, readers copying
  // memtable bytes another thread allocated) are invisible to TSan and reported as races in
  // whatever instrumented frame called RocksDB. Serialising our calls into RocksDB with a mutex
  // TSan can see gives those accesses a happens-before edge. Production builds do not have it.
  std::unique_lock<std::mutex> SerializeForTsan() { return std::unique_lock<std::mutex>(tsan_mu); }
  std::mutex tsan_mu;
#else
  int SerializeForTsan() { return 0; }
#endif
  // Declared before `db` so that it outlives it (the table factory also holds a reference).
  std::shared_ptr<rocksdb::Cache> block_cache;
  // The Env over DbOptions::fault_injector's file system, if one was given; outlives `db`.
  std::unique_ptr<rocksdb::Env> fault_env;
  // Null after Close().
  std::unique_ptr<rocksdb::DB> db;
  // Get's and MultiGet's: fill_cache as DbOptions::point_reads_fill_block_cache says.
  rocksdb::ReadOptions point_reads;
};

namespace {

namespace fs = std::filesystem;

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
std::string_view ToView(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }
// Our Abseil's string_view is its own type, not std::string_view; StrCat needs this.
const char* CompressionName(Compression c) {
  switch (c) {
    case Compression::kNone:
      return "none";
    case Compression::kSnappy:
      return "snappy";
    case Compression::kLz4:
      return "lz4";
    case Compression::kZstd:
      return "zstd";
  }
  return "unknown";
}

std::optional<rocksdb::CompressionType> ToRocksCompression(Compression c) {
  switch (c) {
    case Compression::kNone:
      return rocksdb::kNoCompression;
    case Compression::kSnappy:
      return rocksdb::kSnappyCompression;
    case Compression::kLz4:
      return rocksdb::kLZ4Compression;
    case Compression::kZstd:
      return rocksdb::kZSTD;
  }
  return std::nullopt;
}

absl::Status ValidateOptions(const DbOptions& o) {
  if (o.bloom_bits_per_key < 0 || o.bloom_bits_per_key > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("bloom_bits_per_key must be in [0, 64], got ", o.bloom_bits_per_key));
  }
  if (o.block_size < DbOptions::kMinBlockSize || o.block_size > DbOptions::kMaxBlockSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("block_size must be in [", DbOptions::kMinBlockSize, ", ",
                     DbOptions::kMaxBlockSize, "], got ", o.block_size));
  }
  if (o.write_buffer_size == 0) {
    return absl::InvalidArgumentError("write_buffer_size must be > 0");
  }
  if (o.max_open_files < -1) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_open_files must be -1 or >= 0, got ", o.max_open_files));
  }
  if (o.mmap_reads && o.fault_injector != nullptr) {
    return absl::InvalidArgumentError(
        "mmap_reads and fault_injector cannot be combined: mapped reads bypass the injector");
  }
  const std::optional<rocksdb::CompressionType> type = ToRocksCompression(o.compression);
  if (!type.has_value()) return absl::InvalidArgumentError("unknown compression");
  if (*type != rocksdb::kNoCompression) {
    const std::vector<rocksdb::CompressionType> supported = rocksdb::GetSupportedCompressions();
    if (std::find(supported.begin(), supported.end(), *type) == supported.end()) {
      return absl::InvalidArgumentError(absl::StrCat("compression ", CompressionName(o.compression),
                                                     " is not supported by this RocksDB build"));
    }
  }
  return absl::OkStatus();
}

// The RocksDB options for `o` (already validated). See DbOptions for why each is set.
rocksdb::Options BuildOptions(const DbOptions& o, std::shared_ptr<rocksdb::Cache>* block_cache) {
  rocksdb::Options opts;
  opts.create_if_missing = o.create_if_missing;
  opts.error_if_exists = o.error_if_exists;
  opts.paranoid_checks = o.paranoid_checks;
  opts.max_open_files = o.max_open_files;
  opts.write_buffer_size = o.write_buffer_size;
  opts.compression = *ToRocksCompression(o.compression);
  opts.level_compaction_dynamic_level_bytes = true;
  opts.bytes_per_sync = size_t{1} << 20;  // Smooth out SST writeback instead of bursts.
  opts.keep_log_file_num = 10;            // Each open starts a new info LOG; keep a few.
  opts.enable_pipelined_write = o.pipelined_write;
  opts.allow_mmap_reads = o.mmap_reads;

  rocksdb::BlockBasedTableOptions table;
  table.format_version = 5;
  table.block_size = o.block_size;
  // Index and filter blocks stay in the table readers (cache_index_and_filter_blocks = false):
  // charged to a small block cache they are evicted by data blocks, and every miss then re-reads
  // a whole filter (measured: ~100 us per Get at 1M keys with an 8 MiB cache, against ~6 us).
  table.cache_index_and_filter_blocks = false;
  if (o.block_cache_bytes == 0) {
    table.no_block_cache = true;
  } else {
    *block_cache = rocksdb::NewLRUCache(o.block_cache_bytes);
    table.block_cache = *block_cache;
  }
  if (o.bloom_bits_per_key > 0) {
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(o.bloom_bits_per_key));
  }
  opts.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return opts;
}

bool Exists(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

// Discards RocksDB's info log. A read-only open uses it so that it writes nothing into the
// folder (RocksDB would otherwise rotate the LOG file, even under a running writer).
class NullLogger final : public rocksdb::Logger {
 public:
  void Logv(const char* /*format*/, va_list /*ap*/) override {}
  void Logv(const rocksdb::InfoLogLevel /*level*/, const char* /*format*/,
            va_list /*ap*/) override {}
};

// Turns off RocksDB's automatic recovery from background errors (a stopped store then waits for
// RocksDb::Resume()). Used with a FaultInjector only: RocksDB's own recovery polls the real
// disk's free space, or retries every second, and races a test's Resume() (which then reports
// Busy).
class ManualRecoveryOnly final : public rocksdb::EventListener {
 public:
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason /*reason*/, rocksdb::Status /*bg_error*/,
                            bool* auto_recovery) override {
    *auto_recovery = false;
  }
};

// The errors that the folder alone explains: a file where a folder should be, a missing
// parent, no store where one must exist. OK if none applies. `detail` (RocksDB's message, when
// RocksDB was asked) is appended.
absl::Status CheckFolder(const std::string& path, const DbOptions& options,
                         const std::string& context, std::string_view detail) {
  const std::string suffix = detail.empty() ? "" : absl::StrCat(": ", util::ToAbsl(detail));
  fs::path folder(path);
  if (!folder.has_filename()) folder = folder.parent_path();  // "a/b/" names folder "a/b".
  std::error_code ec;
  const fs::file_status st = fs::status(folder, ec);
  if (ec.value() == ENOTDIR) {
    return absl::FailedPreconditionError(
        absl::StrCat(context, ": a parent of the path is a file, not a folder", suffix));
  }
  if (fs::exists(st) && !fs::is_directory(st)) {
    return absl::FailedPreconditionError(
        absl::StrCat(context, ": the path is a file, not a folder", suffix));
  }
  if (!fs::exists(st)) {
    const fs::path parent = folder.parent_path();
    if (!parent.empty() && !Exists(parent)) {
      return absl::NotFoundError(
          absl::StrCat(context, ": parent folder '", parent.string(), "' does not exist", suffix));
    }
  }
  if ((options.read_only || !options.create_if_missing) && !Exists(folder / "CURRENT")) {
    return absl::NotFoundError(
        absl::StrCat(context, ": no store there (",
                     options.read_only ? "read_only" : "create_if_missing is false", ")", suffix));
  }
  return absl::OkStatus();
}

// `path` made absolute, without "." / ".." / symlinks / a trailing slash, so that every spelling
// of one folder names the same LOCK file: RocksDB detects a second open in the same process by
// the LOCK file's name (the fcntl lock it also takes does not conflict within one process).
std::string CanonicalFolder(const std::string& path) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(fs::path(path), ec);
  if (ec) return path;  // Let RocksDB report the problem.
  if (!canonical.has_filename()) canonical = canonical.parent_path();
  return canonical.string();
}

// Turns a failed open into the error documented on RocksDb::Open(): RocksDB reports several
// distinct situations with the same code (a missing store and an existing one are both
// InvalidArgument, a missing parent and a lock conflict both IOError), so look at the folder.
absl::Status OpenError(const std::string& path, const DbOptions& options,
                       const std::string& context, const rocksdb::Status& s) {
  absl::Status converted = ToAbslStatus(s, context);
  if (converted.code() == absl::StatusCode::kFailedPrecondition) return converted;  // In use.
  const std::string detail = s.ToString();
  if (absl::Status folder = CheckFolder(path, options, context, detail); !folder.ok()) {
    return folder;
  }
  if (options.error_if_exists && s.IsInvalidArgument() && Exists(fs::path(path) / "CURRENT")) {
    return absl::AlreadyExistsError(
        absl::StrCat(context, ": a store exists there (error_if_exists is true): ", detail));
  }
  return converted;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RocksDb>> RocksDb::Open(const std::string& path,
                                                       const DbOptions& options) {
  if (path.empty()) return absl::InvalidArgumentError("store path is empty");
  if (absl::Status s = ValidateOptions(options); !s.ok()) return s;
  const std::string context = absl::StrCat("cannot open store at '", path, "'");
  // When no store may be created, check first: RocksDB would create the folder (for its info
  // LOG) before noticing that the store is missing.
  if (options.read_only || !options.create_if_missing) {
    if (absl::Status s = CheckFolder(path, options, context, ""); !s.ok()) return s;
  }
  // Then the format marker, before RocksDB writes anything into the folder (a writable open of
  // a new store writes the marker first, once the folder's parent is known to exist).
  // error_if_exists with a store there is left to RocksDB, which reports it.
  const std::string rocks_path = CanonicalFolder(path);
  ValueEncoding encoding = options.value_encoding.value_or(ValueEncoding::kHeader);
  if (!options.error_if_exists || !Exists(fs::path(rocks_path) / "CURRENT")) {
    if (absl::Status s = CheckFolder(rocks_path, options, context, ""); !s.ok()) return s;
    absl::StatusOr<ValueEncoding> checked =
        CheckFormatMarker(rocks_path, options.value_encoding, !options.read_only, context);
    if (!checked.ok()) return checked.status();
    encoding = *checked;
  }

  auto impl = std::make_unique<Impl>();
  impl->point_reads.fill_cache = options.point_reads_fill_block_cache;
  rocksdb::Options rocks_options = BuildOptions(options, &impl->block_cache);
  if (options.read_only) rocks_options.info_log = std::make_shared<NullLogger>();
  if (options.fault_injector != nullptr) {
    impl->fault_env = NewFaultInjectionEnv(options.fault_injector);
    rocks_options.env = impl->fault_env.get();
    rocks_options.listeners.push_back(std::make_shared<ManualRecoveryOnly>());
    rocks_options.max_bgerror_resume_count = 0;  // No automatic retries of retryable errors.
  }
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status s = options.read_only
                                ? rocksdb::DB::OpenForReadOnly(rocks_options, rocks_path, &raw)
                                : rocksdb::DB::Open(rocks_options, rocks_path, &raw);
  impl->db.reset(raw);
  if (!s.ok()) return OpenError(path, options, context, s);
  if (raw == nullptr) return absl::InternalError(absl::StrCat(context, ": no DB handle"));
  return std::unique_ptr<RocksDb>(
      new RocksDb(path, options.read_only, encoding, options.sync, std::move(impl)));
}

RocksDb::RocksDb(std::string path, bool read_only, ValueEncoding value_encoding, bool sync,
                 std::unique_ptr<Impl> impl)
    : path_(std::move(path)),
      read_only_(read_only),
      value_encoding_(value_encoding),
      default_write_options_{sync},
      impl_(std::move(impl)) {}

RocksDb::~RocksDb() { Close().IgnoreError(); }

absl::Status RocksDb::Close() {
  [[maybe_unused]] const auto serialized = impl_->SerializeForTsan();
  if (impl_->db == nullptr) return absl::OkStatus();
  absl::Status result;
  if (!read_only_) {
    rocksdb::FlushOptions flush;
    flush.wait = true;
    result = ToAbslStatus(impl_->db->Flush(flush), "flush on close");
  }
  const absl::Status closed = ToAbslStatus(impl_->db->Close(), "close");
  if (result.ok()) result = closed;
  impl_->db.reset();  // Deleting the DB is safe, and releases the LOCK, whatever Close() said.
  return result;
}

absl::Status RocksDb::CheckOpen(std::string_view op) const {
  if (impl_->db != nullptr) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(util::ToAbsl(op), ": store at '", path_, "' is closed"));
}

absl::Status RocksDb::CheckWritable(std::string_view op) const {
  if (absl::Status s = CheckOpen(op); !s.ok()) return s;
  if (!read_only_) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(util::ToAbsl(op), ": store at '", path_, "' is open read-only"));
}

absl::StatusOr<std::string> RocksDb::Get(std::string_view key) const {
  std::string value;
  absl::Status s = Get(key, &value);
  if (!s.ok()) return s;
  return value;
}

absl::Status RocksDb::Get(std::string_view key, std::string* value) const {
  [[maybe_unused]] const auto serialized = impl_->SerializeForTsan();
  if (absl::Status s = CheckOpen("Get"); !s.ok()) {
    value->clear();
    return s;
  }
  // The PinnableSlice reads into *value when RocksDB must copy, and pins a block (no copy) when
  // the value sits in the block cache; only then do we copy, into *value's existing capacity.
  rocksdb::PinnableSlice pinned(value);
  const rocksdb::Status s =
      impl_->db->Get(impl_->point_reads, impl_->db->DefaultColumnFamily(), ToSlice(key), &pinned);
  if (!s.ok()) {
    value->clear();
    if (s.IsNotFound()) return absl::NotFoundError("key not found");
    return ToAbslStatus(s, "Get");
  }
  if (pinned.IsPinned()) value->assign(pinned.data(), pinned.size());
  return absl::OkStatus();
}

std::vector<absl::StatusOr<std::string>> RocksDb::MultiGet(
    absl::Span<const std::string_view> keys) const {
  [[maybe_unused]] const auto serialized = impl_->SerializeForTsan();
  std::vector<absl::StatusOr<std::string>> out;
  out.reserve(keys.size());
  if (absl::Status s = CheckOpen("MultiGet"); !s.ok()) {
    out.assign(keys.size(), s);
    return out;
  }
  if (keys.empty()) return out;
  std::vector<rocksdb::Slice> slices;
  slices.reserve(keys.size());
  for (std::string_view k : keys) slices.push_back(ToSlice(k));
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  impl_->db->MultiGet(impl_->point_reads, impl_->db->DefaultColumnFamily(), keys.size(),
                      slices.data(), values.data(), statuses.data());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].ok()) {
      out.emplace_back(std::string(ToView(values[i])));
    } else if (statuses[i].IsNotFound()) {
      out.emplace_back(absl::NotFoundError("key not found"));
    } else {
      out.emplace_back(ToAbslStatus(statuses[i], "MultiGet"));
    }
  }
  return out;
}

absl::Status RocksDb::Put(std::string_view key, std::string_view value,
                          const WriteOptions& options) {
  [[maybe_unused]] const auto serialized = impl_->SerializeForTsan();
  if (absl::Status s = CheckWritable("Put"); !s.ok()) return s;
  rocksdb::WriteOptions wo;
  wo.sync = options.sync;
  return ToAbslStatus(impl_->db->Put(wo, ToSlice(key), ToSlice(value)), "Put");
}

absl::Status RocksDb::Delete(std::string_view key, const WriteOptions& options) {
  [[maybe_unused]] const auto serialized = impl_->SerializeForTsan();
  if (absl::Status s = CheckWritable("Delete"); !s.ok()) return s;
  rocksdb::WriteOptions wo;
  wo.sync = options.sync;
  return ToAbslStatus(impl_->db->Delete(wo, ToSlice(key)), "Delete");
}

absl::Status RocksDb::Write(absl::Span<const WriteOp> ops, const WriteOptions& options) {
  [[maybe_unused]] const auto serialized = impl_->SerializeForTsan();
  if (absl::Status s = CheckWritable("Write"); !s.ok()) return s;
  if (ops.empty()) return absl::OkStatus();
  rocksdb::WriteBatch batch;
  for (size_t i = 0; i < ops.size(); ++i) {
    const WriteOp& op = ops[i];
    rocksdb::Status s;
    switch (op.type) {
      case WriteOp::kPut:
        s = batch.Put(ToSlice(op.key), ToSlice(op.value));
        break;
      case WriteOp::kDelete:
        s = batch.Delete(ToSlice(op.key));
        break;
      default:
        return absl::InvalidArgumentError(absl::StrCat(
            "Write: op ", i, " has unknown type ", static_cast<int>(op.type), "; nothing written"));
    }
    if (!s.ok()) return ToAbslStatus(s, absl::StrCat("Write: op ", i));
  }
  rocksdb::WriteOptions wo;
  wo.sync = options.sync;
  return ToAbslStatus(impl_->db->Write(wo, &batch), "Write");
}

absl::Status RocksDb::Put(std::string_view key, std::string_view value) {
  return Put(key, value, default_write_options_);
}

absl::Status RocksDb::Delete(std::string_view key) { return Delete(key, default_write_options_); }

absl::Status RocksDb::Write(absl::Span<const WriteOp> ops) {
  return Write(ops, default_write_options_);
}

namespace {

// The smallest key greater than every key that starts with `prefix`, or nullopt if there is
// none (prefix empty or all 0xFF bytes: every key >= prefix then starts with it).
std::optional<std::string> PrefixSuccessor(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xFF) prefix.pop_back();
  if (prefix.empty()) return std::nullopt;
  prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

// ScanSpec as one key range [lower, upper); no upper means unbounded.
struct KeyRange {
  std::string lower;
  std::optional<std::string> upper;
};

KeyRange ToKeyRange(const ScanSpec& spec) {
  KeyRange r;
  r.lower = std::max(spec.prefix, spec.start);
  r.upper = PrefixSuccessor(spec.prefix);
  if (!spec.end.empty() && (!r.upper.has_value() || spec.end < *r.upper)) r.upper = spec.end;
  return r;
}

}  // namespace

absl::Status RocksDb::Scan(
    const ScanSpec& spec,
    absl::FunctionRef<bool(std::string_view key, std::string_view value)> fn) const {
  [[maybe_unused]] const auto serialized = impl_->SerializeForTsan();
  if (absl::Status s = CheckOpen("Scan"); !s.ok()) return s;
  const KeyRange range = ToKeyRange(spec);
  if (range.upper.has_value() && range.lower >= *range.upper) return absl::OkStatus();

  // The bounds let RocksDB stop at the range's end without reading past it (and skip SST files
  // and blocks outside it); the slices must outlive the iterator.
  const rocksdb::Slice lower = ToSlice(range.lower);
  rocksdb::Slice upper;
  rocksdb::ReadOptions ro;
  ro.iterate_lower_bound = &lower;
  if (range.upper.has_value()) {
    upper = ToSlice(*range.upper);
    ro.iterate_upper_bound = &upper;
  }
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro));
  size_t visited = 0;
  for (it->Seek(lower); it->Valid(); it->Next()) {
    if (!fn(ToView(it->key()), ToView(it->value()))) return absl::OkStatus();
    if (spec.limit != 0 && ++visited == spec.limit) return absl::OkStatus();
  }
  return ToAbslStatus(it->status(), "Scan");
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> RocksDb::Scan(
    const ScanSpec& spec) const {
  std::vector<std::pair<std::string, std::string>> out;
  absl::Status s = Scan(spec, [&out](std::string_view key, std::string_view value) {
    out.emplace_back(std::string(key), std::string(value));
    return true;
  });
  if (!s.ok()) return s;
  return out;
}

absl::Status RocksDb::Flush() {
  [[maybe_unused]] const auto serialized = impl_->SerializeForTsan();
  if (absl::Status s = CheckWritable("Flush"); !s.ok()) return s;
  rocksdb::FlushOptions fo;
  fo.wait = true;
  return ToAbslStatus(impl_->db->Flush(fo), "Flush");
}

absl::Status RocksDb::CompactAll() {
  [[maybe_unused]] const auto serialized = impl_->SerializeForTsan();
  if (absl::Status s = CheckWritable("CompactAll"); !s.ok()) return s;
  rocksdb::CompactRangeOptions co;
  // Rewrite the last level too, so deleted and overwritten entries are really dropped.
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
  return ToAbslStatus(impl_->db->CompactRange(co, nullptr, nullptr), "CompactAll");
}

absl::Status RocksDb::Resume() {
  [[maybe_unused]] const auto serialized = impl_->SerializeForTsan();
  if (absl::Status s = CheckWritable("Resume"); !s.ok()) return s;
  return ToAbslStatus(impl_->db->Resume(), "Resume");
}

absl::StatusOr<std::string> RocksDb::GetProperty(std::string_view name) const {
  [[maybe_unused]] const auto serialized = impl_->SerializeForTsan();
  if (absl::Status s = CheckOpen("GetProperty"); !s.ok()) return s;
  std::string value;
  if (!impl_->db->GetProperty(ToSlice(name), &value)) {
    return absl::NotFoundError(absl::StrCat("unknown RocksDB property '", util::ToAbsl(name), "'"));
  }
  return value;
}

absl::StatusOr<uint64_t> RocksDb::GetIntProperty(std::string_view name) const {
  [[maybe_unused]] const auto serialized = impl_->SerializeForTsan();
  if (absl::Status s = CheckOpen("GetIntProperty"); !s.ok()) return s;
  uint64_t value = 0;
  if (impl_->db->GetIntProperty(ToSlice(name), &value)) return value;
  std::string text;
  if (impl_->db->GetProperty(ToSlice(name), &text)) {
    return absl::InvalidArgumentError(
        absl::StrCat("RocksDB property '", util::ToAbsl(name), "' is not an integer property"));
  }
  return absl::NotFoundError(absl::StrCat("unknown RocksDB property '", util::ToAbsl(name), "'"));
}

}  // namespace asidekv::db
