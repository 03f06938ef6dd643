// The bridge between std::string_view and absl::string_view.
//
// Debian 12's Abseil (20220623) is built with ABSL_USES_STD_STRING_VIEW off, so absl::string_view
// is its own class and does not convert implicitly to or from std::string_view. asidekv speaks
// std::string_view everywhere and converts at the Abseil calls that need its type (StrCat
// arguments, absl::Hash, absl containers keyed by string views) with these two functions. With an
// Abseil built to alias std::string_view they compile to nothing.
//
// Thread safety: pure functions.

#ifndef ASIDEKV_UTIL_STRING_VIEW_H_
#define ASIDEKV_UTIL_STRING_VIEW_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace asidekv::util {

inline absl::string_view ToAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}
inline std::string_view FromAbsl(absl::string_view s) {
  return std::string_view(s.data(), s.size());
}

}  // namespace asidekv::util

#endif  // ASIDEKV_UTIL_STRING_VIEW_H_
