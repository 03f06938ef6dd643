#include "core/refresher.h"

#include <cmath>
#include <utility>

#include "absl/random/random.h"
#include "absl/time/time.h"
#include "util/sync_point.h"

namespace asidekv::core {
namespace {

// XFetch draws only when remaining TTL <= kXFetchHorizon * reload_time * beta: beyond it the
// probability of an early reload is below e^-30.
constexpr double kXFetchHorizon = 30;

}  // namespace

Refresher::Refresher(const Options& options, cache::Cache* cache, cache::Clock* clock,
                     ReloadFn reload)
    : mode_(options.refresh_ahead),
      fraction_(options.refresh_ahead_fraction),
      beta_(options.early_expiration_beta),
      queue_limit_(options.refresh_queue_limit),
      cache_(cache),
      clock_(clock),
      reload_(std::move(reload)) {
  if (mode_ == RefreshAhead::kBackground) {
    for (int i = 0; i < options.refresh_threads; ++i) threads_.emplace_back([this] { Run(); });
  }
}

Refresher::~Refresher() { Stop(); }

void Refresher::Stop() {
  std::deque<cache::FillTicket> dropped;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    dropped.swap(queue_);
    work_.SignalAll();
  }
  // Destroying the tickets (outside the lock) withdraws their flights and releases waiters.
  dropped_.fetch_add(dropped.size(), std::memory_order_relaxed);
  dropped.clear();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

void Refresher::RecordReloadCost(int64_t nanos) {
  if (nanos < 0) nanos = 0;
  // Exponential moving average with weight 1/8 (a racing update may be lost; it is an estimate).
  const int64_t old = cost_nanos_.load(std::memory_order_relaxed);
  cost_nanos_.store(old == 0 ? nanos : old + (nanos - old) / 8, std::memory_order_relaxed);
}

bool Refresher::XFetchDraw(int64_t remaining_nanos) const {
  const double scale = static_cast<double>(cost_nanos_.load(std::memory_order_relaxed)) * beta_;
  const double remaining = static_cast<double>(remaining_nanos);
  if (remaining > kXFetchHorizon * scale) return false;  // Also: no DB read measured yet.
  thread_local absl::InsecureBitGen gen;
  // U in (0, 1], so -ln(U) is finite.
  const double u = 1.0 - absl::Uniform(gen, 0.0, 1.0);
  return scale * -std::log(u) >= remaining;
}

void Refresher::MaybeRefresh(const cache::ValueRef& v) {
  const int64_t remaining = v.expire_nanos() - clock_->NowNanos();
  if (mode_ == RefreshAhead::kBackground) {
    if (static_cast<double>(remaining) >= fraction_ * static_cast<double>(v.ttl_nanos())) return;
    cache::FillTicket ticket = cache_->BeginRefresh(v);
    if (ticket.role() != cache::FillTicket::Role::kLeader) return;
    Enqueue(std::move(ticket));
    return;
  }
  if (!XFetchDraw(remaining)) return;
  early_.fetch_add(1, std::memory_order_relaxed);
  cache::FillTicket ticket = cache_->BeginRefresh(v);
  if (ticket.role() != cache::FillTicket::Role::kLeader) return;
  refreshes_.fetch_add(1, std::memory_order_relaxed);
  reload_(&ticket);
}

void Refresher::Enqueue(cache::FillTicket ticket) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_ && queue_.size() < queue_limit_) {
      queue_.push_back(std::move(ticket));
      refreshes_.fetch_add(1, std::memory_order_relaxed);
      work_.Signal();
      return;
    }
  }
  dropped_.fetch_add(1, std::memory_order_relaxed);
  // `ticket` is destroyed here, outside the lock: its flight is withdrawn.
}

void Refresher::Run() {
  for (;;) {
    cache::FillTicket ticket;
    {
      absl::MutexLock lock(&mu_);
      while (!stopping_ && queue_.empty()) work_.Wait(&mu_);
      if (stopping_) return;
      ticket = std::move(queue_.front());
      queue_.pop_front();
    }
    reload_(&ticket);
    ASIDEKV_SYNC_POINT("Refresher::Run:Reloaded");
  }
}

}  // namespace asidekv::core
