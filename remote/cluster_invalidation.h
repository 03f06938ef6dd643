// ClusterInvalidation: the invalidation channel of an in-process cache over a Redis Cluster:
// one InvalidationChannel per master (each master broadcasts only the changes of its own slots),
// one gate over all of them, and a thread that follows the slot map.
//
// States of the gate (Serving()):
//   serving     the slot map has not changed since the last reconcile (RedisTier's
//               topology_epoch() == the epoch reconciled), and every current master's channel
//               holds a PONG for a PING sent after that reconcile (InvalidationChannel::
//               ServingSince): every write acknowledged by any master more than `bound` ago has
//               reached the sink.
//   closed      otherwise: a master's channel lost its connection or lapsed (the channel itself
//               flushed the sink), or the map changed (a MOVED seen by the data path, or the
//               periodic CLUSTER SLOTS read, every kTopologyPoll, found another map).
// Transitions: the thread notices a new epoch within kEpochPoll, then
//   1. reads CLUSTER SLOTS again (RedisTier::RefreshTopology; a failure keeps the map it has),
//   2. flushes the sink (OnInvalidateAll: drop everything and reject every fill in flight: the
//      instance no longer vouches for what it cached under the old map),
//   3. starts a channel for each master it has none for (one that cannot connect yet: the gate
//      stays closed and the thread tries again after 10 ms, doubling to 1 s),
//   4. publishes the masters and the reconcile instant; the gate reopens once every master's
//      channel PONGs a PING sent after it.
// A lost master (killed, paused, cut off) closes the gate through its channel until it answers
// again; its channel keeps reconnecting (remote/invalidation_channel.h) and flushes at
// resubscription. Channels of masters that leave the map are kept (idle, and reused if the
// master comes back) until destruction, so that Serving() never reads a freed channel.
//
// The sink's horizon (InvalidationSink::OnServingUntil): the channels report to this object,
// which hands the sink the gate's deadline over all of them: the earliest master's deadline
// while the map is unchanged and every master has answered a PING sent after the reconcile,
// else 0. It is recomputed (under one mutex, so an older answer never overwrites a newer one)
// at every channel's report, and by the thread when it sees a new epoch (within kEpochPoll of
// a MOVED) and after each reconcile.
//
// Cost: Serving() reads the clock once and makes 2 + 1 per master atomic loads.
//
// Thread safety: Serving(), WaitServing() and GetStats() may be called from any thread. The sink
//   is called from every channel's thread and this thread, concurrently.
// Ownership: borrows the sink and the RedisTier, which outlive it; the destructor stops the
//   thread and the channels.

#ifndef ASIDEKV_REMOTE_CLUSTER_INVALIDATION_H_
#define ASIDEKV_REMOTE_CLUSTER_INVALIDATION_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "remote/invalidation_channel.h"
#include "remote/redis_config.h"
#include "remote/redis_tier.h"

namespace asidekv::remote {

struct ClusterInvalidationStats {
  InvalidationChannelStats channels;  // Summed over every master's channel.
  uint64_t topology_changes = 0;      // Reconciles after a change of the slot map.
};

class ClusterInvalidation {
 public:
  static constexpr absl::Duration kEpochPoll = absl::Milliseconds(5);
  static constexpr absl::Duration kTopologyPoll = absl::Seconds(1);
  // Room for this many masters; a map with more fails Start (Unimplemented).
  static constexpr int kMaxMasters = 1024;

  // Starts a channel on every master of `tier` (synchronously; errors as
  // InvalidationChannel::Start), then the thread. `config` is the cluster's (its credentials and
  // prefix serve every master); `bound` as InvalidationChannel's.
  static absl::StatusOr<std::unique_ptr<ClusterInvalidation>> Start(const RedisConfig& config,
                                                                    absl::Duration bound,
                                                                    InvalidationSink* sink,
                                                                    RedisTier* tier);
  ~ClusterInvalidation();
  ClusterInvalidation(const ClusterInvalidation&) = delete;
  ClusterInvalidation& operator=(const ClusterInvalidation&) = delete;

  // See the file comment.
  bool Serving() const;
  // Waits until Serving() or `timeout` passes; returns Serving().
  bool WaitServing(absl::Duration timeout) const;
  ClusterInvalidationStats GetStats() const;

 private:
  class Impl;
  explicit ClusterInvalidation(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace asidekv::remote

#endif  // ASIDEKV_REMOTE_CLUSTER_INVALIDATION_H_
