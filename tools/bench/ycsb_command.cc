#include "tools/bench/ycsb_command.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/bench/aside_backend.h"
#include "tools/bench/ceiling_backend.h"
#include "tools/bench/clock.h"
#include "tools/bench/db_folder.h"
#include "tools/bench/fleet.h"
#include "tools/bench/machine_info.h"
#include "tools/bench/postgres_backend.h"
#include "tools/bench/progress.h"
#include "tools/bench/records.h"
#include "tools/bench/redis_aside_backend.h"
#include "tools/bench/report.h"
#include "tools/bench/rocksdb_backend.h"
#include "tools/bench/runner.h"
#include "tools/bench/workload.h"
#include "tools/bench/ycsb_nodes.h"
#include "tools/bench/ycsb_steps.h"

namespace asidekv::bench {
namespace {

template <typename Backend>
BackendRun RunBackend(const YcsbConfig& config, const std::vector<WorkloadPlan>& plans,
                      const RecordCodec& codec, const std::string& path, ProgressLine& progress) {
  BackendRun run;
  run.backend = std::string(Backend::kName);
  const BackendOptions options = MakeBackendOptions(config, path);
  absl::StatusOr<std::unique_ptr<Backend>> opened = Backend::Open(options);
  if (!opened.ok()) {
    run.error = absl::StrCat("open: ", opened.status().ToString());
    return run;
  }
  Backend& backend = **opened;
  run.description = backend.Describe();

  if (!LoadBackend(backend, config, codec, progress, run)) return run;

  if (config.prewarm) {
    StepPlan step;
    PlanStep(config, codec, StepKind::kPrewarm, plans.front(), /*node=*/0, &step);
    step.phase.label = absl::StrCat(run.backend, "  prewarm");
    step.phase.progress = &progress;
    run.prewarm = RunPhase(backend, step.phase);
    progress.Clear();
  }

  for (const WorkloadPlan& plan : plans) {
    WorkloadRun result;
    result.workload = plan.spec.name;
    if (plan.spec.mix[static_cast<int>(OpType::kScan)] > 0 && !backend.SupportsScan()) {
      result.skipped = "cannot scan";
      run.workloads.push_back(std::move(result));
      continue;
    }
    const std::string name = absl::StrCat(run.backend, "  ", std::string(1, plan.spec.name));
    if (config.warmup > absl::ZeroDuration()) {
      StepPlan step;
      PlanStep(config, codec, StepKind::kWarmup, plan, /*node=*/0, &step);
      step.phase.label = absl::StrCat(name, " warm-up");
      step.phase.progress = &progress;
      result.warmup = RunPhase(backend, step.phase);
      progress.Clear();
    }
    StepPlan step;
    PlanStep(config, codec, StepKind::kMeasured, plan, /*node=*/0, &step);
    step.phase.label = absl::StrCat(name, " run");
    step.phase.progress = &progress;
    PhaseOutcome outcome = RunCountedPhase(backend, step.phase);
    progress.Clear();
    RecordMeasured(std::move(outcome), result);
    run.workloads.push_back(std::move(result));
  }
  return run;
}

// The backends that keep their data in a folder (the others need none).
bool NeedsFolder(const std::string& backend) {
  return backend == AsideBackend::kName || backend == RocksDbBackend::kName ||
         backend == RocksDbRowCacheBackend::kName;
}

// The folder name of `backend` in round `round` (0-based): "aside", "aside.r2", ...
std::string FolderName(const std::string& backend, int round) {
  return round == 0 ? backend : absl::StrCat(backend, ".r", round + 1);
}

BackendRun RunNamedBackend(const std::string& name, const YcsbConfig& config,
                           const std::vector<WorkloadPlan>& plans, const RecordCodec& codec,
                           const std::string& path, ProgressLine& progress) {
  if (name == AsidePostgresBackend::kName) {
    return RunBackend<AsidePostgresBackend>(config, plans, codec, path, progress);
  }
  if (name == PostgresBackend::kName) {
    return RunBackend<PostgresBackend>(config, plans, codec, path, progress);
  }
  if (name == RedisAsideBackend::kName) {
    return RunBackend<RedisAsideBackend>(config, plans, codec, path, progress);
  }
  if (name == AsideBackend::kName) {
    return RunBackend<AsideBackend>(config, plans, codec, path, progress);
  }
  if (name == RocksDbBackend::kName) {
    return RunBackend<RocksDbBackend>(config, plans, codec, path, progress);
  }
  if (name == RocksDbRowCacheBackend::kName) {
    return RunBackend<RocksDbRowCacheBackend>(config, plans, codec, path, progress);
  }
  return RunBackend<CeilingBackend>(config, plans, codec, path, progress);
}

bool WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  out.close();
  return !out.fail();
}

void PrintDebugBanner(const MachineInfo& machine, bool allowed) {
  std::fprintf(stderr,
               "\n"
               "##################################################################\n"
               "#  asidekv-bench: NOT AN OPTIMIZED BUILD (build type %s,%s)\n"
               "#  Numbers from this binary are meaningless for performance.\n"
               "#  Rebuild with -DCMAKE_BUILD_TYPE=Release%s\n"
               "##################################################################\n\n",
               machine.build_type.c_str(), machine.assertions ? " assertions ON" : "",
               allowed ? "." : ", or pass --allow-debug to run anyway.");
}

}  // namespace

int RunYcsbCommand(YcsbPreset preset, int argc, const char* const* argv, int first) {
  absl::StatusOr<std::optional<YcsbConfig>> parsed = ParseYcsbFlags(preset, argc, argv, first);
  if (!parsed.ok()) {
    std::fprintf(stderr, "asidekv-bench: %s\n", std::string(parsed.status().message()).c_str());
    return 2;
  }
  if (!parsed->has_value()) return 0;  // --help

  BenchReport report;
  report.config = **parsed;
  const YcsbConfig& config = report.config;
  report.machine = DescribeMachine();
  if (!report.machine.optimized()) {
    PrintDebugBanner(report.machine, config.allow_debug);
    if (!config.allow_debug) return 2;
  }

  const RecordCodec codec(config.key_size, config.value_min, config.value_max);
  const std::vector<WorkloadPlan> plans = MakePlans(config);
  // The nodes are forked now, while this process has one thread.
  std::unique_ptr<Fleet> fleet;
  if (config.nodes > 1) {
    absl::StatusOr<std::unique_ptr<Fleet>> started = Fleet::Start(
        config.nodes,
        [&](int node, Link& link) { return RunNode(config, plans, codec, node, link); });
    if (!started.ok()) {
      std::fprintf(stderr, "asidekv-bench: --nodes: %s\n",
                   std::string(started.status().message()).c_str());
      return 1;
    }
    fleet = *std::move(started);
  }

  DbFolder folder;
  std::vector<std::string> folder_names;
  for (int round = 0; round < config.rounds; ++round) {
    for (const std::string& name : config.backends) {
      if (NeedsFolder(name)) folder_names.push_back(FolderName(name, round));
    }
  }
  const bool needs_folder = !folder_names.empty();
  if (needs_folder) {
    absl::Status s = folder.Create(config.db_path, folder_names, config.keep_db);
    if (!s.ok()) {
      std::fprintf(stderr, "asidekv-bench: %s\n", std::string(s.message()).c_str());
      return 2;
    }
    report.db_root = folder.root();
  }

  report.clock_cost_ns = MeasureClockCostNanos();
  ProgressLine progress(config.progress);
  // Rounds interleave the backends, odd rounds in reverse order (a b, b a, a b, ...), so that
  // neither runs always first or always second, and the machine's drift and noise fall on every
  // backend alike.
  for (int round = 0; round < config.rounds; ++round) {
    std::vector<std::string> order = config.backends;
    if (round % 2 == 1) std::reverse(order.begin(), order.end());
    for (const std::string& name : order) {
      report.backends.push_back(
          fleet != nullptr ? RunFleetBackend(name, config, plans, codec, *fleet, progress)
                           : RunNamedBackend(name, config, plans, codec,
                                             folder.PathFor(FolderName(name, round)), progress));
      report.backends.back().round = round;
      if (!report.backends.back().error.empty()) {
        std::fprintf(stderr, "asidekv-bench: backend %s: %s\n", name.c_str(),
                     report.backends.back().error.c_str());
      }
    }
  }

  std::fputs(FormatTable(report).c_str(), stdout);
  std::fflush(stdout);
  int exit_code = report.failed() ? 1 : 0;
  if (!config.json_path.empty() && !WriteFile(config.json_path, FormatJson(report))) {
    std::fprintf(stderr, "asidekv-bench: cannot write %s\n", config.json_path.c_str());
    exit_code = 1;
  }
  if (!config.svg_path.empty() && !WriteFile(config.svg_path, FormatSvg(report))) {
    std::fprintf(stderr, "asidekv-bench: cannot write %s\n", config.svg_path.c_str());
    exit_code = 1;
  }
  if (config.keep_db && needs_folder) {
    std::fprintf(stderr, "asidekv-bench: databases kept in %s\n", folder.root().c_str());
  }
  if (!report.machine.optimized()) PrintDebugBanner(report.machine, true);
  return exit_code;
}

}  // namespace asidekv::bench
