// EntryTable: a shard's key -> Entry* table, readable without the shard's lock.
//
// Design
//   An open-addressed array of 64-bit slots with linear probing (wrapping at the end). A slot is
//   empty (0) or an entry: its pointer (48 bits, a multiple of Entry::kAlignment) with 20 bits
//   of the key's hash, the key's position hash P (hash bits 0..19, which the shard choice does
//   not use), packed into the pointer's 16 top bits and its 4 low ones. P does two jobs:
//     - the probe's start slot is P scaled to the array's size (P * slots / 2^20; the array's
//       size is any multiple of 8, not only a power of two), so a rebuild or a deletion places
//       an entry from its slot alone, without reading the entry;
//     - a probe compares keys only where P matches. The bits that chose the start also filter,
//       so the entries a probe passes share P with it more often than 15 independent bits
//       would: a hit compares about entries / 2^21 other keys on average, a miss entries / 2^20
//       (0.03 and 0.06 at 62,500 entries; ShardedCache's auto sharding keeps shards under about
//       130,000 entries).
//   Every slot is a std::atomic. Writers (the shard, under its mutex) store slots with seq_cst
//   stores; Find() reads them with seq_cst loads (plain loads on x86) and may run concurrently
//   with the writers, inside an epoch guard (util/epoch.h).
//   Insert takes the probe's first empty slot. Erase deletes by backward shift (no tombstones):
//   each following entry of the run that may sit earlier (its start is not after the hole) moves
//   into the hole, one store each, and the last hole becomes empty. When live entries would
//   exceed 13/16 of the slots, the table is rebuilt into a new array (at least kMinSlots) where
//   they fill 1/2 (each array about 1.6 times the last), which is published with one store; an
//   insert that finds live entries under 1/8 of the slots rebuilds it to 1/2 as well
//   (shrinking). The old array is retired to the caller's RetireList, so a reader still probing
//   it finishes safely (it sees the table as it was before the rebuild).
//
// Invariants
//   - At least one slot of every array is empty, so every probe ends.
//   - No entry is separated from its probe start by an empty slot.
//   - Each live entry is in one slot of the current array, and for an instant in two: a move
//     stores it in the hole before the slot it leaves is overwritten. An array replaced by a
//     rebuild is never written again.
//   - A Find() that starts after an Erase() (or a rebuild) returned never returns the erased
//     entry. A concurrent Find() may return it or not.
//   - Find() may miss an entry inserted concurrently (it probed past the slot before the store),
//     or one that a concurrent Erase() moved back past it: callers treat a miss as "look again
//     under the lock".
//
// Costs
//   8 bytes per slot, live entries at 1/2 to 13/16 of them: 10 to 16 bytes per entry (11.7 at a
//   million entries over 16 shards, where arrays sized in powers of two held them at 48%:
//   16.4). An absl::flat_hash_set of pointers takes 9 bytes per slot at 44% to 88%. A hit reads
//   the slot's line and the entry's. An erase reads the rest of its run's slots (short at these
//   loads); a rebuild reads and writes slots only, no entry (a pass over the old array, under
//   the shard's lock).
//   Before this layout the tag was 15 hash bits independent of the start (a false compare
//   about once per 10,000 lookups), but a rebuild re-hashed every entry's key.
//
// Thread safety
//   Find() may be called at any time, inside an epoch guard; every other member only by the
//   owner, serialised (the shard's mutex). Entry pointers must fit in 48 bits (x86-64 and
//   AArch64 user space) and be multiples of 16; Insert aborts otherwise.

#ifndef ASIDEKV_CACHE_ENTRY_TABLE_H_
#define ASIDEKV_CACHE_ENTRY_TABLE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cache/entry.h"
#include "util/epoch.h"

namespace asidekv::cache {

class EntryTable {
 public:
  static constexpr size_t kMinSlots = 16;

  EntryTable();
  // Frees the array (not the entries). REQUIRES: no reader can still probe it.
  ~EntryTable();
  EntryTable(const EntryTable&) = delete;
  EntryTable& operator=(const EntryTable&) = delete;

  // The entry of `key` (whose HashKey is `hash`), or null. Lock-free; see the invariants.
  Entry* Find(std::string_view key, uint64_t hash) const {
    const Array* a = array_.load(std::memory_order_seq_cst);
    const uint64_t tag = Tag(hash);
    for (size_t i = a->Start(Position(hash));; i = a->Next(i)) {
      const uint64_t w = a->slots()[i].load(std::memory_order_seq_cst);
      if (w == kEmpty) return nullptr;
      if ((w & kTagMask) == tag) {
        Entry* e = reinterpret_cast<Entry*>(w & kPointerMask);
        if (e->key() == key) return e;
      }
    }
  }

  // Adds `e` (whose key hashes to `hash`). May rebuild the array, retiring the old one to
  // `retired`: returns true then (the caller may want to collect it soon: it is the table's
  // size). REQUIRES: no entry of e's key is in the table.
  bool Insert(Entry* e, uint64_t hash, util::RetireList* retired);
  // Removes `e`. REQUIRES: `e` is in the table, under `hash`.
  void Erase(const Entry* e, uint64_t hash);
  // Empties the table into a minimum-size array, then calls f(Entry*) for each entry it held
  // (now unlinked), then retires the old array.
  template <typename F>
  void Clear(util::RetireList* retired, F f) {
    Array* old = array_.load(std::memory_order_relaxed);
    array_.store(NewArray(kMinSlots), std::memory_order_seq_cst);
    size_ = 0;
    for (size_t i = 0; i < old->slot_count; ++i) {
      const uint64_t w = old->slots()[i].load(std::memory_order_relaxed);
      if (w != kEmpty) f(reinterpret_cast<Entry*>(w & kPointerMask));
    }
    retired->Retire(old, &FreeArray);
  }

  // Calls f(Entry*) for every entry (owner only).
  template <typename F>
  void ForEach(F f) const {
    const Array* a = array_.load(std::memory_order_relaxed);
    for (size_t i = 0; i < a->slot_count; ++i) {
      const uint64_t w = a->slots()[i].load(std::memory_order_relaxed);
      if (w != kEmpty) f(reinterpret_cast<Entry*>(w & kPointerMask));
    }
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t slot_count() const { return array_.load(std::memory_order_relaxed)->slot_count; }
  // The slots a rebuild gives `live` entries: 2 per entry, rounded up to a multiple of 8 (at
  // least kMinSlots).
  static size_t SlotsFor(size_t live);

 private:
  static constexpr uint64_t kEmpty = 0;
  static constexpr int kPositionBits = 20;
  static constexpr uint64_t kLowBits = Entry::kAlignment - 1;  // P's 4 low bits.
  static constexpr uint64_t kPointerMask = ((uint64_t{1} << 48) - 1) & ~kLowBits;
  static constexpr uint64_t kTagMask = ~kPointerMask;

  // One allocation: the header, then `slot_count` slots.
  struct Array {
    size_t slot_count;  // A multiple of 8.
    // The probe's first slot for position hash `p`: p scaled to [0, slot_count).
    size_t Start(uint64_t p) const { return (p * slot_count) >> kPositionBits; }
    size_t Next(size_t i) const { return i + 1 == slot_count ? 0 : i + 1; }
    std::atomic<uint64_t>* slots() { return reinterpret_cast<std::atomic<uint64_t>*>(this + 1); }
    const std::atomic<uint64_t>* slots() const {
      return reinterpret_cast<const std::atomic<uint64_t>*>(this + 1);
    }
  };

  // The key's position hash P.
  static uint64_t Position(uint64_t hash) { return hash & ((uint64_t{1} << kPositionBits) - 1); }
  // P as a slot holds it: its 4 low bits in the pointer's, the rest in the top 16.
  static uint64_t Tag(uint64_t hash) {
    const uint64_t p = Position(hash);
    return (p & kLowBits) | ((p >> 4) << 48);
  }
  // P of the entry in slot word `w`.
  static uint64_t PositionOf(uint64_t w) { return (w & kLowBits) | ((w >> 48) << 4); }
  static Array* NewArray(size_t slots);
  static void FreeArray(void* a);
  // Rebuilds into a new array for the live entries plus `extra`, retiring the old one.
  void Rebuild(size_t extra, util::RetireList* retired);

  std::atomic<Array*> array_;
  size_t size_ = 0;  // Live entries.
};

}  // namespace asidekv::cache

#endif  // ASIDEKV_CACHE_ENTRY_TABLE_H_
