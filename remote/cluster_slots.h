// Redis Cluster's slot map: which master serves a key.
//
// A key's slot is CRC16(key) mod 16384 (CRC16-XMODEM, the cluster spec's), where key is reduced
// to its hash tag when it has one: the bytes between its first '{' and the first '}' after it,
// if that is not empty. RedisTier's keys put the user key in braces ("akv:v:{k}"), so the value,
// the lease and the write marker of one key share a slot, as its scripts need
// (remote/redis_tier.h: the keys whose braces would hash to nothing).
//
// ClusterTopology is one answer of CLUSTER SLOTS, reduced to what the tier uses: the masters
// (replicas are refused: Redis Cluster fails over to them asynchronously, and a failover loses
// the deletes not yet replicated, i.e. invalidations) and the master of every slot. Two answers
// compare equal iff every slot has the same master.
//
// Thread safety: the functions are pure; a ClusterTopology is a value.

#ifndef ASIDEKV_REMOTE_CLUSTER_SLOTS_H_
#define ASIDEKV_REMOTE_CLUSTER_SLOTS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "remote/redis_config.h"
#include "remote/redis_connection.h"

namespace asidekv::remote {

inline constexpr int kClusterSlots = 16384;

// The slot of a Redis key (hash tags honoured).
uint16_t KeySlot(std::string_view redis_key);

// A short string whose slot is `slot` (the same for every call): a key "<anything>{<tag>}" lands
// on `slot`. Used to reach one chosen master, e.g. with a flush marker.
const std::string& TagForSlot(uint16_t slot);

struct ClusterTopology {
  static constexpr uint16_t kUnassigned = 0xffff;
  std::vector<RedisAddress> masters;  // Sorted by ToString(), no duplicates.
  // kClusterSlots entries: the index in `masters` of each slot's master, or kUnassigned.
  std::vector<uint16_t> owner;

  // The master of `slot`, or nullptr when no master serves it.
  const RedisAddress* MasterOf(uint16_t slot) const;
  // The first slot `master` (an index in `masters`) serves; kUnassigned if none.
  uint16_t FirstSlotOf(size_t master) const;
  bool operator==(const ClusterTopology& other) const;
  bool operator!=(const ClusterTopology& other) const { return !(*this == other); }
};

// The topology in a CLUSTER SLOTS reply. FailedPrecondition when a slot range lists replicas
// (see the file comment), Internal when the reply is not CLUSTER SLOTS's shape. A master that
// announces no address (an empty or "?" host) is taken to live at `seed`'s host.
absl::StatusOr<ClusterTopology> ParseClusterSlots(const RedisReply& reply, std::string_view server,
                                                  const RedisAddress& seed);

// Asks the seeds in turn (each with `endpoint`'s credentials and timeout) for CLUSTER SLOTS and
// returns the first answer. Errors: the last seed's error; FailedPrecondition when a server is
// not a cluster node ("cluster support disabled": use a plain address) or serves a cluster with
// replicas; Unavailable when a slot has no master (the cluster is not fully set up).
absl::StatusOr<ClusterTopology> FetchClusterTopology(const RedisEndpoint& endpoint,
                                                     absl::Span<const RedisAddress> seeds);

}  // namespace asidekv::remote

#endif  // ASIDEKV_REMOTE_CLUSTER_SLOTS_H_
