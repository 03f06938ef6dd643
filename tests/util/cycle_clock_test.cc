// Tests of util::CycleClock: an interval agrees with steady_clock's, readings on one thread never
// run backwards, and a tick is a nanosecond when the TSC is not used.
#include "util/cycle_clock.h"

#include <chrono>
#include <cstdint>
#include <iostream>
#include <thread>

#include "gtest/gtest.h"
#include "util/monotonic_clock.h"

namespace asidekv::util {
namespace {

TEST(CycleClockTest, AnIntervalAgreesWithSteadyClock) {
  std::cout << "CycleClock reads the " << (CycleClock::UsesTsc() ? "TSC" : "steady clock") << "\n";
  // Both clocks time the same interval, each read inside the other's pair of reads, so the two
  // lengths differ by the calibration's error plus the reads' own cost.
  for (int attempt = 0; attempt < 3; ++attempt) {
    const int64_t steady0 = MonotonicNanos();
    const int64_t ticks0 = CycleClock::Now();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const int64_t ticks1 = CycleClock::Now();
    const int64_t steady1 = MonotonicNanos();
    const double steady = static_cast<double>(steady1 - steady0);
    const double cycle = static_cast<double>(CycleClock::ToNanos(ticks1 - ticks0));
    // The cycle-clock interval lies inside the steady one; allow 2% for the calibration.
    if (cycle <= steady * 1.02 && cycle >= steady * 0.98 - 100'000) return;
    std::cout << "attempt " << attempt << ": steady " << steady << " ns, cycle " << cycle
              << " ns\n";
  }
  ADD_FAILURE() << "the cycle clock disagreed with steady_clock by more than 2% three times";
}

TEST(CycleClockTest, ReadingsOnOneThreadNeverRunBackwards) {
  int64_t last = CycleClock::Now();
  for (int i = 0; i < 1'000'000; ++i) {
    const int64_t now = CycleClock::Now();
    ASSERT_GE(now, last) << "at read " << i;
    last = now;
  }
}

TEST(CycleClockTest, ToNanosScalesLinearly) {
  const int64_t one = CycleClock::ToNanos(1'000'000);
  EXPECT_GT(one, 0);
  EXPECT_NEAR(static_cast<double>(CycleClock::ToNanos(10'000'000)), 10.0 * one, 10.0);
  EXPECT_EQ(CycleClock::ToNanos(0), 0);
  if (!CycleClock::UsesTsc()) {
    EXPECT_EQ(one, 1'000'000);
  }
}

}  // namespace
}  // namespace asidekv::util
