// Validation of the public Options, done once by Store::Open().

#ifndef ASIDEKV_CORE_OPTIONS_VALIDATION_H_
#define ASIDEKV_CORE_OPTIONS_VALIDATION_H_

#include "absl/status/status.h"
#include "asidekv/options.h"

namespace asidekv::core {

// OK, or InvalidArgument naming the first bad field and why.
absl::Status ValidateOptions(const Options& options);

}  // namespace asidekv::core

#endif  // ASIDEKV_CORE_OPTIONS_VALIDATION_H_
