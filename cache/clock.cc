#include "cache/clock.h"

#include <chrono>

namespace asidekv::cache {
namespace {

class MonotonicClock final : public Clock {
 public:
  int64_t NowNanos() const override { return MonotonicNanos(); }
};

}  // namespace

int64_t MonotonicNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Clock* RealClock() {
  static Clock* const clock = new MonotonicClock();
  return clock;
}

}  // namespace asidekv::cache
