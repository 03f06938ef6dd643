// Transparent hash and equality for maps keyed by std::string and probed with std::string_view.
//
// Our Abseil (Debian's 20220623) is built with its own absl::string_view, distinct from
// std::string_view, so absl's default string hasher does not accept std::string_view probes.

#ifndef ASIDEKV_CACHE_STRING_HASH_H_
#define ASIDEKV_CACHE_STRING_HASH_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"

namespace asidekv::cache {

struct StringViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const {
    return absl::Hash<absl::string_view>{}(absl::string_view(s.data(), s.size()));
  }
};

struct StringViewEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};

}  // namespace asidekv::cache

#endif  // ASIDEKV_CACHE_STRING_HASH_H_
