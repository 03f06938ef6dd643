// The steps of `asidekv-bench ycsb` that a process runs on one backend, shared by the
// single-process run (ycsb_command.cc) and by each process of --nodes (ycsb_nodes.h): the
// workload plans, the operation sequences of this process's threads, the backend's options, the
// prewarm pass and the measured phase with its counters.
//
// With --nodes=N every process runs `threads` threads and the sequences are cut as if one
// process ran N * threads: node n's thread t is global thread n * threads + t, so the nodes'
// inserts use distinct records and --operations is shared among all N * threads threads.
//
// Thread safety: the functions start and join their own threads; call each from one thread.

#ifndef ASIDEKV_TOOLS_BENCH_YCSB_STEPS_H_
#define ASIDEKV_TOOLS_BENCH_YCSB_STEPS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "asidekv/asidekv.h"
#include "tools/bench/aside_backend.h"
#include "tools/bench/backend.h"
#include "tools/bench/clock.h"
#include "tools/bench/key_distribution.h"
#include "tools/bench/progress.h"
#include "tools/bench/records.h"
#include "tools/bench/results.h"
#include "tools/bench/runner.h"
#include "tools/bench/workload.h"
#include "tools/bench/ycsb_config.h"

namespace asidekv::bench {

// One workload as every backend runs it.
struct WorkloadPlan {
  WorkloadSpec spec;
  DistributionParams distribution;
  uint64_t insert_base = 0;
  uint64_t ops_per_thread = 0;   // --operations mode; 0 with --duration
  uint64_t sequence_length = 0;  // operations generated per thread
  std::optional<double> zeta_n;
};

std::vector<WorkloadPlan> MakePlans(const YcsbConfig& config);

// The sequences of node `node`'s threads for `plan`, generated in parallel. The warm-up
// sequence has its own seed and turns inserts into updates.
std::vector<std::vector<Op>> GenerateSequences(const YcsbConfig& config, const WorkloadPlan& plan,
                                               bool warmup, int node);

// The three kinds of phase a backend runs: the prewarm pass (every record once, --prewarm),
// and each workload's warm-up and measured phases.
enum class StepKind { kPrewarm = 0, kWarmup = 1, kMeasured = 2 };

// One phase's operations on node `node` and the plan to run them. phase.ops points at ops:
// fill it in place (PlanStep) and do not move it afterwards. phase.label and phase.progress are
// left to the caller.
struct StepPlan {
  std::vector<std::vector<Op>> ops;
  PhasePlan phase;
};
// `plan` is the workload's (unused for kPrewarm).
void PlanStep(const YcsbConfig& config, const RecordCodec& codec, StepKind kind,
              const WorkloadPlan& plan, int node, StepPlan* out);

// The backend options of `config`, for a backend whose folder (if any) is `path`.
BackendOptions MakeBackendOptions(const YcsbConfig& config, const std::string& path);

// What one phase gave on one backend in one process: the operations' figures and the counters
// over the phase.
struct PhaseOutcome {
  PhaseResult result;
  CacheCounters counters;  // Differences over the phase.
  // The Store's Stats over the phase (counters; gauges at its end as "<name>_now"); empty for
  // backends that are no Store.
  std::vector<std::pair<std::string, uint64_t>> backend_counters;
};

// after - before, field by field (nullopt where either is).
CacheCounters CountersDelta(const CacheCounters& before, const CacheCounters& after);

// Fills the measured phase of `run` from `outcome`: its result, hit ratios and database reads
// (the point reads when the backend does not count them).
void RecordMeasured(PhaseOutcome outcome, WorkloadRun& run);

template <typename Backend>
std::optional<Stats> StatsOf(Backend& backend) {
  if constexpr (std::is_base_of_v<AsideBackend, Backend>) {
    return backend.GetStats();
  } else {
    return std::nullopt;
  }
}

// The Store's counters over a phase that began with `before` (empty when there is no Store).
std::vector<std::pair<std::string, uint64_t>> StatsDelta(const std::optional<Stats>& before,
                                                         const std::optional<Stats>& after);

// Runs `phase` on `backend` and takes its counters before and after.
template <typename Backend>
PhaseOutcome RunCountedPhase(Backend& backend, const PhasePlan& phase) {
  const CacheCounters before = backend.Counters();
  const std::optional<Stats> stats_before = StatsOf(backend);
  PhaseOutcome out;
  out.result = RunPhase(backend, phase);
  out.counters = CountersDelta(before, backend.Counters());
  out.backend_counters = StatsDelta(stats_before, StatsOf(backend));
  return out;
}

// Loads the records into `backend` and settles it (AfterLoad), timing both into `run`; on
// failure sets run.error and returns false.
template <typename Backend>
bool LoadBackend(Backend& backend, const YcsbConfig& config, const RecordCodec& codec,
                 ProgressLine& progress, BackendRun& run) {
  int64_t start = NowNanos();
  absl::Status s = LoadRecords(backend, codec, config.records, config.threads, progress,
                               absl::StrCat(run.backend, "  load"));
  progress.Clear();
  run.load_seconds = static_cast<double>(NowNanos() - start) / 1e9;
  if (!s.ok()) {
    run.error = absl::StrCat("load: ", s.ToString());
    return false;
  }
  start = NowNanos();
  s = backend.AfterLoad(config.compact_after_load);
  run.settle_seconds = static_cast<double>(NowNanos() - start) / 1e9;
  if (!s.ok()) {
    run.error = absl::StrCat("flush/compact after load: ", s.ToString());
    return false;
  }
  return true;
}

}  // namespace asidekv::bench

#endif  // ASIDEKV_TOOLS_BENCH_YCSB_STEPS_H_
