#include "core/auditor.h"

#include <cmath>
#include <functional>
#include <limits>
#include <utility>

#include "util/hash.h"
#include "util/monotonic_clock.h"

namespace asidekv::core {
namespace {

uint64_t Threshold(double fraction) {
  if (fraction >= 1) return std::numeric_limits<uint64_t>::max();
  return static_cast<uint64_t>(std::ldexp(fraction, 64));
}

}  // namespace

Auditor::Auditor(Database* db, const Filler* filler, double fraction, absl::Duration delay)
    : db_(db),
      filler_(filler),
      threshold_(Threshold(fraction)),
      delay_nanos_(absl::ToInt64Nanoseconds(delay)),
      thread_([this] { Run(); }) {}

Auditor::~Auditor() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
    wake_.SignalAll();
  }
  thread_.join();
}

bool Auditor::Draw() const {
  if (threshold_ == std::numeric_limits<uint64_t>::max()) return true;
  // xorshift64*, one state per thread, seeded from the thread's identity.
  thread_local uint64_t state =
      (std::hash<std::thread::id>()(std::this_thread::get_id()) | 1) * 0x9E3779B97F4A7C15ull;
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return state * 0x2545F4914F6CDD1Dull < threshold_;
}

void Auditor::OnHit(const cache::ValueRef& hit) {
  if (!Draw()) return;
  const bool absent = hit.tag() == Filler::kNegativeTag;
  Sample sample{std::string(hit.key()), absent, absent ? 0 : util::HashKey(hit.value()),
                util::MonotonicNanos() + delay_nanos_};
  absl::MutexLock lock(&mu_);
  if (pending_.size() >= kMaxPending) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  pending_.push_back(std::move(sample));
  if (pending_.size() == 1) wake_.Signal();
}

void Auditor::Run() {
  // CondVar waits, not Conditions: ThreadSanitizer sees Debian's (uninstrumented) Abseil only
  // through tests/testing/absl_mutex_tsan.cc, which cannot order a Condition's evaluation.
  mu_.Lock();
  while (!stop_) {
    if (pending_.empty()) {
      wake_.Wait(&mu_);
      continue;
    }
    const int64_t wait = pending_.front().due_nanos - util::MonotonicNanos();
    if (wait > 0) {
      wake_.WaitWithTimeout(&mu_, absl::Nanoseconds(wait));
      continue;
    }
    const Sample sample = std::move(pending_.front());
    pending_.pop_front();
    mu_.Unlock();
    Check(sample);
    mu_.Lock();
  }
  mu_.Unlock();
}

void Auditor::Check(const Sample& sample) {
  std::string stored;
  absl::Status s = db_->Get(sample.key, &stored);
  absl::StatusOr<std::string> result =
      s.ok() ? absl::StatusOr<std::string>(std::move(stored)) : absl::StatusOr<std::string>(s);
  const Filler::Loaded loaded = filler_->Decode(std::move(result), 0);
  const bool absent = absl::IsNotFound(loaded.value.status());
  if (!loaded.value.ok() && !absent) return;  // The database failed: no verdict.
  audits_.fetch_add(1, std::memory_order_relaxed);
  const bool same =
      absent ? sample.absent : !sample.absent && util::HashKey(*loaded.value) == sample.value_hash;
  if (!same) mismatches_.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace asidekv::core
