// ParseListenAddress(): Options::metrics_address as a socket address to bind.
//
// Forms (asidekv/options.h): "PORT" or ":PORT" (loopback, 127.0.0.1), "HOST:PORT" with HOST an
// IPv4 literal or "localhost" (127.0.0.1), "[IPv6]:PORT". PORT is decimal in [0, 65535]; 0 asks
// the kernel for a free port. No name is resolved: the endpoint binds exactly what was written,
// so a typo cannot expose it on another interface.
//
// Thread safety: a pure function.

#ifndef ASIDEKV_ADMIN_LISTEN_ADDRESS_H_
#define ASIDEKV_ADMIN_LISTEN_ADDRESS_H_

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace asidekv::admin {

struct ListenAddress {
  sockaddr_storage addr{};  // sockaddr_in or sockaddr_in6, port set.
  socklen_t len = 0;
  bool ipv6 = false;
  std::string host;  // "127.0.0.1", "::1": for messages, without brackets.
  uint16_t port = 0;
};

// InvalidArgument naming `address` when it has none of the forms above.
absl::StatusOr<ListenAddress> ParseListenAddress(std::string_view address);

}  // namespace asidekv::admin

#endif  // ASIDEKV_ADMIN_LISTEN_ADDRESS_H_
