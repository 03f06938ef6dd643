// Memory figures of this process for the cache benchmarks: resident set and heap in use.

#ifndef ASIDEKV_TOOLS_BENCH_CACHE_MEMORY_USAGE_H_
#define ASIDEKV_TOOLS_BENCH_CACHE_MEMORY_USAGE_H_

#include <malloc.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>

namespace asidekv::bench_cache {

// Resident bytes of this process (/proc/self/statm, second field).
inline int64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size_pages = 0;
  int64_t resident_pages = 0;
  statm >> size_pages >> resident_pages;
  return resident_pages * sysconf(_SC_PAGESIZE);
}

// Bytes glibc's allocator has handed out and not had back (small blocks and mmapped ones):
// unlike the resident set, this excludes freed memory the allocator keeps.
inline int64_t HeapInUse() {
  const struct mallinfo2 mi = mallinfo2();
  return static_cast<int64_t>(mi.uordblks + mi.hblkhd);
}

}  // namespace asidekv::bench_cache

#endif  // ASIDEKV_TOOLS_BENCH_CACHE_MEMORY_USAGE_H_
