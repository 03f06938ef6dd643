#include "cache/ghost_set.h"

#include <algorithm>
#include <bit>
#include <cstdint>

#include "cache/memory_cost.h"

namespace asidekv::cache {

void GhostSet::SetCapacity(uint64_t capacity) {
  capacity_ = capacity;
  EvictToCapacity();
}

size_t GhostSet::BucketsFor(size_t hashes) {
  // Abseil's tables have 2^k - 1 buckets and grow when an insertion finds no free bucket while
  // more than 25/32 of them are in use; up to that many hashes the table keeps its size.
  // Start just below the answer (which is at least 1.28 x hashes), so that this costs a step or
  // two: a shard asks for it on every publish (Shard::BudgetedBookkeepingLocked).
  const size_t half = std::bit_ceil(hashes + hashes / 4 + 1) >> 1;
  size_t buckets = half > 16 ? half - 1 : 15;
  while (buckets * 25 / 32 < hashes) buckets = 2 * buckets + 1;
  return buckets;
}

size_t GhostSet::BytesFor(size_t hashes) {
  return FlatTableBytes(BucketsFor(hashes), sizeof(std::pair<const uint32_t, Live>)) +
         std::bit_ceil(hashes + hashes / 2 + kSlack + 1) * sizeof(Slot);
}

void GhostSet::SetMaxBytes(uint64_t bytes) {
  // The most hashes a table size allows (buckets * 25 / 32) whose bytes fit.
  size_t best = 0;
  for (size_t buckets = 15; buckets < (size_t{1} << 40); buckets = 2 * buckets + 1) {
    const size_t hashes = buckets * 25 / 32;
    if (BytesFor(hashes) > bytes) break;
    best = hashes;
  }
  max_hashes_ = best;
  EvictToCapacity();
}

size_t GhostSet::MemoryBytes() const {
  return FlatTableBytes(live_.bucket_count(), sizeof(std::pair<const uint32_t, Live>)) +
         fifo_.capacity() * sizeof(Slot);
}

size_t GhostSet::FullBytes(uint64_t mean_charge) const {
  const size_t now = MemoryBytes();
  if (mean_charge == 0) return now;
  const uint64_t hashes = std::min<uint64_t>(max_hashes_, capacity_ / mean_charge);
  if (hashes == 0) return now;
  return std::max(now, BytesFor(static_cast<size_t>(hashes)));
}

void GhostSet::Insert(uint64_t hash, uint64_t charge) {
  charge = std::max<uint64_t>(charge, 1);
  const uint32_t fingerprint = Fingerprint(hash);
  if (charge > capacity_ || charge > UINT32_MAX || max_hashes_ == 0) {
    RemoveFingerprint(fingerprint);
    return;
  }
  // One probe: a record of the same fingerprint is replaced in place (its FIFO slot goes dead).
  const uint32_t seq = next_seq_++;
  auto [it, inserted] = live_.try_emplace(fingerprint);
  if (!inserted) charge_ -= it->second.charge;
  it->second = Live{seq, static_cast<uint32_t>(charge)};
  fifo_.push_back(Slot{fingerprint, seq});
  charge_ += charge;
  EvictToCapacity();
  if (fifo_.size() > live_.size() + live_.size() / 2 + kSlack) Compact();
}

bool GhostSet::Remove(uint64_t hash) { return RemoveFingerprint(Fingerprint(hash)); }

bool GhostSet::RemoveFingerprint(uint32_t fingerprint) {
  auto it = live_.find(fingerprint);
  if (it == live_.end()) return false;
  charge_ -= it->second.charge;
  live_.erase(it);
  return true;
}

bool GhostSet::IsLive(const Slot& slot) const {
  auto it = live_.find(slot.fingerprint);
  return it != live_.end() && it->second.seq == slot.seq;
}

void GhostSet::EvictToCapacity() {
  while (charge_ > capacity_ || live_.size() > max_hashes_) {
    const Slot slot = fifo_.front();
    fifo_.pop_front();
    auto it = live_.find(slot.fingerprint);
    if (it != live_.end() && it->second.seq == slot.seq) {
      charge_ -= it->second.charge;
      live_.erase(it);
    }
  }
}

void GhostSet::Compact() {
  fifo_.erase_if([this](const Slot& slot) { return !IsLive(slot); });
}

}  // namespace asidekv::cache
