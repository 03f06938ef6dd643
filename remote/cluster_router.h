// ClusterRouter: runs RedisTier's commands on a Redis Cluster, each on the master of its key's
// slot (remote/cluster_slots.h), with one RedisNode (pool + breaker) per master.
//
// Call(commands, slots): the commands are grouped by master and sent as one pipeline per master
// (one round trip each, one master after the other). Then, per reply:
//   -MOVED <slot> <host:port>  the slot lives elsewhere now: the router's map takes the new
//                              master for that slot, the topology epoch goes up (a change this
//                              process saw: its near caches stop vouching, see
//                              remote/cluster_invalidation.h), and the command is sent there;
//   -ASK <slot> <host:port>    the slot is being migrated and the key is on the target: the
//                              command is sent there once, preceded by ASKING on the same
//                              connection; the map does not change;
//   -TRYAGAIN                  a multi-key command (every script: value, lease and marker)
//                              while its slot's keys are split between source and target: sent
//                              again after 1, 2, 4... ms (at most 50 ms apart), until the timeout;
//   anything else              the answer, error replies included.
// At most kMaxRedirects redirections per command. A master that cannot be reached fails its
// commands (its breaker opens: RedisNode), not the others'.
//
// Refresh() reads CLUSTER SLOTS again (from the known masters over their pooled connections,
// then the seeds); a map that differs from the router's replaces it and raises the epoch.
//
// Thread safety: every method may be called concurrently. The map and the nodes are guarded by
//   mu_, never held across a round trip. Nodes are shared: a call keeps the ones it uses alive.

#ifndef ASIDEKV_REMOTE_CLUSTER_ROUTER_H_
#define ASIDEKV_REMOTE_CLUSTER_ROUTER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "remote/cluster_slots.h"
#include "remote/redis_connection.h"
#include "remote/redis_node.h"

namespace asidekv::remote {

class ClusterRouter {
 public:
  static constexpr int kMaxRedirects = 5;

  // Reads the topology from the seeds (FetchClusterTopology) and starts a node per master
  // (RedisNode::Start: each is checked for persistence and loads the scripts). Returns the
  // scripts' SHA1 digests in *shas.
  static absl::StatusOr<std::unique_ptr<ClusterRouter>> Connect(
      const RedisEndpoint& endpoint, std::vector<RedisAddress> seeds, int connections,
      std::vector<std::string_view> scripts, std::vector<std::string>* shas);

  // One result per command, in order (see the file comment). `slots[i]` is commands[i]'s slot.
  std::vector<absl::StatusOr<RedisReply>> Call(const std::vector<RedisCommand>& commands,
                                               absl::Span<const uint16_t> slots);
  // `commands` on one master as they are (no routing): for SCAN.
  absl::StatusOr<std::vector<RedisReply>> CallOn(const RedisAddress& master,
                                                 const std::vector<RedisCommand>& commands);

  // Reads CLUSTER SLOTS again; true when the map changed (the epoch went up).
  absl::StatusOr<bool> Refresh();
  // Raised by every change of the map: a MOVED, or a Refresh that found a different map.
  uint64_t epoch() const { return epoch_.load(std::memory_order_acquire); }
  ClusterTopology topology() const;

  // Every master's breaker is closed.
  bool available() const;
  uint64_t reconnects() const;

 private:
  ClusterRouter(RedisEndpoint endpoint, std::vector<RedisAddress> seeds, int connections,
                std::vector<std::string_view> scripts, ClusterTopology topology);

  // The node of `address`, made (not connected: its pool connects on demand) if new.
  std::shared_ptr<RedisNode> NodeAt(const RedisAddress& address);
  // The master of `slot` in the current map; nullptr if none.
  std::shared_ptr<RedisNode> NodeOf(uint16_t slot);
  // A MOVED: `slot` now lives at `address`.
  void Moved(uint16_t slot, const RedisAddress& address);

  const RedisEndpoint endpoint_;
  const std::vector<RedisAddress> seeds_;
  const int connections_;
  const std::vector<std::string_view> scripts_;
  std::atomic<uint64_t> epoch_{0};

  mutable absl::Mutex mu_;
  ClusterTopology topology_ ABSL_GUARDED_BY(mu_);
  // By RedisAddress::ToString(). Never shrinks: a master that leaves and comes back keeps its.
  absl::flat_hash_map<std::string, std::shared_ptr<RedisNode>> nodes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace asidekv::remote

#endif  // ASIDEKV_REMOTE_CLUSTER_ROUTER_H_
