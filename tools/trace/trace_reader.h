// Trace reading for the replay tool: a cache access trace, one request per line.
//
// Format (see the README of the traces folder): each line is a key, optionally followed by one
// space and the object's size in bytes; lines end in '\n' ("\r\n" is accepted). Keys are any
// text without spaces (the shipped traces use decimal integers). Every line has the same number
// of columns as the first. A path ending in ".gz" or not, the file is read through zlib, which
// reads gzip and plain text alike.
//
// Example:
//   absl::StatusOr<Trace> trace = ReadTrace("/work/shared/traces/arc_OLTP.keys");
//   if (!trace.ok()) return trace.status();
//   std::cout << trace->requests.size() << " requests, " << trace->unique_keys() << " keys\n";
//
// Errors: NotFound (no such file), PermissionDenied/Unavailable (cannot open), DataLoss (corrupt
// gzip), InvalidArgument (a bad line: "<path>:<line>: <what>", or no requests at all).

#ifndef ASIDEKV_TOOLS_TRACE_TRACE_READER_H_
#define ASIDEKV_TOOLS_TRACE_TRACE_READER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "util/hash.h"

namespace asidekv::trace {

// A trace in memory, keys interned to dense ids 0..unique_keys()-1 in order of first use.
struct Trace {
  std::vector<uint32_t> requests;  // Key id of each request, in trace order.
  std::vector<std::string> keys;   // keys[id]: the key's text.
  std::vector<uint64_t> sizes;     // sizes[id]: its first-seen size; empty without a size column.

  size_t unique_keys() const { return keys.size(); }
};

// Builds a Trace line by line; ReadTrace feeds it a file, tests may feed it strings.
class TraceBuilder {
 public:
  // `source` names the input in error messages.
  explicit TraceBuilder(std::string source) : source_(std::move(source)) {}

  // Adds one line (without its '\n'). InvalidArgument names the source and line number.
  absl::Status AddLine(std::string_view line);
  // InvalidArgument if no line was added. Leaves the builder empty.
  absl::StatusOr<Trace> Finish();

 private:
  absl::Status LineError(std::string_view what) const;

  std::string source_;
  size_t line_number_ = 0;
  int columns_ = 0;  // 1 or 2, fixed by the first line.
  Trace trace_;
  absl::flat_hash_map<std::string, uint32_t, util::StringViewHash, util::StringViewEq> ids_;
};

absl::StatusOr<Trace> ReadTrace(const std::string& path);

}  // namespace asidekv::trace

#endif  // ASIDEKV_TOOLS_TRACE_TRACE_READER_H_
