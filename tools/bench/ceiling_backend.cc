#include "tools/bench/ceiling_backend.h"

#include "absl/strings/str_cat.h"

namespace asidekv::bench {
namespace {

// Shards for 2+ threads: enough that two threads rarely meet on one lock.
constexpr size_t kLockedShards = 64;

}  // namespace

CeilingBackend::CeilingBackend(size_t num_shards, bool locked)
    : locked_(locked), shard_mask_(num_shards - 1), shards_(new Shard[num_shards]) {}

absl::StatusOr<std::unique_ptr<CeilingBackend>> CeilingBackend::Open(
    const BackendOptions& options) {
  const bool locked = options.threads > 1;
  return std::unique_ptr<CeilingBackend>(new CeilingBackend(locked ? kLockedShards : 1, locked));
}

absl::Status CeilingBackend::LoadBatch(absl::Span<const std::string> keys,
                                       absl::Span<const std::string> values) {
  for (size_t i = 0; i < keys.size(); ++i) {
    // The load runs on several threads even when the runs use one: always lock here.
    Shard& shard = shards_[util::HashKey(keys[i]) & shard_mask_];
    util::MutexLock lock(&shard.mu);
    absl::Status s = WriteUnlocked(shard, keys[i], values[i]);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

CacheCounters CeilingBackend::Counters() const {
  CacheCounters counters;
  counters.db_reads = 0;
  return counters;
}

std::vector<std::pair<std::string, std::string>> CeilingBackend::Describe() const {
  return {{"shards", absl::StrCat(shard_mask_ + 1)},
          {"locks", locked_ ? "util::Mutex (std::mutex) per shard" : "none (one thread)"}};
}

}  // namespace asidekv::bench
