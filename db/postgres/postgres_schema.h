// The PostgreSQL layout of an asidekv table, its checks at Open, and the statements every
// connection prepares.
//
// Schema (table <t>, e.g. "asidekv"; the README copies this):
//
//   CREATE SEQUENCE <t>_version;
//   CREATE TABLE <t> (key bytea PRIMARY KEY, value bytea NOT NULL, version bigint NOT NULL);
//   COMMENT ON TABLE <t> IS 'asidekv-format 1 header';   -- or '... raw' (db/format_marker.h)
//
//   value    the stored form: asidekv's value header in front of the value (db/value_format.h)
//            when the marker says "header"; the application's bytes as given when it says "raw".
//   version  nextval('<t>_version') taken by each write of the key: strictly increasing per
//            key, and across keys in the order the writes took it (not always commit order).
//   COMMENT  the format marker, the same text as a RocksDB folder's ASIDEKV_FORMAT line.
//
// EnsureTable (called by PostgresDb::Open, in one transaction holding
// pg_advisory_xact_lock(hashtext('asidekv.table.<t>')), so that processes opening at once
// neither race nor see a half-made table; a failure rolls back, so nothing is left behind):
//   - no table: create the sequence (unless it exists), the table and the marker, when
//     create_if_missing; else FailedPrecondition;
//   - a table whose columns, types, NOT NULLs or primary key differ: FailedPrecondition naming
//     each difference; other columns are a difference too;
//   - a table without a marker: FailedPrecondition, unless opened with the raw encoding, which
//     adopts it (marks it raw and creates the sequence if missing, past the largest version);
//     a COMMENT that is not a marker is never overwritten (FailedPrecondition);
//   - a marker of a newer version or of the other encoding: FailedPrecondition;
//   - a marked table without its sequence: FailedPrecondition.
//
// Table names: [a-z_][a-z0-9_]*, at most 48 bytes (so "<t>_version" fits PostgreSQL's 63),
// never quoted; they resolve through the connection's search_path like any unqualified name.
//
// Thread safety: functions; EnsureTable uses the connection it is given (one caller at a time).

#ifndef ASIDEKV_DB_POSTGRES_POSTGRES_SCHEMA_H_
#define ASIDEKV_DB_POSTGRES_POSTGRES_SCHEMA_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "db/format_marker.h"
#include "db/postgres/pg_connection.h"

namespace asidekv::db {

inline constexpr size_t kMaxTableNameBytes = 48;

// Names of the prepared statements (PrepareStatements).
inline constexpr char kGetStatement[] = "akv_get";             // $1 key -> value
inline constexpr char kMultiGetStatement[] = "akv_multi_get";  // $1 bytea[] -> key, value
inline constexpr char kPutStatement[] = "akv_put";             // $1 key, $2 value
inline constexpr char kDeleteStatement[] = "akv_delete";       // $1 key
inline constexpr char kScanStatement[] = "akv_scan";           // $1 >=, $2 <, $3 limit
inline constexpr char kScanFromStatement[] = "akv_scan_from";  // $1 >=, $2 limit

// OK, or InvalidArgument saying what is wrong with `table`.
absl::Status ValidateTableName(std::string_view table);

// The statements that prepare the kXxxStatement names above for `table`.
std::vector<PgStatement> PrepareStatements(const std::string& table);

// Checks `table` and creates it when missing (see the file comment); returns the encoding its
// marker records. `context` starts every message. Leaves `conn` outside any transaction, or
// broken.
absl::StatusOr<ValueEncoding> EnsureTable(PgConnection& conn, const std::string& table,
                                          std::optional<ValueEncoding> expected,
                                          bool create_if_missing, int64_t deadline_nanos,
                                          const std::string& context);

}  // namespace asidekv::db

#endif  // ASIDEKV_DB_POSTGRES_POSTGRES_SCHEMA_H_
