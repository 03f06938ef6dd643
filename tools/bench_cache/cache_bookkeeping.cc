// Measures each cache's memory per entry beyond its key and value: resident set growth while
// inserting N entries (16-byte keys, 100-byte values) into a cache large enough to keep them all,
// less the N * 116 payload bytes, divided by N. Each backend runs in a forked child, so none
// inherits another's freed memory.
//
//   cache_bookkeeping [N]    (default 1,000,000)
//
// Prints, per backend: the RSS the empty cache takes at creation (e.g. HyperClockCache's fixed
// table), and the bytes per entry beyond the payload counting and not counting that.

#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "tools/bench_cache/cache_backends.h"
#include "tools/bench_cache/memory_usage.h"

namespace asidekv::bench_cache {
namespace {

template <typename Backend>
int Measure(uint64_t n) {
  const std::string value(kValueSize, 'v');
  // Room for all with margin for shard imbalance: asidekv charges 196 bytes for such an entry,
  // RocksDB 116 plus its handle. (HyperClockCache sizes its table by the capacity; at 250 bytes
  // per entry it already evicts a few, and its table is the same power of two.)
  const uint64_t capacity = n * 300;
  const int64_t before = ResidentBytes();
  auto backend = std::make_unique<Backend>(capacity);
  const int64_t created = ResidentBytes();
  for (uint64_t i = 0; i < n; ++i) backend->Insert(KeyOf(i), value);
  const int64_t filled = ResidentBytes();
  uint64_t present = 0;
  std::string out;
  for (uint64_t i = 0; i < n; ++i) present += backend->Lookup(KeyOf(i), &out) ? 1 : 0;
  const double payload = static_cast<double>(n) * (kKeySize + kValueSize);
  const double n_d = static_cast<double>(n);
  std::printf(
      "%-12s entries %8llu/%llu  table at creation %7.1f MiB  "
      "bookkeeping %6.1f B/entry (%6.1f B/entry without the creation cost)\n",
      Backend::kName, static_cast<unsigned long long>(present), static_cast<unsigned long long>(n),
      (created - before) / 1048576.0, (static_cast<double>(filled - before) - payload) / n_d,
      (static_cast<double>(filled - created) - payload) / n_d);
  std::fflush(stdout);
  return present == n ? 0 : 1;
}

template <typename Backend>
int InChild(uint64_t n) {
  std::fflush(stdout);  // Or the child would print the parent's buffered lines again.
  const pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) std::_Exit(Measure<Backend>(n));
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

}  // namespace
}  // namespace asidekv::bench_cache

int main(int argc, char** argv) {
  using namespace asidekv::bench_cache;  // NOLINT(build/namespaces): main only.
  const uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  if (n == 0) {
    std::fprintf(stderr, "usage: cache_bookkeeping [entries]\n");
    return 2;
  }
  std::printf("%llu entries of %zu-byte keys and %zu-byte values (payload %zu B/entry)\n",
              static_cast<unsigned long long>(n), kKeySize, kValueSize, kKeySize + kValueSize);
  int failures = 0;
  failures += InChild<AsideBackend>(n);
  failures += InChild<LruBackend>(n);
  failures += InChild<HyperClockBackend>(n);
  return failures == 0 ? 0 : 1;
}
