// The key hash, once: HashKey() is the 64-bit hash every module uses for keys (the cache's
// shards take its top bits, tables its low bits, policies and version records all of it), and
// StringViewHash/StringViewEq make maps keyed by std::string probe-able with std::string_view.
//
// Both hash through absl::Hash<absl::string_view>: Debian's Abseil (20220623) has its own
// absl::string_view, distinct from std::string_view, and hashes std::string_view through
// std::hash, several times slower (util/string_view.h converts).
//
// Thread safety: pure functions.

#ifndef ASIDEKV_UTIL_HASH_H_
#define ASIDEKV_UTIL_HASH_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"
#include "util/string_view.h"

namespace asidekv::util {

inline uint64_t HashKey(std::string_view key) {
  return absl::Hash<absl::string_view>{}(ToAbsl(key));
}

struct StringViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return static_cast<size_t>(HashKey(s)); }
};

struct StringViewEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};

}  // namespace asidekv::util

#endif  // ASIDEKV_UTIL_HASH_H_
