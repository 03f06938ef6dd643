// Belady's MIN (OPT): the most hits any cache of a given number of unit-size objects can get on
// a trace, computed offline. On a miss the key is always admitted; when the cache is full the
// cached key whose next request lies farthest in the future is evicted.
//
// Costs: O(R log C) time and O(R) memory for R requests and C = capacity_objects.

#ifndef ASIDEKV_TOOLS_TRACE_OPT_H_
#define ASIDEKV_TOOLS_TRACE_OPT_H_

#include <cstdint>

#include "tools/trace/replay.h"
#include "tools/trace/trace_reader.h"

namespace asidekv::trace {

ReplayResult ReplayOpt(const Trace& trace, uint64_t capacity_objects);

}  // namespace asidekv::trace

#endif  // ASIDEKV_TOOLS_TRACE_OPT_H_
