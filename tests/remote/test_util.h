// Helpers of the remote/ tests: waiting for a condition with a generous deadline.

#ifndef ASIDEKV_TESTS_REMOTE_TEST_UTIL_H_
#define ASIDEKV_TESTS_REMOTE_TEST_UTIL_H_

#include <chrono>
#include <functional>
#include <thread>

#include "absl/time/time.h"

namespace asidekv::remote {

// Polls `condition` every few milliseconds until it holds (true) or `timeout` passes (false).
// The deadline is generous on purpose: the tests assert what happens, not how fast.
inline bool Eventually(const std::function<bool()>& condition,
                       absl::Duration timeout = absl::Seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout);
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace asidekv::remote

#endif  // ASIDEKV_TESTS_REMOTE_TEST_UTIL_H_
