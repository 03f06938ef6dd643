#include "remote/cluster_invalidation.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "remote/invalidation_channel.h"
#include "remote/redis_config.h"
#include "remote/redis_tier.h"
#include "util/monotonic_clock.h"

namespace asidekv::remote {
namespace {

constexpr int64_t kFirstRetryNanos = 10 * 1000 * 1000;
constexpr int64_t kMaxRetryNanos = 1000 * 1000 * 1000;

}  // namespace

// The channels' sink: forwards invalidations, and turns their deadlines into one (Publish).
class ClusterInvalidation::Impl final : public InvalidationSink {
 public:
  Impl(RedisConfig config, absl::Duration bound, InvalidationSink* sink, RedisTier* tier)
      : config_(std::move(config)), bound_(bound), sink_(sink), tier_(tier) {}

  ~Impl() override {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
      wake_.SignalAll();
    }
    if (thread_.joinable()) thread_.join();
    {
      // A channel still running may report while another is destroyed: Publish reads none.
      absl::MutexLock lock(&publish_mu_);
      active_count_.store(0, std::memory_order_release);
    }
    // The channels go with channels_ (after the thread, which also touches them).
  }

  // The first reconcile (synchronously, errors returned), then the thread.
  absl::Status Start() {
    absl::Status s = Reconcile(tier_->topology_epoch());
    if (!s.ok()) return s;
    thread_ = std::thread([this] { Run(); });
    return absl::OkStatus();
  }

  bool Serving() const {
    if (tier_->topology_epoch() != epoch_.load(std::memory_order_acquire)) return false;
    const int64_t since = reconciled_at_.load(std::memory_order_acquire);
    const int n = active_count_.load(std::memory_order_acquire);
    const int64_t now = util::MonotonicNanos();
    for (int i = 0; i < n; ++i) {
      if (!active_[i].load(std::memory_order_acquire)->ServingSince(since, now)) return false;
    }
    return n > 0;
  }

  // InvalidationSink, from the channels' threads.
  void OnInvalidate(absl::Span<const std::string_view> keys) override { sink_->OnInvalidate(keys); }
  void OnInvalidateAll() override { sink_->OnInvalidateAll(); }
  void OnServingUntil(int64_t) override { Publish(); }

  bool WaitServing(absl::Duration timeout) const {
    const int64_t deadline = util::MonotonicNanos() + absl::ToInt64Nanoseconds(timeout);
    absl::MutexLock lock(&mu_);
    while (!Serving()) {
      const int64_t left = deadline - util::MonotonicNanos();
      if (left <= 0) return false;
      // The channels signal their own gates, not this one: look again every millisecond.
      wake_.WaitWithTimeout(&mu_, std::min(absl::Nanoseconds(left), absl::Milliseconds(1)));
    }
    return true;
  }

  ClusterInvalidationStats GetStats() const {
    ClusterInvalidationStats s;
    s.topology_changes = topology_changes_.load(std::memory_order_relaxed);
    absl::MutexLock lock(&mu_);
    for (const auto& [name, channel] : channels_) {
      const InvalidationChannelStats c = channel->GetStats();
      s.channels.messages += c.messages;
      s.channels.keys += c.keys;
      s.channels.flushes += c.flushes;
      s.channels.lapses += c.lapses;
      s.channels.reconnects += c.reconnects;
      s.channels.pings += c.pings;
      s.channels.pongs += c.pongs;
    }
    return s;
  }

 private:
  // The deadline over every master (see the file comment), handed to the sink.
  void Publish() {
    absl::MutexLock lock(&publish_mu_);
    int64_t horizon = 0;
    if (tier_->topology_epoch() == epoch_.load(std::memory_order_acquire)) {
      const int64_t since = reconciled_at_.load(std::memory_order_acquire);
      const int n = active_count_.load(std::memory_order_acquire);
      const int64_t bound = absl::ToInt64Nanoseconds(bound_);
      for (int i = 0; i < n; ++i) {
        const int64_t until = active_[i].load(std::memory_order_acquire)->ServingUntil();
        if (until - bound <= since) {  // Closed, or no PONG for a PING since the reconcile.
          horizon = 0;
          break;
        }
        horizon = i == 0 ? until : std::min(horizon, until);
      }
    }
    sink_->OnServingUntil(horizon);
  }

  // Steps 1-4 of the file comment, for the map as of `epoch` (read before the refresh).
  absl::Status Reconcile(uint64_t epoch) {
    // A failed read keeps the map the tier has (it follows MOVEDs by itself).
    tier_->RefreshTopology().IgnoreError();
    epoch = std::max(epoch, tier_->topology_epoch());
    const std::vector<RedisAddress> masters = tier_->masters();
    if (masters.size() > static_cast<size_t>(kMaxMasters)) {
      return absl::UnimplementedError(
          absl::StrCat("a Redis Cluster of more than ", kMaxMasters, " masters"));
    }
    sink_->OnInvalidateAll();
    std::vector<InvalidationChannel*> active;
    active.reserve(masters.size());
    for (const RedisAddress& master : masters) {
      const std::string name = master.ToString();
      InvalidationChannel* channel = nullptr;
      {
        absl::MutexLock lock(&mu_);
        auto it = channels_.find(name);
        if (it != channels_.end()) channel = it->second.get();
      }
      if (channel == nullptr) {
        RedisConfig one = config_;
        one.address = name;
        absl::StatusOr<std::unique_ptr<InvalidationChannel>> started =
            InvalidationChannel::Start(one, bound_, this);
        if (!started.ok()) return started.status();
        channel = started->get();
        absl::MutexLock lock(&mu_);
        channels_[name] = *std::move(started);
      }
      active.push_back(channel);
    }
    // The gate is closed meanwhile (epoch_ lags the tier's): readers may see a mix of entries.
    for (size_t i = 0; i < active.size(); ++i) {
      active_[i].store(active[i], std::memory_order_release);
    }
    active_count_.store(static_cast<int>(active.size()), std::memory_order_release);
    reconciled_at_.store(util::MonotonicNanos(), std::memory_order_release);
    epoch_.store(epoch, std::memory_order_release);
    Publish();
    return absl::OkStatus();
  }

  void Run() {
    int64_t next_refresh = util::MonotonicNanos() + absl::ToInt64Nanoseconds(kTopologyPoll);
    // After a failed reconcile (a new master not reachable yet): 10 ms doubling to 1 s.
    int64_t backoff = 0;
    int64_t retry_at = 0;
    uint64_t published_epoch = epoch_.load(std::memory_order_acquire);
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        if (stop_) return;
        wake_.WaitWithTimeout(&mu_, kEpochPoll);
        if (stop_) return;
      }
      const int64_t now = util::MonotonicNanos();
      if (now >= next_refresh) {
        next_refresh = now + absl::ToInt64Nanoseconds(kTopologyPoll);
        tier_->RefreshTopology().IgnoreError();  // A change raises the epoch: handled below.
      }
      const uint64_t epoch = tier_->topology_epoch();
      if (epoch == epoch_.load(std::memory_order_acquire)) continue;
      if (epoch != published_epoch) {  // Close the sink's horizon at once.
        published_epoch = epoch;
        Publish();
      }
      if (now < retry_at) continue;
      if (Reconcile(epoch).ok()) {
        topology_changes_.fetch_add(1, std::memory_order_relaxed);
        backoff = 0;
      } else {
        backoff = std::clamp<int64_t>(2 * backoff, kFirstRetryNanos, kMaxRetryNanos);
        retry_at = util::MonotonicNanos() + backoff;
      }
    }
  }

  const RedisConfig config_;
  const absl::Duration bound_;
  InvalidationSink* const sink_;  // Not owned.
  RedisTier* const tier_;         // Not owned.

  // The gate (see the file comment). Written by Reconcile only.
  std::array<std::atomic<InvalidationChannel*>, kMaxMasters> active_{};
  std::atomic<int> active_count_{0};
  std::atomic<int64_t> reconciled_at_{0};
  std::atomic<uint64_t> epoch_{0};
  std::atomic<uint64_t> topology_changes_{0};

  absl::Mutex publish_mu_;  // Publish() one at a time; never held with mu_.

  mutable absl::Mutex mu_;
  mutable absl::CondVar wake_;  // Wakes the thread to stop; WaitServing's timed wait.
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  // Every channel ever started, by master; never shrinks (see the file comment).
  absl::flat_hash_map<std::string, std::unique_ptr<InvalidationChannel>> channels_
      ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

absl::StatusOr<std::unique_ptr<ClusterInvalidation>> ClusterInvalidation::Start(
    const RedisConfig& config, absl::Duration bound, InvalidationSink* sink, RedisTier* tier) {
  if (sink == nullptr || tier == nullptr) {
    return absl::InvalidArgumentError("no invalidation sink or no tier");
  }
  if (bound < absl::Milliseconds(1)) {
    return absl::InvalidArgumentError("the invalidation bound must be at least 1 ms");
  }
  auto impl = std::make_unique<Impl>(config, bound, sink, tier);
  absl::Status s = impl->Start();
  if (!s.ok()) return s;
  return std::unique_ptr<ClusterInvalidation>(new ClusterInvalidation(std::move(impl)));
}

ClusterInvalidation::ClusterInvalidation(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ClusterInvalidation::~ClusterInvalidation() = default;

bool ClusterInvalidation::Serving() const { return impl_->Serving(); }
bool ClusterInvalidation::WaitServing(absl::Duration timeout) const {
  return impl_->WaitServing(timeout);
}
ClusterInvalidationStats ClusterInvalidation::GetStats() const { return impl_->GetStats(); }

}  // namespace asidekv::remote
