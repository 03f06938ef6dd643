// S3FifoPolicy: S3-FIFO eviction (Yang et al., "FIFO queues are all you need for cache
// eviction", SOSP '23), the default policy.
//
// Design
//   Three queues, all FIFO, sized in charge units:
//     small  (10% of capacity)  new keys land here; most one-hit wonders leave from here.
//     main   (the other 90%)    keys that proved themselves; a 2-bit CLOCK (FIFO reinsertion).
//     ghost  (90% of capacity)  hashes of keys evicted from small (GhostSet), no values; a
//                               byte-charged shard also bounds its memory (SetMemoryLimit).
//   OnInsert: a key found in the ghost goes to main, any other to small (also in a cold cache:
//   libCacheSim's later variant that fills main directly until the first eviction measured up to
//   1 point worse, on cloudPhysicsIO at 5%).
//   OnAccess: freq = min(freq + 1, 3). No list moves, so a hit is a byte write, which the shard
//   does itself without its lock (FreqOnlyAccessCap); freq is therefore only read and written
//   through LoadFreq/StoreFreq.
//   Evict: from main while main is over its share (or small is empty), else from small.
//     small's oldest node moves to main (freq reset) if it was hit at least twice since it was
//     inserted, otherwise it is the victim and its hash enters the ghost.
//     main's oldest node is reinserted at main's front with freq - 1 if freq > 0, otherwise it is
//     the victim.
//   OnRemove unlinks without touching the ghost.
//   These are the paper's and libCacheSim's defaults (small 0.10, ghost 0.90, move-to-main
//   threshold 2); replaying the traces of the README in ../shared/traces gives its reference
//   S3-FIFO hit ratios to 0.01 points (tools/trace).
//
// PolicyNode use: `queue` is kSmall or kMain; `freq` the capped hit counter.
// Thread safety: none; called under the owning shard's lock (see eviction_policy.h).
// Costs: every method O(1) amortised (each reinsertion spends one unit of freq, each move to main
//   happens once per insertion); Hottest O(n).

#ifndef ASIDEKV_CACHE_S3FIFO_POLICY_H_
#define ASIDEKV_CACHE_S3FIFO_POLICY_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "cache/eviction_policy.h"
#include "cache/ghost_set.h"
#include "cache/policy_list.h"

namespace asidekv::cache {

class S3FifoPolicy final : public EvictionPolicy {
 public:
  // Values of PolicyNode::queue.
  static constexpr uint8_t kSmall = 1;
  static constexpr uint8_t kMain = 2;
  // A node hit this many times while in small moves to main when it reaches small's end.
  static constexpr uint8_t kMoveToMainHits = 2;
  static constexpr uint8_t kMaxFreq = 3;

  // REQUIRES: node_hash != nullptr (see NodeHashFn).
  explicit S3FifoPolicy(NodeHashFn node_hash);

  std::string_view name() const override { return "s3fifo"; }
  void SetCapacity(uint64_t capacity) override;
  // Bounds the ghost set's memory (GhostSet::SetMaxBytes).
  void SetMemoryLimit(uint64_t bytes) override { ghost_.SetMaxBytes(bytes); }
  uint64_t MemoryBytes() const override { return ghost_.MemoryBytes(); }
  uint64_t FullMemoryBytes(uint64_t mean_charge) const override {
    return ghost_.FullBytes(mean_charge);
  }
  uint8_t FreqOnlyAccessCap() const override { return kMaxFreq; }
  void OnInsert(PolicyNode* node, uint64_t hash) override;
  void OnAccess(PolicyNode* node) override;
  void OnRemove(PolicyNode* node) override;
  PolicyNode* Evict() override;
  // Main before small; within each, higher freq first, then newer first.
  void Hottest(size_t n, std::vector<PolicyNode*>* out) const override;

  // For tests and reports.
  const PolicyList& small() const { return small_; }
  const PolicyList& main() const { return main_; }
  const GhostSet& ghost() const { return ghost_; }
  uint64_t small_capacity() const { return small_capacity_; }

 private:
  // Each returns the victim, or nullptr if its queue emptied without one.
  PolicyNode* EvictFromSmall();
  PolicyNode* EvictFromMain();

  const NodeHashFn node_hash_;
  uint64_t small_capacity_ = 0;
  uint64_t main_capacity_ = 0;
  PolicyList small_;  // Front: newest.
  PolicyList main_;   // Front: newest or most recently reinserted.
  GhostSet ghost_;
};

}  // namespace asidekv::cache

#endif  // ASIDEKV_CACHE_S3FIFO_POLICY_H_
