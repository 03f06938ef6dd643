#include "util/secret.h"

#include <string>
#include <string_view>

namespace asidekv::util {

std::string ScrubSecret(std::string_view text, std::string_view secret) {
  if (secret.empty()) return std::string(text);
  constexpr std::string_view kMask = "****";
  std::string out;
  out.reserve(text.size());
  size_t at = 0;
  while (true) {
    const size_t hit = text.find(secret, at);
    if (hit == std::string_view::npos) break;
    out.append(text.substr(at, hit - at));
    out.append(kMask);
    at = hit + secret.size();
  }
  out.append(text.substr(at));
  return out;
}

}  // namespace asidekv::util
