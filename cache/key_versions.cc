#include "cache/key_versions.h"

#include <algorithm>

#include "cache/memory_cost.h"

namespace asidekv::cache {

bool KeyVersions::FillAllowed(uint64_t key_hash, uint64_t token) const {
  if (token <= floor_) return false;
  auto it = records_.find(key_hash);
  if (it == records_.end()) return true;
  return it->second.version < token && it->second.writers == 0;
}

void KeyVersions::Bump(uint64_t key_hash, Record& r) {
  r.version = ++seq_;
  if (r.writers == 0) order_.push_back(Item{r.version, key_hash});
}

bool KeyVersions::WriteInFlight(uint64_t key_hash) const {
  if (pinned_ == 0) return false;
  auto it = records_.find(key_hash);
  return it != records_.end() && it->second.writers > 0;
}

void KeyVersions::Invalidate(uint64_t key_hash) {
  Bump(key_hash, records_[key_hash]);
  TrimToBound();
}

std::pair<uint64_t, bool> KeyVersions::BeginWrite(uint64_t key_hash) {
  Record& r = records_[key_hash];
  const bool solo = r.writers == 0;
  if (solo) ++pinned_;
  ++r.writers;
  Bump(key_hash, r);  // Pinned: not queued; the record's older item, if any, is now dead.
  const uint64_t version = r.version;
  TrimToBound();
  return {version, solo};
}

bool KeyVersions::EndWrite(uint64_t key_hash, uint64_t version, bool solo) {
  auto it = records_.find(key_hash);
  if (it == records_.end() || it->second.writers == 0) {
    // Cannot happen: records with writers in flight are kept. Reject, to be safe.
    Invalidate(key_hash);
    return false;
  }
  Record& r = it->second;
  const bool install = solo && r.version == version && r.writers == 1 && version > rejected_all_;
  if (--r.writers == 0) --pinned_;
  Bump(key_hash, r);  // Queued again if this was its last writer.
  TrimToBound();
  MaybeShrink();
  return install;
}

void KeyVersions::TrimToBound() {
  while (records_.size() - pinned_ > max_keys_ || order_.size() > 2 * max_keys_) {
    const Item item = order_.front();
    order_.pop_front();
    ++trim_steps_;
    auto it = records_.find(item.key_hash);
    if (it == records_.end() || it->second.version != item.version || it->second.writers > 0) {
      continue;  // Dead item.
    }
    floor_ = std::max(floor_, item.version);
    records_.erase(it);
  }
}

void KeyVersions::MaybeShrink() {
  // A rehash costs O(records) and happens only after the table has emptied to a quarter of what
  // its buckets were sized for, so it is amortised over the erasures that emptied it.
  const size_t buckets = records_.bucket_count();
  if (buckets > 4 * (max_keys_ + 16) && records_.size() < buckets / 4) records_.rehash(0);
}

size_t KeyVersions::MemoryBytes() const {
  return FlatTableBytes(records_.bucket_count(), sizeof(std::pair<const uint64_t, Record>)) +
         order_.capacity() * sizeof(Item);
}

}  // namespace asidekv::cache
