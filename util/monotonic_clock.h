// MonotonicNanos(): CLOCK_MONOTONIC in nanoseconds, the one time source of asidekv's expiry,
// timeouts and latencies. It never runs backwards and ignores wall-clock steps (NTP, a date set
// by hand, a resumed VM); its origin is arbitrary, so only differences mean anything.
//
// Thread safety: safe from any thread.

#ifndef ASIDEKV_UTIL_MONOTONIC_CLOCK_H_
#define ASIDEKV_UTIL_MONOTONIC_CLOCK_H_

#include <chrono>
#include <cstdint>

namespace asidekv::util {

inline int64_t MonotonicNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace asidekv::util

#endif  // ASIDEKV_UTIL_MONOTONIC_CLOCK_H_
