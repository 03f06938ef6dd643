// Refresher: refresh-ahead of cache entries near their expiry, and the small bounded executor
// that runs the background reloads.
//
// Design
//   StoreImpl calls OnHit() on every cache hit when Options::refresh_ahead is not kOff (with
//   kOff there is no Refresher and a hit pays one null check). OnHit() decides whether the entry
//   should be reloaded now:
//     kBackground     remaining TTL < refresh_ahead_fraction * the entry's TTL (one clock read
//                     and one comparison; entries without a TTL cost nothing);
//     kProbabilistic  XFetch: reload_time * beta * -ln(U) >= remaining TTL, with reload_time a
//                     moving average of DB read times. Far from expiry (remaining > 30 *
//                     reload_time * beta, probability < 1e-13) no random number is drawn.
//   A reload goes through the fill protocol: Cache::BeginRefresh(entry) hands out one leader
//   ticket per entry (none if the entry was already replaced or a load of the key is in flight),
//   so concurrent hits trigger one reload, misses of the key during it wait for it, and a write
//   that begins after the ticket rejects its fill. kBackground queues the ticket and returns at
//   once (the caller gets the current value); kProbabilistic reloads in the caller's thread.
//
//   Executor: `threads` threads and a FIFO of at most `queue_limit` tickets. A full queue drops
//   the new ticket (its destructor withdraws the flight, so nobody waits on it) and counts it.
//
// Thread safety: all methods may be called concurrently, except that Stop() and the destructor
//   must not race with each other.
// Ownership: StoreImpl owns the Refresher and destroys it (stopping its threads) before the
//   cache and the DB, which the reload function and `cache` borrow.
// Failure: a reload that fails publishes its error to the waiters and caches nothing (as a miss
//   would); the old entry stays until it expires.

#ifndef ASIDEKV_CORE_REFRESHER_H_
#define ASIDEKV_CORE_REFRESHER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "asidekv/options.h"
#include "cache/cache.h"
#include "cache/clock.h"

namespace asidekv::core {

class Refresher {
 public:
  // Reads the ticket's key from the DB and completes the ticket (StoreImpl's miss path).
  using ReloadFn = std::function<void(cache::FillTicket* ticket)>;

  // `cache`, `clock` and whatever `reload` uses are borrowed and must outlive the Refresher.
  // REQUIRES: options.refresh_ahead != kOff, options validated.
  Refresher(const Options& options, cache::Cache* cache, cache::Clock* clock, ReloadFn reload);
  // Stop()s.
  ~Refresher();
  Refresher(const Refresher&) = delete;
  Refresher& operator=(const Refresher&) = delete;

  // Called with each cache hit: may queue (kBackground) or run (kProbabilistic) a reload of the
  // entry's key. Never blocks with kBackground.
  void OnHit(const cache::ValueRef& v) {
    if (v.expire_nanos() != 0) MaybeRefresh(v);
  }

  // Feeds the XFetch reload-time estimate with one DB read of `nanos`.
  void RecordReloadCost(int64_t nanos);
  bool wants_reload_cost() const { return mode_ == RefreshAhead::kProbabilistic; }

  // Drops queued reloads unrun and joins the threads. Later hits refresh nothing. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  uint64_t refreshes() const { return refreshes_.load(std::memory_order_relaxed); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  uint64_t early_expirations() const { return early_.load(std::memory_order_relaxed); }
  // The current XFetch reload-time estimate in nanoseconds (0 before the first DB read).
  int64_t reload_cost_nanos() const { return cost_nanos_.load(std::memory_order_relaxed); }

 private:
  void MaybeRefresh(const cache::ValueRef& v);
  // True if the XFetch draw says "reload now" for `remaining_nanos` of TTL left.
  bool XFetchDraw(int64_t remaining_nanos) const;
  void Enqueue(cache::FillTicket ticket) ABSL_LOCKS_EXCLUDED(mu_);
  void Run() ABSL_LOCKS_EXCLUDED(mu_);

  // Constant after construction.
  const RefreshAhead mode_;
  const double fraction_;
  const double beta_;
  const size_t queue_limit_;
  cache::Cache* const cache_;  // Not owned.
  cache::Clock* const clock_;  // Not owned.
  const ReloadFn reload_;

  std::atomic<int64_t> cost_nanos_{0};
  std::atomic<uint64_t> refreshes_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> early_{0};

  absl::Mutex mu_;
  absl::CondVar work_;  // Signalled when a ticket is queued or Stop() begins.
  std::deque<cache::FillTicket> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;  // Started by the constructor, joined by Stop().
};

}  // namespace asidekv::core

#endif  // ASIDEKV_CORE_REFRESHER_H_
