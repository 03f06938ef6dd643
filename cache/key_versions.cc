#include "cache/key_versions.h"

namespace asidekv::cache {

bool KeyVersions::FillAllowed(std::string_view key, uint64_t token) const {
  if (token <= floor_) return false;
  auto it = records_.find(key);
  if (it == records_.end()) return true;
  return it->second.version < token && it->second.writers == 0;
}

KeyVersions::Record& KeyVersions::Bump(std::string_view key) {
  auto [it, inserted] = records_.try_emplace(key);
  it->second.version = ++seq_;
  order_.emplace_back(it->second.version, std::string(key));
  TrimToBound();
  // TrimToBound never drops the record just bumped (it is the newest), but it may rehash.
  return records_.find(key)->second;
}

void KeyVersions::Invalidate(std::string_view key) { Bump(key); }

std::pair<uint64_t, bool> KeyVersions::BeginWrite(std::string_view key) {
  Record& r = Bump(key);
  const bool solo = r.writers == 0;
  ++r.writers;
  return {r.version, solo};
}

bool KeyVersions::EndWrite(std::string_view key, uint64_t version, bool solo) {
  auto it = records_.find(key);
  if (it == records_.end()) {  // Cannot happen: records with writers in flight are kept.
    Bump(key);
    return false;
  }
  const bool install = solo && it->second.version == version && it->second.writers == 1;
  --it->second.writers;
  Bump(key);
  return install;
}

void KeyVersions::TrimToBound() {
  size_t budget = order_.size();  // Each pass looks at every queued item at most once.
  while ((records_.size() > max_keys_ || order_.size() > 2 * max_keys_) && budget-- > 0) {
    auto [version, key] = std::move(order_.front());
    order_.pop_front();
    auto it = records_.find(key);
    if (it == records_.end() || it->second.version != version) continue;  // Stale item.
    if (it->second.writers > 0 || version == seq_) {
      order_.emplace_back(version, std::move(key));  // Pinned: keep it.
      continue;
    }
    if (version > floor_) floor_ = version;
    records_.erase(it);
  }
}

}  // namespace asidekv::cache
