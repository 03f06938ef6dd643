#include "util/cycle_clock.h"

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace asidekv::util {
namespace {

#if defined(__x86_64__)
// CPUID 0x80000007, EDX bit 8: the invariant TSC.
bool InvariantTsc() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (static_cast<unsigned>(__get_cpuid_max(0x80000000u, nullptr)) < 0x80000007u) return false;
  if (__get_cpuid(0x80000007u, &eax, &ebx, &ecx, &edx) == 0) return false;
  return (edx & (1u << 8)) != 0;
}

// A steady_clock reading and the TSC at the same instant: the midpoint of the two TSC reads
// around the steady one, from the tightest of a few tries (an interrupt between the reads would
// skew the rate).
struct Reading {
  int64_t nanos;
  double tsc;
};
Reading ReadBoth() {
  Reading best{0, 0};
  uint64_t best_spread = ~uint64_t{0};
  for (int i = 0; i < 5; ++i) {
    const uint64_t before = __rdtsc();
    const int64_t nanos = MonotonicNanos();
    const uint64_t after = __rdtsc();
    if (after - before < best_spread) {
      best_spread = after - before;
      best = {nanos, static_cast<double>(before) + static_cast<double>(after - before) / 2};
    }
  }
  return best;
}

// Whether the kernel keeps time with the TSC.
bool KernelUsesTsc() {
  std::ifstream in("/sys/devices/system/clocksource/clocksource0/current_clocksource");
  std::string source;
  return static_cast<bool>(in >> source) && source == "tsc";
}
#endif

}  // namespace

CycleClock::Calibration CycleClock::Calibrate() {
  Calibration c;
#if defined(__x86_64__)
  if (!InvariantTsc() || !KernelUsesTsc()) return c;
  const Reading r0 = ReadBoth();
  std::this_thread::sleep_for(std::chrono::milliseconds(kCalibrationMillis));
  const Reading r1 = ReadBoth();
  if (r1.tsc <= r0.tsc || r1.nanos <= r0.nanos) return c;  // Not a usable counter after all.
  c.tsc = true;
  c.nanos_per_tick = static_cast<double>(r1.nanos - r0.nanos) / (r1.tsc - r0.tsc);
#endif
  return c;
}

}  // namespace asidekv::util
