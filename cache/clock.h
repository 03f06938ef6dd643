// Clock: the cache's only source of time.
//
// cache/ never calls absl::Now() directly; it reads the Clock given in its options, so tests can
// move time by hand (tests/testing/fake_clock.h) instead of sleeping.
//
// Thread safety: implementations must allow concurrent calls to Now().
// Ownership: a Clock passed to the cache is borrowed and must outlive it. RealClock() returns a
// process-wide instance that lives forever.

#ifndef ASIDEKV_CACHE_CLOCK_H_
#define ASIDEKV_CACHE_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace asidekv::cache {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// The wall clock (absl::Now()). Never null, never destroyed.
Clock* RealClock();

}  // namespace asidekv::cache

#endif  // ASIDEKV_CACHE_CLOCK_H_
