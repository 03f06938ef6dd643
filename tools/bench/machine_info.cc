#include "tools/bench/machine_info.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "rocksdb/version.h"

#ifndef ASIDEKV_BUILD_TYPE
#define ASIDEKV_BUILD_TYPE "unknown"
#endif

namespace asidekv::bench {
namespace {

std::string CpuModel() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (absl::StartsWith(line, "model name")) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) {
        return std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
      }
    }
  }
  return "unknown";
}

std::string Compiler() {
#if defined(__clang__)
  return absl::StrCat("Clang ", __clang_major__, ".", __clang_minor__, ".", __clang_patchlevel__);
#elif defined(__GNUC__)
  return absl::StrCat("GCC ", __GNUC__, ".", __GNUC_MINOR__, ".", __GNUC_PATCHLEVEL__);
#else
  return "unknown";
#endif
}

}  // namespace

MachineInfo DescribeMachine() {
  MachineInfo info;
  info.cpu_model = CpuModel();
  info.logical_cpus = static_cast<int>(std::thread::hardware_concurrency());
  struct utsname names;
  if (uname(&names) == 0) {
    info.kernel = absl::StrCat(names.sysname, " ", names.release);
    info.hostname = names.nodename;
  }
  info.compiler = Compiler();
  info.build_type = ASIDEKV_BUILD_TYPE;
#ifdef NDEBUG
  info.assertions = false;
#else
  info.assertions = true;
#endif
  info.rocksdb_version = absl::StrCat(ROCKSDB_MAJOR, ".", ROCKSDB_MINOR, ".", ROCKSDB_PATCH);
  info.date = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
  return info;
}

}  // namespace asidekv::bench
