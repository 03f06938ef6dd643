#include "cache/entry_table.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <new>

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
  if ((p & ~kPointerMask) != 0) {
    std::fprintf(stderr, "EntryTable: entry pointer %p is not a 48-bit multiple of %zu\n",
                 static_cast<void*>(e), Entry::kAlignment);
    std::abort();
  }
  Array* a = array_.load(std::memory_order_relaxed);
  // Grow before live entries exceed 13/16 of the slots (so at least one stays empty); shrink
  // when they fill under 1/8.
  const bool rebuild = (size_ + 1) * 16 > a->slot_count * 13 ||
                       (a->slot_count > kMinSlots && (size_ + 1) * 8 < a->slot_count);
  if (rebuild) {
    Rebuild(1, retired);
    a = array_.load(std::memory_order_relaxed);
  }
  size_t i = a->Start(Position(hash));
  while (a->slots()[i].load(std::memory_order_relaxed) != kEmpty) i = a->Next(i);
  a->slots()[i].store(Tag(hash) | p, std::memory_order_seq_cst);
  ++size_;
  return rebuild;
}

void EntryTable::Erase(const Entry* e, uint64_t hash) {
  Array* a = array_.load(std::memory_order_relaxed);
  const uint64_t want = Tag(hash) | reinterpret_cast<uint64_t>(e);
  size_t hole = a->Start(Position(hash));
  for (;; hole = a->Next(hole)) {
    const uint64_t w = a->slots()[hole].load(std::memory_order_relaxed);
    if (w == want) break;
    if (w == kEmpty) {
      std::fprintf(stderr, "EntryTable::Erase: entry not in the table\n");
      std::abort();
    }
  }
  --size_;
  // Backward shift: an entry further on in the run whose start is not in (hole, j] may sit at
  // the hole (its probe passes it): it moves there, and its old slot is the new hole. The entry
  // is in both slots until the next store; a reader probing meanwhile finds it in either, or,
  // having passed the hole before the move, misses it (see the invariants).
  for (size_t j = a->Next(hole);; j = a->Next(j)) {
    const uint64_t w = a->slots()[j].load(std::memory_order_relaxed);
    if (w == kEmpty) break;
    const size_t start = a->Start(PositionOf(w));
    const bool after_hole = hole <= j ? (hole < start && start <= j) : (hole < start || start <= j);
    if (after_hole) continue;
    a->slots()[hole].store(w, std::memory_order_seq_cst);
    hole = j;
  }
  a->slots()[hole].store(kEmpty, std::memory_order_seq_cst);
}

size_t EntryTable::SlotsFor(size_t live) {
  return std::max(kMinSlots, (live * 2 + 7) & ~size_t{7});
}

void EntryTable::Rebuild(size_t extra, util::RetireList* retired) {
  Array* old = array_.load(std::memory_order_relaxed);
  Array* a = NewArray(SlotsFor(size_ + extra));
  // Each entry's start comes from the position hash its slot holds: no entry is read.
  for (size_t j = 0; j < old->slot_count; ++j) {
    const uint64_t w = old->slots()[j].load(std::memory_order_relaxed);
    if (w == kEmpty) continue;
    size_t i = a->Start(PositionOf(w));
    while (a->slots()[i].load(std::memory_order_relaxed) != kEmpty) i = a->Next(i);
    a->slots()[i].store(w, std::memory_order_relaxed);
  }
  array_.store(a, std::memory_order_seq_cst);  // Publishes the filled slots too.
  retired->Retire(old, &FreeArray);
}

}  // namespace asidekv::cache
