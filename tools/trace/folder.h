// RunTraceFolder: replays every trace of a folder at the reference sizes and prints one table, the
// report the eviction policies are judged by.
//
// For each file of the folder whose name ends in ".keys" or ".keys.gz" (in name order), at 1%, 5%
// and 10% of its unique keys (objects of weight 1), every policy of PolicyNames() is replayed and
// printed beside the reference of README.md in the same folder (reference.h): its best policy
// other than OPT, and whether "default" passes (within 0.5 points of the best and of LRU). A
// policy's value that misses that target is marked with '*'. After the table, one line per
// policy gives the cells passed and the average share of the LRU-to-OPT gap closed.
// Traces with object sizes are then also replayed against a byte budget (p% of their unique
// bytes), with request and byte hit ratios; there is no OPT for those.
//
// Output is a Markdown table, so it can be pasted into the README. Errors: the folder's or a
// trace's read error; a folder without README.md gives a table without reference columns.

#ifndef ASIDEKV_TOOLS_TRACE_FOLDER_H_
#define ASIDEKV_TOOLS_TRACE_FOLDER_H_

#include <ostream>
#include <string>

#include "absl/status/status.h"

namespace asidekv::trace {

absl::Status RunTraceFolder(const std::string& dir, std::ostream& out);

}  // namespace asidekv::trace

#endif  // ASIDEKV_TOOLS_TRACE_FOLDER_H_
