// Database: the source of truth behind a Store.
//
// A Store keeps a cache beside a Database and coordinates the two by the cache-aside pattern:
// reads try the cache, then the Database; writes go to the Database first, then invalidate (or
// update) the cache. asidekv ships two implementations, chosen by Options: a RocksDB folder
// (Options::path, the embedded default) and a PostgreSQL table shared by many processes
// (Options::postgres). An application may put a Store in front of a database it already has
// (MySQL, a service behind HTTP...) by implementing this interface and passing it to
// Store::Open(options, database).
//
// What an implementation must guarantee for the Store's promise to hold (store.h, "Guarantee"):
//   1. Read-your-writes, at once: once Put, Delete or Write has returned OK, every Get,
//      MultiGet or Scan that starts afterwards, on any thread, sees that write or a later one of
//      the same key. (A replica that lags its primary breaks this: read the primary.)
//   2. Atomic batches: Write applies all its operations or none, and no read sees a part of it.
//      Within one Write, a later operation on a key wins over an earlier one.
//   3. A failed write applied nothing, with one exception: a write whose outcome is unknown (the
//      connection dropped while the commit was in flight) returns absl::StatusCode::kUnknown,
//      and may or may not have been applied. The Store then invalidates the keys anyway.
//   4. NotFound means "no such key", and nothing else: an I/O or connection error is any other
//      code (Unavailable is the usual one), so that it is never cached as an absent key.
//   5. Binary-safe keys and values: bytes in, the same bytes out (NUL included), keys compared
//      as unsigned bytes (memcmp order) by Scan.
//   6. Thread safety: every method may be called concurrently from any number of threads.
//   7. No calls back into the Store, and no blocking forever: a stalled server is an error
//      (DeadlineExceeded or Unavailable) after the implementation's own timeout.
// IsShared() tells whether other processes (other Stores) write the same data. A shared
// Database makes the Store bound how long a cached value may outlive a write made elsewhere
// (Options::max_staleness); its own writes stay visible at once.
//
// The Store writes values in its stored form: a header with the per-key TTL in front of the
// value, unless Options::raw_values (then values are stored as given, and read back as found,
// which is what a database shared with other programs wants).
//
// Example: a Database over a std::map (complete; see the README for the same in context):
//
//   class MapDatabase : public asidekv::Database {
//    public:
//     absl::Status Get(std::string_view key, std::string* value) const override {
//       absl::MutexLock l(&mu_);
//       auto it = map_.find(std::string(key));
//       if (it == map_.end()) return absl::NotFoundError("no such key");
//       *value = it->second;
//       return absl::OkStatus();
//     }
//     absl::Status Write(absl::Span<const asidekv::DatabaseOp> ops) override {
//       absl::MutexLock l(&mu_);
//       for (const asidekv::DatabaseOp& op : ops) {
//         if (op.type == asidekv::DatabaseOp::kPut) map_[std::string(op.key)] = op.value;
//         else map_.erase(std::string(op.key));
//       }
//       return absl::OkStatus();
//     }
//     absl::Status Scan(const asidekv::ScanOptions& options,
//                       absl::FunctionRef<bool(std::string_view, std::string_view)> fn)
//         const override;  // walks map_ from lower_bound(start) (see the README)
//    private:
//     mutable absl::Mutex mu_;
//     std::map<std::string, std::string> map_;
//   };
//
// This header compiles as C++17.

#ifndef ASIDEKV_DATABASE_H_
#define ASIDEKV_DATABASE_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "asidekv/export.h"

namespace asidekv {

// Which keys a scan visits: the keys that start with `prefix` AND lie in [start, end), in
// ascending byte order, at most `limit` of them. Empty fields do not constrain.
struct ScanOptions {
  // Only keys that start with this prefix (empty: no prefix condition).
  std::string prefix;
  // Only keys >= start (empty: from the first key).
  std::string start;
  // Only keys < end (empty: to the last key).
  std::string end;
  // At most this many pairs (0: no limit).
  size_t limit = 0;
};

// One operation of Database::Write. The views are valid for the duration of that call.
struct DatabaseOp {
  enum Type { kPut, kDelete };
  Type type = kPut;
  std::string_view key;
  std::string_view value;  // Ignored for kDelete.
};

class ASIDEKV_EXPORT Database {
 public:
  Database() = default;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  virtual ~Database();

  // Reads `key` into `*value` (replacing its contents): OK, NotFound when there is no such key,
  // or another error. REQUIRES: value != nullptr.
  virtual absl::Status Get(std::string_view key, std::string* value) const = 0;

  // One result per key, in order, each as Get would return it. Keys may repeat. The default
  // calls Get for each key; an implementation should read them in one round trip.
  virtual std::vector<absl::StatusOr<std::string>> MultiGet(
      absl::Span<const std::string_view> keys) const;

  // Applies `ops` atomically (guarantees 2 and 3 above). An empty span is OK.
  virtual absl::Status Write(absl::Span<const DatabaseOp> ops) = 0;

  // One put, or one delete (deleting a missing key is OK). The defaults call Write with one
  // operation.
  virtual absl::Status Put(std::string_view key, std::string_view value);
  virtual absl::Status Delete(std::string_view key);

  // Calls fn(key, value) for each entry `options` selects, in ascending key order, until fn
  // returns false or the entries run out. The views are valid only during that call. The scan
  // sees every write that returned before it began. OK when stopped by fn.
  virtual absl::Status Scan(
      const ScanOptions& options,
      absl::FunctionRef<bool(std::string_view key, std::string_view value)> fn) const = 0;

  // Whether other processes may write the same data (see the header comment). Default: false.
  virtual bool IsShared() const;

  // A property of the engine, as text (RocksDB's "rocksdb.stats", say); NotFound when the
  // engine has no such property. Default: NotFound for every name.
  virtual absl::StatusOr<std::string> GetProperty(std::string_view name) const;

  // Makes written data durable now, and compacts it, where the engine has such a step (RocksDB
  // flushes its memtable and compacts its files). Defaults: OK, nothing to do.
  virtual absl::Status Flush();
  virtual absl::Status CompactAll();

  // Recovers from an error that stopped writes, once its cause is gone (RocksDB's Resume; a
  // server-backed Database may reconnect). OK when writes work. Default: OK.
  virtual absl::Status Resume();
};

}  // namespace asidekv

#endif  // ASIDEKV_DATABASE_H_
