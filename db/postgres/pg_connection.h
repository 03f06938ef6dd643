// PgConnection: one libpq connection driven without ever blocking past a deadline.
//
// Every wait goes through poll() on the connection's socket with the time left until the
// caller's deadline (a util::MonotonicNanos() instant): connecting (PQconnectStartParams +
// PQconnectPoll), sending (PQsend* on a nonblocking connection + PQflush) and reading
// (PQconsumeInput / PQisBusy / PQgetResult). A deadline that passes leaves the connection
// unusable (broken(): a reply may still be on its way), and the owner discards it.
//
// Two ways to run statements, one round trip each:
//   Run(statement)         one statement, outside pipeline mode (VACUUM needs this);
//   RunPipeline(statements) libpq's pipeline mode (PostgreSQL >= 14): every statement, then one
//                          Sync, sent in one flush; the results come back together. Statements
//                          up to the Sync form one implicit transaction, unless they hold
//                          BEGIN/COMMIT themselves: the batch commits at the Sync, or not at all.
// Parameters and results are in binary format: bytea values are the raw bytes, except for
// PgStatement::Simple (the simple query protocol: no parameters, text results), the only form a
// replication connection takes.
//
// Replication connections (Connect with replication = true, libpq's replication=database) also
// stream: StartCopyBoth(START_REPLICATION ...) enters COPY BOTH mode, after which
// ReadCopyData / WriteCopyData exchange the protocol's CopyData messages (db/postgres/
// change_feed.h speaks the logical replication messages over them).
//
// Failure (the Status of Run/RunPipeline):
//   - a server error: the code of its SQLSTATE (db/postgres/sqlstate.h); the connection stays
//     usable unless the server closed it. Outcome::server_error says so: the statement failed
//     on the server, and a transaction it was in did not commit.
//   - the connection broke (EOF, a socket error): Unavailable; broken() is true.
//   - the deadline passed: DeadlineExceeded; broken() is true.
//   Outcome::sent says whether any byte of the statements may have reached the server: when a
//   write's connection breaks after that and before its result, its outcome is unknown.
// Messages start with the server's description and never contain the password (ScrubSecret).
//
// Thread safety: none. One thread at a time uses a connection (the pool hands it out).
// Ownership: owns its PGconn; the destructor closes it without waiting for the server.

#ifndef ASIDEKV_DB_POSTGRES_PG_CONNECTION_H_
#define ASIDEKV_DB_POSTGRES_PG_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

// libpq's handles, declared as libpq-fe.h does, so that this header need not include it.
typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;

namespace asidekv::db {

// PostgreSQL type oids used as statement parameter types (pg_type.dat).
inline constexpr unsigned int kByteaOid = 17;
inline constexpr unsigned int kInt8Oid = 20;
inline constexpr unsigned int kTextOid = 25;
inline constexpr unsigned int kByteaArrayOid = 1001;

// One parameter, in binary format. A null parameter has is_null set.
struct PgParam {
  std::string_view bytes;
  bool is_null = false;
};

// One statement to run.
struct PgStatement {
  enum Kind {
    kSql,       // `sql` with `params` (PQsendQueryParams).
    kPrepared,  // The prepared statement `name` with `params` (PQsendQueryPrepared).
    kPrepare,   // Prepares `sql` as `name`, with `param_types` (PQsendPrepare).
    kSimple,    // `sql` alone, simple query protocol, text results (PQsendQuery).
  };
  Kind kind = kSql;
  std::string name;
  std::string sql;
  std::vector<PgParam> params;
  std::vector<unsigned int> param_types;

  static PgStatement Sql(std::string sql, std::vector<PgParam> params = {});
  static PgStatement Prepared(std::string name, std::vector<PgParam> params);
  static PgStatement Prepare(std::string name, std::string sql,
                             std::vector<unsigned int> param_types);
  static PgStatement Simple(std::string sql);
};

// The rows of one statement (binary format). Movable; views are valid while it lives.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* result) : result_(result) {}
  PgResult(PgResult&&) = default;
  PgResult& operator=(PgResult&&) = default;

  int rows() const;
  // The bytes of column `col` of row `row` (empty when null).
  std::string_view Get(int row, int col) const;
  bool IsNull(int row, int col) const;

 private:
  struct Deleter {
    void operator()(PGresult* r) const;
  };
  std::unique_ptr<PGresult, Deleter> result_;
};

// What happened to a statement batch besides its Status.
struct PgOutcome {
  // Some byte of the statements was handed to the socket.
  bool sent = false;
  // The failure was an error the server reported for a statement (not a broken connection or
  // a deadline): the statements did not take effect.
  bool server_error = false;
};

class PgConnection {
 public:
  // Connects with `conninfo` by deadline. `server` (a description without the password) starts
  // every message; `password` is scrubbed from libpq's messages. Errors: Unavailable (server
  // down, unreachable, shutting down), DeadlineExceeded, PermissionDenied (authentication
  // refused), FailedPrecondition (no such database), ResourceExhausted (too many connections).
  // `replication`: a replication connection to the database (walsender; see the file comment).
  static absl::StatusOr<std::unique_ptr<PgConnection>> Connect(const std::string& conninfo,
                                                               const std::string& server,
                                                               const std::string& password,
                                                               int64_t deadline_nanos,
                                                               bool replication = false);

  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs one statement (not in pipeline mode) and returns its rows.
  absl::StatusOr<PgResult> Run(const PgStatement& statement, int64_t deadline_nanos,
                               PgOutcome* outcome = nullptr);

  // Runs `statements` in one pipeline ending in a Sync (see the file comment) and returns one
  // result per statement. On a server error the statements after the failing one were skipped.
  absl::StatusOr<std::vector<PgResult>> RunPipeline(absl::Span<const PgStatement> statements,
                                                    int64_t deadline_nanos,
                                                    PgOutcome* outcome = nullptr);

  // Sends `command` (simple protocol) and waits for COPY BOTH mode: OK, or the server's error.
  absl::Status StartCopyBoth(const std::string& command, int64_t deadline_nanos);
  // In COPY BOTH mode: the next CopyData message; nullopt when none arrived by the deadline (the
  // connection stays usable). When the server ends the stream or fails: its error (or
  // Unavailable), and broken().
  absl::StatusOr<std::optional<std::string>> ReadCopyData(int64_t deadline_nanos);
  // In COPY BOTH mode: sends one CopyData message.
  absl::Status WriteCopyData(std::string_view bytes, int64_t deadline_nanos);

  // Whether the connection can take another statement: not broken, idle, not in a transaction.
  bool Reusable() const;

  // For a connection that sat idle: reads whatever the server sent meanwhile (a shutdown
  // notice, EOF) without waiting, and tells whether the connection is still usable.
  bool StillAlive();

  // Whether the server sent something not yet read (a connection between statements should
  // have nothing: a termination notice, EOF). Does not wait.
  bool HasInput() const;

  // A parameter the server reported (PQparameterStatus), e.g. "server_version"; empty if none.
  std::string ParameterStatus(const char* name) const;

  bool broken() const { return broken_; }

 private:
  PgConnection(PGconn* conn, std::string server, std::string password);

  // Pushes the output buffer to the socket.
  absl::Status Flush(int64_t deadline_nanos);
  // Waits for and returns the next result (null at the end of a statement's results).
  absl::StatusOr<PGresult*> NextResult(int64_t deadline_nanos);
  // Reads the results of one statement, up to the null that ends them: the first rows into
  // *rows, the first error into *error (when it is OK). False when no result came at all.
  absl::StatusOr<bool> ReadStatement(int64_t deadline_nanos, PgResult* rows, absl::Status* error,
                                     PgOutcome* outcome);
  // Hands one statement to libpq.
  absl::Status Send(const PgStatement& statement);
  // A failure of the connection itself: marks it broken.
  absl::Status Broken(absl::StatusCode code, std::string_view what);
  // The Status of an error result, with its SQLSTATE.
  absl::Status ResultError(const PGresult* result) const;

  PGconn* const conn_;
  const std::string server_;
  const std::string password_;
  bool broken_ = false;
};

}  // namespace asidekv::db

#endif  // ASIDEKV_DB_POSTGRES_PG_CONNECTION_H_
