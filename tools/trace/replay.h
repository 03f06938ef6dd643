// Trace replay: hit ratios of the cache's eviction policies, and of Belady's OPT, on a trace.
//
// Every request is a read: a hit counts, a miss inserts the key ("read-through"). Each object
// weighs 1 and the cache holds `capacity_objects` of them, starting cold; the hit ratio is
// hits / requests over the whole trace, as in the README of the traces folder.
//
// The policies run through the real cache (cache::ShardedCache, one shard, a weigher of 1), so
// the numbers are those of the code that serves requests. Belady's OPT is computed offline.
//
// Example:
//   absl::StatusOr<Trace> trace = ReadTrace(path);
//   ...
//   absl::StatusOr<ReplayResult> r = ReplayPolicy(*trace, "default", 1868);
//   if (r.ok()) std::cout << r->HitRatioPercent() << "\n";

#ifndef ASIDEKV_TOOLS_TRACE_REPLAY_H_
#define ASIDEKV_TOOLS_TRACE_REPLAY_H_

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cache/eviction_policy.h"
#include "tools/trace/trace_reader.h"

namespace asidekv::trace {

struct ReplayResult {
  uint64_t requests = 0;
  uint64_t hits = 0;
  // Bytes requested and bytes served by hits (byte-budget replays only; else 0).
  uint64_t bytes = 0;
  uint64_t hit_bytes = 0;
  // 100 * hits / requests; 0 for an empty trace.
  double HitRatioPercent() const;
  // 100 * hit_bytes / bytes; 0 when no bytes were counted.
  double ByteHitRatioPercent() const;
};

// A cache a trace is replayed through.
class ReplayCache {
 public:
  virtual ~ReplayCache() = default;
  // Looks `key` up; on a miss inserts it with weight 1. True on a hit. `key_id` is the key's
  // dense id in the trace (Trace::requests), for caches that index by it.
  virtual bool Access(uint32_t key_id, std::string_view key) = 0;
};

// The real cache (cache::ShardedCache) with one shard, holding up to `capacity_objects` entries
// of weight 1 and evicting with a policy of `kind`. Errors are the cache's option errors.
absl::StatusOr<std::unique_ptr<ReplayCache>> NewReplayCache(cache::PolicyKind kind,
                                                            uint64_t capacity_objects);

ReplayResult Replay(const Trace& trace, ReplayCache* cache);

// The policy names the tool accepts, in report order: "lru", "s3fifo", "wtinylfu", "adaptive",
// "default", "opt".
const std::vector<std::string_view>& PolicyNames();

// Replays `trace` with the named policy ("opt" is Belady's MIN); InvalidArgument for an unknown
// name.
absl::StatusOr<ReplayResult> ReplayPolicy(const Trace& trace, std::string_view policy,
                                          uint64_t capacity_objects);

// Replays a trace with object sizes (Trace::sizes) through the real cache charged in bytes: each
// object weighs its size and the cache holds `capacity_bytes`. Counts request and byte hits.
// InvalidArgument for a trace without sizes, for "opt" (Belady's MIN is not optimal when sizes
// differ) or for an unknown name.
absl::StatusOr<ReplayResult> ReplayPolicyBytes(const Trace& trace, std::string_view policy,
                                               uint64_t capacity_bytes);

// floor(p / 100 * n): a capacity of p percent of n keys or bytes, as the README of the traces
// folder sizes caches.
uint64_t PercentOf(double p, uint64_t n);
// The sum of the sizes of the trace's unique keys; 0 without sizes.
uint64_t UniqueBytes(const Trace& trace);

// What the asidekv-trace command runs.
struct TraceToolOptions {
  std::string file;
  std::string dir;     // Instead of `file`: every trace of a folder (see RunTraceFolder).
  bool bytes = false;  // Byte budget: capacities are percents of the trace's unique bytes.
  std::vector<uint64_t> capacity_objects;  // Used as given.
  std::vector<double> capacity_percents;   // Each gives floor(p / 100 * unique keys) objects.
  std::vector<std::string> policies;       // Empty: all of PolicyNames().
};

// Parses `--file F (--capacity-objects N[,N...] | --capacity-percent P[,P...]) [--policy P[,P]]
// [--bytes]` or `--dir D` (also `--flag=value`). InvalidArgument with a usage hint on error.
absl::StatusOr<TraceToolOptions> ParseTraceToolArgs(const std::vector<std::string_view>& args);

// Reads the trace and prints one line per capacity and policy:
//   policy=<name> hit_ratio=<percent, 2 decimals> capacity_objects=<N>
// after a first line `trace=<file> requests=<R> unique_keys=<U>`. With `bytes`, each line is
//   policy=<name> hit_ratio=<percent> byte_hit_ratio=<percent> capacity_bytes=<N>
// and the first line also gives unique_bytes=<sum of the sizes of the unique keys>.
// With `dir`, runs RunTraceFolder instead.
absl::Status RunTraceTool(const TraceToolOptions& options, std::ostream& out);

// Usage text for the command.
std::string_view TraceToolUsage();

}  // namespace asidekv::trace

#endif  // ASIDEKV_TOOLS_TRACE_REPLAY_H_
