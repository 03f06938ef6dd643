// CommitLogRelay: the commit-log backstop of the Redis tier (Options::commit_log_relay). One
// thread per Store; among the Stores sharing a table, one leads at a time and relays every
// committed change of the table into Redis as an invalidation, so a write whose writer crashed
// between its commit and its UNLINK, whose writer could not reach Redis, or that another
// program made (psql, a migration) reaches every tier anyway.
//
// States of the thread and transitions:
//   follower --TryLead() true--> leader      (db::ChangeFeed: an advisory lock; others retry
//                                             every kLeaderRetry, so a takeover happens within
//                                             about kLeaderRetry + the old session's end)
//   leader: open the stream; a slot created (first run, dropped, or lost to
//           max_slot_wal_keep_size) -> FlushAll, since changes before it were never read (a
//           flush-owed marker set in Redis before the slot is made, and cleared by FlushAll,
//           hands that flush to the next leader if this one dies in between)
//   leader: Read a batch of transactions (up to 1024 already received, waiting up to 100 ms)
//       -> wait until each is visible to new snapshots: decoding streams a commit once its
//          record is flushed, before the server ends the transaction, and a reader that missed
//          in between would read the old rows and put them back into Redis (one round trip on
//          the leader session per batch; polled every kVisibleRetry while it says no)
//       -> some transaction TRUNCATEd or changed keys it cannot name      -> FlushAll
//       -> some transaction committed longer than relay_max_lag ago      -> FlushAll, confirm
//          the server's WAL end seen before the flush, and reopen (the backlog is skipped)
//       -> otherwise UNLINK value and lease of every key (RedisTier::Invalidate, one pipelined
//          round trip, in commit order); retried every 10 ms, doubling to 1 s, until it lands
//       then Confirm the batch's last commit: the slot moves only past invalidations that landed,
//       so a relay that dies replays them (UNLINK is idempotent: a replay costs a miss).
//   leader --leader session lost or the Store closes--> follower / stopped
// RedisTier::Invalidate also writes each key's write marker, which Redis broadcasts to every
// Store's invalidation channel, and FlushAll ends with the flush marker, so near caches follow
// with no extra message.
//
// Lag (Stats::relay_lag): from a transaction's commit to its invalidation's
// acknowledgement: the server's delay to send it (on the server's clock) plus the time from its
// arrival here to Redis's answer (monotonic). Measured with tools/bench_remote/relay_benchmark
// (2,000 single-key writes/s from a writer that never invalidates Redis, fsync on, 2 cores
// shared with PostgreSQL and Redis, 3 runs of 10 s): p50 0.56-0.59 ms, p99 2.6-3.3 ms, p99.9
// 4.7-6.3 ms; a Put's return to the old value gone from Redis: p50 0.8 ms, p99 4-6 ms.
//
// Thread safety: AddStats and LagHistogram may be called from any thread.
// Ownership: borrows the RedisTier (the RemoteTier's), which outlives it; owns the change feed.
//   The destructor stops the thread, which ends the leadership (another Store takes over).

#ifndef ASIDEKV_CORE_RELAY_H_
#define ASIDEKV_CORE_RELAY_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "asidekv/options.h"
#include "asidekv/stats.h"
#include "core/introspection.h"
#include "core/latency_histogram.h"
#include "db/postgres/change_feed.h"
#include "remote/redis_tier.h"

namespace asidekv::core {

class CommitLogRelay {
 public:
  // How often a follower tries to take the lead.
  static constexpr absl::Duration kLeaderRetry = absl::Milliseconds(250);
  // How often a batch whose commits are not visible yet is looked at again.
  static constexpr absl::Duration kVisibleRetry = absl::Microseconds(200);

  // The relay's slot for `options` (relay_slot, or the name derived from postgres_table).
  static std::string SlotName(const Options& options);

  // Starts the thread. InvalidArgument for bad options (as db::ChangeFeed::Create).
  static absl::StatusOr<std::unique_ptr<CommitLogRelay>> Start(const Options& options,
                                                               remote::RedisTier* redis);
  ~CommitLogRelay();
  CommitLogRelay(const CommitLogRelay&) = delete;
  CommitLogRelay& operator=(const CommitLogRelay&) = delete;

  // Adds relay_leader, relay_transactions, relay_invalidations, relay_flushes and relay_lag to
  // `stats`.
  void AddStats(Stats* stats) const;
  LatencyHistogramData LagHistogram() const { return lag_.Data(); }

 private:
  CommitLogRelay(const Options& options, std::unique_ptr<db::ChangeFeed> feed,
                 remote::RedisTier* redis);

  void Run();
  // One term as leader; returns when the leadership is lost or the relay stops.
  void Lead();
  // Waits until every transaction of `batch` is visible to new snapshots (db::ChangeFeed::
  // Visible), polling every kVisibleRetry; false when the relay stopped, lost the lead or
  // failed to ask.
  bool AwaitVisible(const std::vector<db::FeedTransaction>& batch);
  // Handles one batch (see the file comment). False when the stream must be reopened.
  bool Process(const std::vector<db::FeedTransaction>& batch);
  // FlushAll, retried until it lands; false when the relay stopped or lost the lead first.
  bool Flush(std::string_view why);
  // Invalidate(keys), retried until it lands; false as for Flush.
  bool Invalidate(const std::vector<std::string_view>& keys);
  // Waits up to `d`; true when the relay is stopping.
  bool WaitStopping(absl::Duration d) ABSL_LOCKS_EXCLUDED(mu_);
  bool stopping() const ABSL_LOCKS_EXCLUDED(mu_);
  // Logs `s` (a warning) unless the previous failure had the same message.
  void Warn(std::string_view what, const absl::Status& s);

  const LogFunction log_;
  const absl::Duration max_lag_;
  // Used by the thread only.
  const std::unique_ptr<db::ChangeFeed> feed_;
  remote::RedisTier* const redis_;  // Not owned; outlives this.
  std::string last_warning_;        // The thread's only.

  mutable absl::Mutex mu_;
  absl::CondVar stop_cv_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  std::atomic<uint64_t> leader_{0};
  std::atomic<uint64_t> transactions_{0};
  std::atomic<uint64_t> invalidations_{0};
  std::atomic<uint64_t> flushes_{0};
  LatencyHistogram lag_;
  std::thread thread_;  // Last: started once everything it uses is built.
};

}  // namespace asidekv::core

#endif  // ASIDEKV_CORE_RELAY_H_
