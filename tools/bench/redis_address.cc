#include "tools/bench/redis_address.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace asidekv::bench {

absl::StatusOr<RedisEndpoint> ParseRedisEndpoint(absl::string_view address) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Redis address '", address, "': ", why, " (host:port, [v6-address]:port or unix:/path)"));
  };
  RedisEndpoint out;
  if (absl::StartsWith(address, "unix:")) {
    out.unix_socket = true;
    out.host = std::string(address.substr(5));
    if (out.host.empty()) return bad("no socket path");
    return out;
  }
  // The port follows the last ':'; an IPv6 host is bracketed.
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos) return bad("no port");
  absl::string_view host = address.substr(0, colon);
  if (absl::StartsWith(host, "[") && absl::EndsWith(host, "]")) {
    host = host.substr(1, host.size() - 2);
  } else if (absl::StrContains(host, ':') || absl::StrContains(host, '[')) {
    return bad("an IPv6 address needs brackets");
  }
  if (host.empty()) return bad("no host");
  const absl::string_view port = address.substr(colon + 1);
  if (port.empty() || port.find_first_not_of("0123456789") != absl::string_view::npos ||
      !absl::SimpleAtoi(port, &out.port) || out.port < 1 || out.port > 65535) {
    return bad("the port must be a number in [1, 65535]");
  }
  out.host = std::string(host);
  return out;
}

}  // namespace asidekv::bench
