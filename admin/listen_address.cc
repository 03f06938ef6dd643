#include "admin/listen_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "util/string_view.h"

namespace asidekv::admin {
namespace {

absl::Status Bad(std::string_view address, std::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("metrics_address \"", util::ToAbsl(address), "\": ", util::ToAbsl(why)));
}

bool AllDigits(std::string_view s) {
  if (s.empty() || s.size() > 5) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<ListenAddress> ParseListenAddress(std::string_view address) {
  if (address.empty()) return Bad(address, "empty");
  const bool bracketed = address.front() == '[';
  std::string_view host = "127.0.0.1";
  std::string_view port_text = address;
  if (bracketed) {
    const size_t close = address.find("]:");
    if (close == std::string_view::npos) return Bad(address, "expected [IPv6]:PORT");
    host = address.substr(1, close - 1);
    port_text = address.substr(close + 2);
  } else if (const size_t colon = address.rfind(':'); colon != std::string_view::npos) {
    if (colon > 0) host = address.substr(0, colon);
    port_text = address.substr(colon + 1);
  }
  uint32_t port = 0;
  if (!AllDigits(port_text) || !absl::SimpleAtoi(util::ToAbsl(port_text), &port) || port > 65535) {
    return Bad(address, "the port must be a number in [0, 65535]");
  }
  if (host == "localhost") host = "127.0.0.1";

  ListenAddress out;
  out.host = std::string(host);
  out.port = static_cast<uint16_t>(port);
  if (!bracketed) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(out.port);
    if (inet_pton(AF_INET, out.host.c_str(), &in.sin_addr) != 1) {
      return Bad(address, "the host must be an IPv4 literal, localhost, or [IPv6]");
    }
    std::memcpy(&out.addr, &in, sizeof(in));
    out.len = sizeof(in);
  } else {
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(out.port);
    if (inet_pton(AF_INET6, out.host.c_str(), &in6.sin6_addr) != 1) {
      return Bad(address, "the host in brackets must be an IPv6 literal");
    }
    std::memcpy(&out.addr, &in6, sizeof(in6));
    out.len = sizeof(in6);
    out.ipv6 = true;
  }
  return out;
}

}  // namespace asidekv::admin
