// `asidekv-bench stampede`: one hot key with a short TTL read by many threads, run with each
// refresh-ahead mode (off, background, XFetch) on a fresh Store. Reports per mode the DB reads
// per TTL period ("per expiry"), the Get latency percentiles and the refresh counters.

#ifndef ASIDEKV_TOOLS_BENCH_STAMPEDE_COMMAND_H_
#define ASIDEKV_TOOLS_BENCH_STAMPEDE_COMMAND_H_

namespace asidekv::bench {

// Parses argv[first..argc) and runs. Returns the exit code: 0 success, 1 a failed run (an
// operation error or a wrong value), 2 bad flags.
int RunStampedeCommand(int argc, const char* const* argv, int first);

}  // namespace asidekv::bench

#endif  // ASIDEKV_TOOLS_BENCH_STAMPEDE_COMMAND_H_
