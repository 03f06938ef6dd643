#include "util/sync_point.h"

#include <utility>

#include "util/string_view.h"

namespace asidekv::util {

std::atomic<bool> SyncPoint::active_{false};

SyncPoint* SyncPoint::Get() {
  // Never destroyed: threads may pass points while the process exits.
  static SyncPoint* const instance = new SyncPoint();
  return instance;
}

void SyncPoint::LoadDependency(const std::vector<Dependency>& dependencies) {
  absl::MutexLock lock(&mu_);
  predecessors_.clear();
  for (const Dependency& d : dependencies) {
    predecessors_[d.successor].push_back(d.predecessor);
  }
  passed_.clear();
  UpdateActiveLocked();
  changed_.SignalAll();
}

void SyncPoint::SetCallBack(std::string_view point, std::function<void(void*)> callback) {
  absl::MutexLock lock(&mu_);
  callbacks_[ToAbsl(point)] = std::move(callback);
  UpdateActiveLocked();
}

void SyncPoint::ClearCallBack(std::string_view point) {
  absl::MutexLock lock(&mu_);
  AwaitNoCallbackRunningLocked();
  callbacks_.erase(ToAbsl(point));
  UpdateActiveLocked();
}

void SyncPoint::ClearAllCallBacks() {
  absl::MutexLock lock(&mu_);
  AwaitNoCallbackRunningLocked();
  callbacks_.clear();
  UpdateActiveLocked();
}

void SyncPoint::EnableProcessing() {
  absl::MutexLock lock(&mu_);
  enabled_ = true;
  UpdateActiveLocked();
}

void SyncPoint::DisableProcessing() {
  absl::MutexLock lock(&mu_);
  enabled_ = false;
  UpdateActiveLocked();
  changed_.SignalAll();  // A thread waiting on a predecessor goes on.
}

void SyncPoint::ClearTrace() {
  absl::MutexLock lock(&mu_);
  passed_.clear();
}

void SyncPoint::Process(std::string_view point, void* arg) {
  mu_.Lock();
  while (enabled_ && !PredecessorsPassedLocked(point)) changed_.Wait(&mu_);
  if (!enabled_) {
    mu_.Unlock();
    return;
  }
  if (auto it = callbacks_.find(ToAbsl(point)); it != callbacks_.end()) {
    // A copy: the test may replace or clear the callback while this one runs.
    const std::function<void(void*)> callback = it->second;
    ++callbacks_running_;
    mu_.Unlock();
    callback(arg);
    mu_.Lock();
    --callbacks_running_;
  }
  passed_.emplace(ToAbsl(point));
  changed_.SignalAll();
  mu_.Unlock();
}

bool SyncPoint::PredecessorsPassedLocked(std::string_view point) const {
  auto it = predecessors_.find(ToAbsl(point));
  if (it == predecessors_.end()) return true;
  for (const std::string& p : it->second) {
    if (!passed_.contains(p)) return false;
  }
  return true;
}

void SyncPoint::AwaitNoCallbackRunningLocked() {
  while (callbacks_running_ > 0) changed_.Wait(&mu_);
}

void SyncPoint::UpdateActiveLocked() {
  active_.store(enabled_ && (!callbacks_.empty() || !predecessors_.empty()),
                std::memory_order_relaxed);
}

}  // namespace asidekv::util
