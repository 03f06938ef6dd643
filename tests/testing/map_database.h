// MapDatabase: an asidekv::Database over an in-memory ordered map, for tests of the Store over a
// Database it is given (Store::Open(options, database)).
//
// Several MapDatabase handles may share one map (Share()): Stores opened over them behave like
// processes sharing one database (IsShared() says so when asked to). Knobs let a test make the
// next writes fail, with or without applying them first (the commit-outcome-unknown case), and
// run a callback inside each read (to move a fake clock while a read is in flight).
//
// Thread safety: every method may be called concurrently; set the knobs before sharing.

#ifndef ASIDEKV_TESTS_TESTING_MAP_DATABASE_H_
#define ASIDEKV_TESTS_TESTING_MAP_DATABASE_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "asidekv/database.h"

namespace asidekv::testing {

class MapDatabase final : public Database {
 public:
  explicit MapDatabase(bool shared = false) : state_(std::make_shared<State>()), shared_(shared) {}

  // A handle on the same map (another "process"), shared as this one says.
  std::unique_ptr<MapDatabase> Share() const {
    auto other = std::make_unique<MapDatabase>(shared_);
    other->state_ = state_;
    return other;
  }

  absl::Status Get(std::string_view key, std::string* value) const override {
    if (on_get_) on_get_(key);
    absl::MutexLock l(&state_->mu);
    ++state_->gets;
    auto it = state_->map.find(std::string(key));
    if (it == state_->map.end()) return absl::NotFoundError("no such key");
    *value = it->second;
    return absl::OkStatus();
  }

  absl::Status Write(absl::Span<const DatabaseOp> ops) override {
    absl::MutexLock l(&state_->mu);
    if (!state_->fail_with.ok()) {
      if (!state_->apply_failed) return state_->fail_with;
    }
    for (const DatabaseOp& op : ops) {
      if (op.type == DatabaseOp::kPut) {
        state_->map[std::string(op.key)] = std::string(op.value);
      } else {
        state_->map.erase(std::string(op.key));
      }
    }
    return state_->fail_with;
  }

  absl::Status Scan(const ScanOptions& options,
                    absl::FunctionRef<bool(std::string_view, std::string_view)> fn) const override {
    absl::MutexLock l(&state_->mu);
    const std::string& from = options.start > options.prefix ? options.start : options.prefix;
    size_t n = 0;
    for (auto it = state_->map.lower_bound(from); it != state_->map.end(); ++it) {
      if (!options.end.empty() && it->first >= options.end) break;
      if (it->first.compare(0, options.prefix.size(), options.prefix) != 0) break;
      if (options.limit != 0 && n == options.limit) break;
      ++n;
      if (!fn(it->first, it->second)) break;
    }
    return absl::OkStatus();
  }

  bool IsShared() const override { return shared_; }

  // Every later write returns `status`; with `apply`, it is applied first (an outcome the
  // caller cannot know). OkStatus() restores normal writes.
  void FailWrites(absl::Status status, bool apply) {
    absl::MutexLock l(&state_->mu);
    state_->fail_with = std::move(status);
    state_->apply_failed = apply;
  }

  // Runs inside every Get of this handle, before it reads. Set before the Store opens.
  void set_on_get(std::function<void(std::string_view key)> f) { on_get_ = std::move(f); }

  // Gets served so far by the shared map.
  int gets() const {
    absl::MutexLock l(&state_->mu);
    return state_->gets;
  }

 private:
  struct State {
    mutable absl::Mutex mu;
    std::map<std::string, std::string> map ABSL_GUARDED_BY(mu);
    absl::Status fail_with ABSL_GUARDED_BY(mu);
    bool apply_failed ABSL_GUARDED_BY(mu) = false;
    int gets ABSL_GUARDED_BY(mu) = 0;
  };
  std::shared_ptr<State> state_;
  bool shared_;
  std::function<void(std::string_view)> on_get_;
};

}  // namespace asidekv::testing

#endif  // ASIDEKV_TESTS_TESTING_MAP_DATABASE_H_
