// GhostSet: a bounded FIFO set of the hashes of recently evicted keys, with their charges.
//
// Design
//   S3-FIFO remembers keys that left its small queue without a second access: a key that comes
//   back while still remembered goes straight to the main queue. The set holds no keys, only
//   64-bit key hashes (a false match costs one misplaced entry, nothing more).
//
//   Insert appends to a FIFO and then drops the oldest hashes until the remembered charge is
//   within the capacity, so the set holds the most recently evicted `capacity` charge units
//   (keys, when every charge is 1). Remove (a ghost hit) forgets a hash at once, freeing its
//   charge; its slot in the FIFO goes dead and is skipped when it reaches the front.
//
//   Memory: each remembered hash costs a table slot and one or two FIFO slots, ~64 bytes whatever
//   the charge of the entry it stands for, so with small entries a capacity in charge units can
//   mean more memory than the entries themselves. SetMaxBytes() bounds the memory too: it caps
//   the number of hashes so that the table never grows past the size whose bytes (with the FIFO
//   at its largest) fit the limit, and MemoryBytes() reports what the set holds. FullBytes()
//   foretells what it will hold once full, so that a byte-charged shard can set that memory aside
//   before the set grows into it (see cache/shard.h, "Bookkeeping").
//
// Invariants
//   live_ maps each remembered hash to the sequence number and charge of its one live slot;
//   charge_ is the sum of the live charges and never exceeds capacity_ after a call returns;
//   live_.size() never exceeds max_hashes_ after a call returns;
//   fifo_.size() <= 2 * live_.size() + kSlack (Compact() drops dead slots past that).
//
// Thread safety: none; owned by one policy, called under its shard's lock.
// Costs: Insert, Remove and Contains are O(1) amortised; memory O(live hashes).

#ifndef ASIDEKV_CACHE_GHOST_SET_H_
#define ASIDEKV_CACHE_GHOST_SET_H_

#include <cstddef>
#include <cstdint>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "cache/ring_queue.h"

namespace asidekv::cache {

class GhostSet {
 public:
  GhostSet() = default;

  // Sets the budget in charge units and drops the oldest hashes beyond it.
  void SetCapacity(uint64_t capacity);

  // Bounds the set's memory to about `bytes` (by a cap on the number of hashes, see the design
  // comment) and drops the oldest hashes beyond it. Default: no bound.
  void SetMaxBytes(uint64_t bytes);

  // Remembers `hash` as the newest entry (replacing an older record of the same hash). A charge of
  // 0 counts as 1, so the number of hashes stays bounded by the capacity. A charge above the
  // capacity is not remembered.
  void Insert(uint64_t hash, uint64_t charge);

  // Forgets `hash`; true if it was remembered.
  bool Remove(uint64_t hash);

  bool Contains(uint64_t hash) const { return live_.contains(hash); }
  // Number of remembered hashes and the sum of their charges.
  size_t size() const { return live_.size(); }
  uint64_t charge() const { return charge_; }
  size_t max_hashes() const { return max_hashes_; }
  // Heap bytes held by the table and the FIFO (see cache/memory_cost.h).
  size_t MemoryBytes() const;
  // Heap bytes the set will hold once full of hashes of entries of `mean_charge` charge units
  // each (at most max_hashes() of them); never less than MemoryBytes(), and MemoryBytes() when
  // mean_charge is 0 (nothing known yet). O(1).
  size_t FullBytes(uint64_t mean_charge) const;

 private:
  struct Slot {
    uint64_t hash;
    uint64_t seq;
  };
  struct Live {
    uint64_t seq;
    uint64_t charge;
  };
  static constexpr size_t kSlack = 64;

  // Buckets of the table once it holds `hashes` (Abseil's growth rule, see SetMaxBytes), and
  // the bytes of the table and the FIFO at their largest for that many hashes.
  static size_t BucketsFor(size_t hashes);
  static size_t BytesFor(size_t hashes);

  bool IsLive(const Slot& slot) const;
  void EvictToCapacity();
  void Compact();

  uint64_t capacity_ = 0;
  size_t max_hashes_ = SIZE_MAX;
  uint64_t charge_ = 0;
  uint64_t next_seq_ = 0;
  RingQueue<Slot> fifo_;  // Oldest at the front; may hold dead slots.
  absl::flat_hash_map<uint64_t, Live> live_;
};

}  // namespace asidekv::cache

#endif  // ASIDEKV_CACHE_GHOST_SET_H_
