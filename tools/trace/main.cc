// asidekv-trace: replays a cache trace through the eviction policies and Belady's OPT.
//   asidekv-trace --file F (--capacity-objects N | --capacity-percent 1,5,10) [--policy P]
// All the work is in tools/trace/replay.h (asidekv_trace), so other tools can run it too.

#include <iostream>
#include <string_view>
#include <vector>

#include "tools/trace/replay.h"

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  absl::StatusOr<asidekv::trace::TraceToolOptions> options =
      asidekv::trace::ParseTraceToolArgs(args);
  absl::Status s =
      options.ok() ? asidekv::trace::RunTraceTool(*options, std::cout) : options.status();
  if (!s.ok()) {
    std::cerr << "asidekv-trace: " << s.message() << "\n";
    return 2;
  }
  return 0;
}
