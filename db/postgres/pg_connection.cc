#include "db/postgres/pg_connection.h"

#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "db/postgres/conninfo.h"
#include "db/postgres/sqlstate.h"
#include "util/monotonic_clock.h"
#include "util/secret.h"
#include "util/string_view.h"

namespace asidekv::db {
namespace {

// libpq's messages end in a newline and may span lines ("\n\tIs the server running...?").
std::string OneLine(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n' || c == '\t' || c == '\r') {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

bool Contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// The code of a failed connection attempt. libpq keeps no SQLSTATE for errors raised before the
// session starts, so this reads the server's (C locale) message: authentication refused
// (28000/28P01), no such database (3D000), too many connections (53300).
absl::StatusCode ConnectErrorCode(std::string_view message) {
  if (Contains(message, "authentication failed") || Contains(message, "no pg_hba.conf entry") ||
      Contains(message, "no password supplied") ||
      (Contains(message, "role \"") && Contains(message, "does not exist"))) {
    return absl::StatusCode::kPermissionDenied;
  }
  if (Contains(message, "database \"") && Contains(message, "does not exist")) {
    return absl::StatusCode::kFailedPrecondition;
  }
  if (Contains(message, "too many clients") || Contains(message, "too many connections")) {
    return absl::StatusCode::kResourceExhausted;
  }
  return absl::StatusCode::kUnavailable;
}

// Waits until `fd` is ready for `events`; the revents, or DeadlineExceeded / Unavailable.
absl::StatusOr<short> WaitSocket(int fd, short events, int64_t deadline_nanos) {
  while (true) {
    const int64_t left = deadline_nanos - util::MonotonicNanos();
    if (left <= 0) return absl::DeadlineExceededError("timed out");
    const int64_t ms = (left + 999'999) / 1'000'000;
    pollfd p{fd, events, 0};
    const int r = poll(&p, 1, ms > INT_MAX ? INT_MAX : static_cast<int>(ms));
    if (r > 0) return p.revents;
    if (r < 0 && errno != EINTR) {
      return absl::UnavailableError(absl::StrCat("poll: ", std::strerror(errno)));
    }
  }
}

}  // namespace

PgStatement PgStatement::Sql(std::string sql, std::vector<PgParam> params) {
  PgStatement s;
  s.kind = kSql;
  s.sql = std::move(sql);
  s.params = std::move(params);
  return s;
}

PgStatement PgStatement::Prepared(std::string name, std::vector<PgParam> params) {
  PgStatement s;
  s.kind = kPrepared;
  s.name = std::move(name);
  s.params = std::move(params);
  return s;
}

PgStatement PgStatement::Simple(std::string sql) {
  PgStatement s;
  s.kind = kSimple;
  s.sql = std::move(sql);
  return s;
}

PgStatement PgStatement::Prepare(std::string name, std::string sql,
                                 std::vector<unsigned int> param_types) {
  PgStatement s;
  s.kind = kPrepare;
  s.name = std::move(name);
  s.sql = std::move(sql);
  s.param_types = std::move(param_types);
  return s;
}

void PgResult::Deleter::operator()(PGresult* r) const { PQclear(r); }

int PgResult::rows() const { return result_ == nullptr ? 0 : PQntuples(result_.get()); }

std::string_view PgResult::Get(int row, int col) const {
  return std::string_view(PQgetvalue(result_.get(), row, col),
                          static_cast<size_t>(PQgetlength(result_.get(), row, col)));
}

bool PgResult::IsNull(int row, int col) const { return PQgetisnull(result_.get(), row, col) != 0; }

absl::StatusOr<std::unique_ptr<PgConnection>> PgConnection::Connect(const std::string& conninfo,
                                                                    const std::string& server,
                                                                    const std::string& password,
                                                                    int64_t deadline_nanos,
                                                                    bool replication) {
  // The replication keyword comes after the expanded conninfo, so it wins over one in there.
  const char* const keywords[] = {"dbname", "fallback_application_name",
                                  replication ? "replication" : nullptr, nullptr};
  const char* const values[] = {conninfo.c_str(), "asidekv", "database", nullptr};
  PGconn* conn = PQconnectStartParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat(server, ": out of memory connecting"));
  }
  auto failed = [&](absl::StatusCode code, std::string_view what) {
    absl::Status s(code,
                   util::ScrubSecret(absl::StrCat(server, ": ", util::ToAbsl(what)), password));
    PQfinish(conn);
    return s;
  };
  auto libpq_error = [&]() {
    const std::string message = OneLine(PQerrorMessage(conn));
    return failed(ConnectErrorCode(message), message);
  };
  if (PQstatus(conn) == CONNECTION_BAD) return libpq_error();
  // libpq prints notices and asynchronous errors to stderr by default; asidekv logs nothing.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  PostgresPollingStatusType poll_status = PGRES_POLLING_WRITING;
  while (poll_status != PGRES_POLLING_OK) {
    if (poll_status == PGRES_POLLING_FAILED) return libpq_error();
    const int fd = PQsocket(conn);
    if (fd < 0) return libpq_error();
    absl::StatusOr<short> ready =
        WaitSocket(fd, poll_status == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline_nanos);
    if (!ready.ok()) {
      return failed(ready.status().code(),
                    absl::StrCat("cannot connect: ", ready.status().message(),
                                 " (the server accepted no session in time)"));
    }
    poll_status = PQconnectPoll(conn);
  }
  if (PQsetnonblocking(conn, 1) != 0) return libpq_error();
  return std::unique_ptr<PgConnection>(new PgConnection(conn, server, password));
}

PgConnection::PgConnection(PGconn* conn, std::string server, std::string password)
    : conn_(conn), server_(std::move(server)), password_(std::move(password)) {}

PgConnection::~PgConnection() { PQfinish(conn_); }

absl::Status PgConnection::Broken(absl::StatusCode code, std::string_view what) {
  broken_ = true;
  return absl::Status(
      code, util::ScrubSecret(absl::StrCat(server_, ": ", util::ToAbsl(what)), password_));
}

absl::Status PgConnection::ResultError(const PGresult* result) const {
  const char* sqlstate = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  const std::string message = OneLine(primary != nullptr ? primary : PQresultErrorMessage(result));
  if (sqlstate == nullptr) {
    // libpq's own error (the connection broke while a result was due).
    return absl::UnavailableError(
        util::ScrubSecret(absl::StrCat(server_, ": ", message), password_));
  }
  return absl::Status(
      SqlStateCode(sqlstate),
      util::ScrubSecret(absl::StrCat(server_, ": ", message, " (SQLSTATE ", sqlstate, ")"),
                        password_));
}

absl::Status PgConnection::Flush(int64_t deadline_nanos) {
  while (true) {
    const int r = PQflush(conn_);
    if (r == 0) return absl::OkStatus();
    if (r < 0) return Broken(absl::StatusCode::kUnavailable, OneLine(PQerrorMessage(conn_)));
    absl::StatusOr<short> ready = WaitSocket(PQsocket(conn_), POLLIN | POLLOUT, deadline_nanos);
    if (!ready.ok()) {
      return Broken(ready.status().code(),
                    absl::StrCat("sending: ", ready.status().message(), " (no progress in time)"));
    }
    if ((*ready & POLLIN) != 0 && PQconsumeInput(conn_) == 0) {
      return Broken(absl::StatusCode::kUnavailable, OneLine(PQerrorMessage(conn_)));
    }
  }
}

absl::StatusOr<PGresult*> PgConnection::NextResult(int64_t deadline_nanos) {
  while (PQisBusy(conn_) != 0) {
    const int fd = PQsocket(conn_);
    if (fd < 0) return Broken(absl::StatusCode::kUnavailable, OneLine(PQerrorMessage(conn_)));
    absl::StatusOr<short> ready = WaitSocket(fd, POLLIN, deadline_nanos);
    if (!ready.ok()) {
      return Broken(ready.status().code(),
                    absl::StrCat("waiting for the result: ", ready.status().message(),
                                 " (the server did not answer in time)"));
    }
    if (PQconsumeInput(conn_) == 0) {
      // The connection is gone; libpq turns what it had (a FATAL the server sent before
      // closing, or its own "connection lost") into a result below.
      broken_ = true;
      break;
    }
  }
  PGresult* result = PQgetResult(conn_);
  if (PQstatus(conn_) == CONNECTION_BAD) broken_ = true;
  return result;
}

absl::Status PgConnection::Send(const PgStatement& statement) {
  static const char kEmpty[] = "";
  const size_t n = statement.kind == PgStatement::kPrepare ? statement.param_types.size()
                                                           : statement.params.size();
  std::vector<const char*> values(n);
  std::vector<int> lengths(n);
  std::vector<int> formats(n, 1);
  if (statement.kind != PgStatement::kPrepare) {
    for (size_t i = 0; i < n; ++i) {
      const PgParam& p = statement.params[i];
      // A null pointer is SQL NULL, so an empty value points at "".
      values[i] = p.is_null ? nullptr : (p.bytes.empty() ? kEmpty : p.bytes.data());
      lengths[i] = static_cast<int>(p.bytes.size());
    }
  }
  int ok = 0;
  switch (statement.kind) {
    case PgStatement::kSql:
      ok = PQsendQueryParams(conn_, statement.sql.c_str(), static_cast<int>(n), nullptr,
                             values.data(), lengths.data(), formats.data(), /*resultFormat=*/1);
      break;
    case PgStatement::kPrepared:
      ok = PQsendQueryPrepared(conn_, statement.name.c_str(), static_cast<int>(n), values.data(),
                               lengths.data(), formats.data(), /*resultFormat=*/1);
      break;
    case PgStatement::kSimple:
      ok = PQsendQuery(conn_, statement.sql.c_str());
      break;
    case PgStatement::kPrepare:
      ok = PQsendPrepare(conn_, statement.name.c_str(), statement.sql.c_str(), static_cast<int>(n),
                         statement.param_types.data());
      break;
  }
  if (ok == 0) return Broken(absl::StatusCode::kUnavailable, OneLine(PQerrorMessage(conn_)));
  return absl::OkStatus();
}

absl::StatusOr<bool> PgConnection::ReadStatement(int64_t deadline_nanos, PgResult* rows,
                                                 absl::Status* error, PgOutcome* outcome) {
  bool had_result = false;
  bool had_rows = false;
  while (true) {
    absl::StatusOr<PGresult*> next = NextResult(deadline_nanos);
    if (!next.ok()) return next.status();
    if (*next == nullptr) return had_result;
    had_result = true;
    PgResult result(*next);
    const ExecStatusType status = PQresultStatus(*next);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      if (!had_rows) *rows = std::move(result);
      had_rows = true;
    } else if (status == PGRES_PIPELINE_ABORTED) {
      // Skipped after an earlier statement's error.
    } else if (error->ok()) {
      *error = ResultError(*next);
      // A server error in place of the statement's result: it failed. One after its result (a
      // FATAL while the transaction ended) says nothing of the statement.
      outcome->server_error = !had_rows && PQresultErrorField(*next, PG_DIAG_SQLSTATE) != nullptr;
    }
  }
}

absl::StatusOr<PgResult> PgConnection::Run(const PgStatement& statement, int64_t deadline_nanos,
                                           PgOutcome* outcome) {
  PgOutcome ignored;
  if (outcome == nullptr) outcome = &ignored;
  *outcome = PgOutcome();
  if (broken_) return absl::FailedPreconditionError(absl::StrCat(server_, ": connection broken"));
  outcome->sent = true;  // From here on, bytes may reach the server.
  absl::Status s = Send(statement);
  if (s.ok()) s = Flush(deadline_nanos);
  if (!s.ok()) return s;
  PgResult rows;
  absl::Status error;
  absl::StatusOr<bool> had_result = ReadStatement(deadline_nanos, &rows, &error, outcome);
  if (!had_result.ok()) return had_result.status();
  if (!error.ok()) return error;
  if (broken_ || !*had_result) {
    return Broken(absl::StatusCode::kUnavailable,
                  absl::StrCat("connection lost: ", OneLine(PQerrorMessage(conn_))));
  }
  return rows;
}

absl::StatusOr<std::vector<PgResult>> PgConnection::RunPipeline(
    absl::Span<const PgStatement> statements, int64_t deadline_nanos, PgOutcome* outcome) {
  PgOutcome ignored;
  if (outcome == nullptr) outcome = &ignored;
  *outcome = PgOutcome();
  if (broken_) return absl::FailedPreconditionError(absl::StrCat(server_, ": connection broken"));
  if (PQenterPipelineMode(conn_) == 0) {
    return Broken(absl::StatusCode::kInternal,
                  absl::StrCat("cannot enter pipeline mode: ", OneLine(PQerrorMessage(conn_))));
  }
  outcome->sent = true;  // From here on, bytes may reach the server.
  for (const PgStatement& statement : statements) {
    absl::Status s = Send(statement);
    if (!s.ok()) return s;
  }
  if (PQpipelineSync(conn_) == 0) {
    return Broken(absl::StatusCode::kUnavailable, OneLine(PQerrorMessage(conn_)));
  }
  absl::Status s = Flush(deadline_nanos);
  if (!s.ok()) return s;

  std::vector<PgResult> results(statements.size());
  absl::Status error;
  auto lost = [this]() {
    return Broken(absl::StatusCode::kUnavailable,
                  absl::StrCat("connection lost: ", OneLine(PQerrorMessage(conn_))));
  };
  for (size_t i = 0; i < statements.size(); ++i) {
    absl::StatusOr<bool> had_result = ReadStatement(deadline_nanos, &results[i], &error, outcome);
    if (!had_result.ok()) return had_result.status();
    if (!*had_result) return lost();
  }
  // The Sync: the implicit transaction commits before the server answers it.
  absl::StatusOr<PGresult*> sync = NextResult(deadline_nanos);
  if (!sync.ok()) return sync.status();
  if (*sync == nullptr) return lost();
  {
    PgResult result(*sync);
    if (PQresultStatus(*sync) != PGRES_PIPELINE_SYNC) {
      if (error.ok()) {
        outcome->server_error = false;  // After every statement: the commit's fate is unknown.
        broken_ = true;
        return ResultError(*sync);
      }
      return error;
    }
  }
  if (PQexitPipelineMode(conn_) == 0) broken_ = true;
  if (!error.ok()) return error;
  if (broken_) return lost();
  return results;
}

absl::Status PgConnection::StartCopyBoth(const std::string& command, int64_t deadline_nanos) {
  if (broken_) return absl::FailedPreconditionError(absl::StrCat(server_, ": connection broken"));
  absl::Status s = Send(PgStatement::Simple(command));
  if (s.ok()) s = Flush(deadline_nanos);
  if (!s.ok()) return s;
  absl::StatusOr<PGresult*> next = NextResult(deadline_nanos);
  if (!next.ok()) return next.status();
  if (*next == nullptr) {
    return Broken(absl::StatusCode::kUnavailable,
                  absl::StrCat("connection lost: ", OneLine(PQerrorMessage(conn_))));
  }
  PgResult result(*next);
  if (PQresultStatus(*next) == PGRES_COPY_BOTH) return absl::OkStatus();
  absl::Status error = ResultError(*next);
  // Drain the rest of the command's results, so the connection is idle again.
  while (true) {
    absl::StatusOr<PGresult*> more = NextResult(deadline_nanos);
    if (!more.ok() || *more == nullptr) break;
    PQclear(*more);
  }
  return error;
}

absl::StatusOr<std::optional<std::string>> PgConnection::ReadCopyData(int64_t deadline_nanos) {
  if (broken_) return absl::FailedPreconditionError(absl::StrCat(server_, ": connection broken"));
  while (true) {
    char* buffer = nullptr;
    const int n = PQgetCopyData(conn_, &buffer, /*async=*/1);
    if (n > 0) {
      std::string message(buffer, static_cast<size_t>(n));
      PQfreemem(buffer);
      return std::optional<std::string>(std::move(message));
    }
    if (n == 0) {  // Nothing complete yet: wait for the socket.
      const int64_t left = deadline_nanos - util::MonotonicNanos();
      if (left <= 0) return std::optional<std::string>();
      absl::StatusOr<short> ready = WaitSocket(PQsocket(conn_), POLLIN, deadline_nanos);
      if (!ready.ok()) {
        if (absl::IsDeadlineExceeded(ready.status())) return std::optional<std::string>();
        return Broken(ready.status().code(), util::FromAbsl(ready.status().message()));
      }
      if (PQconsumeInput(conn_) == 0) {
        return Broken(absl::StatusCode::kUnavailable, OneLine(PQerrorMessage(conn_)));
      }
      continue;
    }
    // -1: the server ended the copy (its result says why); -2: an error.
    absl::Status error = absl::UnavailableError(
        absl::StrCat(server_, ": replication stream ended: ", OneLine(PQerrorMessage(conn_))));
    if (n == -1) {
      PGresult* result = PQgetResult(conn_);
      if (result != nullptr) {
        if (PQresultStatus(result) == PGRES_FATAL_ERROR) error = ResultError(result);
        PQclear(result);
      }
    }
    broken_ = true;
    return error;
  }
}

absl::Status PgConnection::WriteCopyData(std::string_view bytes, int64_t deadline_nanos) {
  if (broken_) return absl::FailedPreconditionError(absl::StrCat(server_, ": connection broken"));
  while (true) {
    const int r = PQputCopyData(conn_, bytes.data(), static_cast<int>(bytes.size()));
    if (r == 1) return Flush(deadline_nanos);
    if (r < 0) return Broken(absl::StatusCode::kUnavailable, OneLine(PQerrorMessage(conn_)));
    absl::Status s = Flush(deadline_nanos);  // 0: the buffer is full; make room.
    if (!s.ok()) return s;
  }
}

bool PgConnection::Reusable() const {
  return !broken_ && PQstatus(conn_) == CONNECTION_OK &&
         PQtransactionStatus(conn_) == PQTRANS_IDLE && PQpipelineStatus(conn_) == PQ_PIPELINE_OFF &&
         PQisBusy(conn_) == 0;
}

bool PgConnection::StillAlive() {
  if (!Reusable()) return false;
  pollfd p{PQsocket(conn_), POLLIN, 0};
  const int r = poll(&p, 1, 0);
  if (r == 0) return true;
  if (r < 0) return errno == EINTR;
  if (PQconsumeInput(conn_) == 0) {
    broken_ = true;
    return false;
  }
  return Reusable();
}

bool PgConnection::HasInput() const {
  pollfd p{PQsocket(conn_), POLLIN, 0};
  return poll(&p, 1, 0) != 0;
}

std::string PgConnection::ParameterStatus(const char* name) const {
  const char* v = PQparameterStatus(conn_, name);
  return v != nullptr ? v : "";
}

}  // namespace asidekv::db
