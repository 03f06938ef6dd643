// MachineInfo: what the numbers were measured on and with, for the report and the JSON file.

#ifndef ASIDEKV_TOOLS_BENCH_MACHINE_INFO_H_
#define ASIDEKV_TOOLS_BENCH_MACHINE_INFO_H_

#include <string>

namespace asidekv::bench {

struct MachineInfo {
  std::string cpu_model;  // "model name" of /proc/cpuinfo, or "unknown"
  int logical_cpus = 0;   // std::thread::hardware_concurrency()
  std::string kernel;     // uname -sr
  std::string hostname;
  std::string compiler;     // e.g. "GCC 12.2.0"
  std::string build_type;   // CMAKE_BUILD_TYPE of this binary
  bool assertions = false;  // true when NDEBUG was not defined
  std::string rocksdb_version;
  std::string date;  // UTC, ISO 8601

  // A Release build with assertions off: the only build whose numbers mean anything.
  bool optimized() const { return build_type == "Release" && !assertions; }
};

MachineInfo DescribeMachine();

}  // namespace asidekv::bench

#endif  // ASIDEKV_TOOLS_BENCH_MACHINE_INFO_H_
