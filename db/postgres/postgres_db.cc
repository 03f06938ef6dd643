#include "db/postgres/postgres_db.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "db/format_marker.h"
#include "db/postgres/connection_pool.h"
#include "db/postgres/conninfo.h"
#include "db/postgres/pg_connection.h"
#include "db/postgres/postgres_schema.h"
#include "util/monotonic_clock.h"
#include "util/string_view.h"

namespace asidekv::db {
namespace {

constexpr int kMaxConnections = 256;
// Pipeline mode, which Write and Open use, needs the server's extended-protocol Sync handling
// of PostgreSQL 14 and later.
constexpr int kMinServerMajor = 14;

void AppendBigEndian32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

std::string BigEndian64(uint64_t v) {
  std::string out;
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
  return out;
}

// `keys` as a one-dimensional bytea[] in PostgreSQL's binary array format (array_send):
// ndim, has-nulls flag, element type, then per dimension its size and lower bound, then each
// element as its length and bytes; all integers 32-bit big-endian.
std::string EncodeByteaArray(absl::Span<const std::string_view> keys) {
  size_t bytes = 20;
  for (std::string_view k : keys) bytes += 4 + k.size();
  std::string out;
  out.reserve(bytes);
  AppendBigEndian32(&out, 1);  // ndim
  AppendBigEndian32(&out, 0);  // no nulls
  AppendBigEndian32(&out, kByteaOid);
  AppendBigEndian32(&out, static_cast<uint32_t>(keys.size()));
  AppendBigEndian32(&out, 1);  // lower bound
  for (std::string_view k : keys) {
    AppendBigEndian32(&out, static_cast<uint32_t>(k.size()));
    out.append(k);
  }
  return out;
}

// The smallest key greater than every key that starts with `prefix`; empty when there is none
// (the prefix is empty or all 0xFF bytes).
std::string PrefixSuccessor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty() && static_cast<unsigned char>(s.back()) == 0xFF) s.pop_back();
  if (!s.empty()) s.back() = static_cast<char>(static_cast<unsigned char>(s.back()) + 1);
  return s;
}

// The major version at the start of a server_version string ("15.18 (Debian ...)").
int MajorVersion(std::string_view version) {
  int major = 0;
  for (char c : version) {
    if (c < '0' || c > '9') break;
    major = major * 10 + (c - '0');
  }
  return major;
}

absl::Status Prefixed(std::string_view prefix, const absl::Status& s) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(util::ToAbsl(prefix), s.message()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresDb>> PostgresDb::Open(const PostgresOptions& options) {
  if (options.conninfo.empty()) {
    return absl::InvalidArgumentError("PostgreSQL: the connection string is empty");
  }
  absl::Status s = ValidateTableName(options.table);
  if (!s.ok()) return s;
  if (options.connections < 1 || options.connections > kMaxConnections) {
    return absl::InvalidArgumentError(absl::StrCat("PostgreSQL: connections must be in [1, ",
                                                   kMaxConnections, "], not ",
                                                   options.connections));
  }
  if (options.timeout <= absl::ZeroDuration() || options.timeout == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError("PostgreSQL: timeout must be positive and finite");
  }
  absl::StatusOr<ParsedConninfo> parsed = ParseConninfo(options.conninfo);
  if (!parsed.ok()) return parsed.status();
  const std::string server = absl::StrCat("PostgreSQL ", parsed->server);
  const int64_t deadline = util::MonotonicNanos() + absl::ToInt64Nanoseconds(options.timeout);

  absl::StatusOr<std::unique_ptr<PgConnection>> conn =
      PgConnection::Connect(options.conninfo, server, parsed->password, deadline);
  if (!conn.ok()) return conn.status();
  const std::string version = (*conn)->ParameterStatus("server_version");
  if (MajorVersion(version) < kMinServerMajor) {
    return absl::FailedPreconditionError(
        absl::StrCat(server, ": server version ", version, " is older than 14 (pipeline mode)"));
  }
  absl::StatusOr<ValueEncoding> encoding = EnsureTable(
      **conn, options.table, options.value_encoding, options.create_if_missing, deadline, server);
  if (!encoding.ok()) return encoding.status();

  const std::string table = options.table;
  ConnectionPool::Options pool_options;
  pool_options.conninfo = options.conninfo;
  pool_options.server = server;
  pool_options.password = parsed->password;
  pool_options.size = options.connections;
  pool_options.setup = [table](PgConnection& c, int64_t deadline_nanos) {
    return Prefixed("preparing statements: ",
                    c.RunPipeline(PrepareStatements(table), deadline_nanos).status());
  };
  s = pool_options.setup(**conn, deadline);
  if (!s.ok()) return s;
  auto pool = std::make_unique<ConnectionPool>(std::move(pool_options));
  pool->Add(*std::move(conn));
  return std::unique_ptr<PostgresDb>(
      new PostgresDb(options, parsed->redacted, server, version, *encoding, std::move(pool)));
}

PostgresDb::PostgresDb(const PostgresOptions& options, std::string redacted, std::string server,
                       std::string server_version, ValueEncoding value_encoding,
                       std::unique_ptr<ConnectionPool> pool)
    : table_(options.table),
      timeout_(options.timeout),
      redacted_conninfo_(std::move(redacted)),
      server_(std::move(server)),
      server_version_(std::move(server_version)),
      value_encoding_(value_encoding),
      pool_(std::move(pool)) {}

PostgresDb::~PostgresDb() = default;

int64_t PostgresDb::Deadline() const {
  return util::MonotonicNanos() + absl::ToInt64Nanoseconds(timeout_);
}

absl::Status PostgresDb::WithRetry(absl::FunctionRef<absl::Status(PgConnection&, int64_t)> attempt,
                                   absl::FunctionRef<bool()> may_retry) const {
  const int64_t deadline = Deadline();
  for (int tries = 0;; ++tries) {
    // The first try skips the idle connection's liveness poll: a lost one is retried below.
    absl::StatusOr<ConnectionPool::Lease> lease = pool_->Acquire(
        deadline, tries == 0 ? ConnectionPool::Idle::kUnchecked : ConnectionPool::Idle::kNever);
    if (!lease.ok()) return lease.status();
    absl::Status s = attempt(**lease, deadline);
    if (s.ok()) return s;
    const bool lost = (*lease)->broken() && s.code() == absl::StatusCode::kUnavailable;
    // The server probably dropped the other connections too (a restart): connect anew.
    if (lost) pool_->DropIdle();
    if (!lost || tries > 0 || !may_retry()) return s;
  }
}

absl::Status PostgresDb::Get(std::string_view key, std::string* value) const {
  value->clear();
  return WithRetry(
      [&](PgConnection& conn, int64_t deadline) -> absl::Status {
        absl::StatusOr<PgResult> r =
            conn.Run(PgStatement::Prepared(kGetStatement, {{key}}), deadline);
        if (!r.ok()) return r.status();
        if (r->rows() == 0) return absl::NotFoundError("no such key");
        const std::string_view v = r->Get(0, 0);
        value->assign(v.data(), v.size());
        return absl::OkStatus();
      },
      [] { return true; });
}

std::vector<absl::StatusOr<std::string>> PostgresDb::MultiGet(
    absl::Span<const std::string_view> keys) const {
  std::vector<absl::StatusOr<std::string>> out;
  if (keys.empty()) return out;
  // Each distinct key once in the query; slot[i] is keys[i]'s place among them.
  absl::flat_hash_map<absl::string_view, size_t> index;
  std::vector<std::string_view> unique;
  std::vector<size_t> slot(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    auto [it, inserted] = index.emplace(util::ToAbsl(keys[i]), unique.size());
    if (inserted) unique.push_back(keys[i]);
    slot[i] = it->second;
  }
  const std::string array = EncodeByteaArray(unique);
  std::vector<std::optional<std::string>> found(unique.size());
  absl::Status s = WithRetry(
      [&](PgConnection& conn, int64_t deadline) -> absl::Status {
        absl::StatusOr<PgResult> r =
            conn.Run(PgStatement::Prepared(kMultiGetStatement, {{array}}), deadline);
        if (!r.ok()) return r.status();
        for (int row = 0; row < r->rows(); ++row) {
          auto it = index.find(util::ToAbsl(r->Get(row, 0)));
          if (it != index.end()) found[it->second] = std::string(r->Get(row, 1));
        }
        return absl::OkStatus();
      },
      [] { return true; });
  out.reserve(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!s.ok()) {
      out.emplace_back(s);
    } else if (found[slot[i]].has_value()) {
      out.emplace_back(*found[slot[i]]);
    } else {
      out.emplace_back(absl::NotFoundError("no such key"));
    }
  }
  return out;
}

absl::Status PostgresDb::Write(absl::Span<const DatabaseOp> ops) {
  if (ops.empty()) return absl::OkStatus();
  // The statements in key order, so that concurrent batches lock their rows in one global order
  // and never deadlock one another. The sort is stable: a later op on a key still runs later.
  std::vector<size_t> order(ops.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return ops[a].key < ops[b].key; });
  std::vector<PgStatement> statements;
  statements.reserve(ops.size());
  for (size_t i : order) {
    const DatabaseOp& op = ops[i];
    switch (op.type) {
      case DatabaseOp::kPut:
        statements.push_back(PgStatement::Prepared(kPutStatement, {{op.key}, {op.value}}));
        break;
      case DatabaseOp::kDelete:
        statements.push_back(PgStatement::Prepared(kDeleteStatement, {{op.key}}));
        break;
      default:
        return absl::InvalidArgumentError("PostgreSQL: Write: an operation of unknown type");
    }
  }
  const int64_t deadline = Deadline();
  absl::StatusOr<ConnectionPool::Lease> lease = pool_->Acquire(deadline);
  if (!lease.ok()) return lease.status();  // Nothing was sent.
  for (int tries = 1;; ++tries) {
    PgOutcome outcome;
    absl::Status s = statements.size() == 1
                         ? (*lease)->Run(statements[0], deadline, &outcome).status()
                         : (*lease)->RunPipeline(statements, deadline, &outcome).status();
    if (s.ok() || !outcome.sent) return s;
    if (outcome.server_error) {
      // A deadlock victim or a serialization failure: the server rolled the transaction back,
      // so it is safe to run it again, on the same (still usable) connection.
      if (s.code() != absl::StatusCode::kAborted || (*lease)->broken() || tries >= kMaxWriteTries ||
          util::MonotonicNanos() >= deadline) {
        return s;
      }
      write_retries_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if ((*lease)->broken() && s.code() == absl::StatusCode::kUnavailable) pool_->DropIdle();
    return absl::UnknownError(
        absl::StrCat("the commit outcome is unknown (the write may or may not have been "
                     "applied): ",
                     s.message()));
  }
}

absl::Status PostgresDb::Scan(
    const ScanOptions& options,
    absl::FunctionRef<bool(std::string_view key, std::string_view value)> fn) const {
  // [lower, upper): the prefix's range intersected with [start, end); empty upper: unbounded.
  std::string lower = std::max(options.start, options.prefix);
  std::string upper = PrefixSuccessor(options.prefix);
  if (!options.end.empty() && (upper.empty() || options.end < upper)) upper = options.end;
  if (!upper.empty() && lower >= upper) return absl::OkStatus();
  const size_t limit = options.limit == 0 ? std::numeric_limits<size_t>::max() : options.limit;
  const size_t page_rows = static_cast<size_t>(kScanPageRows);
  // A scan that fits one page is one statement, a snapshot of its own.
  const bool one_page = limit <= page_rows;

  bool delivered = false;
  auto attempt = [&](PgConnection& conn, int64_t deadline) -> absl::Status {
    std::string from = lower;
    size_t remaining = limit;
    auto page = [&](size_t rows, std::string* limit_bytes) {
      *limit_bytes = BigEndian64(rows);
      return upper.empty()
                 ? PgStatement::Prepared(kScanFromStatement, {{from}, {*limit_bytes}})
                 : PgStatement::Prepared(kScanStatement, {{from}, {upper}, {*limit_bytes}});
    };
    std::string limit_bytes;
    size_t want = std::min(remaining, page_rows);
    PgResult rows;
    if (one_page) {
      absl::StatusOr<PgResult> r = conn.Run(page(want, &limit_bytes), deadline);
      if (!r.ok()) return r.status();
      rows = *std::move(r);
    } else {
      std::vector<PgStatement> first;
      first.push_back(PgStatement::Sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
      first.push_back(page(want, &limit_bytes));
      absl::StatusOr<std::vector<PgResult>> r = conn.RunPipeline(first, deadline);
      if (!r.ok()) return r.status();
      rows = std::move((*r)[1]);
    }
    while (true) {
      const size_t n = static_cast<size_t>(rows.rows());
      for (size_t i = 0; i < n; ++i) {
        delivered = true;
        if (!fn(rows.Get(static_cast<int>(i), 0), rows.Get(static_cast<int>(i), 1))) {
          remaining = 0;
          break;
        }
        --remaining;
      }
      if (remaining == 0 || n < want) break;
      // The next page starts just after the last key: its successor in byte order is key+"\0".
      from = std::string(rows.Get(static_cast<int>(n - 1), 0));
      from.push_back('\0');
      want = std::min(remaining, page_rows);
      absl::StatusOr<PgResult> r = conn.Run(page(want, &limit_bytes), Deadline());
      if (!r.ok()) return r.status();
      rows = *std::move(r);
    }
    if (!one_page) {
      // Every row was read in the snapshot: a failed COMMIT of this read-only transaction
      // changes nothing (the connection is then closed, as it is left in the transaction).
      conn.Run(PgStatement::Sql("COMMIT"), Deadline()).status().IgnoreError();
    }
    return absl::OkStatus();
  };
  return WithRetry(attempt, [&] { return !delivered; });
}

absl::StatusOr<std::string> PostgresDb::GetProperty(std::string_view name) const {
  if (name == "postgres.server_version") return server_version_;
  if (name == "postgres.connections") return absl::StrCat(pool_->open());
  if (name == "postgres.max_connections") return absl::StrCat(pool_->size());
  if (name == "postgres.table") return table_;
  if (name == "postgres.conninfo") return redacted_conninfo_;
  if (name == "postgres.write_retries") {
    return absl::StrCat(write_retries_.load(std::memory_order_relaxed));
  }
  if (name == "postgres.value_encoding") {
    return std::string(value_encoding_ == ValueEncoding::kRaw ? "raw" : "header");
  }
  return Database::GetProperty(name);
}

absl::Status PostgresDb::Flush() { return absl::OkStatus(); }

absl::Status PostgresDb::CompactAll() {
  const int64_t deadline = Deadline();
  absl::StatusOr<ConnectionPool::Lease> lease = pool_->Acquire(deadline);
  if (!lease.ok()) return lease.status();
  return (*lease)
      ->Run(PgStatement::Sql(absl::StrCat("VACUUM (ANALYZE) ", table_)), deadline)
      .status();
}

absl::Status PostgresDb::Resume() {
  pool_->DropIdle();
  return absl::OkStatus();
}

}  // namespace asidekv::db
