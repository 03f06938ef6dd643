// The three outputs of a ycsb run: a table for people (stdout), a JSON file with every figure,
// the configuration and the machine, and an SVG drawing of throughput and latency percentiles.
// All are pure functions of a BenchReport.

#ifndef ASIDEKV_TOOLS_BENCH_REPORT_H_
#define ASIDEKV_TOOLS_BENCH_REPORT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "tools/bench/machine_info.h"
#include "tools/bench/results.h"
#include "tools/bench/ycsb_config.h"

namespace asidekv::bench {

struct BenchReport {
  YcsbConfig config;
  MachineInfo machine;
  double clock_cost_ns = 0;
  std::string db_root;
  std::vector<BackendRun> backends;

  // The run of `workload` on `backend`, if it ran (not skipped, no error).
  const WorkloadRun* Find(absl::string_view backend, char workload) const;
  // measured ops/s of `numerator` over `denominator` on `workload`, if both ran.
  std::optional<double> Ratio(absl::string_view numerator, absl::string_view denominator,
                              char workload) const;
  // True if any phase failed a check or returned an error, or a backend failed.
  bool failed() const;
};

// The ratios the report shows: aside over each baseline present.
inline constexpr const char* kRatioBaselines[] = {"rocksdb", "rocksdb-rowcache", "ceiling"};

// Human-readable summary, one block per workload.
std::string FormatTable(const BenchReport& report);
// Every figure, as one JSON object.
std::string FormatJson(const BenchReport& report);
// A self-contained SVG: per workload, throughput bars per backend and latency percentiles.
std::string FormatSvg(const BenchReport& report);

}  // namespace asidekv::bench

#endif  // ASIDEKV_TOOLS_BENCH_REPORT_H_
