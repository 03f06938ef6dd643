// Fill coalescing ("singleflight"): one load per missed key, every other miss waits for it.
//
// Design
//   When a lookup misses, the caller asks the cache for a FillTicket for the key. The first
//   caller becomes the leader: it holds a fill token and must load the value (from the DB, by
//   whatever means) and hand the result to Cache::CompleteFill(). Callers that miss the same key
//   while that load is in flight become waiters: they block in FillTicket::Wait() until the
//   leader publishes, and receive the leader's result (a value, NotFound, or the leader's error).
//
//   A load is registered in its shard under the key (with its fill token) while it is joinable.
//   It stops being joinable (is detached from the key) when the leader completes, or when a
//   write or invalidation of the key begins: a caller arriving after that starts a new load, so
//   no request that begins after an invalidation ever receives a value loaded before it.
//
//   The Flight, where waiters block, is made by the first caller that joins a load, under the
//   shard's lock: a leader that loads alone (the common miss) has none, and so costs no
//   allocation, mutex or wake-up beyond its registration. A load detached while it has a Flight
//   keeps it, by token, until its leader completes or gives up, and the leader publishes to it
//   then (its waiters began before the detaching write, so they may receive the older value).
//
//   States of a Flight:   in flight --Publish(result)--> done
//
// Invariants
//   - Every Flight is published exactly once: by the leader's CompleteFill(), or, if the leader
//     never completes (it returned early, threw, or dropped its ticket), by Cache::AbandonFill()
//     from the leader ticket's destructor, with an Aborted error. Waiters therefore never hang on
//     a lost leader.
//   - No cache lock is held while a leader loads or while a waiter waits.
//
// Thread safety
//   Flight is internally synchronised. A FillTicket is owned by one thread at a time.

#ifndef ASIDEKV_CACHE_FILL_FLIGHT_H_
#define ASIDEKV_CACHE_FILL_FLIGHT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cache/entry.h"
#include "util/mutex.h"

namespace asidekv::cache {

class Cache;

// The result of one load, shared by the leader with its waiters.
class Flight {
 public:
  // Publishes the load's outcome and wakes every waiter. Only the first call has an effect.
  void Publish(absl::StatusOr<std::string> result) ABSL_LOCKS_EXCLUDED(mu_);

  // Blocks until published or `timeout` passes (DeadlineExceeded), then returns a copy of the
  // published result.
  absl::StatusOr<std::string> Wait(absl::Duration timeout) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  util::Mutex mu_;
  util::CondVar published_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  absl::StatusOr<std::string> result_ ABSL_GUARDED_BY(mu_);
};

// What BeginFill() hands a caller that missed: a hit found meanwhile, the leader's duty to load,
// or a place among the waiters. Move-only.
class FillTicket {
 public:
  enum class Role {
    kHit,     // The key was filled meanwhile: hit() holds the value.
    kLeader,  // Load the value, then call Cache::CompleteFill(ticket, ...).
    kWaiter,  // Call Wait() for the leader's result.
    kBypass,  // The cache cannot take a fill now (e.g. disabled): load and do not fill.
  };

  FillTicket() = default;
  static FillTicket Hit(ValueRef value);
  static FillTicket Leader(Cache* cache, std::string_view key, uint64_t token);
  static FillTicket Waiter(std::shared_ptr<Flight> flight);
  static FillTicket Bypass();

  FillTicket(FillTicket&& o) noexcept;
  FillTicket& operator=(FillTicket&& o) noexcept;
  FillTicket(const FillTicket&) = delete;
  FillTicket& operator=(const FillTicket&) = delete;
  // A leader ticket that was never completed publishes Aborted to its waiters and withdraws its
  // flight, so they do not hang.
  ~FillTicket();

  Role role() const { return role_; }
  // REQUIRES: role() == kHit.
  const ValueRef& hit() const { return hit_; }
  // REQUIRES: role() == kWaiter. The leader's result: a value, NotFound, or its error;
  // DeadlineExceeded if `timeout` passed first.
  absl::StatusOr<std::string> Wait(absl::Duration timeout) const;

  // Leader only: the fill token and key this ticket carries. The token also names the load in
  // its shard (the cache finds the leader's Flight, if a waiter made one, by key and token).
  uint64_t token() const { return token_; }
  const std::string& key() const { return key_; }
  // Marks the ticket completed (called by the cache inside CompleteFill).
  void MarkCompleted() { cache_ = nullptr; }

 private:
  void Abandon();

  Role role_ = Role::kBypass;
  ValueRef hit_;
  Cache* cache_ = nullptr;  // Leader until completed; not owned, outlives the ticket.
  std::string key_;
  uint64_t token_ = 0;
  std::shared_ptr<Flight> flight_;  // Waiter only.
};

}  // namespace asidekv::cache

#endif  // ASIDEKV_CACHE_FILL_FLIGHT_H_
