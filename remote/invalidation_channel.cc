#include "remote/invalidation_channel.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "remote/redis_config.h"
#include "remote/redis_connection.h"
#include "remote/redis_tier.h"
#include "util/monotonic_clock.h"

namespace asidekv::remote {
namespace {

constexpr char kChannel[] = "__redis__:invalidate";
constexpr int64_t kFirstBackoffNanos = 10 * 1000 * 1000;
constexpr int64_t kMaxBackoffNanos = 1000 * 1000 * 1000;
constexpr int64_t kNanosPerMilli = 1000 * 1000;

// A push of subscribed mode: ["message", channel, payload] or ["pong", ""].
bool IsPush(const RedisReply& reply, std::string_view kind, size_t size) {
  return reply.type == RedisReply::Type::kArray && reply.elements.size() == size &&
         reply.elements[0].str == kind;
}

}  // namespace

// All the state but the atomics and the gate's mutex belongs to the channel's thread (and to
// Start(), before the thread exists).
class InvalidationChannel::Impl {
 public:
  Impl(RedisEndpoint endpoint, absl::Duration bound, InvalidationSink* sink)
      : endpoint_(std::move(endpoint)),
        bound_nanos_(absl::ToInt64Nanoseconds(bound)),
        ping_every_nanos_(std::max<int64_t>(bound_nanos_ / 4, 1)),
        sink_(sink),
        wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

  ~Impl() {
    stop_.store(true);
    if (wake_fd_ >= 0) {
      const uint64_t one = 1;
      while (write(wake_fd_, &one, sizeof(one)) < 0 && errno == EINTR) {
      }
    }
    if (thread_.joinable()) thread_.join();
    if (wake_fd_ >= 0) close(wake_fd_);
  }

  // Connects, subscribes, flushes the sink, then starts the thread.
  absl::Status Start() {
    if (wake_fd_ < 0) return absl::InternalError("eventfd failed");
    absl::Status s = Open();
    if (!s.ok()) return s;
    thread_ = std::thread([this] { Run(); });
    return absl::OkStatus();
  }

  bool Serving() const {
    return util::MonotonicNanos() < serving_until_.load(std::memory_order_acquire);
  }

  int64_t ServingUntil() const { return serving_until_.load(std::memory_order_acquire); }

  bool ServingSince(int64_t since_nanos, int64_t now_nanos) const {
    const int64_t until = serving_until_.load(std::memory_order_acquire);
    return now_nanos < until && until - bound_nanos_ > since_nanos;
  }

  bool WaitServing(absl::Duration timeout) const {
    const int64_t deadline = util::MonotonicNanos() + absl::ToInt64Nanoseconds(timeout);
    absl::MutexLock lock(&gate_mu_);
    while (!Serving()) {
      const int64_t left = deadline - util::MonotonicNanos();
      if (left <= 0) return false;
      gate_opened_.WaitWithTimeout(&gate_mu_, absl::Nanoseconds(left));
    }
    return true;
  }

  int64_t client_id() const { return client_id_.load(std::memory_order_relaxed); }

  InvalidationChannelStats GetStats() const {
    InvalidationChannelStats s;
    s.messages = messages_.load(std::memory_order_relaxed);
    s.keys = keys_.load(std::memory_order_relaxed);
    s.flushes = flushes_.load(std::memory_order_relaxed);
    s.lapses = lapses_.load(std::memory_order_relaxed);
    s.reconnects = reconnects_.load(std::memory_order_relaxed);
    s.pings = pings_sent_.load(std::memory_order_relaxed);
    s.pongs = pongs_.load(std::memory_order_relaxed);
    return s;
  }

 private:
  // CLIENT ID, CLIENT TRACKING ... REDIRECT <id> BCAST, SUBSCRIBE; after the ack, the flush.
  absl::Status Open() {
    const int64_t deadline = util::MonotonicNanos() + endpoint_.timeout_nanos;
    absl::StatusOr<std::unique_ptr<RedisConnection>> conn =
        RedisConnection::Connect(endpoint_, deadline);
    if (!conn.ok()) return conn.status();
    absl::StatusOr<RedisReply> id = (*conn)->Run({"CLIENT", "ID"}, deadline);
    if (!id.ok()) return id.status();
    if (id->IsError()) return (*conn)->ReplyStatus(*id);
    (*conn)->Append({"CLIENT", "TRACKING", "on", "REDIRECT", absl::StrCat(id->integer), "BCAST",
                     "PREFIX", absl::StrCat(endpoint_.prefix, ":w:")});
    (*conn)->Append({"SUBSCRIBE", kChannel});
    absl::Status s = (*conn)->Flush(deadline);
    if (!s.ok()) return s;
    absl::StatusOr<std::optional<RedisReply>> tracking = (*conn)->Read(deadline);
    if (!tracking.ok()) return tracking.status();
    if ((*tracking)->IsError()) return (*conn)->ReplyStatus(**tracking);
    // Invalidations that come before the ack need no handling: the flush below covers them.
    while (true) {
      absl::StatusOr<std::optional<RedisReply>> reply = (*conn)->Read(deadline);
      if (!reply.ok()) return reply.status();
      if ((*reply)->IsError()) return (*conn)->ReplyStatus(**reply);
      if (IsPush(**reply, "subscribe", 3)) break;
    }
    conn_ = *std::move(conn);
    pings_.clear();
    lapsed_ = false;
    client_id_.store(id->integer, std::memory_order_relaxed);
    Flush();
    return absl::OkStatus();
  }

  void Flush() {
    flushes_.fetch_add(1, std::memory_order_relaxed);
    sink_->OnInvalidateAll();
  }

  // The connection is gone or useless: close the gate, drop it, flush.
  void Lose() {
    serving_until_.store(0, std::memory_order_release);
    sink_->OnServingUntil(0);
    client_id_.store(0, std::memory_order_relaxed);
    conn_.reset();
    pings_.clear();
    Flush();
  }

  // Waits for up to `nanos` or until the destructor wakes the thread; false when stopping.
  bool Sleep(int64_t nanos) {
    pollfd p{wake_fd_, POLLIN, 0};
    const int ms = static_cast<int>((nanos + kNanosPerMilli - 1) / kNanosPerMilli);
    while (poll(&p, 1, ms) < 0 && errno == EINTR) {
    }
    return !stop_.load();
  }

  void Run() {
    int64_t backoff = kFirstBackoffNanos;
    int64_t next_ping = 0;
    while (!stop_.load()) {
      if (conn_ == nullptr) {
        if (!Sleep(backoff)) break;
        if (!Open().ok()) {
          backoff = std::min(backoff * 2, kMaxBackoffNanos);
          continue;
        }
        backoff = kFirstBackoffNanos;
        reconnects_.fetch_add(1, std::memory_order_relaxed);
        next_ping = 0;
      }
      int64_t now = util::MonotonicNanos();
      if (now >= next_ping) {
        pings_.push_back(now);  // Before it leaves: the gate errs on the safe side.
        conn_->Append({"PING"});
        pings_sent_.fetch_add(1, std::memory_order_relaxed);
        next_ping = now + ping_every_nanos_;
      }
      if (conn_->HasPendingOutput() && !conn_->Flush(now + endpoint_.timeout_nanos).ok()) {
        Lose();
        continue;
      }
      now = util::MonotonicNanos();
      if (!pings_.empty() && now - pings_.front() > endpoint_.timeout_nanos) {
        Lose();  // No PONG within the timeout.
        continue;
      }
      const int64_t until = serving_until_.load(std::memory_order_relaxed);
      if (until > 0 && now >= until && !lapsed_) {
        lapsed_ = true;  // The gate closed on its own: a heartbeat lapse.
        lapses_.fetch_add(1, std::memory_order_relaxed);
        Flush();
      }
      int64_t wake = next_ping;
      if (!pings_.empty()) wake = std::min(wake, pings_.front() + endpoint_.timeout_nanos + 1);
      if (until > now && !lapsed_) wake = std::min(wake, until);
      const int64_t wait = std::max<int64_t>(wake - now, 0);
      pollfd fds[2] = {{conn_->fd(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      const int n = poll(fds, 2, static_cast<int>((wait + kNanosPerMilli - 1) / kNanosPerMilli));
      if (n < 0 && errno != EINTR) {
        Lose();
        continue;
      }
      if (n <= 0 || fds[0].revents == 0) continue;
      absl::StatusOr<std::vector<RedisReply>> replies = conn_->ReadAvailable();
      if (!replies.ok()) {
        Lose();
        continue;
      }
      for (const RedisReply& reply : *replies) Handle(reply);
    }
  }

  void Handle(const RedisReply& reply) {
    if (IsPush(reply, "message", 3)) {
      messages_.fetch_add(1, std::memory_order_relaxed);
      const RedisReply& payload = reply.elements[2];
      if (payload.type != RedisReply::Type::kArray) {  // nil: FLUSHALL / FLUSHDB.
        Flush();
        return;
      }
      std::vector<std::string_view> keys;
      keys.reserve(payload.elements.size());
      for (const RedisReply& key : payload.elements) {
        if (IsFlushMarkerKey(endpoint_.prefix,
                             key.str)) {  // Every key: a flush (e.g. the relay lost its log).
          Flush();
          return;
        }
        std::optional<std::string_view> user_key = KeyOfMarkerKey(endpoint_.prefix, key.str);
        if (user_key.has_value()) keys.push_back(*user_key);
      }
      if (keys.empty()) return;
      keys_.fetch_add(keys.size(), std::memory_order_relaxed);
      sink_->OnInvalidate(keys);
    } else if (IsPush(reply, "pong", 2) && !pings_.empty()) {
      const int64_t sent = pings_.front();
      pings_.pop_front();
      pongs_.fetch_add(1, std::memory_order_relaxed);
      const int64_t until = sent + bound_nanos_;
      if (until > serving_until_.load(std::memory_order_relaxed)) {
        serving_until_.store(until, std::memory_order_release);
        sink_->OnServingUntil(until);
        if (until > util::MonotonicNanos()) {
          lapsed_ = false;
          absl::MutexLock lock(&gate_mu_);
          gate_opened_.SignalAll();
        }
      }
    }
  }

  const RedisEndpoint endpoint_;
  const int64_t bound_nanos_;
  const int64_t ping_every_nanos_;
  InvalidationSink* const sink_;  // Not owned; outlives the channel.
  const int wake_fd_;             // The destructor's wakeup (an eventfd).

  // The channel's thread only.
  std::unique_ptr<RedisConnection> conn_;
  std::deque<int64_t> pings_;  // Send times of the PINGs awaiting their PONG, oldest first.
  bool lapsed_ = false;        // The gate closed by itself and the lapse was flushed.

  // The gate: MonotonicNanos() before which Serving() holds (0: closed).
  std::atomic<int64_t> serving_until_{0};
  std::atomic<int64_t> client_id_{0};
  std::atomic<bool> stop_{false};
  mutable absl::Mutex gate_mu_;
  mutable absl::CondVar gate_opened_;  // Signalled when a PONG reopens or extends the gate.

  std::atomic<uint64_t> messages_{0};
  std::atomic<uint64_t> keys_{0};
  std::atomic<uint64_t> flushes_{0};
  std::atomic<uint64_t> lapses_{0};
  std::atomic<uint64_t> reconnects_{0};
  std::atomic<uint64_t> pings_sent_{0};
  std::atomic<uint64_t> pongs_{0};

  std::thread thread_;  // Last: started after everything else is set.
};

absl::StatusOr<std::unique_ptr<InvalidationChannel>> InvalidationChannel::Start(
    const RedisConfig& config, absl::Duration bound, InvalidationSink* sink) {
  absl::StatusOr<RedisEndpoint> endpoint = MakeRedisEndpoint(config);
  if (!endpoint.ok()) return endpoint.status();
  if (bound < absl::Milliseconds(1)) {
    return absl::InvalidArgumentError("the invalidation bound must be at least 1 ms");
  }
  if (sink == nullptr) return absl::InvalidArgumentError("no invalidation sink");
  auto impl = std::make_unique<Impl>(*std::move(endpoint), bound, sink);
  absl::Status s = impl->Start();
  if (!s.ok()) return s;
  return std::unique_ptr<InvalidationChannel>(new InvalidationChannel(std::move(impl)));
}

InvalidationChannel::InvalidationChannel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
InvalidationChannel::~InvalidationChannel() = default;

bool InvalidationChannel::Serving() const { return impl_->Serving(); }
bool InvalidationChannel::WaitServing(absl::Duration timeout) const {
  return impl_->WaitServing(timeout);
}
int64_t InvalidationChannel::ServingUntil() const { return impl_->ServingUntil(); }
bool InvalidationChannel::ServingSince(int64_t since_nanos, int64_t now_nanos) const {
  return impl_->ServingSince(since_nanos, now_nanos);
}
int64_t InvalidationChannel::client_id() const { return impl_->client_id(); }
InvalidationChannelStats InvalidationChannel::GetStats() const { return impl_->GetStats(); }

}  // namespace asidekv::remote
