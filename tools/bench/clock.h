// The benchmark's clock: the project's monotonic clock (util/monotonic_clock.h) in nanoseconds,
// and what reading it costs.

#ifndef ASIDEKV_TOOLS_BENCH_CLOCK_H_
#define ASIDEKV_TOOLS_BENCH_CLOCK_H_

#include <cstdint>

#include "util/monotonic_clock.h"

namespace asidekv::bench {

inline int64_t NowNanos() { return util::MonotonicNanos(); }

// Mean cost of one NowNanos() call in nanoseconds, measured over `calls` back-to-back calls
// (the best of three rounds). Every timed operation pays it once (two reads, one inside).
double MeasureClockCostNanos(int calls = 1'000'000);

}  // namespace asidekv::bench

#endif  // ASIDEKV_TOOLS_BENCH_CLOCK_H_
