#include "tools/bench/postgres_backend.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace asidekv::bench {
namespace {

// The prepared statements' names (each connection prepares them once, in Open).
constexpr char kGet[] = "bench_get";
constexpr char kPut[] = "bench_put";
constexpr char kScanFrom[] = "bench_scan_from";
constexpr char kLoad[] = "bench_load";

// PostgreSQL type oids (pg_type.dat).
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kByteaArrayOid = 1001;

// Frees a PGresult when it goes out of scope.
struct Result {
  explicit Result(PGresult* r) : r(r) {}
  ~Result() { PQclear(r); }
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  PGresult* const r;
};

absl::Status Failed(absl::string_view what, PGconn* conn) {
  std::string message = PQerrorMessage(conn);
  while (!message.empty() && message.back() == '\n') message.pop_back();
  if (PQstatus(conn) != CONNECTION_OK) {
    return absl::UnavailableError(absl::StrCat("PostgreSQL ", what, ": ", message));
  }
  return absl::InternalError(absl::StrCat("PostgreSQL ", what, ": ", message));
}

// OK if `result` has the status `want`, else the connection's error.
absl::Status Check(const Result& result, ExecStatusType want, absl::string_view what,
                   PGconn* conn) {
  if (result.r != nullptr && PQresultStatus(result.r) == want) return absl::OkStatus();
  if (result.r != nullptr) {
    std::string message = PQresultErrorMessage(result.r);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return absl::InternalError(absl::StrCat("PostgreSQL ", what, ": ", message));
  }
  return Failed(what, conn);
}

absl::Status Exec(PGconn* conn, const std::string& sql) {
  Result r(PQexec(conn, sql.c_str()));
  return Check(r, PGRES_COMMAND_OK, sql, conn);
}

absl::Status Prepare(PGconn* conn, const char* name, const std::string& sql,
                     std::initializer_list<Oid> types) {
  const std::vector<Oid> oids(types);
  Result r(PQprepare(conn, name, sql.c_str(), static_cast<int>(oids.size()), oids.data()));
  return Check(r, PGRES_COMMAND_OK, absl::StrCat("prepare ", sql), conn);
}

absl::StatusOr<PGconn*> Connect(const std::string& conninfo) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (conn == nullptr) return absl::ResourceExhaustedError("PostgreSQL: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    absl::Status s = Failed("connect", conn);
    PQfinish(conn);
    return s;
  }
  return conn;
}

void AppendBigEndian32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

// `items` as a one-dimensional bytea[] in PostgreSQL's binary array format (array_send).
std::string ByteaArray(absl::Span<const std::string> items) {
  size_t bytes = 20;
  for (const std::string& s : items) bytes += 4 + s.size();
  std::string out;
  out.reserve(bytes);
  AppendBigEndian32(&out, 1);  // ndim
  AppendBigEndian32(&out, 0);  // no nulls
  AppendBigEndian32(&out, kByteaOid);
  AppendBigEndian32(&out, static_cast<uint32_t>(items.size()));
  AppendBigEndian32(&out, 1);  // lower bound
  for (const std::string& s : items) {
    AppendBigEndian32(&out, static_cast<uint32_t>(s.size()));
    out.append(s);
  }
  return out;
}

}  // namespace

std::string FreshTableName() {
  static std::atomic<int> next{0};
  return absl::StrCat("asidekv_bench_", getpid(), "_", next.fetch_add(1));
}

absl::Status DropPostgresTable(const std::string& conninfo, const std::string& table) {
  absl::StatusOr<PGconn*> conn = Connect(conninfo);
  if (!conn.ok()) return conn.status();
  absl::Status s = Exec(*conn, absl::StrCat("DROP TABLE IF EXISTS ", table,
                                            "; DROP SEQUENCE IF EXISTS ", table, "_version"));
  PQfinish(*conn);
  return s;
}

absl::StatusOr<std::unique_ptr<PostgresBackend>> PostgresBackend::Open(
    const BackendOptions& options) {
  if (options.postgres.empty()) {
    return absl::InvalidArgumentError("the postgres backend needs --postgres=<conninfo>");
  }
  const bool existing = !options.existing_table.empty();
  const std::string table = existing ? options.existing_table : FreshTableName();
  const std::string seq = table + "_version";
  std::unique_ptr<PostgresBackend> backend(
      new PostgresBackend(options.postgres, table, options.keep_tables || existing));
  for (int i = 0; i < std::max(1, options.threads); ++i) {
    absl::StatusOr<PGconn*> conn = Connect(options.postgres);
    if (!conn.ok()) return conn.status();
    backend->connections_.push_back(*conn);
    if (i == 0 && !existing) {
      // asidekv's schema (db/postgres/postgres_schema.h).
      absl::Status s = Exec(*conn, absl::StrCat("CREATE SEQUENCE ", seq, "; CREATE TABLE ", table,
                                                " (key bytea PRIMARY KEY, value bytea NOT NULL, "
                                                "version bigint NOT NULL)"));
      if (!s.ok()) return s;
    }
    // The SQL text of db/postgres/postgres_schema.cc's PrepareStatements.
    const std::string upsert = absl::StrCat(
        " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, ", "version = EXCLUDED.version");
    absl::Status s = Prepare(
        *conn, kGet, absl::StrCat("SELECT value FROM ", table, " WHERE key = $1"), {kByteaOid});
    if (s.ok()) {
      s = Prepare(
          *conn, kPut,
          absl::StrCat("INSERT INTO ", table, " (key, value, version) VALUES ($1, $2, nextval('",
                       seq, "'))", upsert),
          {kByteaOid, kByteaOid});
    }
    if (s.ok()) {
      s = Prepare(
          *conn, kScanFrom,
          absl::StrCat("SELECT key, value FROM ", table, " WHERE key >= $1 ORDER BY key LIMIT $2"),
          {kByteaOid, kInt8Oid});
    }
    if (s.ok()) {
      s = Prepare(
          *conn, kLoad,
          absl::StrCat("INSERT INTO ", table, " (key, value, version) SELECT k, v, nextval('", seq,
                       "') FROM unnest($1::bytea[], $2::bytea[]) AS u(k, v)", upsert),
          {kByteaArrayOid, kByteaArrayOid});
    }
    if (!s.ok()) return s;
  }
  for (PGconn* conn : backend->connections_) backend->idle_.Add(conn);
  const int version = PQserverVersion(backend->connections_.front());
  backend->description_ = {
      {"table", table},
      {"connections", absl::StrCat(backend->connections_.size())},
      {"server_version", absl::StrCat(version / 10000, ".", version % 10000)},
      {"libpq_version", absl::StrCat(PQlibVersion() / 10000, ".", PQlibVersion() % 10000)},
  };
  return backend;
}

PostgresBackend::~PostgresBackend() {
  for (PGconn* conn : connections_) PQfinish(conn);
  if (!keep_table_ && !connections_.empty()) {
    DropPostgresTable(conninfo_, table_).IgnoreError();
  }
}

absl::Status PostgresBackend::Read(std::string_view key, std::string* value) {
  Lease lease(*this);
  const char* values[1] = {key.data()};
  const int lengths[1] = {static_cast<int>(key.size())};
  const int formats[1] = {1};
  Result r(PQexecPrepared(lease.get(), kGet, 1, values, lengths, formats, /*resultFormat=*/1));
  absl::Status s = Check(r, PGRES_TUPLES_OK, "read", lease.get());
  if (!s.ok()) return s;
  if (PQntuples(r.r) == 0) return absl::NotFoundError("");
  value->assign(PQgetvalue(r.r, 0, 0), static_cast<size_t>(PQgetlength(r.r, 0, 0)));
  return absl::OkStatus();
}

absl::Status PostgresBackend::Write(std::string_view key, std::string_view value) {
  Lease lease(*this);
  const char* values[2] = {key.data(), value.data()};
  const int lengths[2] = {static_cast<int>(key.size()), static_cast<int>(value.size())};
  const int formats[2] = {1, 1};
  Result r(PQexecPrepared(lease.get(), kPut, 2, values, lengths, formats, /*resultFormat=*/1));
  return Check(r, PGRES_COMMAND_OK, "write", lease.get());
}

absl::StatusOr<size_t> PostgresBackend::Scan(std::string_view start, size_t count) {
  char limit[8];
  for (int i = 0; i < 8; ++i)
    limit[i] = static_cast<char>(static_cast<uint64_t>(count) >> (56 - 8 * i));
  Lease lease(*this);
  const char* values[2] = {start.data(), limit};
  const int lengths[2] = {static_cast<int>(start.size()), 8};
  const int formats[2] = {1, 1};
  Result r(PQexecPrepared(lease.get(), kScanFrom, 2, values, lengths, formats, /*resultFormat=*/1));
  absl::Status s = Check(r, PGRES_TUPLES_OK, "scan", lease.get());
  if (!s.ok()) return s;
  // Copy the pairs out, as asidekv's Scan does, so both pay for the same result.
  const int rows = PQntuples(r.r);
  std::vector<std::pair<std::string, std::string>> pairs;
  pairs.reserve(static_cast<size_t>(rows));
  for (int i = 0; i < rows; ++i) {
    pairs.emplace_back(
        std::string(PQgetvalue(r.r, i, 0), static_cast<size_t>(PQgetlength(r.r, i, 0))),
        std::string(PQgetvalue(r.r, i, 1), static_cast<size_t>(PQgetlength(r.r, i, 1))));
  }
  return pairs.size();
}

absl::Status PostgresBackend::LoadBatch(absl::Span<const std::string> keys,
                                        absl::Span<const std::string> values) {
  const std::string key_array = ByteaArray(keys);
  const std::string value_array = ByteaArray(values);
  Lease lease(*this);
  const char* params[2] = {key_array.data(), value_array.data()};
  const int lengths[2] = {static_cast<int>(key_array.size()), static_cast<int>(value_array.size())};
  const int formats[2] = {1, 1};
  Result r(PQexecPrepared(lease.get(), kLoad, 2, params, lengths, formats, /*resultFormat=*/1));
  return Check(r, PGRES_COMMAND_OK, "load", lease.get());
}

absl::Status PostgresBackend::AfterLoad(bool compact) {
  if (!compact) return absl::OkStatus();
  Lease lease(*this);
  return Exec(lease.get(), absl::StrCat("VACUUM (ANALYZE) ", table_));
}

}  // namespace asidekv::bench
