#include "core/relay.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "util/monotonic_clock.h"
#include "util/string_view.h"
#include "util/sync_point.h"

namespace asidekv::core {
namespace {

constexpr absl::Duration kReadWait = absl::Milliseconds(100);
constexpr size_t kMaxBatch = 1024;
constexpr absl::Duration kFirstRetry = absl::Milliseconds(10);
constexpr absl::Duration kMaxRetry = absl::Seconds(1);

}  // namespace

std::string CommitLogRelay::SlotName(const Options& options) {
  return options.relay_slot.empty() ? db::ChangeFeed::DefaultSlotName(options.postgres_table)
                                    : options.relay_slot;
}

absl::StatusOr<std::unique_ptr<CommitLogRelay>> CommitLogRelay::Start(const Options& options,
                                                                      remote::RedisTier* redis) {
  db::ChangeFeedOptions feed;
  feed.conninfo = options.postgres;
  feed.table = options.postgres_table;
  feed.slot = SlotName(options);
  feed.timeout = options.postgres_timeout;
  absl::StatusOr<std::unique_ptr<db::ChangeFeed>> created = db::ChangeFeed::Create(feed);
  if (!created.ok()) return created.status();
  std::unique_ptr<CommitLogRelay> relay(new CommitLogRelay(options, *std::move(created), redis));
  relay->thread_ = std::thread([r = relay.get()] { r->Run(); });
  return relay;
}

CommitLogRelay::CommitLogRelay(const Options& options, std::unique_ptr<db::ChangeFeed> feed,
                               remote::RedisTier* redis)
    : log_(options.log), max_lag_(options.relay_max_lag), feed_(std::move(feed)), redis_(redis) {}

CommitLogRelay::~CommitLogRelay() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    stop_cv_.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
}

bool CommitLogRelay::stopping() const {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

bool CommitLogRelay::WaitStopping(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  const int64_t until = util::MonotonicNanos() + absl::ToInt64Nanoseconds(d);
  while (!stopping_) {
    const int64_t left = until - util::MonotonicNanos();
    if (left <= 0) break;
    stop_cv_.WaitWithTimeout(&mu_, absl::Nanoseconds(left));
  }
  return stopping_;
}

void CommitLogRelay::Warn(std::string_view what, const absl::Status& s) {
  std::string message = absl::StrCat("commit-log relay: ", util::ToAbsl(what), ": ", s.ToString());
  if (message == last_warning_) return;
  Log(log_, LogSeverity::kWarning, message);
  last_warning_ = std::move(message);
}

void CommitLogRelay::Run() {
  while (!stopping()) {
    absl::StatusOr<bool> led = feed_->TryLead();
    if (!led.ok()) Warn("cannot take part in the leader election", led.status());
    if (!led.ok() || !*led) {
      WaitStopping(kLeaderRetry);
      continue;
    }
    last_warning_.clear();
    Log(log_, LogSeverity::kInfo,
        absl::StrCat("commit-log relay: this Store leads (", feed_->server(), ")"));
    leader_.store(1, std::memory_order_relaxed);
    Lead();
    leader_.store(0, std::memory_order_relaxed);
    feed_->Resign();
  }
}

void CommitLogRelay::Lead() {
  absl::Duration retry = kFirstRetry;
  while (!stopping() && feed_->CheckLeadership()) {
    if (!feed_->streaming()) {
      // Before a new slot: a relay that dies between making it and flushing leaves the flush
      // owed to the next one.
      absl::StatusOr<db::ChangeFeed::SlotState> state =
          feed_->Open([this] { return redis_->OweFlush(); });
      if (!state.ok()) {
        Warn("cannot read the replication slot", state.status());
        if (WaitStopping(retry)) return;
        retry = std::min(2 * retry, kMaxRetry);
        continue;
      }
      retry = kFirstRetry;
      absl::StatusOr<bool> owed = redis_->FlushOwed();  // Unknown counts as owed.
      if ((*state == db::ChangeFeed::SlotState::kCreated || !owed.ok() || *owed) &&
          !Flush("its replication slot was (re)created: changes before it were not read")) {
        return;
      }
    }
    const int64_t deadline = util::MonotonicNanos() + absl::ToInt64Nanoseconds(kReadWait);
    absl::StatusOr<std::vector<db::FeedTransaction>> batch = feed_->Read(deadline, kMaxBatch);
    if (!batch.ok()) {
      Warn("the replication stream failed", batch.status());
      continue;  // The stream is closed: reopened above.
    }
    if (batch->empty()) continue;
    if (!Process(*batch)) feed_->CloseStream();
  }
}

bool CommitLogRelay::AwaitVisible(const std::vector<db::FeedTransaction>& batch) {
  while (true) {
    absl::StatusOr<bool> visible = feed_->Visible(batch);
    if (!visible.ok()) {
      Warn("cannot read which transactions are visible", visible.status());
      return false;
    }
    if (*visible) return true;
    if (WaitStopping(kVisibleRetry) || !feed_->CheckLeadership()) return false;
  }
}

bool CommitLogRelay::Process(const std::vector<db::FeedTransaction>& batch) {
  // Not before the batch is visible: a reader that missed after an invalidation sent earlier
  // would read the old rows and fill Redis with them, and nothing would invalidate them again.
  if (!AwaitVisible(batch)) return false;
  const uint64_t seen_end = feed_->server_wal_end();  // Before any flush below.
  bool all_keys = false;
  bool behind = false;
  std::vector<std::string_view> keys;
  for (const db::FeedTransaction& t : batch) {
    all_keys = all_keys || t.all_keys;
    const int64_t delay_nanos =
        t.server_delay_micros.value_or(0) * 1000 + (util::MonotonicNanos() - t.received_nanos);
    behind = behind || absl::Nanoseconds(delay_nanos) > max_lag_;
    for (const std::string& k : t.keys) keys.push_back(k);
  }
  if (behind) {
    // Replaying the backlog would leave its old values served meanwhile: flush, and skip to the
    // server's WAL end seen before the flush (every commit up to it predates the flush).
    if (!Flush(absl::StrCat("it fell more than relay_max_lag (", absl::FormatDuration(max_lag_),
                            ") behind"))) {
      return false;
    }
    absl::Status s = feed_->Confirm(std::max(seen_end, batch.back().end_lsn));
    if (!s.ok()) Warn("cannot confirm the replication slot", s);
    return false;  // Reopen: the stream would otherwise send the backlog anyway.
  }
  if (all_keys) {
    if (!Flush("a transaction truncated the table or changed keys it does not name")) {
      return false;
    }
  } else if (!keys.empty() && !Invalidate(keys)) {
    return false;
  }
  const int64_t landed = util::MonotonicNanos();
  bool skip_confirm = false;  // Tests: a relay that dies before confirming.
  ASIDEKV_SYNC_POINT_CALLBACK("CommitLogRelay::Process:BeforeConfirm", &skip_confirm);
  if (!skip_confirm) {
    absl::Status s = feed_->Confirm(batch.back().end_lsn);
    if (!s.ok()) {
      Warn("cannot confirm the replication slot", s);
      return false;
    }
  }
  transactions_.fetch_add(batch.size(), std::memory_order_relaxed);
  invalidations_.fetch_add(all_keys ? 0 : keys.size(), std::memory_order_relaxed);
  for (const db::FeedTransaction& t : batch) {
    if (!t.server_delay_micros.has_value()) continue;
    const int64_t lag = *t.server_delay_micros * 1000 + (landed - t.received_nanos);
    lag_.Record(lag > 0 ? static_cast<uint64_t>(lag) : 0);
  }
  return true;
}

bool CommitLogRelay::Flush(std::string_view why) {
  absl::Duration retry = kFirstRetry;
  while (true) {
    absl::StatusOr<uint64_t> removed = redis_->FlushAll();
    if (removed.ok()) {
      flushes_.fetch_add(1, std::memory_order_relaxed);
      Log(log_, LogSeverity::kWarning,
          absl::StrCat("commit-log relay: flushed ", *removed, " keys from ", redis_->server(),
                       " (and so every Store's cache) because ", util::ToAbsl(why)));
      return true;
    }
    Warn("cannot flush the Redis tier", removed.status());
    if (WaitStopping(retry) || !feed_->CheckLeadership()) return false;
    retry = std::min(2 * retry, kMaxRetry);
  }
}

bool CommitLogRelay::Invalidate(const std::vector<std::string_view>& keys) {
  absl::Duration retry = kFirstRetry;
  while (true) {
    absl::Status s = redis_->Invalidate(keys);
    if (s.ok()) return true;
    Warn("cannot invalidate in Redis", s);
    if (WaitStopping(retry) || !feed_->CheckLeadership()) return false;
    retry = std::min(2 * retry, kMaxRetry);
  }
}

void CommitLogRelay::AddStats(Stats* stats) const {
  stats->relay_leader += leader_.load(std::memory_order_relaxed);
  stats->relay_transactions += transactions_.load(std::memory_order_relaxed);
  stats->relay_invalidations += invalidations_.load(std::memory_order_relaxed);
  stats->relay_flushes += flushes_.load(std::memory_order_relaxed);
  stats->relay_lag = lag_.Summary();
}

}  // namespace asidekv::core
