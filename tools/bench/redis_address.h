// The address forms of Options::redis ("host:port", "[v6-address]:port", "unix:/path"), parsed
// for the bench: to check --redis before anything runs, and for the redis-aside baseline to
// connect with hiredis. The library checks the same forms again when a Store opens.
//
// Thread safety: pure functions.

#ifndef ASIDEKV_TOOLS_BENCH_REDIS_ADDRESS_H_
#define ASIDEKV_TOOLS_BENCH_REDIS_ADDRESS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace asidekv::bench {

struct RedisEndpoint {
  bool unix_socket = false;
  std::string host;  // Or the socket's path.
  int port = 0;      // 0 for a socket.
};

// InvalidArgument saying what is wrong (empty, no port, port out of [1, 65535], empty path).
absl::StatusOr<RedisEndpoint> ParseRedisEndpoint(absl::string_view address);

}  // namespace asidekv::bench

#endif  // ASIDEKV_TOOLS_BENCH_REDIS_ADDRESS_H_
