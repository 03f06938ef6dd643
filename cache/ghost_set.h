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
//   What is remembered is a 32-bit fingerprint of each hash (its low 32 bits, which the shard
//   choice does not use), with 32-bit sequence numbers and charges: two hashes that share the
//   fingerprint are one ghost, a false match about once in 2^32 / size() lookups (a misplaced
//   entry, nothing more). Sequence numbers wrap after 2^32 inserts; a FIFO slot can only be
//   mistaken for a live one if 2^32 inserts separate them, and the FIFO holds far fewer slots.
//   A charge of 2^32 or more is not remembered (shards refuse such entries anyway).
//
//   Memory: each remembered hash costs a table bucket (12 bytes + 1 control byte, 1.28 to 2.56
//   buckets per hash) and 8-byte FIFO slots (at most 1.5 per hash plus kSlack, in a power-of-two
//   ring): 29 to 57 bytes whatever the charge of the entry it stands for (before fingerprints and
//   the tighter FIFO it was 64 to 96 bytes, so a set bounded by memory remembered about half
//   the hashes in the same bytes). With small entries a capacity in charge units can
//   mean more memory than the entries themselves. SetMaxBytes() bounds the memory too: it caps
//   the number of hashes so that the table never grows past the size whose bytes (with the FIFO
//   at its largest) fit the limit, and MemoryBytes() reports what the set holds. FullBytes()
//   foretells what it will hold once full, so that a byte-charged shard can set that memory aside
//   before the set grows into it (see cache/shard.h, "Bookkeeping").
//
// Invariants
//   live_ maps each remembered fingerprint to the sequence number and charge of its one live
//   slot;
//   charge_ is the sum of the live charges and never exceeds capacity_ after a call returns;
//   live_.size() never exceeds max_hashes_ after a call returns;
//   fifo_.size() <= live_.size() + live_.size() / 2 + kSlack (Compact() drops dead slots past
//   that), so the ring never holds more than bit_ceil(1.5 * max_hashes + kSlack + 1) slots.
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

  bool Contains(uint64_t hash) const { return live_.contains(Fingerprint(hash)); }
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
    uint32_t fingerprint;
    uint32_t seq;
  };
  struct Live {
    uint32_t seq;
    uint32_t charge;
  };
  static constexpr size_t kSlack = 64;

  static uint32_t Fingerprint(uint64_t hash) { return static_cast<uint32_t>(hash); }
  // Forgets `fingerprint`; true if it was remembered.
  bool RemoveFingerprint(uint32_t fingerprint);

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
  uint32_t next_seq_ = 0;                     // Wraps.
  RingQueue<Slot> fifo_;                      // Oldest at the front; may hold dead slots.
  absl::flat_hash_map<uint32_t, Live> live_;  // Fingerprint -> its live slot.
};

}  // namespace asidekv::cache

#endif  // ASIDEKV_CACHE_GHOST_SET_H_
