// Validation of the public Options, done once by Store::Open(), and of the durations the API
// takes.
//
// Durations: absl::Duration has quarter-nanosecond resolution, but the Store keeps time in whole
// nanoseconds (TTLs are stored with values as nanoseconds). A positive duration under 1ns would
// become zero, so it is refused, like a negative one; absl::InfiniteDuration() is accepted where
// the field says so, -absl::InfiniteDuration() never. Arithmetic on durations saturates at the
// infinities (absl has no NaN durations; absl::Seconds(NaN) is infinite), so every result is one
// of these cases. A finite duration beyond the int64 nanosecond range (about 292 years) counts as
// infinite.

#ifndef ASIDEKV_CORE_OPTIONS_VALIDATION_H_
#define ASIDEKV_CORE_OPTIONS_VALIDATION_H_

#include <cstddef>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "asidekv/options.h"

namespace asidekv::core {

// OK, or InvalidArgument naming the first bad field and why. `database_given`: the caller
// passes its own Database to Store::Open (then neither path nor postgres may be set).
absl::Status ValidateOptions(const Options& options, bool database_given);

// OK, or InvalidArgument when the database is shared by other processes (`shared`), the cache
// is on and Options::max_staleness is unset.
absl::Status CheckStalenessBound(const Options& options, bool shared);

// The longest key PostgreSQL's B-tree index takes from asidekv (Options::max_key_size).
inline constexpr size_t kPostgresMaxKeySize = 2048;

// OK if `d` is at least 1ns or infinite, or zero when `zero_ok`; else InvalidArgument naming
// `what`.
absl::Status CheckDuration(absl::Duration d, std::string_view what, bool zero_ok);

}  // namespace asidekv::core

#endif  // ASIDEKV_CORE_OPTIONS_VALIDATION_H_
