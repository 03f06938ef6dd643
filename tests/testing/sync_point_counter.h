// SyncPointCounter: counts the passes of one sync point (util/sync_point.h) and lets a test block
// until a number of them has happened, instead of sleeping and polling a statistic.
//
// Construction sets the point's callback and enables processing; destruction clears the
// callback (waiting for a running one to return). `weight` turns a pass's argument into how much
// it counts (default: 1 per pass). WaitFor() takes a timeout only as a safety net: it returns
// false (and the test fails) if the library never gets there.
//
// Example:
//   SyncPointCounter joined("Shard::BeginFill:JoinedFlight");
//   ... start six readers of one missing key ...
//   ASSERT_TRUE(joined.WaitFor(5));  // Five of them wait on the first one's load.
//
// Thread safety: WaitFor() and count() may be called from any thread; the callback runs on the
//   library's threads. One counter per point at a time.
// Ownership: the counter must outlive the passes it counts; the destructor guarantees that.

#ifndef ASIDEKV_TESTS_TESTING_SYNC_POINT_COUNTER_H_
#define ASIDEKV_TESTS_TESTING_SYNC_POINT_COUNTER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "util/sync_point.h"

#ifndef ASIDEKV_SYNC_POINTS
#error "tests that synchronise on sync points need a build with ASIDEKV_SYNC_POINTS"
#endif

namespace asidekv::testing {

class SyncPointCounter {
 public:
  explicit SyncPointCounter(std::string point, std::function<int64_t(void*)> weight = nullptr)
      : point_(std::move(point)), weight_(std::move(weight)) {
    util::SyncPoint* sp = util::SyncPoint::Get();
    sp->SetCallBack(point_, [this](void* arg) {
      const int64_t add = weight_ ? weight_(arg) : 1;
      absl::MutexLock lock(&mu_);
      count_ += add;
      changed_.SignalAll();
    });
    sp->EnableProcessing();
  }
  ~SyncPointCounter() { util::SyncPoint::Get()->ClearCallBack(point_); }
  SyncPointCounter(const SyncPointCounter&) = delete;
  SyncPointCounter& operator=(const SyncPointCounter&) = delete;

  // Blocks until the count reaches `n`; false if `timeout` passes first. (A CondVar, not an
  // absl::Condition: Debian's Abseil evaluates a Condition inside the uninstrumented library,
  // where TSan cannot see that the mutex is held.)
  bool WaitFor(int64_t n, absl::Duration timeout = absl::Seconds(60)) ABSL_LOCKS_EXCLUDED(mu_) {
    const absl::Time deadline = absl::Now() + timeout;
    absl::MutexLock lock(&mu_);
    while (count_ < n) {
      if (changed_.WaitWithDeadline(&mu_, deadline)) return count_ >= n;
    }
    return true;
  }

  int64_t count() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return count_;
  }

 private:
  const std::string point_;
  const std::function<int64_t(void*)> weight_;
  mutable absl::Mutex mu_;
  absl::CondVar changed_;  // Signalled when count_ grows.
  int64_t count_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace asidekv::testing

#endif  // ASIDEKV_TESTS_TESTING_SYNC_POINT_COUNTER_H_
