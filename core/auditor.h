// Auditor: the consistency probe of a running Store (Options::audit_fraction), after Meta's
// Polaris: a sampled fraction of cache hits is re-read from the database Options::audit_delay
// later, and a hit whose value the database no longer holds counts as a mismatch
// (Stats::audit_mismatches), so users can watch the staleness promise in production.
//
// What a mismatch means. The database is read `delay` after the hit, so a write of the key in
// between (by any process) also makes a mismatch: the count is an upper bound on the hits that
// served an older value than the database held, and the lower the delay against the keys' rewrite
// interval, the closer. With delay >= the mode's bound (max_staleness, or Δ with a Redis tier),
// a mismatch that persists over audits of one key says the promise was broken; with kStrict or a
// single process, any mismatch of a key nobody wrote in between is a bug.
//
// Cost. A hit draws one thread-local random number; a sampled hit copies its key and hashes its
// value under a mutex (64-bit hash, no copy of the value). The re-reads run on one thread of
// their own, one database Get each (not counted in Stats::db_reads). At most kMaxPending samples
// wait; more are dropped and counted (Stats::audits_dropped).
//
// Thread safety: OnHit and the counters may be called from any thread.
// Ownership: borrows the database and the filler (for decoding), which must outlive it; the
//   destructor stops its thread (samples still waiting are dropped, uncounted).

#ifndef ASIDEKV_CORE_AUDITOR_H_
#define ASIDEKV_CORE_AUDITOR_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "asidekv/database.h"
#include "cache/entry.h"
#include "core/filler.h"

namespace asidekv::core {

class Auditor {
 public:
  static constexpr size_t kMaxPending = 10000;

  // Starts the re-read thread. REQUIRES: 0 < fraction <= 1, delay > 0.
  Auditor(Database* db, const Filler* filler, double fraction, absl::Duration delay);
  ~Auditor();
  Auditor(const Auditor&) = delete;
  Auditor& operator=(const Auditor&) = delete;

  // A cache hit served `hit` (a value, or a cached "not found" with tag Filler::kNegativeTag):
  // samples it with probability `fraction`.
  void OnHit(const cache::ValueRef& hit) ABSL_LOCKS_EXCLUDED(mu_);

  uint64_t audits() const { return audits_.load(std::memory_order_relaxed); }
  uint64_t mismatches() const { return mismatches_.load(std::memory_order_relaxed); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  struct Sample {
    std::string key;
    bool absent;          // The hit said "not found".
    uint64_t value_hash;  // Of the value served (0 when absent).
    int64_t due_nanos;    // util::MonotonicNanos() of the re-read.
  };

  // Whether this hit is sampled (a thread-local xorshift draw).
  bool Draw() const;
  void Run() ABSL_LOCKS_EXCLUDED(mu_);
  // Re-reads the sample's key; counts the audit and, when the database disagrees, the mismatch.
  void Check(const Sample& sample);

  Database* const db_;          // Not owned.
  const Filler* const filler_;  // Not owned.
  const uint64_t threshold_;    // A draw below it samples: fraction * 2^64.
  const int64_t delay_nanos_;

  absl::Mutex mu_;
  absl::CondVar wake_;  // Signalled on the first pending sample and on stop.
  std::deque<Sample> pending_ ABSL_GUARDED_BY(mu_);  // By due time (the delay is constant).
  bool stop_ ABSL_GUARDED_BY(mu_) = false;

  std::atomic<uint64_t> audits_{0};
  std::atomic<uint64_t> mismatches_{0};
  std::atomic<uint64_t> dropped_{0};
  std::thread thread_;  // Last: started once everything above is set.
};

}  // namespace asidekv::core

#endif  // ASIDEKV_CORE_AUDITOR_H_
