#include "cache/fill_flight.h"

#include <utility>

#include "cache/cache.h"
#include "util/monotonic_clock.h"

namespace asidekv::cache {
namespace {

// An error status with the same code and message as `s` but its own representation, so that no
// reference-counted status is shared between the leader and its waiters' threads (Debian's
// Abseil is not built for TSan, which then cannot see the shared count's synchronisation).
absl::Status Unshared(const absl::Status& s) { return absl::Status(s.code(), s.message()); }

}  // namespace

void Flight::Publish(absl::StatusOr<std::string> result) {
  if (!result.ok()) result = Unshared(result.status());
  util::MutexLock lock(&mu_);
  if (done_) return;
  result_ = std::move(result);
  done_ = true;
  published_.SignalAll();
}

absl::StatusOr<std::string> Flight::Wait(absl::Duration timeout) {
  // On the monotonic clock; an infinite timeout stays infinite.
  const absl::Duration deadline = absl::Nanoseconds(util::MonotonicNanos()) + timeout;
  util::MutexLock lock(&mu_);
  while (!done_) {
    const absl::Duration left = deadline - absl::Nanoseconds(util::MonotonicNanos());
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError("timed out waiting for another caller's load of the key");
    }
    published_.WaitWithTimeout(&mu_, left);
  }
  if (!result_.ok()) return Unshared(result_.status());
  return result_;
}

FillTicket FillTicket::Hit(ValueRef value) {
  FillTicket t;
  t.role_ = Role::kHit;
  t.hit_ = std::move(value);
  return t;
}

FillTicket FillTicket::Leader(Cache* cache, std::string_view key, uint64_t token) {
  FillTicket t;
  t.role_ = Role::kLeader;
  t.cache_ = cache;
  t.key_ = std::string(key);
  t.token_ = token;
  return t;
}

FillTicket FillTicket::Waiter(std::shared_ptr<Flight> flight) {
  FillTicket t;
  t.role_ = Role::kWaiter;
  t.flight_ = std::move(flight);
  return t;
}

FillTicket FillTicket::Bypass() { return FillTicket(); }

FillTicket::FillTicket(FillTicket&& o) noexcept
    : role_(o.role_),
      hit_(std::move(o.hit_)),
      cache_(std::exchange(o.cache_, nullptr)),
      key_(std::move(o.key_)),
      token_(o.token_),
      flight_(std::move(o.flight_)) {}

FillTicket& FillTicket::operator=(FillTicket&& o) noexcept {
  if (this != &o) {
    Abandon();
    role_ = o.role_;
    hit_ = std::move(o.hit_);
    cache_ = std::exchange(o.cache_, nullptr);
    key_ = std::move(o.key_);
    token_ = o.token_;
    flight_ = std::move(o.flight_);
  }
  return *this;
}

FillTicket::~FillTicket() { Abandon(); }

void FillTicket::Abandon() {
  if (role_ != Role::kLeader || cache_ == nullptr) return;
  Cache* cache = std::exchange(cache_, nullptr);
  cache->AbandonFill(*this);  // Publishes Aborted to the waiters, if any joined.
}

absl::StatusOr<std::string> FillTicket::Wait(absl::Duration timeout) const {
  return flight_->Wait(timeout);
}

}  // namespace asidekv::cache
