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

// The ratios the report shows, when both backends ran: the system under test over a baseline.
struct RatioPair {
  const char* numerator;
  const char* denominator;
  // Also show the ratios of the p50 read latencies and of the process CPU time per operation
  // (the cost of a miss, when every read misses).
  bool read_p50;
};
inline constexpr RatioPair kRatioPairs[] = {{"aside", "rocksdb", true},
                                            {"aside", "rocksdb-rowcache", false},
                                            {"aside", "ceiling", false},
                                            {"aside-postgres", "postgres", true},
                                            {"aside-postgres", "redis-aside", true}};

// One ratio over the rounds: each round's, and their median and range.
struct RatioSummary {
  std::vector<double> rounds;  // in round order; a round where either side failed is left out
  double median = 0;
  double min = 0;
  double max = 0;
};
// Nullopt when no round has the ratio. The median of an even count is the mean of the middle two.
std::optional<RatioSummary> Summarize(std::vector<double> rounds);

struct BenchReport {
  YcsbConfig config;
  MachineInfo machine;
  double clock_cost_ns = 0;
  std::string db_root;
  std::vector<BackendRun> backends;

  // The run of `workload` on `backend` in `round`, if it ran (not skipped, no error).
  const WorkloadRun* Find(absl::string_view backend, char workload, int round = 0) const;
  // measured ops/s of `numerator` over `denominator` on `workload` in `round`, if both ran.
  std::optional<double> Ratio(absl::string_view numerator, absl::string_view denominator,
                              char workload, int round = 0) const;
  // p50 read latency of `numerator` over that of `denominator` (> 1: numerator slower).
  std::optional<double> ReadP50Ratio(absl::string_view numerator, absl::string_view denominator,
                                     char workload, int round = 0) const;
  // The benchmark process's CPU time per operation of `numerator` over that of `denominator`.
  std::optional<double> CpuPerOpRatio(absl::string_view numerator, absl::string_view denominator,
                                      char workload, int round = 0) const;
  enum class Measure { kThroughput, kReadP50, kCpuPerOp };
  // The ratio of `pair` on `workload` by `measure` in every round, summarized; nullopt when no
  // round has it.
  std::optional<RatioSummary> RatioOverRounds(const RatioPair& pair, char workload,
                                              Measure measure) const;
  // True if any phase failed a check or returned an error, or a backend failed.
  bool failed() const;
};

// Human-readable summary, one block per workload.
std::string FormatTable(const BenchReport& report);
// Every figure, as one JSON object.
std::string FormatJson(const BenchReport& report);
// A self-contained SVG: per workload, throughput bars per backend and latency percentiles.
std::string FormatSvg(const BenchReport& report);

}  // namespace asidekv::bench

#endif  // ASIDEKV_TOOLS_BENCH_REPORT_H_
