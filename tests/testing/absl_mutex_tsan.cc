// Makes absl::Mutex visible to ThreadSanitizer when Abseil itself was not built with TSan.
//
// Debian's Abseil is an uninstrumented shared library, so TSan sees none of the happens-before
// edges absl::Mutex creates: two critical sections on one mutex look like a data race whenever
// the lock changes hands without a blocking wait (the fast path). This file interposes the
// exported lock, unlock, wait and await members: each forwards to Abseil's own definition
// (found with dlsym(RTLD_NEXT)) and tells TSan that unlocking releases the mutex's address and
// locking acquires it. Calls from inside Abseil (absl::Notification, absl::CondVar) go through
// the PLT and are interposed too.
//
// Link this file into a test executable of a TSan build only (tests/cache/CMakeLists.txt);
// it must be linked into the executable itself, not a static library nobody references.

#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/base/options.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

#if !ABSL_OPTION_USE_INLINE_NAMESPACE
#error "absl_mutex_tsan.cc assumes Abseil's inline namespace (see the mangled names below)"
#endif

namespace {

#define ASIDEKV_STR_INNER_(x) #x
#define ASIDEKV_STR_(x) ASIDEKV_STR_INNER_(x)

// The mangled name of absl::<inline namespace>::`suffix`.
std::string AbslSymbol(const char* suffix) {
  const std::string ns = ASIDEKV_STR_(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  return "_ZN4absl" + std::to_string(ns.size()) + ns + suffix;
}

template <typename Fn>
Fn Next(const std::string& name) {
  void* sym = dlsym(RTLD_NEXT, name.c_str());
  if (sym == nullptr) {
    std::fprintf(stderr, "absl_mutex_tsan: %s not found\n", name.c_str());
    std::abort();
  }
  return reinterpret_cast<Fn>(sym);
}

using MuFn = void (*)(absl::Mutex*);
using MuTryFn = bool (*)(absl::Mutex*);
using MuCondFn = void (*)(absl::Mutex*, const absl::Condition&);
using MuCondDurFn = bool (*)(absl::Mutex*, const absl::Condition&, absl::Duration);
using MuCondTimeFn = bool (*)(absl::Mutex*, const absl::Condition&, absl::Time);
using CvWaitFn = void (*)(absl::CondVar*, absl::Mutex*);
using CvWaitDurFn = bool (*)(absl::CondVar*, absl::Mutex*, absl::Duration);
using CvWaitTimeFn = bool (*)(absl::CondVar*, absl::Mutex*, absl::Time);

void Acquire(const absl::Mutex* mu) { __tsan_acquire(const_cast<absl::Mutex*>(mu)); }
void Release(const absl::Mutex* mu) { __tsan_release(const_cast<absl::Mutex*>(mu)); }

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

void Mutex::Lock() {
  static const auto next = Next<MuFn>(AbslSymbol("5Mutex4LockEv"));
  next(this);
  Acquire(this);
}

void Mutex::ReaderLock() {
  static const auto next = Next<MuFn>(AbslSymbol("5Mutex10ReaderLockEv"));
  next(this);
  Acquire(this);
}

bool Mutex::TryLock() {
  static const auto next = Next<MuTryFn>(AbslSymbol("5Mutex7TryLockEv"));
  const bool locked = next(this);
  if (locked) Acquire(this);
  return locked;
}

bool Mutex::ReaderTryLock() {
  static const auto next = Next<MuTryFn>(AbslSymbol("5Mutex13ReaderTryLockEv"));
  const bool locked = next(this);
  if (locked) Acquire(this);
  return locked;
}

void Mutex::Unlock() {
  static const auto next = Next<MuFn>(AbslSymbol("5Mutex6UnlockEv"));
  Release(this);
  next(this);
}

void Mutex::ReaderUnlock() {
  static const auto next = Next<MuFn>(AbslSymbol("5Mutex12ReaderUnlockEv"));
  Release(this);
  next(this);
}

void Mutex::LockWhen(const Condition& cond) {
  static const auto next = Next<MuCondFn>(AbslSymbol("5Mutex8LockWhenERKNS0_9ConditionE"));
  next(this, cond);
  Acquire(this);
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  static const auto next = Next<MuCondFn>(AbslSymbol("5Mutex14ReaderLockWhenERKNS0_9ConditionE"));
  next(this, cond);
  Acquire(this);
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, Duration timeout) {
  static const auto next =
      Next<MuCondDurFn>(AbslSymbol("5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE"));
  const bool r = next(this, cond, timeout);
  Acquire(this);  // Held on return either way.
  return r;
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, Time deadline) {
  static const auto next =
      Next<MuCondTimeFn>(AbslSymbol("5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE"));
  const bool r = next(this, cond, deadline);
  Acquire(this);
  return r;
}

bool Mutex::ReaderLockWhenWithTimeout(const Condition& cond, Duration timeout) {
  static const auto next = Next<MuCondDurFn>(
      AbslSymbol("5Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE"));
  const bool r = next(this, cond, timeout);
  Acquire(this);
  return r;
}

bool Mutex::ReaderLockWhenWithDeadline(const Condition& cond, Time deadline) {
  static const auto next = Next<MuCondTimeFn>(
      AbslSymbol("5Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE"));
  const bool r = next(this, cond, deadline);
  Acquire(this);
  return r;
}

// Await* and CondVar::Wait* release the mutex while they wait and hold it again on return.

void Mutex::Await(const Condition& cond) {
  static const auto next = Next<MuCondFn>(AbslSymbol("5Mutex5AwaitERKNS0_9ConditionE"));
  Release(this);
  next(this, cond);
  Acquire(this);
}

bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  static const auto next =
      Next<MuCondDurFn>(AbslSymbol("5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE"));
  Release(this);
  const bool r = next(this, cond, timeout);
  Acquire(this);
  return r;
}

bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  static const auto next =
      Next<MuCondTimeFn>(AbslSymbol("5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE"));
  Release(this);
  const bool r = next(this, cond, deadline);
  Acquire(this);
  return r;
}

void CondVar::Wait(Mutex* mu) {
  static const auto next = Next<CvWaitFn>(AbslSymbol("7CondVar4WaitEPNS0_5MutexE"));
  Release(mu);
  next(this, mu);
  Acquire(mu);
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  static const auto next =
      Next<CvWaitDurFn>(AbslSymbol("7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE"));
  Release(mu);
  const bool r = next(this, mu, timeout);
  Acquire(mu);
  return r;
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  static const auto next =
      Next<CvWaitTimeFn>(AbslSymbol("7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE"));
  Release(mu);
  const bool r = next(this, mu, deadline);
  Acquire(mu);
  return r;
}

ABSL_NAMESPACE_END
}  // namespace absl
