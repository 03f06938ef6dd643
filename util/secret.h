// ScrubSecret(): a text without a secret in it, for every message that might echo a password
// (a client library's error, a server's description, a connection string).
//
// Thread safety: a pure function.

#ifndef ASIDEKV_UTIL_SECRET_H_
#define ASIDEKV_UTIL_SECRET_H_

#include <string>
#include <string_view>

namespace asidekv::util {

// `text` with every occurrence of `secret` replaced by "****" (unchanged when secret is empty).
std::string ScrubSecret(std::string_view text, std::string_view secret);

}  // namespace asidekv::util

#endif  // ASIDEKV_UTIL_SECRET_H_
