#include "remote/redis_connection.h"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/time.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "util/monotonic_clock.h"
#include "util/secret.h"
#include "util/string_view.h"

namespace asidekv::remote {
namespace {

constexpr int64_t kNanosPerMilli = 1000 * 1000;

RedisReply Convert(const redisReply& r) {
  RedisReply out;
  switch (r.type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      out.type = r.type == REDIS_REPLY_STRING   ? RedisReply::Type::kString
                 : r.type == REDIS_REPLY_STATUS ? RedisReply::Type::kStatus
                                                : RedisReply::Type::kError;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r.integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(r.elements);
      for (size_t i = 0; i < r.elements; ++i) out.elements.push_back(Convert(*r.element[i]));
      break;
    default:
      out.type = RedisReply::Type::kNil;
      break;
  }
  return out;
}

// Milliseconds left until the deadline, rounded up; 0 when it has passed.
int MillisLeft(int64_t deadline_nanos) {
  const int64_t left = deadline_nanos - util::MonotonicNanos();
  if (left <= 0) return 0;
  const int64_t ms = (left + kNanosPerMilli - 1) / kNanosPerMilli;
  return ms > 1000 * 1000 * 1000 ? 1000 * 1000 * 1000 : static_cast<int>(ms);
}

// Waits until `fd` is ready for `events` or the deadline passes: 1 ready, 0 timeout, -1 error.
int WaitFor(int fd, short events, int64_t deadline_nanos) {
  while (true) {
    const int ms = MillisLeft(deadline_nanos);
    if (ms == 0) return 0;
    pollfd p{fd, events, 0};
    const int n = poll(&p, 1, ms);
    if (n > 0) return 1;
    if (n < 0 && errno != EINTR) return -1;
  }
}

}  // namespace

bool RedisReply::IsError(std::string_view code) const {
  return type == Type::kError && str.size() >= code.size() &&
         str.compare(0, code.size(), code) == 0;
}

RedisConnection::RedisConnection(redisContext* context, std::string server, std::string password)
    : context_(context), server_(std::move(server)), password_(std::move(password)) {}

RedisConnection::~RedisConnection() { redisFree(context_); }

absl::StatusOr<RedisEndpoint> MakeRedisEndpoint(const RedisConfig& config) {
  absl::StatusOr<RedisAddress> address = ValidateRedisConfig(config);
  if (!address.ok()) return address.status();
  RedisEndpoint endpoint;
  endpoint.server = IsClusterAddress(config.address)
                        ? absl::StrCat("redis-cluster ", address->ToString())
                        : absl::StrCat("redis ", address->ToString());
  endpoint.address = *std::move(address);
  endpoint.user = config.user;
  endpoint.password = config.password;
  endpoint.prefix = config.prefix;
  endpoint.timeout_nanos = absl::ToInt64Nanoseconds(config.timeout);
  return endpoint;
}

RedisEndpoint EndpointAt(const RedisEndpoint& base, const RedisAddress& address) {
  RedisEndpoint endpoint = base;
  endpoint.server = absl::StrCat("redis ", address.ToString());
  endpoint.address = address;
  return endpoint;
}

absl::StatusOr<std::unique_ptr<RedisConnection>> RedisConnection::Connect(
    const RedisEndpoint& endpoint, int64_t deadline_nanos) {
  const RedisAddress& address = endpoint.address;
  const std::string& server = endpoint.server;
  const std::string& password = endpoint.password;
  const int ms = MillisLeft(deadline_nanos);
  if (ms == 0) return absl::DeadlineExceededError(absl::StrCat(server, ": no time to connect"));
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  redisContext* context = address.unix_socket
                              ? redisConnectUnixWithTimeout(address.host.c_str(), tv)
                              : redisConnectWithTimeout(address.host.c_str(), address.port, tv);
  if (context == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat(server, ": cannot allocate a connection"));
  }
  std::unique_ptr<RedisConnection> conn(new RedisConnection(context, server, password));
  if (context->err != 0) {
    const std::string_view why = context->errstr;
    const bool timed_out = why.find("timed out") != std::string_view::npos ||
                           why.find("Timeout") != std::string_view::npos;
    return conn->Broken(
        timed_out ? absl::StatusCode::kDeadlineExceeded : absl::StatusCode::kUnavailable,
        absl::StrCat("cannot connect: ", util::ToAbsl(why)));
  }
  // From here on every wait is a poll() by the caller's deadline (see the file comment).
  const int flags = fcntl(context->fd, F_GETFL);
  if (flags < 0 || fcntl(context->fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    return conn->Broken(absl::StatusCode::kInternal, "cannot make the socket nonblocking");
  }
  context->flags &= ~REDIS_BLOCK;
  if (!password.empty()) {
    RedisCommand auth = {"AUTH"};
    if (!endpoint.user.empty()) auth.push_back(endpoint.user);
    auth.push_back(password);
    absl::StatusOr<RedisReply> reply = conn->Run(auth, deadline_nanos);
    if (!reply.ok()) return reply.status();
    if (reply->IsError()) {
      absl::Status s = conn->ReplyStatus(*reply);
      return absl::Status(
          s.code() == absl::StatusCode::kInternal ? absl::StatusCode::kPermissionDenied : s.code(),
          absl::StrCat(s.message(), " (AUTH refused)"));
    }
  }
  return conn;
}

absl::Status RedisConnection::Broken(absl::StatusCode code, std::string_view what) {
  broken_ = true;
  return absl::Status(
      code, util::ScrubSecret(absl::StrCat(server_, ": ", util::ToAbsl(what)), password_));
}

absl::Status ReplyErrorStatus(const RedisReply& reply, std::string_view server,
                              std::string_view password) {
  absl::StatusCode code = absl::StatusCode::kInternal;
  if (reply.IsError("NOAUTH") || reply.IsError("WRONGPASS") || reply.IsError("NOPERM")) {
    code = absl::StatusCode::kPermissionDenied;
  }
  return absl::Status(
      code, util::ScrubSecret(absl::StrCat(util::ToAbsl(server), ": ", reply.str), password));
}

absl::Status RedisConnection::ReplyStatus(const RedisReply& reply) const {
  return ReplyErrorStatus(reply, server_, password_);
}

void RedisConnection::Append(const RedisCommand& command) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  argv.reserve(command.size());
  lengths.reserve(command.size());
  for (const std::string& arg : command) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  redisAppendCommandArgv(context_, static_cast<int>(argv.size()), argv.data(), lengths.data());
}

bool RedisConnection::HasPendingOutput() const {
  return context_->obuf != nullptr && sdslen(context_->obuf) > 0;
}

int RedisConnection::fd() const { return context_->fd; }

absl::Status RedisConnection::Flush(int64_t deadline_nanos) {
  if (broken_) return absl::UnavailableError(absl::StrCat(server_, ": connection broken"));
  while (true) {
    int done = 0;
    if (redisBufferWrite(context_, &done) != REDIS_OK) {
      return Broken(absl::StatusCode::kUnavailable, absl::StrCat("write: ", context_->errstr));
    }
    if (done) return absl::OkStatus();
    const int ready = WaitFor(context_->fd, POLLOUT, deadline_nanos);
    if (ready == 0) return Broken(absl::StatusCode::kDeadlineExceeded, "no answer in time");
    if (ready < 0) return Broken(absl::StatusCode::kUnavailable, "poll failed");
  }
}

absl::StatusOr<std::optional<RedisReply>> RedisConnection::TakeBuffered() {
  void* raw = nullptr;
  if (redisGetReplyFromReader(context_, &raw) != REDIS_OK) {
    return Broken(absl::StatusCode::kUnavailable, absl::StrCat("protocol: ", context_->errstr));
  }
  if (raw == nullptr) return std::optional<RedisReply>();
  redisReply* reply = static_cast<redisReply*>(raw);
  RedisReply out = Convert(*reply);
  freeReplyObject(reply);
  return std::optional<RedisReply>(std::move(out));
}

absl::Status RedisConnection::ReadSocket() {
  if (redisBufferRead(context_) != REDIS_OK) {
    return Broken(absl::StatusCode::kUnavailable,
                  context_->err == REDIS_ERR_EOF ? std::string("connection closed by the server")
                                                 : absl::StrCat("read: ", context_->errstr));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<RedisReply>> RedisConnection::Read(int64_t deadline_nanos,
                                                                bool fail_on_timeout) {
  if (broken_) return absl::UnavailableError(absl::StrCat(server_, ": connection broken"));
  while (true) {
    absl::StatusOr<std::optional<RedisReply>> reply = TakeBuffered();
    if (!reply.ok() || reply->has_value()) return reply;
    const int ready = WaitFor(context_->fd, POLLIN, deadline_nanos);
    if (ready == 0) {
      if (!fail_on_timeout) return std::optional<RedisReply>();
      return Broken(absl::StatusCode::kDeadlineExceeded, "no answer in time");
    }
    if (ready < 0) return Broken(absl::StatusCode::kUnavailable, "poll failed");
    absl::Status s = ReadSocket();
    if (!s.ok()) return s;
  }
}

absl::StatusOr<std::vector<RedisReply>> RedisConnection::ReadAvailable() {
  if (broken_) return absl::UnavailableError(absl::StrCat(server_, ": connection broken"));
  absl::Status s = ReadSocket();
  if (!s.ok()) return s;
  std::vector<RedisReply> replies;
  while (true) {
    absl::StatusOr<std::optional<RedisReply>> reply = TakeBuffered();
    if (!reply.ok()) return reply.status();
    if (!reply->has_value()) return replies;
    replies.push_back(**std::move(reply));
  }
}

absl::StatusOr<RedisReply> RedisConnection::Run(const RedisCommand& command,
                                                int64_t deadline_nanos) {
  absl::StatusOr<std::vector<RedisReply>> replies =
      RunPipeline(absl::MakeConstSpan(&command, 1), deadline_nanos);
  if (!replies.ok()) return replies.status();
  return std::move(replies->front());
}

absl::StatusOr<std::vector<RedisReply>> RedisConnection::RunPipeline(
    absl::Span<const RedisCommand> commands, int64_t deadline_nanos) {
  for (const RedisCommand& command : commands) Append(command);
  absl::Status s = Flush(deadline_nanos);
  if (!s.ok()) return s;
  std::vector<RedisReply> replies;
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    absl::StatusOr<std::optional<RedisReply>> reply = Read(deadline_nanos);
    if (!reply.ok()) return reply.status();
    replies.push_back(**std::move(reply));
  }
  return replies;
}

}  // namespace asidekv::remote
