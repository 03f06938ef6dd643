// Offline access to a store's RocksDB folder for asidekv-admin: open, decode values, dump/load.
//
// Values in the DB carry asidekv's header (db/value_format.h), or none in a folder of raw
// values (Options::raw_values), as the folder's format marker (db/format_marker.h) records;
// every function here decodes them accordingly, so callers see user values and their stored
// cache TTLs. A folder without a marker is refused (FailedPrecondition).
//
// Dump format: documented in db/formats.h (4). Load() checks the whole file (magic, structure,
// count, crc) before writing anything.
//
// Thread safety: functions on distinct DBs may run concurrently.

#ifndef ASIDEKV_TOOLS_ADMIN_OFFLINE_H_
#define ASIDEKV_TOOLS_ADMIN_OFFLINE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "db/rocks_db.h"

namespace asidekv::admin {

// Opens the store folder `dir`. Read-only opens take no lock (they work beside a live Store and
// see what it has persisted). A writable open fails with FailedPrecondition, naming the folder
// and saying it is in use, when another process (or Store) holds it; NotFound when `dir` holds
// no store (unless create is set).
absl::StatusOr<std::unique_ptr<db::RocksDb>> OpenOffline(const std::string& dir, bool writable,
                                                         bool create = false);

// One stored pair, decoded.
struct Record {
  std::string_view key;
  std::string_view value;
  std::optional<absl::Duration> ttl;
};

// Calls fn for each key with `prefix`, in key order, at most `limit` (0: all). DataLoss for a
// value whose header is corrupt. fn returns false to stop.
absl::Status ScanRecords(const db::RocksDb& db, const std::string& prefix, uint64_t limit,
                         absl::FunctionRef<bool(const Record&)> fn);

// Writes every pair of `db` to `file` (created or truncated, mode 0600). Returns the count.
absl::StatusOr<uint64_t> Dump(const db::RocksDb& db, const std::string& file);

// Verifies `file`, then writes its pairs into `db` (in batches; existing keys are overwritten).
// DataLoss naming the problem for a bad file, FailedPrecondition for TTLs into a folder of raw
// values (nothing written either way). Returns the count.
absl::StatusOr<uint64_t> Load(db::RocksDb& db, const std::string& file);

struct CheckReport {
  uint64_t keys = 0;
  uint64_t corrupt_values = 0;  // Header could not be decoded.
  uint64_t read_errors = 0;     // Point read failed or disagreed with the scan.
  std::string first_problem;    // Empty when none.
};
// Reads every key by scan and again by point lookup, decoding each value.
absl::StatusOr<CheckReport> Check(const db::RocksDb& db);

}  // namespace asidekv::admin

#endif  // ASIDEKV_TOOLS_ADMIN_OFFLINE_H_
