#include "remote/redis_config.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
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

bool IsClusterAddress(std::string_view address) {
  return address.substr(0, kClusterScheme.size()) == kClusterScheme;
}

absl::StatusOr<std::vector<RedisAddress>> ParseClusterSeeds(std::string_view address) {
  if (!IsClusterAddress(address)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad Redis Cluster address \"", util::ToAbsl(address), "\": want \"",
                     util::ToAbsl(kClusterScheme), "host:port,...\""));
  }
  std::vector<RedisAddress> seeds;
  for (absl::string_view entry :
       absl::StrSplit(util::ToAbsl(address.substr(kClusterScheme.size())), ',')) {
    entry = absl::StripAsciiWhitespace(entry);
    const auto bad = [&](std::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat(
          "bad Redis Cluster address \"", util::ToAbsl(address), "\": seed \"", entry, "\": ",
          util::ToAbsl(why), " (want \"", util::ToAbsl(kClusterScheme), "host:port,host:port\")"));
    };
    if (entry.empty()) return bad("empty");
    if (absl::StartsWith(entry, "unix:")) return bad("a cluster is reached over TCP");
    absl::StatusOr<RedisAddress> seed = ParseRedisAddress(util::FromAbsl(entry));
    if (!seed.ok()) return bad(util::FromAbsl(seed.status().message()));
    seeds.push_back(*std::move(seed));
  }
  return seeds;
}

absl::StatusOr<std::vector<RedisAddress>> ParseRedisAddresses(std::string_view address) {
  if (IsClusterAddress(address)) return ParseClusterSeeds(address);
  absl::StatusOr<RedisAddress> one = ParseRedisAddress(address);
  if (!one.ok()) return one.status();
  return std::vector<RedisAddress>{*std::move(one)};
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
  absl::StatusOr<std::vector<RedisAddress>> addresses = ParseRedisAddresses(config.address);
  if (!addresses.ok()) return addresses.status();
  return addresses->front();
}

}  // namespace asidekv::remote
