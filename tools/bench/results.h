// What a ycsb run measured: per backend, its load and, per workload, its warm-up and measured
// phases. Plain values, filled by the runner and read by the reports.

#ifndef ASIDEKV_TOOLS_BENCH_RESULTS_H_
#define ASIDEKV_TOOLS_BENCH_RESULTS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tools/bench/histogram.h"
#include "tools/bench/workload.h"

namespace asidekv::bench {

// One phase (warm-up or measured) of one workload on one backend, all threads merged.
struct PhaseResult {
  uint64_t ops = 0;
  // Wall time from the first thread's start to the last thread's end.
  double seconds = 0;
  // CPU time of the whole benchmark process over the phase (every thread: the clients' and the
  // backend's own, e.g. a Store's background threads; not the database server's). 0 when not
  // measured (--nodes). Less sensitive than latency to other programs sharing the machine.
  double cpu_seconds = 0;
  // Latency of each OpType in nanoseconds (indexed by OpType).
  std::array<Histogram, kNumOpTypes> latency;
  // Point reads (reads and the read half of read-modify-writes).
  uint64_t point_reads = 0;
  // Reads of inserted records that another thread had not inserted yet (legitimate).
  uint64_t not_found = 0;
  // Pairs returned by scans.
  uint64_t scanned_pairs = 0;
  // Reads whose value was checked, and checks that failed (a missing loaded record counts).
  uint64_t verified = 0;
  uint64_t verify_failures = 0;
  // Operations that returned an error.
  uint64_t errors = 0;
  // Times a thread ran through its whole pre-generated sequence and started over.
  uint64_t wraps = 0;
  std::string first_failure;

  double OpsPerSecond() const { return seconds > 0 ? static_cast<double>(ops) / seconds : 0; }
  double CpuMicrosPerOp() const {
    return ops > 0 ? cpu_seconds * 1e6 / static_cast<double>(ops) : 0;
  }
  bool failed() const { return errors > 0 || verify_failures > 0; }
};

// One process's share of a measured phase with --nodes.
struct NodeFigures {
  uint64_t ops = 0;
  double seconds = 0;  // This process's own wall time.
  std::optional<double> hit_ratio;
  std::optional<double> remote_hit_ratio;
  uint64_t db_reads = 0;

  double OpsPerSecond() const { return seconds > 0 ? static_cast<double>(ops) / seconds : 0; }
};

// One workload on one backend.
struct WorkloadRun {
  char workload = '?';
  // Set when the backend cannot run this workload (e.g. the ceiling cannot scan).
  std::string skipped;
  PhaseResult warmup;
  PhaseResult measured;
  // Hit ratio of the cache under comparison during the measured phase, if the backend has one.
  std::optional<double> hit_ratio;
  // Of the reads that reached Redis (aside-postgres with Redis, redis-aside), the fraction it
  // answered: remote hits / (remote hits + database reads).
  std::optional<double> remote_hit_ratio;
  // Keys read from RocksDB or PostgreSQL during the measured phase.
  uint64_t db_reads = 0;
  // --nodes: each process's share of the measured phase, in node order. The phases above are
  // then the sum of the nodes': operations, latencies and counters added, and `seconds` set so
  // that OpsPerSecond() is the sum of the nodes' rates.
  std::vector<NodeFigures> nodes;
  // Backend-specific counters over the measured phase (asidekv's Stats), for the JSON file.
  std::vector<std::pair<std::string, uint64_t>> backend_counters;
};

struct BackendRun {
  std::string backend;
  int round = 0;  // 0-based, with --rounds
  std::vector<std::pair<std::string, std::string>> description;
  double load_seconds = 0;
  double settle_seconds = 0;  // flush (+ compaction) after the load
  PhaseResult prewarm;        // --prewarm: every record read once
  std::vector<WorkloadRun> workloads;
  std::string error;  // set when the backend failed to open or load
};

}  // namespace asidekv::bench

#endif  // ASIDEKV_TOOLS_BENCH_RESULTS_H_
