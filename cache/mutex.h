// Mutex: the lock of a cache shard's hot path.
//
// Debian's Abseil is built without NDEBUG, so every absl::Mutex::Lock() also runs Abseil's
// lock-order (deadlock) tracking, which takes one process-wide spinlock: measured with callgrind
// it was 52% of the instructions of a cache hit, and it serialised all shards on that one lock.
// Shards therefore lock this small wrapper over std::mutex (a futex on Linux, no tracking),
// which carries the same clang thread-safety annotations as absl::Mutex, so -Wthread-safety
// checks its users exactly as it would absl::Mutex. ThreadSanitizer sees it natively (pthread).
// Code off the hot path (fill flights) keeps absl::Mutex for its Condition-based waits.
//
// Thread safety: as std::mutex.

#ifndef ASIDEKV_CACHE_MUTEX_H_
#define ASIDEKV_CACHE_MUTEX_H_

#include <mutex>

#include "absl/base/thread_annotations.h"

namespace asidekv::cache {

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  // Spins briefly before blocking: a shard's critical sections last tens of nanoseconds, far
  // less than the futex sleep and wake-up that std::mutex::lock() goes to at once when the lock
  // is taken, which is what two threads hitting one hot shard would otherwise pay.
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    for (int i = 0; i < kSpins; ++i) {
      if (mu_.try_lock()) return;
      CpuRelax();
    }
    mu_.lock();
  }
  void Unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }

 private:
  static constexpr int kSpins = 64;
  static void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }

  std::mutex mu_;
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

}  // namespace asidekv::cache

#endif  // ASIDEKV_CACHE_MUTEX_H_
