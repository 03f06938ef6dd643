#include "remote/redis_config.h"

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "util/string_view.h"

namespace asidekv::remote {

std::string RedisAddress::ToString() const {
  if (unix_socket) return absl::StrCat("unix:", host);
  if (host.find(':') != std::string::npos) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<RedisAddress> ParseRedisAddress(std::string_view address) {
  const auto bad = [address](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad Redis address \"", util::ToAbsl(address), "\": ", util::ToAbsl(why),
                     " (want \"host:port\", \"[v6-address]:port\" or \"unix:/path\")"));
  };
  if (address.empty()) return bad("empty");
  if (address.find('\0') != std::string_view::npos) return bad("a NUL byte");
  RedisAddress parsed;
  if (address.substr(0, 5) == "unix:") {
    parsed.unix_socket = true;
    parsed.host = std::string(address.substr(5));
    if (parsed.host.empty()) return bad("empty socket path");
    return parsed;
  }
  std::string_view port;
  if (address.front() == '[') {
    const size_t close = address.find(']');
    if (close == std::string_view::npos) return bad("no ']' after the IPv6 address");
    parsed.host = std::string(address.substr(1, close - 1));
    if (parsed.host.empty()) return bad("empty host");
    if (close + 1 >= address.size() || address[close + 1] != ':') return bad("no port");
    port = address.substr(close + 2);
  } else {
    const size_t colon = address.rfind(':');
    if (colon == std::string_view::npos) return bad("no port");
    parsed.host = std::string(address.substr(0, colon));
    if (parsed.host.empty()) return bad("empty host");
    if (parsed.host.find(':') != std::string::npos) {
      return bad("an IPv6 address needs brackets");
    }
    port = address.substr(colon + 1);
  }
  if (port.empty()) return bad("no port");
  int number = 0;
  if (port.find_first_not_of("0123456789") != std::string_view::npos ||
      !absl::SimpleAtoi(util::ToAbsl(port), &number) || number < 1 || number > 65535) {
    return bad("port out of range [1, 65535]");
  }
  parsed.port = number;
  return parsed;
}

absl::StatusOr<RedisAddress> ValidateRedisConfig(const RedisConfig& config) {
  if (config.prefix.empty() || config.prefix.find_first_of("{}") != std::string::npos) {
    return absl::InvalidArgumentError("RedisConfig::prefix must be non-empty, without '{' or '}'");
  }
  if (config.connections < 1 || config.connections > 256) {
    return absl::InvalidArgumentError(
        absl::StrCat("RedisConfig::connections must be in [1, 256], not ", config.connections));
  }
  if (config.timeout < absl::Milliseconds(1)) {
    return absl::InvalidArgumentError("RedisConfig::timeout must be at least 1 ms");
  }
  return ParseRedisAddress(config.address);
}

}  // namespace asidekv::remote
