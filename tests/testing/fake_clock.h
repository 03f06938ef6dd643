// FakeClock: a cache::Clock that moves only when a test advances it.
//
// Thread safety: NowNanos(), Advance() and Set() may be called concurrently.

#ifndef ASIDEKV_TESTS_TESTING_FAKE_CLOCK_H_
#define ASIDEKV_TESTS_TESTING_FAKE_CLOCK_H_

#include <atomic>
#include <cstdint>

#include "absl/time/time.h"
#include "cache/clock.h"

namespace asidekv::testing {

class FakeClock final : public cache::Clock {
 public:
  // Starts at an arbitrary fixed reading (not zero, so "zero" bugs show).
  FakeClock() : nanos_(absl::ToInt64Nanoseconds(absl::Hours(1000))) {}

  int64_t NowNanos() const override { return nanos_.load(std::memory_order_acquire); }
  void Advance(absl::Duration d) {
    nanos_.fetch_add(absl::ToInt64Nanoseconds(d), std::memory_order_acq_rel);
  }
  void SetNanos(int64_t nanos) { nanos_.store(nanos, std::memory_order_release); }

 private:
  std::atomic<int64_t> nanos_;
};

}  // namespace asidekv::testing

#endif  // ASIDEKV_TESTS_TESTING_FAKE_CLOCK_H_
