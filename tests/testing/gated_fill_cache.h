// GatedFillCache: a cache double that can hold the next fill at a gate, so a test can force an
// interleaving (e.g. a write between a miss's DB read and its fill). It also records the outcome
// of the last fill and counts completed fills.
//
// Use: set gate_armed; start the reader; wait for at_gate; do the racing operation; Notify
// release. Thread safety: as ForwardingCache; the members are atomics and Notifications.

#ifndef ASIDEKV_TESTS_TESTING_GATED_FILL_CACHE_H_
#define ASIDEKV_TESTS_TESTING_GATED_FILL_CACHE_H_

#include <atomic>
#include <memory>
#include <string>
#include <utility>

#include "absl/synchronization/notification.h"
#include "tests/testing/forwarding_cache.h"

namespace asidekv::testing {

class GatedFillCache : public ForwardingCache {
 public:
  using ForwardingCache::ForwardingCache;

  cache::FillResult CompleteFill(cache::FillTicket* ticket, const std::string_view* value,
                                 const cache::EntryOptions& options,
                                 const absl::StatusOr<std::string>& result) override {
    if (gate_armed.exchange(false)) {
      at_gate.Notify();
      release.WaitForNotification();
    }
    cache::FillResult r = ForwardingCache::CompleteFill(ticket, value, options, result);
    last_result.store(static_cast<int>(r));
    completed.fetch_add(1);
    return r;
  }

  std::atomic<bool> gate_armed{false};
  absl::Notification at_gate;
  absl::Notification release;
  std::atomic<int> last_result{-1};  // A cache::FillResult.
  std::atomic<int> completed{0};
};

}  // namespace asidekv::testing

#endif  // ASIDEKV_TESTS_TESTING_GATED_FILL_CACHE_H_
