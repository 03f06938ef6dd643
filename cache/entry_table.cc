#include "cache/entry_table.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "util/hash.h"

namespace asidekv::cache {

EntryTable::EntryTable() : array_(NewArray(kMinSlots)) {}

EntryTable::~EntryTable() { FreeArray(array_.load(std::memory_order_relaxed)); }

EntryTable::Array* EntryTable::NewArray(size_t slots) {
  void* mem = ::operator new(sizeof(Array) + slots * sizeof(std::atomic<uint64_t>));
  Array* a = new (mem) Array{slots - 1};
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
  const bool rebuild = (used_ + 1) * 16 > (a->mask + 1) * 13;
  if (rebuild) {
    Rebuild(1, retired);
    a = array_.load(std::memory_order_relaxed);
  }
  for (size_t i = hash & a->mask;; i = (i + 1) & a->mask) {
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
  for (size_t i = hash & a->mask;; i = (i + 1) & a->mask) {
    const uint64_t w = a->slots()[i].load(std::memory_order_relaxed);
    if (w == want) {
      --size_;
      if (a->slots()[(i + 1) & a->mask].load(std::memory_order_relaxed) != kEmpty) {
        a->slots()[i].store(kTombstone, std::memory_order_seq_cst);
        return;
      }
      // Followed by an empty slot: no probe needs to pass this one, nor the tombstones just
      // before it, so they become empty too (no entry is ever separated from its probe start by
      // an empty slot, so a reader stopping here misses nothing).
      a->slots()[i].store(kEmpty, std::memory_order_seq_cst);
      --used_;
      for (size_t j = (i - 1) & a->mask;
           a->slots()[j].load(std::memory_order_relaxed) == kTombstone; j = (j - 1) & a->mask) {
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

void EntryTable::Rebuild(size_t extra, util::RetireList* retired) {
  Array* old = array_.load(std::memory_order_relaxed);
  // Live entries at most 3/4 of the new array: tombstones then have at least 1/16 of it before
  // the next rebuild.
  const size_t slots = std::max(kMinSlots, std::bit_ceil(((size_ + extra) * 4 + 2) / 3));
  Array* a = NewArray(slots);
  for (size_t j = 0; j <= old->mask; ++j) {
    const uint64_t w = old->slots()[j].load(std::memory_order_relaxed);
    if (w == kEmpty || w == kTombstone) continue;
    // The hash's low bits are not in the slot: recompute the start from the key.
    const uint64_t hash = util::HashKey(reinterpret_cast<Entry*>(w & kPointerMask)->key());
    size_t i = hash & a->mask;
    while (a->slots()[i].load(std::memory_order_relaxed) != kEmpty) i = (i + 1) & a->mask;
    a->slots()[i].store(w, std::memory_order_relaxed);
  }
  used_ = size_;
  array_.store(a, std::memory_order_seq_cst);  // Publishes the filled slots too.
  retired->Retire(old, &FreeArray);
}

}  // namespace asidekv::cache
