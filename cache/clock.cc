#include "cache/clock.h"

#include "util/monotonic_clock.h"

namespace asidekv::cache {
namespace {

class MonotonicClock final : public Clock {
 public:
  int64_t NowNanos() const override { return util::MonotonicNanos(); }
};

}  // namespace

Clock* RealClock() {
  static Clock* const clock = new MonotonicClock();
  return clock;
}

}  // namespace asidekv::cache
