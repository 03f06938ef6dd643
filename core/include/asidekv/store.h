// Store: a key-value store with a cache-aside layer over a source of truth: a RocksDB folder
// (Options::path, the embedded default), a PostgreSQL table shared by many processes
// (Options::postgres), or an application's own database (Store::Open(options, database); see
// asidekv/database.h).
//
// Reads look in an in-memory cache first; on a miss they read the database (one read per key at
// a time, however many callers miss it together), copy the value into the cache and return it.
// Writes go to the database first, the source of truth, then invalidate the key's cache entry
// (WritePolicy::kInvalidate, the default) or replace it (kUpdate). The cache never reads the
// database by itself; with the cache disabled, cleared or failing, every read is a miss and
// still correct.
//
// Guarantee (per-key linearizability within one process): once a Put, Delete or Write returns
// OK, every Get/MultiGet that starts afterwards returns the written value or a newer one, never
// an older one. In particular:
//   - a slow miss that read the DB before the write cannot fill the cache after it (each fill
//     carries a token; a write or invalidation that began after the token rejects the fill);
//   - a Get that starts after the write never joins a load that began before it;
//   - eviction or expiry between a miss and its fill changes none of this;
//   - with kUpdate, overlapping writers of one key leave the entry invalidated rather than
//     holding a value other than the DB's last.
// When writers stop, every key's Get returns the DB's value. A Get concurrent with a write may
// return either the old or the new value. The guarantee covers writes made through this Store;
// a write made to the RocksDB folder some other way is not seen until the entry expires or is
// invalidated.
//
// Across processes (a shared database: PostgreSQL, or a Database whose IsShared() is true), the
// guarantee above holds within each process, and between processes it is bounded: a Get that
// starts at least Options::max_staleness after a write returned in another process returns that
// write's value or a newer one (every cache entry lives at most max_staleness from the moment
// its database read began). With the cache off (cache_capacity_bytes = 0), every operation is
// linearizable per key across processes, as the database itself is. With a Redis tier
// (Options::redis) the bound is Options::coherence_bound (kBounded) or zero (kStrict) for writes
// whose invalidation reached Redis; with the commit-log relay (Options::commit_log_relay) a
// write whose invalidation did not (its writer crashed after the commit, or could not reach
// Redis), or one made to the table by another program, is seen everywhere within the relay's
// lag (Stats::relay_lag) + coherence_bound rather than max_staleness; kStrict writes that return
// are unchanged.
//
// Threads: a Store starts no thread of its own by default. It starts, at Open(): one admin
// thread with Options::admin_socket (and asidekv::EnableAdminEndpoint()); refresh_threads
// reload threads with RefreshAhead::kBackground; one hot-set thread with Options::hot_set_path
// (it warms the cache from the file, then records the hot set every hot_set_interval); with
// Options::redis, a retry thread and an invalidation thread; with Options::commit_log_relay, a
// relay thread (which relays only while this Store leads). RocksDB
// runs its own flush and compaction threads. All of them stop before the destructor returns.
//   kProbabilistic refresh-ahead reloads in the reader's own thread.
//
// On-disk format: the folder at Options::path is a RocksDB database plus a one-line
// ASIDEKV_FORMAT file (format version and value encoding), written when the store is created
// and checked on every Open. Each value is stored with a one-byte header, followed by a varint
// TTL when Put was given one (Options::raw_values stores values as they are, without it). These
// layouts, and those of the hot-set file and of asidekv-admin's dump file, are documented with
// their versions in one place, db/formats.h in the source tree.
//
// Thread safety: all methods may be called concurrently from any number of threads.
// Ownership: Open() returns the sole owner; destroying the Store flushes and closes the DB. Keys
//   and values are copied in and out, except by GetPinned(), whose PinnedValue keeps the cached
//   value alive for as long as it is held (it may outlive the Store).
// Errors: absl::Status; nothing throws across this API. A missing key is absl::NotFoundError.
//
// Example:
//   asidekv::Options options;
//   options.path = "/var/lib/myapp/kv";
//   auto store = asidekv::Store::Open(options);
//   if (!store.ok()) return store.status();
//   absl::Status s = (*store)->Put("user:42", "alice");
//   absl::StatusOr<std::string> v = (*store)->Get("user:42");   // "alice"

#ifndef ASIDEKV_STORE_H_
#define ASIDEKV_STORE_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "asidekv/database.h"
#include "asidekv/export.h"
#include "asidekv/options.h"
#include "asidekv/stats.h"
#include "asidekv/write_batch.h"

namespace asidekv {

// A read-only view of a value that stays valid while this object (or a copy) lives. Returned by
// Store::GetPinned() so large values can be read without a copy.
class PinnedValue {
 public:
  PinnedValue() = default;
  PinnedValue(std::shared_ptr<const void> owner, std::string_view value)
      : owner_(std::move(owner)), value_(value) {}
  std::string_view value() const { return value_; }
  std::string ToString() const { return std::string(value_); }

 private:
  std::shared_ptr<const void> owner_;
  std::string_view value_;
};

// What a scan returns: keys in ascending byte order, with their values.
struct KeyValue {
  std::string key;
  std::string value;
};

class ASIDEKV_EXPORT Store final {
 public:
  // Statuses: InvalidArgument for bad options (naming the field); NotFound when the folder's
  // parent does not exist, or the folder does not and create_if_missing is false;
  // AlreadyExists when it exists and error_if_exists is true; DataLoss for a corrupt store;
  // FailedPrecondition when Options::admin_socket is set without an enabled admin endpoint or
  // names a file or a live socket; otherwise the DB's open error, e.g.
  // FailedPrecondition when another Store (or process) has the folder open, when the folder is
  // a RocksDB database without asidekv's format marker (written by another program; see
  // Options::raw_values), of a newer format, or of the other raw_values mode. A refused folder
  // is left as it was. With Options::postgres: Unavailable when the server cannot be reached
  // (the message names the server, never the password), PermissionDenied when it refuses the
  // credentials, FailedPrecondition when the table exists with another schema or the other
  // raw_values mode, DeadlineExceeded past postgres_timeout; nothing is created then.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const Options& options);

  // Opens a Store over `database`, the application's own source of truth (asidekv/database.h
  // states what it must guarantee). Options::path and Options::postgres must be empty; the
  // options that configure RocksDB (create_if_missing, error_if_exists, sync_writes,
  // db_block_cache_bytes, db_point_reads_fill_block_cache, db_mmap_reads, db_block_size) are the
  // database's business and ignored. Values are stored with asidekv's header unless
  // Options::raw_values. Statuses: InvalidArgument for a null database or bad options (e.g.
  // max_staleness unset while database->IsShared() and the cache is on); FailedPrecondition as for
  // Open(options) about admin_socket. The Store owns the database.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const Options& options,
                                                     std::unique_ptr<Database> database);

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  // Closes the DB after flushing its memtable. REQUIRES: no call on this Store is in progress.
  ~Store();

  // The value; NotFound; InvalidArgument for an empty key or one over max_key_size; DataLoss
  // when the stored value does not decode; or the DB's error (e.g. Unavailable for an I/O
  // error). Errors are never cached. A miss issues at most
  // one DB read per key at a time; concurrent callers wait for it (Stats::coalesced_waits).
  absl::StatusOr<std::string> Get(std::string_view key);

  // Like Get (the same statuses), but returns a view of the cached value without copying it.
  absl::StatusOr<PinnedValue> GetPinned(std::string_view key);

  // Writes key=value to the DB, then applies the write policy to the cache. Statuses: OK;
  // InvalidArgument for a bad key, a value over max_value_size or a bad cache_ttl (nothing
  // written); ResourceExhausted when the disk is full (writes stay stopped until Resume());
  // Unavailable or Internal for other DB errors. On a DB error the cache is left untouched. The
  // cache entry, if any, uses default_ttl; the second form gives this key's cache entries
  // `cache_ttl` instead, until the key is written again. `cache_ttl` is kept in whole nanoseconds:
  // it must be at least 1ns or absl::InfiniteDuration() (InvalidArgument otherwise: zero, negative
  // or sub-nanosecond); a finite TTL beyond the int64 nanosecond range (about 292 years) is kept as
  // infinite. The second form returns FailedPrecondition with Options::raw_values (the TTL is kept
  // in the value header, which raw values do not have). Unknown when the database lost the
  // connection while committing (PostgreSQL): the write may or may not have landed, and the
  // key's cache entry is invalidated either way, so the next Get reads what the database holds.
  absl::Status Put(std::string_view key, std::string_view value);
  absl::Status Put(std::string_view key, std::string_view value, absl::Duration cache_ttl);

  // Deletes key from the DB (OK if absent), then invalidates its cache entry. Statuses as Put.
  absl::Status Delete(std::string_view key);

  // Applies every op of `batch` atomically in the DB, then invalidates (or, with kUpdate,
  // updates) the cache entry of every key in it. InvalidArgument (nothing written) if any key
  // or value is bad; otherwise statuses as Put. An empty batch is OK.
  absl::Status Write(const WriteBatch& batch);

  // One result per key, in order, each as Get would return it (the value, NotFound,
  // InvalidArgument for a bad key, DataLoss for a stored value that does not decode, or the
  // DB's error). Hits come from the cache; all misses are read from the DB in one MultiGet.
  // Repeated keys are read once.
  std::vector<absl::StatusOr<std::string>> MultiGet(absl::Span<const std::string_view> keys);
  std::vector<absl::StatusOr<std::string>> MultiGet(const std::vector<std::string>& keys);

  // Pairs in key order read from the DB (the cache is neither used nor filled), consistent with
  // every write that returned before the scan began.
  absl::StatusOr<std::vector<KeyValue>> Scan(const ScanOptions& options);

  // Loads `keys` from the DB into the cache in one database MultiGet per batch, in order, without
  // counting as hits or misses. Keys already cached, being loaded, or absent from the DB are
  // skipped; a write of a key concurrent with its load wins (the load is not cached). Stops once
  // this call has filled as many bytes as the cache can hold. Returns how many entries it put in
  // the cache, or the DB's error (entries filled before it stay). 0 with the cache disabled.
  absl::StatusOr<size_t> Warm(absl::Span<const std::string> keys);

  // Warm() of the first `limit` keys (0: no limit) that start with `prefix`, in key order.
  absl::StatusOr<size_t> WarmPrefix(std::string_view prefix, size_t limit);

  // Drops the cache entry of `key`, if any; the next Get reads the DB.
  void Invalidate(std::string_view key);

  // Drops every cache entry. Reads keep working and refill the cache.
  void ClearCache();

  Stats GetStats() const;

  // A property of the database: RocksDB's (e.g. "rocksdb.estimate-num-keys", "rocksdb.stats"),
  // PostgreSQL's ("postgres.server_version"...), or NotFound when it has no such property.
  absl::StatusOr<std::string> GetProperty(std::string_view property) const;

  // Flushes RocksDB's memtable to disk (OK and nothing to do where every commit is durable).
  absl::Status Flush();

  // Compacts the whole key range (RocksDB; see Database::CompactAll for others).
  absl::Status CompactAll();

  // Recovers from a DB error that stopped writes (e.g. the disk filled up: every write then
  // returns ResourceExhausted), once its cause is gone: flushes RocksDB's memtable and clears
  // the error. OK if writes were not stopped or work again. Otherwise the reason they cannot:
  // the fault persists, or the error was fatal (e.g. an I/O error writing the log), and only
  // destroying the Store and opening it again recovers. The cache is consistent throughout:
  // failed writes left it untouched, and reads keep working while writes are stopped.
  absl::Status Resume();

  // The options in force (defaults and chosen values filled in).
  const Options& options() const;

 private:
  struct Rep;  // Defined in the library.
  explicit Store(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace asidekv

#endif  // ASIDEKV_STORE_H_
