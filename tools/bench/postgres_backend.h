// PostgresBackend: the PostgreSQL baseline ("without asidekv"), a table read and written directly
// through libpq (the bench's baseline backends are the one tool code allowed to use it; only
// postgres_backend.cc includes libpq-fe.h).
//
// It does what db/postgres/ does for one call, with the same SQL text, prepared once per
// connection, parameters and results in binary format, and nothing else (no cache, no deadline
// polling, no retry):
//   Read       SELECT value FROM t WHERE key = $1
//   Write      INSERT INTO t (key, value, version) VALUES ($1, $2, nextval('t_version'))
//              ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, version = EXCLUDED.version
//   Scan       SELECT key, value FROM t WHERE key >= $1 ORDER BY key LIMIT $2   (one page: the
//              YCSB scans are shorter than db/postgres's 1000-row pages); the pairs are copied
//              out, as asidekv's Scan does
//   LoadBatch  one multi-row INSERT of the batch (unnest of two bytea[] parameters), one
//              implicit transaction, with the same ON CONFLICT and nextval
//   AfterLoad  VACUUM (ANALYZE) t when compacting, as the Store's CompactAll does
// The table has asidekv's schema (key bytea PRIMARY KEY, value bytea NOT NULL, version bigint
// NOT NULL, with its sequence) and holds the record codec's values as they are.
// Connections: BackendOptions::threads of them, opened by Open, in a small pool (a benchmark
// thread takes an idle one for each call, as the Store's pool does).
// Tables: each Open creates a fresh table (FreshTableName); the destructor drops it unless
// BackendOptions::keep_tables. An Open over BackendOptions::existing_table neither creates nor
// drops it.
//
// Thread safety: see backend.h. Owns its connections; destroying the backend closes them.
//   REQUIRES: no call is in flight when it is destroyed.

#ifndef ASIDEKV_TOOLS_BENCH_POSTGRES_BACKEND_H_
#define ASIDEKV_TOOLS_BENCH_POSTGRES_BACKEND_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "tools/bench/backend.h"
#include "tools/bench/idle_pool.h"

// libpq's handle, declared as libpq-fe.h does, so that this header need not include it.
typedef struct pg_conn PGconn;

namespace asidekv::bench {

// A table name no earlier Open of this process used: "asidekv_bench_<pid>_<n>".
std::string FreshTableName();

// Drops `table` and its sequence `<table>_version` if they exist.
absl::Status DropPostgresTable(const std::string& conninfo, const std::string& table);

class PostgresBackend {
 public:
  static constexpr std::string_view kName = "postgres";

  // Connects BackendOptions::threads times to BackendOptions::postgres and creates a fresh
  // table (or uses BackendOptions::existing_table). Unavailable when the server cannot be
  // reached; the server's error otherwise (e.g. an existing table that is not there).
  static absl::StatusOr<std::unique_ptr<PostgresBackend>> Open(const BackendOptions& options);

  ~PostgresBackend();
  PostgresBackend(const PostgresBackend&) = delete;
  PostgresBackend& operator=(const PostgresBackend&) = delete;

  bool SupportsScan() const { return true; }
  absl::Status Read(std::string_view key, std::string* value);
  absl::Status Write(std::string_view key, std::string_view value);
  absl::StatusOr<size_t> Scan(std::string_view start, size_t count);
  absl::Status LoadBatch(absl::Span<const std::string> keys, absl::Span<const std::string> values);
  absl::Status AfterLoad(bool compact);
  // No cache: every point read is a PostgreSQL read (the runner counts them).
  CacheCounters Counters() const { return CacheCounters(); }
  std::vector<std::pair<std::string, std::string>> Describe() const { return description_; }
  const std::string& table() const { return table_; }

 private:
  PostgresBackend(std::string conninfo, std::string table, bool keep_table)
      : conninfo_(std::move(conninfo)), table_(std::move(table)), keep_table_(keep_table) {}

  // An idle connection, held for one call.
  class Lease : public IdlePool<PGconn>::Lease {
   public:
    explicit Lease(PostgresBackend& backend) : IdlePool<PGconn>::Lease(backend.idle_) {}
  };

  const std::string conninfo_;
  const std::string table_;
  const bool keep_table_;
  // Every connection; filled by Open, constant afterwards. Owned (closed by the destructor).
  std::vector<PGconn*> connections_;
  std::vector<std::pair<std::string, std::string>> description_;
  IdlePool<PGconn> idle_;
};

}  // namespace asidekv::bench

#endif  // ASIDEKV_TOOLS_BENCH_POSTGRES_BACKEND_H_
