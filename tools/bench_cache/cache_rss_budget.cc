// Measures how much memory ShardedCache really holds against its byte budget: the growth of the
// resident set while a cache of capacity C is filled with distinct keys far beyond C (so that
// eviction runs, the S3-FIFO ghost set fills and the version table sees writes), with lookups of
// recent keys mixed in, divided by C. One cell per entry size (key + value), policy, and with or
// without TTLs; each cell runs in a forked child, so none inherits another's freed memory.
//
//   cache_rss_budget [capacity_mib] [fill_factor]    (defaults 64 and 4)
//
// Prints one line per cell (RSS growth / capacity, and heap in use / capacity from glibc's
// counters, which excludes memory the allocator keeps but the cache no longer uses), then the
// worst RSS ratio. Exits 1 if a cell failed to run.

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "cache/sharded_cache.h"
#include "tools/bench_cache/memory_usage.h"

namespace asidekv::bench_cache {
namespace {

struct Cell {
  size_t entry_size;  // Key + value bytes.
  cache::PolicyKind policy;
  bool ttl;
};

struct Result {
  double rss_ratio = 0;
  double heap_ratio = 0;
  uint64_t entries = 0;
  uint64_t bookkeeping = 0;
  double hit_ratio = 0;
};

// Writes key number `i` into `key` (its size is kept): a fixed-width hex prefix, padding after.
void FormatKey(uint64_t i, std::string* key) {
  char digits[17];
  std::snprintf(digits, sizeof(digits), "%016llx", static_cast<unsigned long long>(i));
  const size_t n = std::min(key->size(), sizeof(digits) - 1);
  std::memcpy(key->data(), digits + (sizeof(digits) - 1 - n), n);
}

Result Run(const Cell& cell, uint64_t capacity, double fill_factor) {
  const size_t key_size = cell.entry_size <= 16 ? cell.entry_size / 2 : 16;
  std::string key(key_size, 'k');
  const std::string value(cell.entry_size - key_size, 'v');
  std::string probe = key;

  const int64_t rss_before = ResidentBytes();
  const int64_t heap_before = HeapInUse();
  cache::CacheOptions options;
  options.capacity = capacity;
  options.policy = cell.policy;
  options.ttl_jitter = 0.2;
  auto made = cache::ShardedCache::Create(options);
  if (!made.ok()) std::_Exit(2);
  std::unique_ptr<cache::ShardedCache> c = *std::move(made);
  const cache::EntryOptions entry{.ttl = cell.ttl ? std::optional(absl::Hours(1)) : std::nullopt};
  const uint64_t fits = capacity / c->ChargeOf(key, value);
  const uint64_t inserts = static_cast<uint64_t>(fill_factor * static_cast<double>(fits));
  uint64_t rng = 0x9e3779b97f4a7c15ull;
  uint64_t lookups = 0;
  uint64_t hits = 0;
  for (uint64_t i = 0; i < inserts; ++i) {
    FormatKey(i, &key);
    if (i % 16 == 0) {
      // A kUpdate write of a new key, so the version table is in use too.
      const cache::WriteToken w = c->BeginWrite(key);
      const std::string_view v = value;
      c->EndWrite(w, /*db_ok=*/true, &v, entry);
    } else {
      c->Insert(key, value, entry);
    }
    // Two lookups per insert, of keys among the last ~2x what fits: about half of them hit, and
    // some keys are hit often enough to reach S3-FIFO's main queue.
    for (int j = 0; j < 2; ++j) {
      rng ^= rng << 13;
      rng ^= rng >> 7;
      rng ^= rng << 17;
      const uint64_t window = std::max<uint64_t>(1, std::min<uint64_t>(i + 1, 2 * fits));
      // Skewed towards recent keys: the smaller of two uniform draws.
      const uint64_t back = std::min(rng % window, (rng >> 32) % window);
      FormatKey(i - back, &probe);
      ++lookups;
      if (c->Lookup(probe)) ++hits;
    }
    if (i % 1024 == 0) c->Invalidate(probe);
  }
  Result r;
  r.rss_ratio = static_cast<double>(ResidentBytes() - rss_before) / static_cast<double>(capacity);
  r.heap_ratio = static_cast<double>(HeapInUse() - heap_before) / static_cast<double>(capacity);
  const cache::CacheStats s = c->GetStats();
  r.entries = s.entries;
  r.bookkeeping = s.bookkeeping;
  r.hit_ratio = static_cast<double>(hits) / static_cast<double>(std::max<uint64_t>(1, lookups));
  return r;
}

// Runs the cell in a child process; false if it failed.
bool InChild(const Cell& cell, uint64_t capacity, double fill_factor, Result* out) {
  int fds[2];
  if (pipe(fds) != 0) return false;
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    close(fds[0]);
    const Result r = Run(cell, capacity, fill_factor);
    const bool ok = write(fds[1], &r, sizeof(r)) == static_cast<ssize_t>(sizeof(r));
    std::_Exit(ok ? 0 : 1);
  }
  close(fds[1]);
  const bool read_ok = read(fds[0], out, sizeof(*out)) == static_cast<ssize_t>(sizeof(*out));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return read_ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace
}  // namespace asidekv::bench_cache

int main(int argc, char** argv) {
  using namespace asidekv::bench_cache;  // NOLINT(build/namespaces): main only.
  using asidekv::cache::PolicyKind;
  const uint64_t capacity_mib = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 64;
  const double fill_factor = argc > 2 ? std::strtod(argv[2], nullptr) : 4;
  if (capacity_mib == 0 || !(fill_factor >= 1)) {
    std::fprintf(stderr, "usage: cache_rss_budget [capacity_mib] [fill_factor >= 1]\n");
    return 2;
  }
  const uint64_t capacity = capacity_mib << 20;
  std::printf("capacity %llu MiB, distinct keys inserted: %.1fx what fits\n",
              static_cast<unsigned long long>(capacity_mib), fill_factor);
  std::printf("%-6s %-7s %-4s %10s %10s %10s %12s %8s\n", "entry", "policy", "ttl", "rss/cap",
              "heap/cap", "entries", "bookkeeping", "hits");
  double worst = 0;
  std::string worst_name;
  bool all_ok = true;
  for (const size_t size : {16, 64, 256, 1024, 4096}) {
    for (const PolicyKind policy : {PolicyKind::kLru, PolicyKind::kS3Fifo}) {
      for (const bool ttl : {false, true}) {
        const Cell cell{size, policy, ttl};
        Result r;
        const char* policy_name = policy == PolicyKind::kLru ? "lru" : "s3fifo";
        if (!InChild(cell, capacity, fill_factor, &r)) {
          std::printf("%-6zu %-7s %-4s failed\n", size, policy_name, ttl ? "yes" : "no");
          all_ok = false;
          continue;
        }
        std::printf("%-6zu %-7s %-4s %10.3f %10.3f %10llu %12llu %7.1f%%\n", size, policy_name,
                    ttl ? "yes" : "no", r.rss_ratio, r.heap_ratio,
                    static_cast<unsigned long long>(r.entries),
                    static_cast<unsigned long long>(r.bookkeeping), 100 * r.hit_ratio);
        std::fflush(stdout);
        if (r.rss_ratio > worst) {
          worst = r.rss_ratio;
          worst_name = std::to_string(size) + " B " + policy_name + (ttl ? " ttl" : " no-ttl");
        }
      }
    }
  }
  std::printf("worst rss/capacity: %.3f (%s)\n", worst, worst_name.c_str());
  return all_ok ? 0 : 1;
}
