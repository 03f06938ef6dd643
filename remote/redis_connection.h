// RedisConnection: one hiredis connection driven without ever blocking past a deadline.
//
// Connect() opens the socket with hiredis's connect timeout (TCP or Unix), then switches it to
// nonblocking mode: every later wait is a poll() on its descriptor with the time left until the
// caller's deadline (a util::MonotonicNanos() instant). Commands are appended to hiredis's output
// buffer (Append), written (Flush) and their replies read one by one (Read); Run and RunPipeline
// do the three in one round trip. Read(deadline, /*fail_on_timeout=*/false) returns nullopt when
// nothing arrived in time and leaves the connection usable: the invalidation channel waits for
// pushes that way. Replies are copied into RedisReply, so no hiredis type leaves this file pair.
//
// Failure (absl::Status; every message starts with the server, "redis 127.0.0.1:6380", and never
// contains the password, util::ScrubSecret):
//   - cannot connect, EOF, a socket or protocol error: Unavailable; broken() is true.
//   - the deadline passed (connect or round trip): DeadlineExceeded; broken() is true (a reply
//     may still be on its way, so the owner discards the connection).
//   - an error reply is a RedisReply of type kError (the connection stays usable); ReplyStatus()
//     maps it: -NOAUTH / -WRONGPASS / -NOPERM -> PermissionDenied, other -> Internal with
//     Redis's text.
//
// Thread safety: none. One thread at a time uses a connection.
// Ownership: owns its redisContext; the destructor closes it without waiting for the server.

#ifndef ASIDEKV_REMOTE_REDIS_CONNECTION_H_
#define ASIDEKV_REMOTE_REDIS_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "remote/redis_config.h"

// hiredis's handle, declared as hiredis.h does, so that this header need not include it.
typedef struct redisContext redisContext;

namespace asidekv::remote {

// One reply, owned.
struct RedisReply {
  enum class Type { kString, kArray, kInteger, kNil, kStatus, kError };
  Type type = Type::kNil;
  std::string str;  // kString, kStatus, kError.
  int64_t integer = 0;
  std::vector<RedisReply> elements;  // kArray.

  bool IsError() const { return type == Type::kError; }
  // kError whose text starts with `code` ("NOSCRIPT", "NOPERM").
  bool IsError(std::string_view code) const;
};

// The Status of an error reply: -NOAUTH, -WRONGPASS, -NOPERM -> PermissionDenied, any other ->
// Internal; the message is "<server>: <Redis's text>" without `password`.
absl::Status ReplyErrorStatus(const RedisReply& reply, std::string_view server,
                              std::string_view password);

// Where and as whom to connect, from a validated RedisConfig.
struct RedisEndpoint {
  RedisAddress address;
  std::string server;  // "redis 127.0.0.1:6380": starts every message.
  std::string user;
  std::string password;
  std::string prefix;
  int64_t timeout_nanos = 0;  // RedisConfig::timeout.
};

// ValidateRedisConfig(config), then its endpoint.
absl::StatusOr<RedisEndpoint> MakeRedisEndpoint(const RedisConfig& config);

// `base` aimed at another server (a cluster node): the same credentials, prefix and timeout.
RedisEndpoint EndpointAt(const RedisEndpoint& base, const RedisAddress& address);

// One command: its arguments (binary-safe).
using RedisCommand = std::vector<std::string>;

class RedisConnection {
 public:
  // Connects to the endpoint by the deadline and AUTHs when it has a password (with a user, the
  // ACL form). Errors: see the file comment; a refused AUTH is PermissionDenied.
  static absl::StatusOr<std::unique_ptr<RedisConnection>> Connect(const RedisEndpoint& endpoint,
                                                                  int64_t deadline_nanos);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // One command, one reply (an error reply is returned as a kError reply, not a Status).
  absl::StatusOr<RedisReply> Run(const RedisCommand& command, int64_t deadline_nanos);
  // All commands in one write, then their replies in order.
  absl::StatusOr<std::vector<RedisReply>> RunPipeline(absl::Span<const RedisCommand> commands,
                                                      int64_t deadline_nanos);

  // The three steps of a round trip, for the invalidation channel.
  void Append(const RedisCommand& command);
  // Writes what Append buffered; OK when all of it left.
  absl::Status Flush(int64_t deadline_nanos);
  // The next reply. When none arrives by the deadline: DeadlineExceeded (and broken) with
  // fail_on_timeout, else nullopt with the connection intact.
  absl::StatusOr<std::optional<RedisReply>> Read(int64_t deadline_nanos,
                                                 bool fail_on_timeout = true);
  // Reads whatever the socket holds now, without waiting, and returns the replies complete so far.
  absl::StatusOr<std::vector<RedisReply>> ReadAvailable();
  // Bytes appended but not yet written.
  bool HasPendingOutput() const;
  int fd() const;

  // The Status of an error reply, with the server and Redis's text, scrubbed.
  absl::Status ReplyStatus(const RedisReply& reply) const;

  bool broken() const { return broken_; }
  const std::string& server() const { return server_; }

 private:
  RedisConnection(redisContext* context, std::string server, std::string password);
  // A reply complete in hiredis's reader, if any.
  absl::StatusOr<std::optional<RedisReply>> TakeBuffered();
  // Reads from the socket once (it is readable). Unavailable on EOF or an error.
  absl::Status ReadSocket();
  // A failure of the connection itself: marks it broken.
  absl::Status Broken(absl::StatusCode code, std::string_view what);

  redisContext* const context_;
  const std::string server_;
  const std::string password_;
  bool broken_ = false;
};

}  // namespace asidekv::remote

#endif  // ASIDEKV_REMOTE_REDIS_CONNECTION_H_
