// RocksDb is a thin handle on one RocksDB store: point reads (single and batched), writes
// (single and atomic batches), ordered scans, flush/compaction and RocksDB's property strings.
// It is the embedded implementation of the public asidekv::Database (asidekv/database.h), the
// source of truth that core/ puts the cache in front of; the interface's overrides use
// DbOptions::sync for their writes.
//
// Thread safety: every method except Close() may be called concurrently from any number of
//   threads without external locking (RocksDB's DB is thread-safe). Close() and the destructor
//   REQUIRE that no other call is in flight on the same RocksDb.
// Ownership: Open() returns the sole owner of the store; destroying it flushes (unless read-only)
//   and closes the store, releasing its LOCK file. Keys and values are copied in and out; no view
//   into RocksDB memory escapes, except the string_views handed to a Scan() callback, which are
//   valid only for the duration of that one call.
// Failure: nothing throws. Every fallible call returns absl::Status / absl::StatusOr; a missing
//   key is absl::NotFoundError, distinct from I/O errors. RocksDB's own message is kept inside
//   ours; the code mapping is the table in db/status_conversion.h. Calls after Close() return
//   FailedPrecondition. Errors specific to Open() are listed on Open().
//
// RocksDB is an implementation detail: this header includes no <rocksdb/...> header, so the
// modules above db/ need not see RocksDB's include path.
//
// Example:
//
//   absl::StatusOr<std::unique_ptr<db::RocksDb>> db = db::RocksDb::Open("/var/lib/app", {});
//   if (!db.ok()) return db.status();
//   absl::Status s = (*db)->Put("key", "value", {});
//   if (!s.ok()) return s;
//   absl::StatusOr<std::string> v = (*db)->Get("key");  // "value"
//   db::ScanSpec spec;
//   spec.prefix = "ke";
//   absl::StatusOr<std::vector<std::pair<std::string, std::string>>> rows =
//       (*db)->Scan(spec);                              // {{"key", "value"}}

#ifndef ASIDEKV_DB_ROCKS_DB_H_
#define ASIDEKV_DB_ROCKS_DB_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "asidekv/database.h"
#include "db/format_marker.h"

namespace asidekv::db {

class FaultInjector;  // db/fault_injection.h

// Block compression of SST files.
enum class Compression {
  kNone,
  kSnappy,
  kLz4,   // Fast to compress and decompress; the default.
  kZstd,  // Smaller files, more CPU per block read.
};

// How to open a store. Each default is tuned for a store read mostly through a cache: asidekv's
// own cache absorbs hot reads, so RocksDB's memory stays modest and its effort goes to keeping
// misses cheap (one bloom probe per SST, one block read).
//
// Fixed choices, not options (documented here because they shape performance):
//   - Level compaction with level_compaction_dynamic_level_bytes: bounded space amplification
//     (~1.1x), fewer levels on small stores.
//   - Full-key bloom filters (format_version 5). Index and filter blocks live in the table
//     readers, not in the block cache: a point miss then costs one bloom probe and one data
//     block, never a filter re-read (about 1.3 bytes of filter and a little index per key stay
//     in memory; max_open_files = -1 keeps every table reader open).
//   - The same compression on every level (see `compression`).
//   - WAL on; writes are durable against a process crash, against power loss only with
//     WriteOptions::sync.
struct DbOptions {
  // Create the store (one folder) when `path` does not hold one. The parent folder must exist.
  // Ignored when read_only. Default: true.
  bool create_if_missing = true;

  // Fail with AlreadyExists when `path` already holds a store. Default: false.
  bool error_if_exists = false;

  // Open with RocksDB's OpenForReadOnly, for an offline admin tool: nothing is written into the
  // folder (no LOCK taken, RocksDB's info LOG discarded, no flush on close), so it may open
  // beside a running writer. The data seen is what was persisted (SSTs and WAL) when Open()
  // ran. Every write, Flush() and CompactAll() return FailedPrecondition. Default: false.
  bool read_only = false;

  // Capacity of RocksDB's LRU block cache, in bytes; 0 disables the block cache (reads then
  // rely on the OS page cache). Kept small because asidekv's cache sits in front.
  // Default: 8 MiB.
  size_t block_cache_bytes = size_t{8} << 20;

  // Whether Get and MultiGet put the blocks they read into the block cache (RocksDB's
  // ReadOptions::fill_cache); scans always do. Behind asidekv's cache, a point read is a cache
  // miss: its row is cached above, and the 4 KiB block around it, read for one row of the cold
  // tail, is rarely read again before it is evicted. Filling costs an allocation, a copy and an
  // eviction per miss, and pushes out the blocks scans reuse. Measured (asidekv-bench, 2 threads,
  // zipfian, runs alternated): YCSB-C over 1,000,000 records with a 10% cache went from 1.93x and
  // 1.82x plain RocksDB to 2.17x and 2.29x without the fill; YCSB-E after D at 100,000 records
  // from 0.94x to 1.09x. Turn it on when the block cache is large beside asidekv's cache, or when
  // the store is read without one. Default: false.
  bool point_reads_fill_block_cache = false;

  // RocksDB's allow_mmap_reads: SST files are mapped into memory and read in place, not copied
  // out of the page cache by a pread per block. A read then costs no system call, and a block
  // stored uncompressed no copy. The price: an I/O error under a mapped page (a failing disk)
  // raises SIGBUS and ends the process, where a pread returns an error Status; and the mapped
  // files count in the process's address space (not its heap). Measured (asidekv-bench, YCSB-C,
  // 1,000,000 records, a 10% cache, 2 threads, alternated): asidekv went from 2.23x and 2.40x
  // plain RocksDB to 2.88x and 2.72x; against a RocksDB with mapped reads too, 1.95x. Refused
  // with fault_injector (mapped reads would bypass it).
  // Default: false.
  bool mmap_reads = false;

  // Size of an SST data block before compression (RocksDB's block_size). Every point read that
  // reaches an SST copies, checksums and searches one whole block, so smaller blocks make the
  // cache's misses cheaper; the price is a larger index (kept in memory), a worse compression
  // ratio and more blocks per scan. Measured (1,000,000 rows; 1 KiB against 4 KiB):
  //   - YCSB-C at a 10% cache (asidekv-bench, 2 threads): 2.76x and 3.08x plain RocksDB (4 KiB
  //     blocks) against 2.32x; against a RocksDB with 1 KiB blocks too, 2.35x.
  //   - YCSB-E (scans) after D, 100,000 records: 1.05x plain RocksDB against 1.17x.
  //   - Index in memory: 2.2 MB against 0.55 MB for 120 MB of rows.
  //   - LZ4 on JSON-like rows: SST files 30% larger (53.1 MB against 40.9 MB; 2 KiB: 12%).
  // Must be in [kMinBlockSize, kMaxBlockSize]. Default: 4 KiB (RocksDB's).
  static constexpr size_t kMinBlockSize = 256;
  static constexpr size_t kMaxBlockSize = size_t{256} << 20;
  size_t block_size = size_t{4} << 10;

  // Bloom filter size in bits per key (10 gives ~1% false positives); 0 disables the filter.
  // Must be in [0, 64]. Default: 10.
  int bloom_bits_per_key = 10;

  // SST block compression. Open() returns InvalidArgument if this RocksDB build lacks it.
  // Default: kLz4.
  Compression compression = Compression::kLz4;

  // Bytes of writes buffered in one memtable before it is flushed to an L0 file; also the WAL
  // replay bound after a crash. Must be > 0. Default: 32 MiB.
  size_t write_buffer_size = size_t{32} << 20;

  // Most SST files kept open at once (the table cache); -1 keeps every file open, which saves a
  // table-cache lookup per read at the cost of one file descriptor per SST. RocksDB raises
  // values in [0, 20) to 20. Default: -1.
  int max_open_files = -1;

  // RocksDB's enable_pipelined_write: a writer waits in one queue for the WAL and then in a
  // second for the memtable, instead of for the whole of every earlier write group, so
  // concurrent writers overlap their WAL appends with memtable inserts. Durability and
  // read-your-writes are unchanged (a write returns once it is in the memtable). Measured on
  // YCSB-A, 2 threads, 100,000 records (asidekv-bench, 8 interleaved rounds): asidekv went from
  // 0.89x to 1.11x plain RocksDB (RocksDB's default, off). Default: true.
  bool pipelined_write = true;

  // Check more aggressively for corruption (e.g. SST file sizes on open) and stop writes on the
  // first background error instead of continuing. Default: true.
  bool paranoid_checks = true;

  // How the caller encodes values, checked against the folder's format marker before RocksDB
  // opens it (db/format_marker.h): a folder without a marker, of a newer format version, or of
  // the other encoding is refused (FailedPrecondition), untouched. A new store is marked with
  // it; kRaw also adopts a RocksDB folder that has no marker. nullopt: accept the encoding the
  // marker records (value_encoding() tells it), for tools; a new store gets kHeader.
  // Default: kHeader.
  std::optional<ValueEncoding> value_encoding = ValueEncoding::kHeader;

  // fsync the WAL before each write of the asidekv::Database interface (Put(key, value),
  // Delete(key), Write(ops)) returns; the overloads that take WriteOptions say it per call.
  // Default: false.
  bool sync = false;

  // Tests only: when set, every file of the store goes through a file system that consults
  // this injector, which can make writes, syncs and reads fail (db/fault_injection.h), and
  // RocksDB's automatic error recovery is off (only Resume() recovers). Default: null (the
  // plain file system, automatic recovery on).
  std::shared_ptr<FaultInjector> fault_injector;
};

// Options for one write.
struct WriteOptions {
  // fsync the WAL before returning: survives power loss, costs a disk flush per write.
  // Default: false (survives a process crash only).
  bool sync = false;
};

// One operation of an atomic Write() (the public interface's type).
using WriteOp = ::asidekv::DatabaseOp;

// What Scan() visits: the keys that start with `prefix` AND lie in [start, end), in ascending
// bytewise order, at most `limit` of them (the public interface's type).
using ScanSpec = ::asidekv::ScanOptions;

class RocksDb final : public ::asidekv::Database {
 public:
  // Opens (or creates) the store in folder `path`.
  //
  // Errors (RocksDB's message is kept inside ours):
  //   InvalidArgument     bad options (e.g. bloom_bits_per_key out of range, an unsupported
  //                       compression)
  //   NotFound            the parent folder of `path` does not exist; or no store at `path` and
  //                       create_if_missing is false or read_only is true
  //   AlreadyExists       a store exists at `path` and error_if_exists is true
  //   FailedPrecondition  `path` (or a parent) is a file, not a folder; or the store is in use:
  //                       another RocksDb in this process or another process holds its LOCK
  //   FailedPrecondition  also: the folder's format marker refuses the open (see
  //                       DbOptions::value_encoding); nothing is written then
  //   DataLoss            the store is corrupt (e.g. a garbled CURRENT or MANIFEST file, or
  //                       an unreadable format marker)
  //   others              per db/status_conversion.h (e.g. Unavailable for other I/O errors)
  static absl::StatusOr<std::unique_ptr<RocksDb>> Open(const std::string& path,
                                                       const DbOptions& options);

  RocksDb(const RocksDb&) = delete;
  RocksDb& operator=(const RocksDb&) = delete;

  // Flushes the memtable (unless read-only) and closes the store; errors are dropped.
  // Call Close() first to see them.
  ~RocksDb() override;

  // Flushes the memtable (unless read-only) and closes the store, releasing its LOCK. Later
  // calls on this object return FailedPrecondition; a second Close() returns OK. The store is
  // closed even when an error is returned (the first error is reported).
  // REQUIRES: no other call on this RocksDb is in flight or starts during Close().
  absl::Status Close();

  // The value stored under `key`, NotFound if there is none, or the read error.
  absl::StatusOr<std::string> Get(std::string_view key) const;

  // As Get(key), but reads into `*value`, reusing its capacity (no allocation when the value
  // fits). On NotFound or another error, `*value` is cleared.
  // REQUIRES: value != nullptr.
  absl::Status Get(std::string_view key, std::string* value) const override;

  // Reads all `keys` in one batched RocksDB MultiGet (one pass over memtables and SSTs, I/O in
  // parallel where the platform allows). Element i answers keys[i] as Get(keys[i]) would:
  // the value, NotFound, or an error. Keys may repeat. All reads see the same snapshot.
  std::vector<absl::StatusOr<std::string>> MultiGet(
      absl::Span<const std::string_view> keys) const override;

  // Stores `value` under `key`, replacing any previous value.
  absl::Status Put(std::string_view key, std::string_view value, const WriteOptions& options);

  // Removes `key`. Deleting a missing key is OK.
  absl::Status Delete(std::string_view key, const WriteOptions& options);

  // Applies `ops` atomically, in order: readers see all of them or none, and after a crash
  // either all or none survive. A later op on the same key wins. An empty span is OK.
  // InvalidArgument (and nothing applied) if an op has an unknown type.
  absl::Status Write(absl::Span<const WriteOp> ops, const WriteOptions& options);

  // The asidekv::Database writes: as above, with DbOptions::sync.
  absl::Status Put(std::string_view key, std::string_view value) override;
  absl::Status Delete(std::string_view key) override;
  absl::Status Write(absl::Span<const WriteOp> ops) override;

  // The entries selected by `spec` (see ScanSpec), in ascending key order, read from one
  // consistent snapshot. Without a limit this copies the whole range into memory; prefer the
  // callback form for large ranges.
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Scan(const ScanSpec& spec) const;

  // Calls fn(key, value) for each entry selected by `spec`, in ascending key order, from one
  // consistent snapshot, until fn returns false or the entries run out. The views are valid
  // only during that call. Returns OK when stopped by fn; a read error stops the scan.
  // REQUIRES: fn does not call Close() on this RocksDb.
  absl::Status Scan(
      const ScanSpec& spec,
      absl::FunctionRef<bool(std::string_view key, std::string_view value)> fn) const override;

  // Writes the memtable to an SST file and waits for it to finish.
  absl::Status Flush() override;

  // Compacts the whole key range down to the last level and waits for it (purges deleted
  // and overwritten entries). May take long on a big store.
  absl::Status CompactAll() override;

  // After a write or background error stopped the store (every write then returns that error),
  // tries to recover with RocksDB's DB::Resume(): flushes the memtable and clears the error.
  // OK if the store was not stopped or has recovered. Otherwise the reason it cannot: the
  // fault persists (its error again), or the error was fatal (e.g. a plain I/O error in the
  // WAL), and only closing and reopening the store recovers it.
  absl::Status Resume() override;

  // RocksDB's value of property `name` (e.g. "rocksdb.stats", "rocksdb.estimate-num-keys"), as
  // RocksDB formats it. NotFound if RocksDB does not know the property.
  absl::StatusOr<std::string> GetProperty(std::string_view name) const override;

  // RocksDB's value of an integer property (e.g. "rocksdb.estimate-num-keys"). NotFound if
  // RocksDB does not know the property; InvalidArgument if it is known but not an integer.
  absl::StatusOr<uint64_t> GetIntProperty(std::string_view name) const;

  // The folder passed to Open().
  const std::string& path() const { return path_; }

  // Whether the store was opened read-only.
  bool read_only() const { return read_only_; }

  // How the folder's values are encoded, as its format marker records.
  ValueEncoding value_encoding() const { return value_encoding_; }

 private:
  struct Impl;  // Holds the rocksdb::DB and its options; defined in rocks_db.cc.

  RocksDb(std::string path, bool read_only, ValueEncoding value_encoding, bool sync,
          std::unique_ptr<Impl> impl);

  // FailedPrecondition after Close(); for writes also when read-only. `op` names the call.
  absl::Status CheckOpen(std::string_view op) const;
  absl::Status CheckWritable(std::string_view op) const;

  // Constant after construction.
  const std::string path_;
  const bool read_only_;
  const ValueEncoding value_encoding_;
  const WriteOptions default_write_options_;
  // The DB lives in impl_; Close() destroys it (see REQUIRES on Close()).
  std::unique_ptr<Impl> impl_;
};

}  // namespace asidekv::db

#endif  // ASIDEKV_DB_ROCKS_DB_H_
