// CycleClock: a cheap tick counter for timing short intervals (the Store's per-operation latency
// histograms), and its rate.
//
// Design
//   On x86-64, when the CPU's time-stamp counter is invariant (CPUID 0x80000007, EDX bit 8: it
//   ticks at one rate in every power state) and the kernel keeps time with it too (its
//   clocksource is "tsc", which Linux only chooses when the counters of all CPUs agree), Now()
//   reads the TSC: 8.9 ns a read on the project's VM, against 19.3 ns for
//   std::chrono::steady_clock::now(). The rate is measured once, at the first call, against
//   util::MonotonicNanos() (steady_clock) over kCalibrationMillis. Anywhere else Now() is
//   MonotonicNanos(), and a tick is a nanosecond.
//
//   Only for durations: ticks mean nothing across processes or restarts, and an interval whose
//   thread moved to another CPU may come out a few ticks short (callers clamp at 0). Deadlines,
//   timeouts and expiry keep util/monotonic_clock.h.
//
// Thread safety: every function may be called from any thread. The first call calibrates (the
//   others wait for it: a function-local static). A caller that times a hot path calls
//   UsesTsc() once beforehand, so that no timed call pays for the calibration.

#ifndef ASIDEKV_UTIL_CYCLE_CLOCK_H_
#define ASIDEKV_UTIL_CYCLE_CLOCK_H_

#include <cstdint>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include "util/monotonic_clock.h"

namespace asidekv::util {

class CycleClock {
 public:
  // How long the first call spends measuring the TSC's rate.
  static constexpr int kCalibrationMillis = 2;

  // The counter now, in ticks.
  static int64_t Now() {
#if defined(__x86_64__)
    if (State().tsc) return static_cast<int64_t>(__rdtsc());
#endif
    return MonotonicNanos();
  }

  // The length of `ticks` (a difference of two Now() readings) in nanoseconds.
  static int64_t ToNanos(int64_t ticks) {
    return static_cast<int64_t>(static_cast<double>(ticks) * State().nanos_per_tick);
  }

  // Whether Now() reads the TSC (else steady_clock).
  static bool UsesTsc() { return State().tsc; }

 private:
  struct Calibration {
    bool tsc = false;
    double nanos_per_tick = 1.0;
  };

  static const Calibration& State() {
    static const Calibration calibration = Calibrate();
    return calibration;
  }
  static Calibration Calibrate();
};

}  // namespace asidekv::util

#endif  // ASIDEKV_UTIL_CYCLE_CLOCK_H_
