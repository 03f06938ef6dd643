#include "tools/bench/redis_aside_backend.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"

namespace asidekv::bench {
namespace {

constexpr timeval kTimeout = {1, 0};

// Frees a hiredis reply when it goes out of scope.
struct Reply {
  explicit Reply(void* r) : r(static_cast<redisReply*>(r)) {}
  ~Reply() { freeReplyObject(r); }
  Reply(const Reply&) = delete;
  Reply& operator=(const Reply&) = delete;
  redisReply* const r;
};

absl::Status ReplyError(absl::string_view what, const redisReply* r) {
  return absl::InternalError(
      absl::StrCat("Redis ", what, ": ", absl::string_view(r->str, static_cast<size_t>(r->len))));
}

}  // namespace

absl::StatusOr<std::unique_ptr<RedisAsideBackend>> RedisAsideBackend::Open(
    const BackendOptions& options) {
  if (options.redis.empty()) {
    return absl::InvalidArgumentError("the redis-aside backend needs --redis=<address>");
  }
  absl::StatusOr<RedisEndpoint> endpoint = ParseRedisEndpoint(options.redis);
  if (!endpoint.ok()) return endpoint.status();
  const int64_t ttl_ms = absl::ToInt64Milliseconds(options.redis_ttl);
  if (ttl_ms < 1) return absl::InvalidArgumentError("the redis-aside TTL must be at least 1 ms");
  absl::StatusOr<std::unique_ptr<PostgresBackend>> db = PostgresBackend::Open(options);
  if (!db.ok()) return db.status();
  std::unique_ptr<RedisAsideBackend> backend(
      new RedisAsideBackend(*std::move(db), *std::move(endpoint), options.redis_password, ttl_ms));
  for (int i = 0; i < std::max(1, options.threads); ++i) {
    backend->connections_.push_back(std::make_unique<Connection>());
    absl::Status s = backend->EnsureConnected(*backend->connections_.back());
    if (!s.ok()) return s;
    backend->idle_.Add(backend->connections_.back().get());
  }
  return backend;
}

RedisAsideBackend::~RedisAsideBackend() {
  for (const std::unique_ptr<Connection>& conn : connections_) {
    if (conn->context != nullptr) redisFree(conn->context);
  }
}

absl::Status RedisAsideBackend::EnsureConnected(Connection& conn) const {
  if (conn.context != nullptr) return absl::OkStatus();
  redisContext* c = endpoint_.unix_socket
                        ? redisConnectUnixWithTimeout(endpoint_.host.c_str(), kTimeout)
                        : redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, kTimeout);
  if (c == nullptr) return absl::ResourceExhaustedError("Redis connect: out of memory");
  if (c->err != 0 || redisSetTimeout(c, kTimeout) != REDIS_OK) {
    absl::Status s = absl::UnavailableError(absl::StrCat("Redis connect: ", c->errstr));
    redisFree(c);
    return s;
  }
  conn.context = c;
  if (!password_.empty()) {
    absl::StatusOr<void*> reply = Command(conn, {"AUTH", password_});
    if (!reply.ok()) return reply.status();
    Reply r(*reply);
    if (r.r->type == REDIS_REPLY_ERROR) {
      // The password is not in the reply; the error says only that AUTH failed.
      absl::Status s = absl::UnavailableError(ReplyError("AUTH", r.r).message());
      redisFree(conn.context);
      conn.context = nullptr;
      return s;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<void*> RedisAsideBackend::Command(
    Connection& conn, std::initializer_list<std::string_view> args) const {
  absl::Status s = EnsureConnected(conn);
  if (!s.ok()) return s;
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (std::string_view a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  void* reply =
      redisCommandArgv(conn.context, static_cast<int>(argv.size()), argv.data(), lengths.data());
  if (reply == nullptr) {
    s = absl::UnavailableError(
        absl::StrCat("Redis ", absl::string_view(argv[0], lengths[0]), ": ", conn.context->errstr));
    redisFree(conn.context);
    conn.context = nullptr;
    return s;
  }
  return reply;
}

absl::Status RedisAsideBackend::CallForStatus(std::initializer_list<std::string_view> args) {
  IdlePool<Connection>::Lease lease(idle_);
  absl::StatusOr<void*> reply = Command(*lease.get(), args);
  if (!reply.ok()) return reply.status();
  Reply r(*reply);
  return r.r->type == REDIS_REPLY_ERROR ? ReplyError(args.begin()->data(), r.r) : absl::OkStatus();
}

std::string RedisAsideBackend::RedisKey(std::string_view key) const {
  std::string out = absl::StrCat(table(), ":");
  out.append(key.data(), key.size());
  return out;
}

absl::Status RedisAsideBackend::Read(std::string_view key, std::string* value) {
  const std::string redis_key = RedisKey(key);
  {
    IdlePool<Connection>::Lease lease(idle_);
    absl::StatusOr<void*> reply = Command(*lease.get(), {"GET", redis_key});
    if (!reply.ok()) return reply.status();
    Reply r(*reply);
    if (r.r->type == REDIS_REPLY_STRING) {
      remote_hits_.fetch_add(1, std::memory_order_relaxed);
      value->assign(r.r->str, static_cast<size_t>(r.r->len));
      return absl::OkStatus();
    }
    if (r.r->type != REDIS_REPLY_NIL) return ReplyError("GET", r.r);
  }
  db_reads_.fetch_add(1, std::memory_order_relaxed);
  absl::Status s = db_->Read(key, value);
  if (!s.ok()) return s;  // NotFound is not cached, as most hand-written versions do.
  return CallForStatus({"SET", redis_key, *value, "PX", ttl_ms_text_});
}

absl::Status RedisAsideBackend::Write(std::string_view key, std::string_view value) {
  absl::Status s = db_->Write(key, value);
  if (!s.ok()) return s;
  return CallForStatus({"DEL", RedisKey(key)});
}

CacheCounters RedisAsideBackend::Counters() const {
  CacheCounters counters;  // No in-process cache: hits and misses stay unset.
  counters.remote_hits = remote_hits_.load(std::memory_order_relaxed);
  counters.db_reads = db_reads_.load(std::memory_order_relaxed);
  return counters;
}

std::vector<std::pair<std::string, std::string>> RedisAsideBackend::Describe() const {
  std::vector<std::pair<std::string, std::string>> out = db_->Describe();
  out.emplace_back("redis_connections", absl::StrCat(connections_.size()));
  out.emplace_back("redis_key_prefix", absl::StrCat(table(), ":"));
  out.emplace_back("redis_ttl_ms", absl::StrCat(ttl_ms_));
  return out;
}

}  // namespace asidekv::bench
