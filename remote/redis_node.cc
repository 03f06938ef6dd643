#include "remote/redis_node.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "remote/redis_connection.h"
#include "util/monotonic_clock.h"

namespace asidekv::remote {
namespace {

constexpr int64_t kFirstBackoffNanos = 100 * 1000 * 1000;
constexpr int64_t kMaxBackoffNanos = 2000 * 1000 * 1000;

bool IsConnectionFailure(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnavailable ||
         s.code() == absl::StatusCode::kDeadlineExceeded;
}

}  // namespace

RedisNode::RedisNode(RedisEndpoint endpoint, int connections, std::vector<std::string_view> scripts)
    : endpoint_(std::move(endpoint)),
      connections_(connections),
      scripts_(std::move(scripts)),
      backoff_(kFirstBackoffNanos) {}

RedisNode::~RedisNode() = default;

absl::StatusOr<std::vector<std::string>> RedisNode::Start() {
  const int64_t deadline = util::MonotonicNanos() + endpoint_.timeout_nanos;
  absl::StatusOr<std::unique_ptr<RedisConnection>> conn =
      RedisConnection::Connect(endpoint_, deadline);
  if (!conn.ok()) return conn.status();
  absl::StatusOr<std::vector<RedisReply>> config =
      (*conn)->RunPipeline({{"CONFIG", "GET", "save"}, {"CONFIG", "GET", "appendonly"}}, deadline);
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
  absl::MutexLock lock(&mu_);
  ++open_;
  idle_.push_back(*std::move(conn));
  return shas;
}

absl::StatusOr<std::vector<RedisReply>> RedisNode::Call(const std::vector<RedisCommand>& commands) {
  bool probe = false;
  absl::Status s = Admit(&probe);
  if (!s.ok()) return s;
  bool connection_failed = false;
  absl::StatusOr<std::vector<RedisReply>> replies = RoundTrip(commands, &connection_failed);
  if (connection_failed) {
    DropIdle();  // The others to the same server are likely gone too.
    Trip(probe);
  } else if (replies.ok()) {
    Close();
  }
  return replies;
}

std::string RedisNode::run_id() const {
  absl::MutexLock lock(&mu_);
  return run_id_;
}

// The breaker's verdict on a new call: OK to go (closed, or this call is the period's probe),
// else Unavailable at once.
absl::Status RedisNode::Admit(bool* probe) {
  absl::MutexLock lock(&breaker_mu_);
  if (!breaker_open_) return absl::OkStatus();
  const int64_t now = util::MonotonicNanos();
  if (now < probe_at_) {
    return absl::UnavailableError(absl::StrCat(endpoint_.server,
                                               ": unavailable (the last call failed; next try in ",
                                               (probe_at_ - now + 999999) / 1000000, " ms)"));
  }
  probe_at_ = now + backoff_;  // This call is the probe; the others wait for its period.
  *probe = true;
  return absl::OkStatus();
}

// A call failed to reach Redis: open the breaker, or double its backoff when the probe failed.
// (Calls let through before it opened and failing since change nothing.)
void RedisNode::Trip(bool probe) {
  absl::MutexLock lock(&breaker_mu_);
  if (breaker_open_ && !probe) return;
  backoff_ = breaker_open_ ? std::min(backoff_ * 2, kMaxBackoffNanos) : kFirstBackoffNanos;
  breaker_open_ = true;
  probe_at_ = util::MonotonicNanos() + backoff_;
  available_.store(false, std::memory_order_relaxed);
}

void RedisNode::Close() {
  if (available_.load(std::memory_order_relaxed)) return;
  absl::MutexLock lock(&breaker_mu_);
  breaker_open_ = false;
  available_.store(true, std::memory_order_relaxed);
}

absl::StatusOr<std::vector<RedisReply>> RedisNode::RoundTrip(
    const std::vector<RedisCommand>& commands, bool* connection_failed) {
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

// Loads the scripts again and reruns the commands that met NOSCRIPT. A NOSCRIPT reply means the
// script did not run.
absl::Status RedisNode::RetryNoScript(RedisConnection& conn,
                                      const std::vector<RedisCommand>& commands, int64_t deadline,
                                      std::vector<RedisReply>* replies) {
  std::vector<size_t> again;
  for (size_t i = 0; i < replies->size(); ++i) {
    if ((*replies)[i].IsError("NOSCRIPT")) again.push_back(i);
  }
  if (again.empty()) return absl::OkStatus();
  std::vector<RedisCommand> retry;
  for (std::string_view script : scripts_) retry.push_back({"SCRIPT", "LOAD", std::string(script)});
  const size_t loads = retry.size();
  for (size_t i : again) {
    // An ASKING before the script must precede it again.
    if (i > 0 && commands[i - 1].size() == 1 && commands[i - 1][0] == "ASKING") {
      retry.push_back(commands[i - 1]);
    }
    retry.push_back(commands[i]);
  }
  absl::StatusOr<std::vector<RedisReply>> second = conn.RunPipeline(retry, deadline);
  if (!second.ok()) return second.status();
  size_t at = loads;
  for (size_t i : again) {
    if (i > 0 && commands[i - 1].size() == 1 && commands[i - 1][0] == "ASKING") ++at;
    (*replies)[i] = std::move((*second)[at++]);
  }
  return absl::OkStatus();
}

// An idle connection, or a new one in a free slot; waits for one at most the timeout.
absl::StatusOr<std::unique_ptr<RedisConnection>> RedisNode::Acquire(bool* connection_failed) {
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
absl::StatusOr<std::unique_ptr<RedisConnection>> RedisNode::Open() {
  const int64_t deadline = util::MonotonicNanos() + endpoint_.timeout_nanos;
  absl::StatusOr<std::unique_ptr<RedisConnection>> conn =
      RedisConnection::Connect(endpoint_, deadline);
  if (!conn.ok()) return conn.status();
  absl::StatusOr<std::vector<std::string>> shas = SetUp(**conn, deadline);
  if (!shas.ok()) return shas.status();
  reconnects_.fetch_add(1, std::memory_order_relaxed);
  return conn;
}

// On each new connection: notes the server's run_id and loads the scripts; returns their SHA1
// digests.
absl::StatusOr<std::vector<std::string>> RedisNode::SetUp(RedisConnection& conn, int64_t deadline) {
  std::vector<RedisCommand> commands = {{"INFO", "server"}};
  for (std::string_view script : scripts_) {
    commands.push_back({"SCRIPT", "LOAD", std::string(script)});
  }
  absl::StatusOr<std::vector<RedisReply>> replies = conn.RunPipeline(commands, deadline);
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
  std::vector<std::string> shas;
  for (size_t i = 1; i < replies->size(); ++i) shas.push_back((*replies)[i].str);
  return shas;
}

void RedisNode::Release(std::unique_ptr<RedisConnection> conn) {
  if (conn->broken()) {
    conn.reset();  // Closed outside the lock.
    FreeSlot();
    return;
  }
  absl::MutexLock lock(&mu_);
  idle_.push_back(std::move(conn));
  slot_freed_.Signal();
}

void RedisNode::FreeSlot() {
  absl::MutexLock lock(&mu_);
  --open_;
  slot_freed_.Signal();
}

void RedisNode::DropIdle() {
  std::vector<std::unique_ptr<RedisConnection>> dropped;
  {
    absl::MutexLock lock(&mu_);
    dropped.swap(idle_);
    open_ -= static_cast<int>(dropped.size());
    if (!dropped.empty()) slot_freed_.SignalAll();
  }
}

}  // namespace asidekv::remote
