// EntryTable: a shard's key -> Entry* table, readable without the shard's lock.
//
// Design
//   An open-addressed array of 64-bit slots, linear probing (wrapping at the end) from a start
//   slot chosen by the key hash's low 32 bits scaled to the array's size (any multiple of 8, not
//   only powers of two). A slot is empty (0), a tombstone (1), or an entry: its pointer in the
//   low 48 bits and a tag in the top 16: 15 bits of the key's hash (bits 33..47, which neither
//   the shard choice nor the probe start uses) and a set bit, so a probe compares keys only when
//   the tags match, and never takes an empty slot or a tombstone for an entry. Every slot is a
//   std::atomic.
//   Writers (the shard, under its mutex) store slots with seq_cst stores; Find() reads them with
//   seq_cst loads (plain loads on x86) and may run concurrently with the writers, inside an
//   epoch guard (util/epoch.h).
//   Insert takes the first empty or tombstone slot of the probe. Erase turns the entry's slot into
//   a tombstone (a reader probing past it keeps going), or, when the next slot is empty, empties
//   it and the tombstones just before it. When live entries plus tombstones would exceed 13/16 of
//   the slots, the table is rebuilt into a new array (at least kMinSlots), which is published
//   with one store: when live entries filled more than 3/4 of the old array (the table grows),
//   they fill 1/2 of the new one; otherwise (tombstones filled it: a table at a steady size, or
//   shrinking) 2/3. The old array is retired to the caller's RetireList, so a reader still
//   probing it finishes safely (it sees the table as it was before the rebuild).
// Invariants
//   - At least one slot of every array is empty, so every probe ends.
//   - No entry is separated from its probe start by an empty slot.
//   - Each live entry is in exactly one slot of the current array; an array replaced by a rebuild
//     is never written again.
//   - A Find() that starts after an Erase() (or a rebuild) returned reads the tombstone (or the
//     new array): it never returns the erased entry. A concurrent Find() may return it or not.
//   - Find() may miss an entry inserted concurrently (it probed past the slot before the store):
//     callers treat a miss as "look again under the lock".
//
// Costs
//   8 bytes per slot. A growing table holds live entries at 1/2 to 13/16 of its slots (10 to 16
//   bytes per entry, each rebuild about 1.6 times the last); a table at a steady size at 2/3
//   (12 bytes per entry), rebuilt after about 2/9 of its entries were replaced. (Arrays sized in
//   powers of two, as before, held them at 37% to 81%: 10 to 22 bytes per entry, 16 at a million
//   entries over 16 shards. An absl::flat_hash_set of pointers takes 9 bytes per slot at 44% to
//   88%.) A hit reads the slot's line and the entry's. A rebuild reads each entry's key to
//   place it (prefetched a few slots ahead), under the shard's lock.
//
// Thread safety
//   Find() may be called at any time, inside an epoch guard; every other member only by the
//   owner, serialised (the shard's mutex). Pointers must fit in 48 bits (x86-64 and
//   AArch64 user space); Insert aborts otherwise.

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
    for (size_t i = a->Start(hash);; i = a->Next(i)) {
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
    used_ = 0;
    for (size_t i = 0; i < old->slot_count; ++i) {
      const uint64_t w = old->slots()[i].load(std::memory_order_relaxed);
      if (w != kEmpty && w != kTombstone) f(reinterpret_cast<Entry*>(w & kPointerMask));
    }
    retired->Retire(old, &FreeArray);
  }

  // Calls f(Entry*) for every entry (owner only).
  template <typename F>
  void ForEach(F f) const {
    const Array* a = array_.load(std::memory_order_relaxed);
    for (size_t i = 0; i < a->slot_count; ++i) {
      const uint64_t w = a->slots()[i].load(std::memory_order_relaxed);
      if (w != kEmpty && w != kTombstone) f(reinterpret_cast<Entry*>(w & kPointerMask));
    }
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t slot_count() const { return array_.load(std::memory_order_relaxed)->slot_count; }
  // The slots a rebuild gives `live` entries: 2 per entry when `growing`, else 3 per 2 entries,
  // rounded up to a multiple of 8 (at least kMinSlots).
  static size_t SlotsFor(size_t live, bool growing);

 private:
  static constexpr uint64_t kEmpty = 0;
  static constexpr uint64_t kTombstone = 1;
  static constexpr uint64_t kPointerMask = (uint64_t{1} << 48) - 1;
  static constexpr uint64_t kTagMask = ~kPointerMask;

  // One allocation: the header, then `slot_count` slots.
  struct Array {
    size_t slot_count;  // A multiple of 8, below 2^32.
    // The probe's first slot: the hash's low 32 bits scaled to [0, slot_count).
    size_t Start(uint64_t hash) const { return ((hash & 0xFFFFFFFFu) * slot_count) >> 32; }
    size_t Next(size_t i) const { return i + 1 == slot_count ? 0 : i + 1; }
    size_t Prev(size_t i) const { return i == 0 ? slot_count - 1 : i - 1; }
    std::atomic<uint64_t>* slots() { return reinterpret_cast<std::atomic<uint64_t>*>(this + 1); }
    const std::atomic<uint64_t>* slots() const {
      return reinterpret_cast<const std::atomic<uint64_t>*>(this + 1);
    }
  };

  // Never 0, so that the tombstone (and the empty slot) never matches a tag.
  static uint64_t Tag(uint64_t hash) { return ((hash << 16) | (uint64_t{1} << 48)) & kTagMask; }
  static Array* NewArray(size_t slots);
  static void FreeArray(void* a);
  // Rebuilds into a new array for the live entries plus `extra`, retiring the old one.
  void Rebuild(size_t extra, util::RetireList* retired);

  std::atomic<Array*> array_;
  size_t size_ = 0;  // Live entries.
  size_t used_ = 0;  // Live entries plus tombstones in the current array.
};

}  // namespace asidekv::cache

#endif  // ASIDEKV_CACHE_ENTRY_TABLE_H_
