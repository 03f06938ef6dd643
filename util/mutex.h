// Mutex: the lock of a cache shard's hot path (and of any other short critical section).
//
// Debian's Abseil is built without NDEBUG, so every absl::Mutex::Lock() also runs Abseil's
// lock-order (deadlock) tracking, which takes one process-wide spinlock: measured with callgrind
// it was 52% of the instructions of a cache hit, and it serialised all shards on that one lock.
// Shards therefore lock this small wrapper over a pthread mutex (a futex on Linux, no
// tracking), which carries the same clang thread-safety annotations as absl::Mutex, so
// -Wthread-safety checks its users exactly as it would absl::Mutex. ThreadSanitizer sees it
// natively (pthread). CondVar is its condition variable (a pthread one on CLOCK_MONOTONIC, with
// absl::CondVar's interface), for the per-miss paths that wait: a fill flight (one made and
// destroyed per miss, where absl::Mutex also registered and removed a node of its lock graph)
// and the PostgreSQL connection pool.
//
// The mutex is glibc's adaptive kind: a thread that finds it taken spins for a while (glibc
// learns how long per mutex) before it sleeps. A shard's critical sections last tens of
// nanoseconds, far less than the futex sleep and wake-up a plain mutex goes to at once, which two
// threads hitting one hot shard would otherwise pay. Measured with cache_benchmark, 2 threads,
// in one run: zipfian lookups 0.57x HyperClockCache with std::mutex, 0.80x with a fixed spin of
// 64 try_locks, 0.90x adaptive. Elsewhere it is a plain mutex.
//
// Thread safety: as std::mutex.

#ifndef ASIDEKV_UTIL_MUTEX_H_
#define ASIDEKV_UTIL_MUTEX_H_

#include <pthread.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"

namespace asidekv::util {

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
#if defined(__GLIBC__)
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
#endif
    pthread_mutex_init(&mu_, &attr);
    pthread_mutexattr_destroy(&attr);
  }
  ~Mutex() { pthread_mutex_destroy(&mu_); }
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { pthread_mutex_lock(&mu_); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { pthread_mutex_unlock(&mu_); }

 private:
  friend class CondVar;
  pthread_mutex_t mu_;
};

// A condition variable for Mutex. Spurious wake-ups happen: wait in a loop on the condition.
class CondVar {
 public:
  CondVar() {
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&cv_, &attr);
    pthread_condattr_destroy(&attr);
  }
  ~CondVar() { pthread_cond_destroy(&cv_); }
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  void Wait(Mutex* mu) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { pthread_cond_wait(&cv_, &mu->mu_); }
  // Waits until signalled or `timeout` passes; true when it timed out (as absl::CondVar).
  bool WaitWithTimeout(Mutex* mu, absl::Duration timeout) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (timeout == absl::InfiniteDuration()) {
      Wait(mu);
      return false;
    }
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    const absl::Duration until =
        absl::DurationFromTimespec(now) + std::max(timeout, absl::ZeroDuration());
    const timespec deadline = absl::ToTimespec(until);
    return pthread_cond_timedwait(&cv_, &mu->mu_, &deadline) == ETIMEDOUT;
  }
  void Signal() { pthread_cond_signal(&cv_); }
  void SignalAll() { pthread_cond_broadcast(&cv_); }

 private:
  pthread_cond_t cv_;
};

// Holds a Mutex for its scope.
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

}  // namespace asidekv::util

#endif  // ASIDEKV_UTIL_MUTEX_H_
