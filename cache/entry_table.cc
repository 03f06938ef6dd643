#include "cache/entry_table.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "util/hash.h"

namespace asidekv::cache {

EntryTable::EntryTable() : array_(NewArray(kMinSlots)) {}

EntryTable::~EntryTable() { FreeArray(array_.load(std::memory_order_relaxed)); }

EntryTable::Array* EntryTable::NewArray(size_t slots) {
  void* mem = ::operator new(sizeof(Array) + slots * sizeof(std::atomic<uint64_t>));
  Array* a = new (mem) Array{slots};
  for (size_t i = 0; i < slots; ++i) new (&a->slots()[i]) std::atomic<uint64_t>(kEmpty);
  return a;
}

void EntryTable::FreeArray(void* a) { ::operator delete(a); }

bool EntryTable::Insert(Entry* e, uint64_t hash, util::RetireList* retired) {
  const uint64_t p = reinterpret_cast<uint64_t>(e);
  if ((p & kTagMask) != 0) {
    std::fprintf(stderr, "EntryTable: entry pointer %p does not fit in 48 bits\n",
                 static_cast<void*>(e));
    std::abort();
  }
  Array* a = array_.load(std::memory_order_relaxed);
  // Keep used <= 13/16 of the slots (and so at least one slot empty).
  const bool rebuild = (used_ + 1) * 16 > a->slot_count * 13;
  if (rebuild) {
    Rebuild(1, retired);
    a = array_.load(std::memory_order_relaxed);
  }
  for (size_t i = a->Start(hash);; i = a->Next(i)) {
    const uint64_t w = a->slots()[i].load(std::memory_order_relaxed);
    if (w == kEmpty || w == kTombstone) {
      if (w == kEmpty) ++used_;
      a->slots()[i].store(Tag(hash) | p, std::memory_order_seq_cst);
      ++size_;
      return rebuild;
    }
  }
}

void EntryTable::Erase(const Entry* e, uint64_t hash) {
  Array* a = array_.load(std::memory_order_relaxed);
  const uint64_t want = Tag(hash) | reinterpret_cast<uint64_t>(e);
  for (size_t i = a->Start(hash);; i = a->Next(i)) {
    const uint64_t w = a->slots()[i].load(std::memory_order_relaxed);
    if (w == want) {
      --size_;
      if (a->slots()[a->Next(i)].load(std::memory_order_relaxed) != kEmpty) {
        a->slots()[i].store(kTombstone, std::memory_order_seq_cst);
        return;
      }
      // Followed by an empty slot: no probe needs to pass this one, nor the tombstones just
      // before it, so they become empty too (no entry is ever separated from its probe start by
      // an empty slot, so a reader stopping here misses nothing).
      a->slots()[i].store(kEmpty, std::memory_order_seq_cst);
      --used_;
      for (size_t j = a->Prev(i); a->slots()[j].load(std::memory_order_relaxed) == kTombstone;
           j = a->Prev(j)) {
        a->slots()[j].store(kEmpty, std::memory_order_seq_cst);
        --used_;
      }
      return;
    }
    if (w == kEmpty) {
      std::fprintf(stderr, "EntryTable::Erase: entry not in the table\n");
      std::abort();
    }
  }
}

size_t EntryTable::SlotsFor(size_t live, bool growing) {
  const size_t slots = growing ? live * 2 : live + (live + 1) / 2;
  return std::max(kMinSlots, (slots + 7) & ~size_t{7});
}

void EntryTable::Rebuild(size_t extra, util::RetireList* retired) {
  Array* old = array_.load(std::memory_order_relaxed);
  const size_t live = size_ + extra;
  // Growing: live entries filled more than 3/4 of the old array (few tombstones). Either way
  // used <= 13/16 holds after the rebuild and its pending insert, with room to spare.
  const size_t slots = SlotsFor(live, live * 4 > old->slot_count * 3);
  if (slots >= (size_t{1} << 32)) {
    std::fprintf(stderr, "EntryTable: %zu slots do not fit a 32-bit probe start\n", slots);
    std::abort();
  }
  Array* a = NewArray(slots);
  // Each entry's key is read to recompute its start (the slot keeps only 15 bits of the hash):
  // a cache miss per entry, so the entry kAhead slots on is prefetched meanwhile.
  constexpr size_t kAhead = 8;
  const std::atomic<uint64_t>* from = old->slots();
  for (size_t j = 0; j < old->slot_count; ++j) {
    if (j + kAhead < old->slot_count) {
      const uint64_t ahead = from[j + kAhead].load(std::memory_order_relaxed);
      if (ahead != kEmpty && ahead != kTombstone) {
        __builtin_prefetch(reinterpret_cast<const void*>(ahead & kPointerMask));
      }
    }
    const uint64_t w = from[j].load(std::memory_order_relaxed);
    if (w == kEmpty || w == kTombstone) continue;
    const uint64_t hash = util::HashKey(reinterpret_cast<Entry*>(w & kPointerMask)->key());
    size_t i = a->Start(hash);
    while (a->slots()[i].load(std::memory_order_relaxed) != kEmpty) i = a->Next(i);
    a->slots()[i].store(w, std::memory_order_relaxed);
  }
  used_ = size_;
  array_.store(a, std::memory_order_seq_cst);  // Publishes the filled slots too.
  retired->Retire(old, &FreeArray);
}

}  // namespace asidekv::cache
