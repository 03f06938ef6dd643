// PostgresDb: the shared implementation of the public asidekv::Database (asidekv/database.h): a
// table in a PostgreSQL (>= 14) database, which any number of processes may use at once.
//
// Schema (created by Open when missing; db/postgres/postgres_schema.h has the rules):
//
//   CREATE SEQUENCE <t>_version;
//   CREATE TABLE <t> (key bytea PRIMARY KEY, value bytea NOT NULL, version bigint NOT NULL);
//   COMMENT ON TABLE <t> IS 'asidekv-format 1 header';   -- or 'asidekv-format 1 raw'
//
// Operations, each on one pooled connection (db/postgres/connection_pool.h), statements
// prepared once per connection, parameters and results in binary:
//   Get       SELECT value FROM t WHERE key = $1                            one round trip
//   MultiGet  SELECT key, value FROM t WHERE key = ANY($1::bytea[])         one round trip
//   Put       INSERT ... VALUES ($1, $2, nextval('<t>_version'))
//             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, version = EXCLUDED.version
//   Delete    WITH deleted AS (DELETE FROM t WHERE key = $1) SELECT nextval('<t>_version')
//   Write     the Puts and Deletes in one pipeline ending in one Sync: one implicit
//             transaction, one round trip. The statements go in key order (a stable sort: a
//             later op on a key still wins), so concurrent batches take their row locks in one
//             order and cannot deadlock one another; a write the server still aborts (a deadlock
//             with another client's transaction, a serialization failure under a SERIALIZABLE
//             default), having applied nothing, is run again, up to kMaxWriteTries in all
//             within the call's deadline
//   Scan      keyset pages of kScanPageRows rows (key >= $1 [AND key < $2] ORDER BY key LIMIT),
//             in one REPEATABLE READ READ ONLY transaction, so the scan sees one snapshot and a
//             big table is never read into memory at once; a scan whose limit fits one page is
//             one statement. bytea compares as memcmp, so the order is asidekv's.
// Put, Delete and a one-op Write are single statements: each commits on its own.
//
// Guarantees of asidekv::Database and how they hold:
//   1. read-your-writes: every call reads the primary, at READ COMMITTED or in a snapshot taken
//      after the call began;
//   2. atomic batches: one transaction;
//   3. a write fails cleanly (Unavailable, DeadlineExceeded: nothing was sent) or with the
//      server's error (nothing applied); when the connection broke or the deadline passed after
//      the statements went out and before the commit's answer came back, Unknown (its message
//      says the commit outcome is unknown);
//   4. NotFound only for a missing key: server errors map through db/postgres/sqlstate.h,
//      which never yields NotFound;
//   5. bytea keeps every byte; 6. every method is thread-safe;
//   7. every wait is bounded by `timeout` (PgConnection polls with a deadline): a stalled server
//      gives DeadlineExceeded (or Unavailable) and that connection is closed.
// Timeouts: one deadline, `timeout` after the call starts, covers Get, MultiGet and writes
// (waiting for a free connection, connecting, the round trip); a Scan gets a fresh `timeout`
// for each page, so a long scan is not cut short (the time fn spends is the caller's).
// Reconnection: a broken connection is closed and replaced by a new one on the next call. A read
// whose connection turns out to be lost is retried once, on a new connection.
// A server's answer to a cancelled or timed-out call may still run on the server until it ends.
//
// Passwords: no Status message or property holds the connection string's password
// (db/postgres/conninfo.h); messages name the server as "PostgreSQL host=... port=...".
//
// Thread safety: every method may be called concurrently from any number of threads.
// Ownership: Open() returns the sole owner; destroying it closes every connection.
//   REQUIRES: no call is in flight when it is destroyed. A Scan callback may call this
//   PostgresDb, but the scan holds one connection meanwhile (with connections = 1 such a call
//   waits until its deadline).
//
// Example:
//
//   db::PostgresOptions options;
//   options.conninfo = "host=/run/postgresql dbname=app";
//   absl::StatusOr<std::unique_ptr<db::PostgresDb>> db = db::PostgresDb::Open(options);
//   if (!db.ok()) return db.status();
//   absl::Status s = (*db)->Put("key", "value");
//   std::string value;
//   s = (*db)->Get("key", &value);  // OK, value == "value"

#ifndef ASIDEKV_DB_POSTGRES_POSTGRES_DB_H_
#define ASIDEKV_DB_POSTGRES_POSTGRES_DB_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "asidekv/database.h"
#include "db/format_marker.h"

namespace asidekv::db {

class ConnectionPool;  // db/postgres/connection_pool.h
class PgConnection;    // db/postgres/pg_connection.h

// How to open a PostgreSQL table.
struct PostgresOptions {
  // libpq connection string, keyword/value or URI form (e.g. "host=/run/postgresql dbname=app",
  // "postgresql://app@db:5432/app"): Unix socket or TCP, as it says. Required.
  std::string conninfo;

  // The table (with its sequence <table>_version): [a-z_][a-z0-9_]*, at most 48 bytes.
  // Default: "asidekv".
  std::string table = "asidekv";

  // Most connections open at once; each call holds one for its round trips. In [1, 256].
  // Default: 4.
  int connections = 4;

  // The longest a call waits for the server (see "Timeouts" above). Positive and finite.
  // Default: 10 seconds.
  absl::Duration timeout = absl::Seconds(10);

  // Create the table and its sequence when missing. Default: true.
  bool create_if_missing = true;

  // How the caller encodes values, checked against the table's marker (its COMMENT): a
  // mismatch, or a table without a marker (unless kRaw, which adopts it), is FailedPrecondition
  // with nothing changed. A new table is marked with it. nullopt: accept whatever the marker
  // says (value_encoding() tells), for tools; a new table gets kHeader. Default: kHeader.
  std::optional<ValueEncoding> value_encoding = ValueEncoding::kHeader;
};

class PostgresDb final : public ::asidekv::Database {
 public:
  // Rows per Scan page.
  static constexpr int kScanPageRows = 1000;
  // Runs of a write the server aborted (deadlock, serialization failure) before the Aborted
  // error is returned.
  static constexpr int kMaxWriteTries = 5;

  // Connects (one connection; the others as calls need them) and checks or creates the table.
  // Errors, nothing created on any of them:
  //   InvalidArgument     bad options: an unparsable conninfo, a bad table name, connections
  //                       or timeout out of range
  //   Unavailable         the server is down or unreachable (the message names it:
  //                       host or socket folder, port, database; never the password)
  //   DeadlineExceeded    the server did not answer within `timeout`
  //   PermissionDenied    authentication refused
  //   FailedPrecondition  no such database; the table's schema, marker or encoding does not
  //                       fit (see db/postgres/postgres_schema.h); no table and
  //                       !create_if_missing
  //   DataLoss            the table's format marker is corrupt
  static absl::StatusOr<std::unique_ptr<PostgresDb>> Open(const PostgresOptions& options);

  ~PostgresDb() override;
  PostgresDb(const PostgresDb&) = delete;
  PostgresDb& operator=(const PostgresDb&) = delete;

  absl::Status Get(std::string_view key, std::string* value) const override;
  std::vector<absl::StatusOr<std::string>> MultiGet(
      absl::Span<const std::string_view> keys) const override;
  absl::Status Write(absl::Span<const DatabaseOp> ops) override;
  absl::Status Scan(
      const ScanOptions& options,
      absl::FunctionRef<bool(std::string_view key, std::string_view value)> fn) const override;

  // True: other processes may write the same table.
  bool IsShared() const override { return true; }

  // "postgres.server_version" (e.g. "15.18 (Debian 15.18-0+deb12u1)"), "postgres.connections"
  // (open now), "postgres.max_connections", "postgres.table", "postgres.conninfo" (redacted),
  // "postgres.value_encoding" ("header" or "raw"), "postgres.write_retries" (writes run again
  // after the server aborted them, since Open); NotFound for any other name.
  absl::StatusOr<std::string> GetProperty(std::string_view name) const override;

  // OK: every commit is durable (as the server's fsync/synchronous_commit settings make it).
  absl::Status Flush() override;
  // VACUUM (ANALYZE) of the table: reclaims dead rows' space for reuse, refreshes statistics.
  absl::Status CompactAll() override;
  // Closes the idle connections, so that the next calls connect anew. OK.
  absl::Status Resume() override;

  // How the table's values are encoded, as its marker records.
  ValueEncoding value_encoding() const { return value_encoding_; }

 private:
  PostgresDb(const PostgresOptions& options, std::string redacted, std::string server,
             std::string server_version, ValueEncoding value_encoding,
             std::unique_ptr<ConnectionPool> pool);

  int64_t Deadline() const;
  // For reads: runs attempt(connection, deadline) on a pooled connection, and once more on a new
  // connection when the first one turned out to be lost and may_retry() says so.
  absl::Status WithRetry(absl::FunctionRef<absl::Status(PgConnection&, int64_t)> attempt,
                         absl::FunctionRef<bool()> may_retry) const;

  // Constant after construction.
  const std::string table_;
  const absl::Duration timeout_;
  const std::string redacted_conninfo_;
  const std::string server_;
  const std::string server_version_;
  const ValueEncoding value_encoding_;
  const std::unique_ptr<ConnectionPool> pool_;

  std::atomic<uint64_t> write_retries_{0};
};

}  // namespace asidekv::db

#endif  // ASIDEKV_DB_POSTGRES_POSTGRES_DB_H_
