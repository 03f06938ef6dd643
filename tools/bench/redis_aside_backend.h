// RedisAsideBackend: the Redis baseline (`redis-aside`), cache-aside as applications write it by
// hand today with hiredis and libpq: no in-process cache, no leases, no invalidation channel.
//
//   Read       GET <table>:<key>; a reply is a hit. Else read PostgreSQL (PostgresBackend's
//              prepared SELECT) and, when the key exists, SET <table>:<key> <value> PX <ttl>
//              (BackendOptions::redis_ttl).
//   Write      PostgreSQL's upsert (PostgresBackend's), then DEL <table>:<key>.
//   Scan, LoadBatch, AfterLoad   PostgresBackend's; Redis takes no part.
// The known flaw of the pattern stays: a slow miss may SET a value older than a write that
// deleted the key meanwhile, and N processes missing a hot key read PostgreSQL N times.
// Keys live under the table's name, so each table (a backend in a round) starts with an empty
// namespace. A Redis error fails the call (Unavailable; the connection is reopened for the
// next one); there is no fallback. Only redis_aside_backend.cc includes hiredis.
// Connections: BackendOptions::threads to Redis (AUTH with redis_password when given; 1 s
// timeouts) and as many to PostgreSQL, each in an IdlePool.
// Counters: remote_hits are Redis GETs that found the key; db_reads the PostgreSQL reads of
// those that did not (its Redis misses); no in-process cache, so no hits or misses.
//
// Thread safety: see backend.h. Owns its connections and its PostgresBackend; destroying it
//   closes them (and drops the table unless it keeps it, as PostgresBackend does).
//   REQUIRES: no call is in flight when it is destroyed.

#ifndef ASIDEKV_TOOLS_BENCH_REDIS_ASIDE_BACKEND_H_
#define ASIDEKV_TOOLS_BENCH_REDIS_ASIDE_BACKEND_H_

#include <atomic>
#include <cstdint>
#include <initializer_list>
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
#include "tools/bench/postgres_backend.h"
#include "tools/bench/redis_address.h"

// hiredis's handle, declared as hiredis.h does, so that this header need not include it.
struct redisContext;

namespace asidekv::bench {

class RedisAsideBackend {
 public:
  static constexpr std::string_view kName = "redis-aside";

  // Opens the PostgreSQL side (PostgresBackend::Open) and BackendOptions::threads Redis
  // connections. InvalidArgument without --redis; Unavailable when Redis cannot be reached or
  // refuses AUTH.
  static absl::StatusOr<std::unique_ptr<RedisAsideBackend>> Open(const BackendOptions& options);

  ~RedisAsideBackend();
  RedisAsideBackend(const RedisAsideBackend&) = delete;
  RedisAsideBackend& operator=(const RedisAsideBackend&) = delete;

  bool SupportsScan() const { return true; }
  absl::Status Read(std::string_view key, std::string* value);
  absl::Status Write(std::string_view key, std::string_view value);
  absl::StatusOr<size_t> Scan(std::string_view start, size_t count) {
    return db_->Scan(start, count);
  }
  absl::Status LoadBatch(absl::Span<const std::string> keys, absl::Span<const std::string> values) {
    return db_->LoadBatch(keys, values);
  }
  absl::Status AfterLoad(bool compact) { return db_->AfterLoad(compact); }
  CacheCounters Counters() const;
  std::vector<std::pair<std::string, std::string>> Describe() const;
  const std::string& table() const { return db_->table(); }

 private:
  // One Redis connection; `context` is null while it is broken (reopened by the next call).
  struct Connection {
    redisContext* context = nullptr;
  };

  RedisAsideBackend(std::unique_ptr<PostgresBackend> db, RedisEndpoint endpoint,
                    std::string password, int64_t ttl_ms)
      : db_(std::move(db)),
        endpoint_(std::move(endpoint)),
        password_(std::move(password)),
        ttl_ms_(ttl_ms),
        ttl_ms_text_(std::to_string(ttl_ms)) {}

  // Connects (and authenticates) `conn` if it has no context. Unavailable on failure.
  absl::Status EnsureConnected(Connection& conn) const;
  // Runs one command on `conn` (held by the caller); its reply (the caller frees it with
  // freeReplyObject) or Unavailable, after which the connection is closed.
  absl::StatusOr<void*> Command(Connection& conn,
                                std::initializer_list<std::string_view> args) const;
  // Runs one command on an idle connection; OK unless it failed or Redis answered an error.
  absl::Status CallForStatus(std::initializer_list<std::string_view> args);
  std::string RedisKey(std::string_view key) const;

  const std::unique_ptr<PostgresBackend> db_;
  const RedisEndpoint endpoint_;
  const std::string password_;
  const int64_t ttl_ms_;
  const std::string ttl_ms_text_;
  // Every connection; filled by Open, constant afterwards (each one's context is used only by
  // its lease holder).
  std::vector<std::unique_ptr<Connection>> connections_;
  IdlePool<Connection> idle_;
  std::atomic<uint64_t> remote_hits_{0};
  std::atomic<uint64_t> db_reads_{0};
};

}  // namespace asidekv::bench

#endif  // ASIDEKV_TOOLS_BENCH_REDIS_ASIDE_BACKEND_H_
