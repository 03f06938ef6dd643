#include "tools/bench/clock.h"

#include <algorithm>
#include <limits>

namespace asidekv::bench {
namespace {

volatile int64_t clock_sink = 0;

}  // namespace

double MeasureClockCostNanos(int calls) {
  double best = std::numeric_limits<double>::max();
  for (int round = 0; round < 3; ++round) {
    const int64_t start = NowNanos();
    int64_t last = 0;
    for (int i = 0; i < calls; ++i) last = NowNanos();
    const int64_t end = NowNanos();
    clock_sink = last;  // Keeps the loop's result observable.
    best = std::min(best, static_cast<double>(end - start) / calls);
  }
  return best;
}

}  // namespace asidekv::bench
