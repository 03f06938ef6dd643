// Clock: the cache's only source of time.
//
// cache/ never reads the system time directly; it reads the Clock given in its options, so tests
// can move time by hand (tests/testing/fake_clock.h) instead of sleeping.
//
// Time here is monotonic: NowNanos() counts nanoseconds on a time line with an arbitrary origin
// that never runs backwards and is not moved by changes to the wall clock (NTP steps, a user
// setting the date, a suspended VM resynchronising). Only differences between readings mean
// anything, so expiry instants (Entry::expire_nanos) are comparable only with readings of the
// same Clock, never with the wall time.
//
// Thread safety: implementations must allow concurrent calls to NowNanos().
// Ownership: a Clock passed to the cache is borrowed and must outlive it. RealClock() returns a
// process-wide instance that lives forever.

#ifndef ASIDEKV_CACHE_CLOCK_H_
#define ASIDEKV_CACHE_CLOCK_H_

#include <cstdint>

namespace asidekv::cache {

class Clock {
 public:
  virtual ~Clock() = default;
  // Nanoseconds since an arbitrary origin, non-decreasing, positive.
  virtual int64_t NowNanos() const = 0;
};

// A Clock that reads util::MonotonicNanos() (CLOCK_MONOTONIC). Never null, never destroyed.
Clock* RealClock();

}  // namespace asidekv::cache

#endif  // ASIDEKV_CACHE_CLOCK_H_
