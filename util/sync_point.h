// SyncPoint: named points in the library's code where a test can run a callback or make a thread
// wait for another, so that a test forces an interleaving instead of sleeping and polling for it.
// The model is RocksDB's TEST_SYNC_POINT (test_util/sync_point.h).
//
// Design
//   The library marks a place with
//     ASIDEKV_SYNC_POINT("Component::Method:Where");
//     ASIDEKV_SYNC_POINT_CALLBACK("Component::Method:Where", &some_local);  // arg for callbacks
//   Both compile to nothing unless ASIDEKV_SYNC_POINTS is defined. The CMake option of the same
//   name (ON in builds with tests, OFF otherwise) defines it for every target that links
//   asidekv_util in the build tree; installed consumers never see it.
//
//   A test configures the one process-wide registry, SyncPoint::Get():
//     - SetCallBack(name, fn): each thread that passes `name` calls fn(arg), without any lock of
//       the registry held (fn may block, e.g. on a test's Notification);
//     - LoadDependency({{"A", "B"}}): a thread that reaches B waits until some thread has passed
//       A (since the dependency was loaded or the trace was last cleared);
//     - EnableProcessing() / DisableProcessing(): nothing happens at any point while disabled.
//
//   States of a point:  not passed --Process(point)--> passed (recorded in the trace).
//   Process(point): wait until every predecessor of point is passed; run point's callback; record
//   point as passed; wake every thread waiting on a successor.
//
// Costs
//   In a build without ASIDEKV_SYNC_POINTS: none. With it, a point whose registry is disabled or
//   holds no callback and no dependency costs one relaxed atomic load; otherwise one mutex
//   acquisition, a hash lookup and the callback.
//
// Invariants
//   - ClearCallBack() and ClearAllCallBacks() return only once no callback is running, so a test
//     may destroy what its callbacks captured right after clearing them.
//   - The registry's mutex is never held while a callback runs.
//
// Thread safety: every method may be called from any thread. Callbacks run on the thread that
//   passes the point, possibly on several threads at once.
// Ownership: the registry lives for the whole process (never destroyed); it copies names and
//   owns the callbacks until they are cleared.
//
// Example (a test waiting until two waiters have joined a fill):
//   SyncPoint* sp = SyncPoint::Get();
//   sp->SetCallBack("Shard::BeginFill:Joined", [&](void*) { joined.fetch_add(1); ... });
//   sp->EnableProcessing();
//   ...
//   sp->DisableProcessing();
//   sp->ClearAllCallBacks();

#ifndef ASIDEKV_UTIL_SYNC_POINT_H_
#define ASIDEKV_UTIL_SYNC_POINT_H_

#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"

namespace asidekv::util {

class SyncPoint {
 public:
  // "successor waits until predecessor has been passed".
  struct Dependency {
    std::string predecessor;
    std::string successor;
  };

  // The process-wide registry.
  static SyncPoint* Get();

  SyncPoint(const SyncPoint&) = delete;
  SyncPoint& operator=(const SyncPoint&) = delete;

  // Replaces every dependency with `dependencies` and clears the trace.
  void LoadDependency(const std::vector<Dependency>& dependencies) ABSL_LOCKS_EXCLUDED(mu_);

  // Sets (or replaces) the callback of `point`.
  void SetCallBack(std::string_view point, std::function<void(void*)> callback)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Removes the callback of `point`, once no callback is running.
  // REQUIRES: not called from a callback (it would wait for itself).
  void ClearCallBack(std::string_view point) ABSL_LOCKS_EXCLUDED(mu_);
  // Removes every callback, once no callback is running. REQUIRES: as ClearCallBack.
  void ClearAllCallBacks() ABSL_LOCKS_EXCLUDED(mu_);

  void EnableProcessing() ABSL_LOCKS_EXCLUDED(mu_);
  // Also releases every thread waiting on a predecessor.
  void DisableProcessing() ABSL_LOCKS_EXCLUDED(mu_);
  // Forgets which points were passed.
  void ClearTrace() ABSL_LOCKS_EXCLUDED(mu_);

  // True if a point may have work to do (processing on, and a callback or dependency set).
  // One relaxed load: the macros test it before calling Process().
  static bool Active() { return active_.load(std::memory_order_relaxed); }

  // Passes `point` (see the design above). Called through the macros.
  void Process(std::string_view point, void* arg = nullptr) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  SyncPoint() = default;
  ~SyncPoint() = default;

  bool PredecessorsPassedLocked(std::string_view point) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  void AwaitNoCallbackRunningLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UpdateActiveLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Written under mu_; read without it by Active().
  static std::atomic<bool> active_;

  absl::Mutex mu_;
  absl::CondVar changed_;  // Signalled when a point is passed or a callback ends.
  bool enabled_ ABSL_GUARDED_BY(mu_) = false;
  // successor -> its predecessors.
  absl::flat_hash_map<std::string, std::vector<std::string>> predecessors_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::function<void(void*)>> callbacks_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> passed_ ABSL_GUARDED_BY(mu_);
  int callbacks_running_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace asidekv::util

#ifdef ASIDEKV_SYNC_POINTS
#define ASIDEKV_SYNC_POINT_CALLBACK(name, arg)               \
  do {                                                       \
    if (::asidekv::util::SyncPoint::Active()) {              \
      ::asidekv::util::SyncPoint::Get()->Process(name, arg); \
    }                                                        \
  } while (0)
#else
#define ASIDEKV_SYNC_POINT_CALLBACK(name, arg) static_cast<void>(0)
#endif
#define ASIDEKV_SYNC_POINT(name) ASIDEKV_SYNC_POINT_CALLBACK(name, nullptr)

#endif  // ASIDEKV_UTIL_SYNC_POINT_H_
