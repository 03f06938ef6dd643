// EvictionPolicy: decides which entry of one cache shard leaves when the shard is over budget.
//
// Design
//   A policy instance belongs to exactly one Shard and is only ever called with that shard's
//   mutex held, so implementations need no synchronisation of their own. The shard owns the
//   entries and their memory; the policy only links and unlinks the PolicyNode embedded in each
//   entry (intrusive lists, no allocation per entry) and may keep extra state of its own (e.g. a
//   bounded ghost set of hashes of recently evicted keys).
//
//   The shard calls:
//     OnInsert(node, hash)  after a new entry is published (node->charge is set). The policy
//                           links it into one of its queues; `hash` identifies the key (64-bit,
//                           well mixed) for ghost lookups.
//     OnAccess(node)        on every hit. Must be O(1). A policy whose OnAccess only bumps
//                           node->freq up to a cap says so with FreqOnlyAccessCap(): the shard
//                           then counts hits itself, without its lock (see below).
//     OnRemove(node)        when the shard removes the entry for any reason other than Evict()
//                           (erase, invalidation, expiry, replacement, Clear). The policy unlinks
//                           it and forgets it (it must not enter the ghost set).
//     Evict()               while the shard is over budget: the policy picks a victim, unlinks it
//                           and returns it; the shard then removes it. nullptr only when the policy
//                           holds no node at all.
//   Charges are in the shard's units (bytes, or 1 per entry for trace replay); SetCapacity() gives
//   the shard's budget in those units so a policy can size its queues.
//   Memory a policy holds beyond the nodes (a ghost set) is reported by MemoryBytes(), which a
//   byte-charged shard counts in its budget; SetMemoryLimit() bounds it, and FullMemoryBytes()
//   foretells how far it will grow, so the shard can set it aside before it is needed.
//
//   Lock-free hits: when FreqOnlyAccessCap() returns cap > 0, a hit does not call OnAccess: the
//   shard (cache/shard.h) loads node->freq and, if it is below cap, stores freq + 1, both with
//   relaxed atomic accesses (LoadFreq/StoreFreq), without the shard's lock and concurrently with
//   every other method. Such a policy must read and write freq only through LoadFreq/StoreFreq
//   (a hit may then be lost against a concurrent reset, as a racing hit would be anyway), and
//   must not rely on freq for anything but its own estimates. Every other field of the node is
//   still touched only under the lock. Policies that return 0 (the default) are unaffected.
//
// Invariants
//   Every published entry of the shard is linked in the policy exactly once; the sum of the
//   charges of linked nodes equals the shard's charged total.
//
// Costs
//   Every method is O(1) amortised except Hottest(), which is O(n) and used only by tools.

#ifndef ASIDEKV_CACHE_EVICTION_POLICY_H_
#define ASIDEKV_CACHE_EVICTION_POLICY_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace asidekv::cache {

// Per-entry state a policy may use. Embedded in each cache entry; only the policy touches
// prev, next, freq and queue (the shard sets `charge` before OnInsert and never changes it).
// Laid out in 24 bytes: the cache charges this per entry, so keep it small.
struct PolicyNode {
  PolicyNode* prev = nullptr;
  PolicyNode* next = nullptr;
  uint32_t charge = 0;  // Entries larger than 4 GiB are refused by the shard.
  uint8_t freq = 0;     // Access counter, policy-defined meaning.
  uint8_t queue = 0;    // Which queue the node is linked in, policy-defined.
  // Two bytes of the node's padding that belong to the entry around it (cache/entry.h keeps its
  // tag and flags here); policies never touch them.
  uint8_t owner[2] = {0, 0};
};

// freq as a relaxed atomic, for policies whose hits are counted without the lock (see
// EvictionPolicy::FreqOnlyAccessCap). Relaxed atomic accesses to a byte are plain moves on x86.
inline uint8_t LoadFreq(const PolicyNode* node) {
  return std::atomic_ref<uint8_t>(const_cast<uint8_t&>(node->freq)).load(std::memory_order_relaxed);
}
inline void StoreFreq(PolicyNode* node, uint8_t freq) {
  std::atomic_ref<uint8_t>(node->freq).store(freq, std::memory_order_relaxed);
}

enum class PolicyKind {
  kS3Fifo,
  kLru,
  kWTinyLfu,
  kAdaptiveS3Fifo,
};

// The policy a cache uses unless told otherwise: S3-FIFO with its split between small and main
// adapted by ghost hits, which passes more cells of the trace table than the fixed split and
// closes more of the LRU-to-OPT gap (tools/trace, README) while resisting one-hit scans.
inline constexpr PolicyKind kDefaultPolicy = PolicyKind::kAdaptiveS3Fifo;

class EvictionPolicy {
 public:
  virtual ~EvictionPolicy() = default;

  // Short lowercase name for reports: "s3fifo", "lru", "wtinylfu", "adaptive".
  virtual std::string_view name() const = 0;

  // The shard's budget in charge units. Called once before any other call, and again if the
  // shard's capacity changes.
  virtual void SetCapacity(uint64_t capacity) = 0;

  // Bounds the heap bytes the policy holds beyond the nodes (e.g. its ghost set). Default: the
  // policy holds none.
  virtual void SetMemoryLimit(uint64_t bytes) { (void)bytes; }
  // Heap bytes the policy holds beyond the nodes. O(1).
  virtual uint64_t MemoryBytes() const { return 0; }
  // Heap bytes it will hold beyond the nodes once the cache is full of nodes of `mean_charge`
  // charge units each (0: not known yet); never less than MemoryBytes(). O(1).
  virtual uint64_t FullMemoryBytes(uint64_t mean_charge) const {
    (void)mean_charge;
    return MemoryBytes();
  }

  // cap > 0 when OnAccess(node) is exactly "if freq < cap, freq = freq + 1" and nothing else: the
  // shard may then count hits itself without its lock (see the design comment). 0: every hit
  // calls OnAccess under the lock. Constant for the policy's life.
  virtual uint8_t FreqOnlyAccessCap() const { return 0; }

  virtual void OnInsert(PolicyNode* node, uint64_t hash) = 0;
  virtual void OnAccess(PolicyNode* node) = 0;
  virtual void OnRemove(PolicyNode* node) = 0;
  virtual PolicyNode* Evict() = 0;

  // Appends up to `n` linked nodes to `out`, the ones the policy would keep longest first.
  virtual void Hottest(size_t n, std::vector<PolicyNode*>* out) const = 0;
};

// Returns, for a linked node, the same 64-bit hash the shard passed to OnInsert for its key.
// Policies with a ghost set call it when they evict a node, so PolicyNode need not store the
// hash. Called under the shard's lock; must not call back into the policy.
using NodeHashFn = uint64_t (*)(PolicyNode* node);

// A policy for nodes embedded in cache Entries (cache/entry.h), as a Shard holds them: a node's
// hash is HashKey() (cache/shard.h) of its entry's key.
std::unique_ptr<EvictionPolicy> NewEvictionPolicy(PolicyKind kind);

// A policy for nodes embedded elsewhere (trace replay, tests). REQUIRES: node_hash != nullptr.
std::unique_ptr<EvictionPolicy> NewEvictionPolicy(PolicyKind kind, NodeHashFn node_hash);

}  // namespace asidekv::cache

#endif  // ASIDEKV_CACHE_EVICTION_POLICY_H_
