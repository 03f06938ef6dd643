#include "remote/redis_tier.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "remote/redis_config.h"
#include "remote/redis_connection.h"
#include "util/monotonic_clock.h"
#include "util/string_view.h"

namespace asidekv::remote {
namespace {

// GETL(v, l; token, lease_ms): {1, value, value pttl} hit, {2} lease won, {3, lease pttl} held.
constexpr char kGetLeaseScript[] = R"lua(
local v = redis.call('GET', KEYS[1])
if v then return {1, v, redis.call('PTTL', KEYS[1])} end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {2} end
return {3, redis.call('PTTL', KEYS[2])}
)lua";

// FILL(v, l; token[, value, ttl_ms]): 1 when the lease held the token (the value, if any, is
// stored and the lease dropped), else 0.
constexpr char kFillScript[] = R"lua(
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
if #ARGV >= 3 then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
redis.call('DEL', KEYS[2])
return 1
)lua";

// INVALIDATE(v, l, w): drops the value and the lease, then writes and deletes the write marker,
// the one key the invalidation channels track: every Store hears of the write exactly once
// (Redis folds the marker's two changes in one event loop turn into one message), whether or not
// Redis held the value. The marker is never left behind.
constexpr char kInvalidateScript[] = R"lua(
redis.call('UNLINK', KEYS[1], KEYS[2])
redis.call('SET', KEYS[3], '1')
redis.call('DEL', KEYS[3])
return 1
)lua";

constexpr int64_t kFirstBackoffNanos = 100 * 1000 * 1000;
constexpr int64_t kMaxBackoffNanos = 2000 * 1000 * 1000;

// Whole milliseconds, rounded up.
int64_t CeilMillis(absl::Duration d) {
  return absl::ToInt64Milliseconds(absl::Ceil(d, absl::Milliseconds(1)));
}

std::string KeyUnder(std::string_view prefix, std::string_view kind, std::string_view key) {
  std::string out;
  out.reserve(prefix.size() + kind.size() + key.size() + 3);
  out.append(prefix).append(kind).append("{").append(key).append("}");
  return out;
}

bool IsConnectionFailure(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnavailable ||
         s.code() == absl::StatusCode::kDeadlineExceeded;
}

// The flush-owed marker (RedisTier::OweFlush).
std::string FlushOwedKey(std::string_view prefix) {
  return absl::StrCat(util::ToAbsl(prefix), ":flush_owed");
}

}  // namespace

std::string ValueKey(std::string_view prefix, std::string_view key) {
  return KeyUnder(prefix, ":v:", key);
}

std::string LeaseKey(std::string_view prefix, std::string_view key) {
  return KeyUnder(prefix, ":l:", key);
}

std::string MarkerKey(std::string_view prefix, std::string_view key) {
  return KeyUnder(prefix, ":w:", key);
}

std::string FlushMarkerKey(std::string_view prefix) { return std::string(prefix) + ":w:*"; }

std::optional<std::string_view> KeyOfMarkerKey(std::string_view prefix,
                                               std::string_view redis_key) {
  if (redis_key.size() < prefix.size() + 5 || redis_key.substr(0, prefix.size()) != prefix ||
      redis_key.substr(prefix.size(), 4) != ":w:{" || redis_key.back() != '}') {
    return std::nullopt;
  }
  return redis_key.substr(prefix.size() + 4, redis_key.size() - prefix.size() - 5);
}

// The pool (mu_), the breaker (breaker_mu_) and the counters. Lock order: never both at once.
class RedisTier::Impl {
 public:
  Impl(RedisEndpoint endpoint, int connections)
      : endpoint_(std::move(endpoint)), connections_(connections) {
    std::random_device random;
    token_base_ = (uint64_t{random()} << 32) ^ random();
  }

  ~Impl() = default;

  // The first connection: connects, checks the server's persistence settings, loads the scripts.
  absl::Status Start() {
    const int64_t deadline = util::MonotonicNanos() + endpoint_.timeout_nanos;
    absl::StatusOr<std::unique_ptr<RedisConnection>> conn =
        RedisConnection::Connect(endpoint_, deadline);
    if (!conn.ok()) return conn.status();
    absl::StatusOr<std::vector<RedisReply>> config = (*conn)->RunPipeline(
        {{"CONFIG", "GET", "save"}, {"CONFIG", "GET", "appendonly"}}, deadline);
    if (!config.ok()) return config.status();
    for (const RedisReply& reply : *config) {
      if (reply.IsError("NOPERM")) continue;  // The ACL forbids CONFIG: trust the operator.
      if (reply.IsError()) return (*conn)->ReplyStatus(reply);
      if (reply.elements.size() != 2) continue;
      const std::string& name = reply.elements[0].str;
      const std::string& value = reply.elements[1].str;
      if ((name == "save" && !value.empty()) || (name == "appendonly" && value == "yes")) {
        return absl::FailedPreconditionError(absl::StrCat(
            endpoint_.server, ": persists to disk (", name, " \"", value,
            "\"): a restart would bring back values invalidated since the snapshot; configure "
            "it with `save \"\"` and `appendonly no`"));
      }
    }
    absl::StatusOr<std::vector<std::string>> shas = SetUp(**conn, deadline);
    if (!shas.ok()) return shas.status();
    get_lease_sha_ = (*shas)[0];
    fill_sha_ = (*shas)[1];
    invalidate_sha_ = (*shas)[2];
    absl::MutexLock lock(&mu_);
    ++open_;
    idle_.push_back(*std::move(conn));
    return absl::OkStatus();
  }

  // Runs `commands` in one round trip on a pooled connection, behind the breaker. EVALSHA
  // commands that meet NOSCRIPT are run again after loading the scripts. Error replies come
  // back as replies.
  absl::StatusOr<std::vector<RedisReply>> Call(const std::vector<RedisCommand>& commands) {
    bool probe = false;
    absl::Status s = Admit(&probe);
    if (!s.ok()) return Failed(s);
    bool connection_failed = false;
    absl::StatusOr<std::vector<RedisReply>> replies = RoundTrip(commands, &connection_failed);
    if (connection_failed) {
      DropIdle();  // The others to the same server are likely gone too.
      Trip(probe);
    } else if (replies.ok()) {
      Close();
    }
    if (!replies.ok()) return Failed(replies.status());
    for (const RedisReply& reply : *replies) {
      if (reply.IsError())
        return Failed(ReplyErrorStatus(reply, endpoint_.server, endpoint_.password));
    }
    return replies;
  }

  absl::Status Failed(absl::Status s) {
    errors_.fetch_add(1, std::memory_order_relaxed);
    return s;
  }

  uint64_t NextToken() {
    while (true) {
      const uint64_t token = token_base_ + next_token_.fetch_add(1, std::memory_order_relaxed);
      if (token != 0) return token;
    }
  }

  const RedisEndpoint endpoint_;
  const int connections_;
  // Set by Start(), before the tier is shared; constant afterwards.
  std::string get_lease_sha_;
  std::string fill_sha_;
  std::string invalidate_sha_;
  uint64_t token_base_ = 0;
  std::atomic<uint64_t> next_token_{1};

  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> leases_won_{0};
  std::atomic<uint64_t> leases_held_{0};
  std::atomic<uint64_t> fills_{0};
  std::atomic<uint64_t> fills_rejected_{0};
  std::atomic<uint64_t> invalidations_{0};
  std::atomic<uint64_t> errors_{0};
  std::atomic<uint64_t> reconnects_{0};
  std::atomic<bool> available_{true};

  std::string run_id() const {
    absl::MutexLock lock(&mu_);
    return run_id_;
  }

 private:
  // The breaker's verdict on a new call: OK to go (closed, or this call is the period's probe),
  // else Unavailable at once.
  absl::Status Admit(bool* probe) {
    absl::MutexLock lock(&breaker_mu_);
    if (!breaker_open_) return absl::OkStatus();
    const int64_t now = util::MonotonicNanos();
    if (now < probe_at_) {
      return absl::UnavailableError(
          absl::StrCat(endpoint_.server, ": unavailable (the last call failed; next try in ",
                       (probe_at_ - now + 999999) / 1000000, " ms)"));
    }
    probe_at_ = now + backoff_;  // This call is the probe; the others wait for its period.
    *probe = true;
    return absl::OkStatus();
  }

  // A call failed to reach Redis: open the breaker, or double its backoff when the probe failed.
  // (Calls let through before it opened and failing since change nothing.)
  void Trip(bool probe) {
    absl::MutexLock lock(&breaker_mu_);
    if (breaker_open_ && !probe) return;
    backoff_ = breaker_open_ ? std::min(backoff_ * 2, kMaxBackoffNanos) : kFirstBackoffNanos;
    breaker_open_ = true;
    probe_at_ = util::MonotonicNanos() + backoff_;
    available_.store(false, std::memory_order_relaxed);
  }

  void Close() {
    if (available_.load(std::memory_order_relaxed)) return;
    absl::MutexLock lock(&breaker_mu_);
    breaker_open_ = false;
    available_.store(true, std::memory_order_relaxed);
  }

  absl::StatusOr<std::vector<RedisReply>> RoundTrip(const std::vector<RedisCommand>& commands,
                                                    bool* connection_failed) {
    absl::StatusOr<std::unique_ptr<RedisConnection>> conn = Acquire(connection_failed);
    if (!conn.ok()) return conn.status();
    const int64_t deadline = util::MonotonicNanos() + endpoint_.timeout_nanos;
    absl::StatusOr<std::vector<RedisReply>> replies = (*conn)->RunPipeline(commands, deadline);
    if (replies.ok()) {
      absl::Status s = RetryNoScript(**conn, commands, deadline, &*replies);
      if (!s.ok()) replies = s;
    }
    *connection_failed = (*conn)->broken();
    Release(*std::move(conn));
    return replies;
  }

  // Loads the scripts again and reruns the commands that met NOSCRIPT (a restart or SCRIPT
  // FLUSH emptied the script cache). A NOSCRIPT reply means the script did not run.
  absl::Status RetryNoScript(RedisConnection& conn, const std::vector<RedisCommand>& commands,
                             int64_t deadline, std::vector<RedisReply>* replies) {
    std::vector<size_t> again;
    for (size_t i = 0; i < replies->size(); ++i) {
      if ((*replies)[i].IsError("NOSCRIPT")) again.push_back(i);
    }
    if (again.empty()) return absl::OkStatus();
    std::vector<RedisCommand> retry = {{"SCRIPT", "LOAD", kGetLeaseScript},
                                       {"SCRIPT", "LOAD", kFillScript},
                                       {"SCRIPT", "LOAD", kInvalidateScript}};
    const size_t loads = retry.size();
    for (size_t i : again) retry.push_back(commands[i]);
    absl::StatusOr<std::vector<RedisReply>> second = conn.RunPipeline(retry, deadline);
    if (!second.ok()) return second.status();
    for (size_t j = 0; j < again.size(); ++j) {
      (*replies)[again[j]] = std::move((*second)[j + loads]);
    }
    return absl::OkStatus();
  }

  // An idle connection, or a new one in a free slot; waits for one at most the timeout.
  absl::StatusOr<std::unique_ptr<RedisConnection>> Acquire(bool* connection_failed) {
    {
      absl::MutexLock lock(&mu_);
      const int64_t deadline = util::MonotonicNanos() + endpoint_.timeout_nanos;
      while (idle_.empty() && open_ >= connections_) {
        const int64_t left = deadline - util::MonotonicNanos();
        if (left <= 0) {
          return absl::DeadlineExceededError(absl::StrCat(
              endpoint_.server, ": no free connection in time (all ", connections_, " in use)"));
        }
        slot_freed_.WaitWithTimeout(&mu_, absl::Nanoseconds(left));
      }
      if (!idle_.empty()) {
        std::unique_ptr<RedisConnection> conn = std::move(idle_.back());
        idle_.pop_back();
        return conn;
      }
      ++open_;  // A slot for a new connection.
    }
    absl::StatusOr<std::unique_ptr<RedisConnection>> conn = Open();
    if (!conn.ok()) {
      *connection_failed = IsConnectionFailure(conn.status()) ||
                           conn.status().code() == absl::StatusCode::kPermissionDenied;
      FreeSlot();
    }
    return conn;
  }

  // A new data connection: connect, AUTH, SetUp.
  absl::StatusOr<std::unique_ptr<RedisConnection>> Open() {
    const int64_t deadline = util::MonotonicNanos() + endpoint_.timeout_nanos;
    absl::StatusOr<std::unique_ptr<RedisConnection>> conn =
        RedisConnection::Connect(endpoint_, deadline);
    if (!conn.ok()) return conn.status();
    absl::StatusOr<std::vector<std::string>> shas = SetUp(**conn, deadline);
    if (!shas.ok()) return shas.status();
    reconnects_.fetch_add(1, std::memory_order_relaxed);
    return conn;
  }

  // On each new connection: notes the server's run_id and loads the scripts; returns their
  // SHA1 digests (the same for every connection: they name the scripts' text).
  absl::StatusOr<std::vector<std::string>> SetUp(RedisConnection& conn, int64_t deadline) {
    absl::StatusOr<std::vector<RedisReply>> replies =
        conn.RunPipeline({{"INFO", "server"},
                          {"SCRIPT", "LOAD", kGetLeaseScript},
                          {"SCRIPT", "LOAD", kFillScript},
                          {"SCRIPT", "LOAD", kInvalidateScript}},
                         deadline);
    if (!replies.ok()) return replies.status();
    for (const RedisReply& reply : *replies) {
      if (reply.IsError()) return conn.ReplyStatus(reply);
    }
    const std::string& info = (*replies)[0].str;
    const size_t at = info.find("run_id:");
    if (at != std::string::npos) {
      const size_t end = info.find_first_of("\r\n", at);
      absl::MutexLock lock(&mu_);
      run_id_ = info.substr(at + 7, end == std::string::npos ? std::string::npos : end - at - 7);
    }
    return std::vector<std::string>{(*replies)[1].str, (*replies)[2].str, (*replies)[3].str};
  }

  void Release(std::unique_ptr<RedisConnection> conn) {
    if (conn->broken()) {
      conn.reset();  // Closed outside the lock.
      FreeSlot();
      return;
    }
    absl::MutexLock lock(&mu_);
    idle_.push_back(std::move(conn));
    slot_freed_.Signal();
  }

  void FreeSlot() {
    absl::MutexLock lock(&mu_);
    --open_;
    slot_freed_.Signal();
  }

  void DropIdle() {
    std::vector<std::unique_ptr<RedisConnection>> dropped;
    {
      absl::MutexLock lock(&mu_);
      dropped.swap(idle_);
      open_ -= static_cast<int>(dropped.size());
      if (!dropped.empty()) slot_freed_.SignalAll();
    }
  }

  mutable absl::Mutex mu_;
  absl::CondVar slot_freed_;  // Signalled when a connection becomes idle or a slot frees.
  std::vector<std::unique_ptr<RedisConnection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
  std::string run_id_ ABSL_GUARDED_BY(mu_);

  absl::Mutex breaker_mu_;
  bool breaker_open_ ABSL_GUARDED_BY(breaker_mu_) = false;
  int64_t backoff_ ABSL_GUARDED_BY(breaker_mu_) = kFirstBackoffNanos;
  int64_t probe_at_ ABSL_GUARDED_BY(breaker_mu_) = 0;
};

absl::StatusOr<std::unique_ptr<RedisTier>> RedisTier::Connect(const RedisConfig& config) {
  absl::StatusOr<RedisEndpoint> endpoint = MakeRedisEndpoint(config);
  if (!endpoint.ok()) return endpoint.status();
  auto impl = std::make_unique<Impl>(*std::move(endpoint), config.connections);
  absl::Status s = impl->Start();
  if (!s.ok()) return s;
  return std::unique_ptr<RedisTier>(new RedisTier(std::move(impl)));
}

RedisTier::RedisTier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RedisTier::~RedisTier() = default;

absl::StatusOr<std::vector<LeaseResult>> RedisTier::GetOrLease(
    absl::Span<const std::string_view> keys, absl::Duration lease_ttl) {
  if (lease_ttl < absl::Milliseconds(1)) {
    return impl_->Failed(absl::InvalidArgumentError("lease_ttl must be at least 1 ms"));
  }
  if (keys.empty()) return std::vector<LeaseResult>();
  std::vector<LeaseResult> results(keys.size());
  // First round trip: plain GET and PTTL of every value key, so that a hit costs Redis what a
  // GET costs (a script call costs it about five times more).
  std::vector<RedisCommand> commands;
  commands.reserve(2 * keys.size());
  for (std::string_view key : keys) {
    std::string value_key = ValueKey(impl_->endpoint_.prefix, key);
    commands.push_back({"GET", value_key});
    commands.push_back({"PTTL", std::move(value_key)});
  }
  absl::StatusOr<std::vector<RedisReply>> replies = impl_->Call(commands);
  if (!replies.ok()) return replies.status();
  std::vector<size_t> missed;
  for (size_t i = 0; i < keys.size(); ++i) {
    RedisReply& value = (*replies)[2 * i];
    const int64_t pttl = (*replies)[2 * i + 1].integer;
    // Absent, or gone between the two commands (PTTL -2): the lease script decides.
    if (value.type != RedisReply::Type::kString || pttl == -2) {
      missed.push_back(i);
      continue;
    }
    results[i].kind = LeaseResult::Kind::kHit;
    results[i].value = std::move(value.str);
    if (pttl > 0) results[i].ttl = absl::Milliseconds(pttl);
    impl_->hits_.fetch_add(1, std::memory_order_relaxed);
  }
  if (missed.empty()) return results;
  // Second round trip, for the misses only: the lease script, which looks again and takes the
  // lease atomically.
  const std::string lease_ms = absl::StrCat(CeilMillis(lease_ttl));
  std::vector<uint64_t> tokens;
  commands.clear();
  tokens.reserve(missed.size());
  for (size_t i : missed) {
    tokens.push_back(impl_->NextToken());
    commands.push_back(
        {"EVALSHA", impl_->get_lease_sha_, "2", ValueKey(impl_->endpoint_.prefix, keys[i]),
         LeaseKey(impl_->endpoint_.prefix, keys[i]), absl::StrCat(tokens.back()), lease_ms});
  }
  replies = impl_->Call(commands);
  if (!replies.ok()) return replies.status();
  for (size_t m = 0; m < missed.size(); ++m) {
    const size_t i = missed[m];
    const RedisReply& reply = (*replies)[m];
    if (reply.elements.empty() || reply.elements[0].type != RedisReply::Type::kInteger) {
      return impl_->Failed(absl::InternalError(
          absl::StrCat(impl_->endpoint_.server, ": unexpected reply of the lease script")));
    }
    LeaseResult& result = results[i];
    switch (reply.elements[0].integer) {
      case 1:
        result.kind = LeaseResult::Kind::kHit;
        if (reply.elements.size() > 1) result.value = reply.elements[1].str;
        if (reply.elements.size() > 2 && reply.elements[2].integer > 0) {
          result.ttl = absl::Milliseconds(reply.elements[2].integer);
        }
        impl_->hits_.fetch_add(1, std::memory_order_relaxed);
        break;
      case 2:
        result.kind = LeaseResult::Kind::kWon;
        result.token = tokens[m];
        impl_->leases_won_.fetch_add(1, std::memory_order_relaxed);
        break;
      default:
        result.kind = LeaseResult::Kind::kHeld;
        if (reply.elements.size() > 1 && reply.elements[1].integer > 0) {
          result.held_for = absl::Milliseconds(reply.elements[1].integer);
        }
        impl_->leases_held_.fetch_add(1, std::memory_order_relaxed);
        break;
    }
  }
  return results;
}

absl::StatusOr<std::vector<bool>> RedisTier::Fill(absl::Span<const FillRequest> fills) {
  std::vector<RedisCommand> commands;
  commands.reserve(fills.size());
  for (const FillRequest& fill : fills) {
    RedisCommand command = {"EVALSHA",
                            impl_->fill_sha_,
                            "2",
                            ValueKey(impl_->endpoint_.prefix, fill.key),
                            LeaseKey(impl_->endpoint_.prefix, fill.key),
                            absl::StrCat(fill.token)};
    if (fill.value.has_value()) {
      if (fill.ttl <= absl::ZeroDuration()) {
        return impl_->Failed(absl::InvalidArgumentError("a Fill's ttl must be positive"));
      }
      command.emplace_back(*fill.value);
      command.push_back(absl::StrCat(CeilMillis(fill.ttl)));
    }
    commands.push_back(std::move(command));
  }
  if (commands.empty()) return std::vector<bool>();
  absl::StatusOr<std::vector<RedisReply>> replies = impl_->Call(commands);
  if (!replies.ok()) return replies.status();
  std::vector<bool> stored(fills.size());
  for (size_t i = 0; i < fills.size(); ++i) {
    const RedisReply& reply = (*replies)[i];
    stored[i] = reply.integer == 1;
    if (!stored[i]) {
      impl_->fills_rejected_.fetch_add(1, std::memory_order_relaxed);
    } else if (fills[i].value.has_value()) {
      impl_->fills_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  return stored;
}

absl::Status RedisTier::Invalidate(absl::Span<const std::string_view> keys) {
  if (keys.empty()) return absl::OkStatus();
  std::vector<RedisCommand> commands;
  commands.reserve(keys.size());
  for (std::string_view key : keys) {
    const std::string& prefix = impl_->endpoint_.prefix;
    commands.push_back({"EVALSHA", impl_->invalidate_sha_, "3", ValueKey(prefix, key),
                        LeaseKey(prefix, key), MarkerKey(prefix, key)});
  }
  absl::StatusOr<std::vector<RedisReply>> replies = impl_->Call(commands);
  if (!replies.ok()) return replies.status();
  for (const RedisReply& reply : *replies) {
    // E.g. OOM under maxmemory-policy noeviction: the marker was not written, so no Store heard
    // of the write; the caller keeps the keys owed and tries again.
    if (reply.IsError()) {
      return absl::UnavailableError(
          absl::StrCat(impl_->endpoint_.server, ": invalidation refused: ", reply.str));
    }
  }
  impl_->invalidations_.fetch_add(keys.size(), std::memory_order_relaxed);
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> RedisTier::FlushAll() {
  // The prefix as a glob pattern: its own glob characters escaped.
  std::string pattern;
  for (char c : impl_->endpoint_.prefix) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') pattern.push_back('\\');
    pattern.push_back(c);
  }
  uint64_t removed = 0;
  for (const char* kind : {":l:*", ":v:*"}) {
    const std::string match = pattern + kind;
    std::string cursor = "0";
    do {
      absl::StatusOr<std::vector<RedisReply>> page =
          impl_->Call({{"SCAN", cursor, "MATCH", match, "COUNT", "1000"}});
      if (!page.ok()) return page.status();
      const RedisReply& reply = page->front();
      if (reply.elements.size() != 2) {
        return impl_->Failed(absl::InternalError(
            absl::StrCat(impl_->endpoint_.server, ": unexpected reply to SCAN")));
      }
      cursor = reply.elements[0].str;
      RedisCommand unlink = {"UNLINK"};
      for (const RedisReply& key : reply.elements[1].elements) unlink.push_back(key.str);
      if (unlink.size() == 1) continue;
      absl::StatusOr<std::vector<RedisReply>> done = impl_->Call({unlink});
      if (!done.ok()) return done.status();
      removed += static_cast<uint64_t>(done->front().integer);
    } while (cursor != "0");
  }
  // Values are not tracked: the flush marker tells every Store to flush its near cache (and
  // reject the fills in flight), after the values are gone.
  const std::string flush = FlushMarkerKey(impl_->endpoint_.prefix);
  absl::StatusOr<std::vector<RedisReply>> told = impl_->Call({{"SET", flush, "1"}, {"DEL", flush}});
  if (!told.ok()) return told.status();
  for (const RedisReply& reply : *told) {
    if (reply.IsError()) {
      return absl::UnavailableError(
          absl::StrCat(impl_->endpoint_.server, ": flush marker refused: ", reply.str));
    }
  }
  absl::StatusOr<std::vector<RedisReply>> cleared =
      impl_->Call({{"DEL", FlushOwedKey(impl_->endpoint_.prefix)}});
  if (!cleared.ok()) return cleared.status();
  return removed;
}

absl::Status RedisTier::OweFlush() {
  return impl_->Call({{"SET", FlushOwedKey(impl_->endpoint_.prefix), "1"}}).status();
}

absl::StatusOr<bool> RedisTier::FlushOwed() {
  absl::StatusOr<std::vector<RedisReply>> r =
      impl_->Call({{"EXISTS", FlushOwedKey(impl_->endpoint_.prefix)}});
  if (!r.ok()) return r.status();
  return r->front().integer > 0;
}

absl::StatusOr<std::string> RedisTier::GetValue(std::string_view key) {
  absl::StatusOr<std::vector<RedisReply>> replies =
      impl_->Call({{"GET", ValueKey(impl_->endpoint_.prefix, key)}});
  if (!replies.ok()) return replies.status();
  const RedisReply& reply = replies->front();
  if (reply.type == RedisReply::Type::kNil) {
    return absl::NotFoundError(absl::StrCat(impl_->endpoint_.server, ": no cached value"));
  }
  return reply.str;
}

bool RedisTier::available() const { return impl_->available_.load(std::memory_order_relaxed); }

std::string RedisTier::run_id() const { return impl_->run_id(); }

RedisTierStats RedisTier::GetStats() const {
  RedisTierStats s;
  s.hits = impl_->hits_.load(std::memory_order_relaxed);
  s.leases_won = impl_->leases_won_.load(std::memory_order_relaxed);
  s.leases_held = impl_->leases_held_.load(std::memory_order_relaxed);
  s.fills = impl_->fills_.load(std::memory_order_relaxed);
  s.fills_rejected = impl_->fills_rejected_.load(std::memory_order_relaxed);
  s.invalidations = impl_->invalidations_.load(std::memory_order_relaxed);
  s.errors = impl_->errors_.load(std::memory_order_relaxed);
  s.reconnects = impl_->reconnects_.load(std::memory_order_relaxed);
  return s;
}

const std::string& RedisTier::server() const { return impl_->endpoint_.server; }

}  // namespace asidekv::remote
