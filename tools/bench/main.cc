// asidekv-bench: benchmarks asidekv against RocksDB baselines and an in-memory ceiling.
//
//   asidekv-bench ycsb [flags]   YCSB core workloads A-F (see `asidekv-bench ycsb --help`)
//   asidekv-bench demo [flags]   a --compare tour of A-F, 5 interleaved rounds, in a temporary
//   folder asidekv-bench stampede [flags]  one hot key with a short TTL under many readers,
//   refresh-ahead
//                                off, background and XFetch (DB reads per expiry, p99)
//   asidekv-bench trace [flags]  hit ratios of the eviction policies and OPT on a cache trace
//                                (tools/trace/, when built)
//
// Each subcommand is one row of kCommands: a name, a line of help and a function taking the
// arguments after the name and returning the exit code (0 ok, 1 failed run, 2 bad usage).

#include <cstdio>
#include <iostream>
#include <string_view>
#include <vector>

#include "tools/bench/stampede_command.h"
#include "tools/bench/ycsb_command.h"
#ifdef ASIDEKV_BENCH_WITH_TRACE
#include "tools/trace/replay.h"
#endif

namespace {

struct Command {
  std::string_view name;
  std::string_view help;
  int (*run)(int argc, const char* const* argv, int first);
};

int RunYcsb(int argc, const char* const* argv, int first) {
  return asidekv::bench::RunYcsbCommand(asidekv::bench::YcsbPreset::kYcsb, argc, argv, first);
}

int RunDemo(int argc, const char* const* argv, int first) {
  return asidekv::bench::RunYcsbCommand(asidekv::bench::YcsbPreset::kDemo, argc, argv, first);
}

#ifdef ASIDEKV_BENCH_WITH_TRACE
int RunTrace(int argc, const char* const* argv, int first) {
  const std::vector<std::string_view> args(argv + first, argv + argc);
  for (std::string_view arg : args) {
    if (arg == "--help" || arg == "-h") {
      const std::string_view usage = asidekv::trace::TraceToolUsage();
      std::cout << usage << (usage.ends_with('\n') ? "" : "\n");
      return 0;
    }
  }
  absl::StatusOr<asidekv::trace::TraceToolOptions> options =
      asidekv::trace::ParseTraceToolArgs(args);
  if (!options.ok()) {
    std::cerr << "asidekv-bench trace: " << options.status().message() << "\n";
    return 2;
  }
  const absl::Status s = asidekv::trace::RunTraceTool(*options, std::cout);
  if (!s.ok()) {
    std::cerr << "asidekv-bench trace: " << s.message() << "\n";
    return 1;
  }
  return 0;
}
#endif

constexpr Command kCommands[] = {
    {"ycsb", "YCSB core workloads A-F on aside and, with --compare, the baselines", RunYcsb},
    {"demo",
     "a short --compare run of A-F, 5 interleaved rounds (about two minutes), in a temporary "
     "folder",
     RunDemo},
    {"stampede", "a hot key with a short TTL under many readers, refresh-ahead off/on/XFetch",
     asidekv::bench::RunStampedeCommand},
#ifdef ASIDEKV_BENCH_WITH_TRACE
    {"trace", "replay a cache trace through the eviction policies and Belady's OPT", RunTrace},
#endif
};

void PrintUsage(std::FILE* out) {
  std::fprintf(out, "usage: asidekv-bench COMMAND [--flag=value ...]\n\ncommands:\n");
  for (const Command& command : kCommands) {
    std::fprintf(out, "  %-8.*s %.*s\n", static_cast<int>(command.name.size()), command.name.data(),
                 static_cast<int>(command.help.size()), command.help.data());
  }
  std::fprintf(out, "\n`asidekv-bench COMMAND --help` lists the flags of COMMAND.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    PrintUsage(stderr);
    return 2;
  }
  const std::string_view name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    PrintUsage(stdout);
    return 0;
  }
  for (const Command& command : kCommands) {
    if (command.name == name) return command.run(argc, argv, 2);
  }
  std::fprintf(stderr, "asidekv-bench: unknown command '%s'\n\n", argv[1]);
  PrintUsage(stderr);
  return 2;
}
