#include "cache/ghost_set.h"

#include <algorithm>

namespace asidekv::cache {

void GhostSet::SetCapacity(uint64_t capacity) {
  capacity_ = capacity;
  EvictToCapacity();
}

void GhostSet::Insert(uint64_t hash, uint64_t charge) {
  charge = std::max<uint64_t>(charge, 1);
  Remove(hash);
  if (charge > capacity_) return;
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
  while (charge_ > capacity_) {
    const Slot slot = fifo_.front();
    fifo_.pop_front();
    if (IsLive(slot)) Remove(slot.hash);
  }
}

void GhostSet::Compact() {
  std::erase_if(fifo_, [this](const Slot& slot) { return !IsLive(slot); });
}

}  // namespace asidekv::cache
