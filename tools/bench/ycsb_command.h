// `asidekv-bench ycsb` and `asidekv-bench demo`: load the records into each backend, run the
// chosen YCSB workloads on it with identical pre-generated operation sequences, and report.

#ifndef ASIDEKV_TOOLS_BENCH_YCSB_COMMAND_H_
#define ASIDEKV_TOOLS_BENCH_YCSB_COMMAND_H_

#include "tools/bench/ycsb_config.h"

namespace asidekv::bench {

// Parses argv[first..argc) and runs. Returns the exit code: 0 success, 1 a failed run (an
// operation error or a wrong value), 2 bad flags or a refused debug build.
int RunYcsbCommand(YcsbPreset preset, int argc, const char* const* argv, int first);

}  // namespace asidekv::bench

#endif  // ASIDEKV_TOOLS_BENCH_YCSB_COMMAND_H_
