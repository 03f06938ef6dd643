// CeilingBackend: the upper bound a cache can hope for — an absl::flat_hash_map lookup plus a
// copy of the value, with no eviction, no statistics and no database.
//
// With one benchmark thread it is a single map and takes no lock at all. With two or more it is
// split into shards, each a util::Mutex over its own map (a key's shard comes from its hash):
// the same lock asidekv's cache shards use, since Debian's absl::Mutex tracks lock order under a
// process-wide spinlock (see util/mutex.h) and would make this bound look lower than it is.
// Writes update the map. It keeps every record in memory whatever the cache size, and cannot
// scan (SupportsScan() is false, so workload E skips it).
//
// Thread safety: see backend.h; with `threads == 1` in the options, calls must come from one
// thread at a time.

#ifndef ASIDEKV_TOOLS_BENCH_CEILING_BACKEND_H_
#define ASIDEKV_TOOLS_BENCH_CEILING_BACKEND_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "tools/bench/backend.h"
#include "util/hash.h"
#include "util/mutex.h"
#include "util/string_view.h"

namespace asidekv::bench {

class CeilingBackend {
 public:
  static constexpr std::string_view kName = "ceiling";

  static absl::StatusOr<std::unique_ptr<CeilingBackend>> Open(const BackendOptions& options);

  bool SupportsScan() const { return false; }

  absl::Status Read(std::string_view std_key, std::string* value) {
    const absl::string_view key = util::ToAbsl(std_key);
    const size_t hash = util::HashKey(std_key);
    Shard& shard = shards_[hash & shard_mask_];
    if (!locked_) return ReadUnlocked(shard, key, value);
    util::MutexLock lock(&shard.mu);
    return ReadUnlocked(shard, key, value);
  }

  absl::Status Write(std::string_view std_key, std::string_view value) {
    const absl::string_view key = util::ToAbsl(std_key);
    const size_t hash = util::HashKey(std_key);
    Shard& shard = shards_[hash & shard_mask_];
    if (!locked_) return WriteUnlocked(shard, key, value);
    util::MutexLock lock(&shard.mu);
    return WriteUnlocked(shard, key, value);
  }

  absl::StatusOr<size_t> Scan(std::string_view, size_t) {
    return absl::UnimplementedError("the ceiling backend cannot scan");
  }

  absl::Status LoadBatch(absl::Span<const std::string> keys, absl::Span<const std::string> values);
  absl::Status AfterLoad(bool) { return absl::OkStatus(); }
  CacheCounters Counters() const;
  std::vector<std::pair<std::string, std::string>> Describe() const;

 private:
  struct alignas(64) Shard {
    util::Mutex mu;
    absl::flat_hash_map<std::string, std::string> map ABSL_GUARDED_BY(mu);
  };

  CeilingBackend(size_t num_shards, bool locked);

  // Caller holds shard.mu, or runs single-threaded (locked_ is false).
  static absl::Status ReadUnlocked(const Shard& shard, absl::string_view key,
                                   std::string* value) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    auto it = shard.map.find(key);
    if (it == shard.map.end()) return absl::NotFoundError("");
    *value = std::string(it->second);
    return absl::OkStatus();
  }
  static absl::Status WriteUnlocked(Shard& shard, absl::string_view key,
                                    std::string_view value) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    auto [it, inserted] = shard.map.try_emplace(key, value.data(), value.size());
    if (!inserted) it->second.assign(value.data(), value.size());
    return absl::OkStatus();
  }

  const bool locked_;
  const size_t shard_mask_;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace asidekv::bench

#endif  // ASIDEKV_TOOLS_BENCH_CEILING_BACKEND_H_
