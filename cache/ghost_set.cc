#include "cache/ghost_set.h"

#include <algorithm>
#include <bit>

#include "cache/memory_cost.h"

namespace asidekv::cache {

void GhostSet::SetCapacity(uint64_t capacity) {
  capacity_ = capacity;
  EvictToCapacity();
}

void GhostSet::SetMaxBytes(uint64_t bytes) {
  // Abseil's tables have 2^k - 1 buckets and grow when an insertion finds no free bucket while
  // more than 25/32 of them are in use; up to that many hashes the table keeps its size.
  constexpr size_t kSlotBytes = sizeof(std::pair<const uint64_t, Live>);
  size_t best = 0;
  for (size_t buckets = 15; buckets < (size_t{1} << 40); buckets = 2 * buckets + 1) {
    const size_t hashes = buckets * 25 / 32;
    const size_t cost =
        FlatTableBytes(buckets, kSlotBytes) + std::bit_ceil(2 * hashes + kSlack + 1) * sizeof(Slot);
    if (cost > bytes) break;
    best = hashes;
  }
  max_hashes_ = best;
  EvictToCapacity();
}

size_t GhostSet::MemoryBytes() const {
  return FlatTableBytes(live_.bucket_count(), sizeof(std::pair<const uint64_t, Live>)) +
         fifo_.capacity() * sizeof(Slot);
}

void GhostSet::Insert(uint64_t hash, uint64_t charge) {
  charge = std::max<uint64_t>(charge, 1);
  Remove(hash);
  if (charge > capacity_ || max_hashes_ == 0) return;
  const uint64_t seq = next_seq_++;
  fifo_.push_back(Slot{hash, seq});
  live_[hash] = Live{seq, charge};
  charge_ += charge;
  EvictToCapacity();
  if (fifo_.size() > 2 * live_.size() + kSlack) Compact();
}

bool GhostSet::Remove(uint64_t hash) {
  auto it = live_.find(hash);
  if (it == live_.end()) return false;
  charge_ -= it->second.charge;
  live_.erase(it);
  return true;
}

bool GhostSet::IsLive(const Slot& slot) const {
  auto it = live_.find(slot.hash);
  return it != live_.end() && it->second.seq == slot.seq;
}

void GhostSet::EvictToCapacity() {
  while (charge_ > capacity_ || live_.size() > max_hashes_) {
    const Slot slot = fifo_.front();
    fifo_.pop_front();
    if (IsLive(slot)) Remove(slot.hash);
  }
}

void GhostSet::Compact() {
  fifo_.erase_if([this](const Slot& slot) { return !IsLive(slot); });
}

}  // namespace asidekv::cache
