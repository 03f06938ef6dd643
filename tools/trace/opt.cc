#include "tools/trace/opt.h"

#include <algorithm>
#include <vector>

namespace asidekv::trace {

// Each cached key is represented by the index of its next request (a key never requested again
// gets a distinct index past the end), so the cache is a set of distinct future times: request t
// hits exactly when t is in the set, and the victim is the largest element. A max-heap holds the
// set; entries consumed by a hit stay in it, marked dead in `cached`, and sink below every live
// entry since they lie in the past. The heap is rebuilt when dead entries outnumber live ones.
ReplayResult ReplayOpt(const Trace& trace, uint64_t capacity_objects) {
  const std::vector<uint32_t>& requests = trace.requests;
  const uint64_t n = requests.size();
  std::vector<uint64_t> next_use(n);
  {
    std::vector<uint64_t> upcoming(trace.unique_keys(), 0);  // 0: not seen yet (from the end).
    for (uint64_t t = n; t-- > 0;) {
      const uint32_t key = requests[t];
      next_use[t] = upcoming[key] != 0 ? upcoming[key] : n + t;  // n + t: never again.
      upcoming[key] = t;
    }
  }

  ReplayResult result;
  result.requests = n;
  if (capacity_objects == 0) return result;
  std::vector<bool> cached(2 * n, false);  // By future time.
  std::vector<uint64_t> heap;
  uint64_t live = 0;
  for (uint64_t t = 0; t < n; ++t) {
    if (cached[t]) {
      ++result.hits;
      cached[t] = false;
      --live;
    } else if (live == capacity_objects) {
      for (;;) {
        std::pop_heap(heap.begin(), heap.end());
        const uint64_t victim = heap.back();
        heap.pop_back();
        if (cached[victim]) {
          cached[victim] = false;
          --live;
          break;
        }
      }
    }
    cached[next_use[t]] = true;
    ++live;
    heap.push_back(next_use[t]);
    std::push_heap(heap.begin(), heap.end());
    if (heap.size() > 2 * live + 64) {
      std::erase_if(heap, [&cached](uint64_t time) { return !cached[time]; });
      std::make_heap(heap.begin(), heap.end());
    }
  }
  return result;
}

}  // namespace asidekv::trace
