#include "tools/bench/ycsb_command.h"

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/bench/aside_backend.h"
#include "tools/bench/ceiling_backend.h"
#include "tools/bench/clock.h"
#include "tools/bench/db_folder.h"
#include "tools/bench/machine_info.h"
#include "tools/bench/postgres_backend.h"
#include "tools/bench/progress.h"
#include "tools/bench/records.h"
#include "tools/bench/report.h"
#include "tools/bench/rocksdb_backend.h"
#include "tools/bench/runner.h"
#include "tools/bench/workload.h"

namespace asidekv::bench {
namespace {

// One workload as every backend runs it.
struct WorkloadPlan {
  WorkloadSpec spec;
  DistributionParams distribution;
  uint64_t insert_base = 0;
  uint64_t ops_per_thread = 0;   // --operations mode; 0 with --duration
  uint64_t sequence_length = 0;  // operations generated per thread
  std::optional<double> zeta_n;
};

std::vector<WorkloadPlan> MakePlans(const YcsbConfig& config) {
  std::vector<WorkloadPlan> plans;
  uint64_t insert_base = config.records;
  std::optional<double> zeta_n;
  for (char name : config.workloads) {
    WorkloadPlan plan;
    plan.spec = *FindWorkload(name);
    plan.distribution = config.distribution;
    plan.distribution.distribution = config.distribution_override.value_or(plan.spec.distribution);
    plan.insert_base = insert_base;
    if (config.operations > 0) {
      plan.ops_per_thread = config.operations / static_cast<uint64_t>(config.threads);
      plan.sequence_length = plan.ops_per_thread;
    } else {
      plan.sequence_length = config.op_buffer;
    }
    const Distribution d = plan.distribution.distribution;
    if (d == Distribution::kZipfian || d == Distribution::kLatest) {
      // Latest ranks over insert_base records; only the first inserting workload has
      // insert_base == records, the one case the shared constant fits.
      if (d == Distribution::kZipfian || insert_base == config.records) {
        if (!zeta_n.has_value()) zeta_n = Zeta(config.records, config.distribution.zipfian_theta);
        plan.zeta_n = zeta_n;
      }
    }
    insert_base = InsertEnd(plan.spec, insert_base, config.threads, plan.sequence_length);
    plans.push_back(plan);
  }
  return plans;
}

// Every thread's sequence for `plan`, generated in parallel. The warm-up sequence has its own
// seed and turns inserts into updates.
std::vector<std::vector<Op>> GenerateSequences(const YcsbConfig& config, const WorkloadPlan& plan,
                                               bool warmup) {
  std::vector<std::vector<Op>> sequences(static_cast<size_t>(config.threads));
  std::vector<std::thread> pool;
  for (int t = 0; t < config.threads; ++t) {
    pool.emplace_back([&, t] {
      GenerateParams params;
      params.record_count = config.records;
      params.insert_base = plan.insert_base;
      params.threads = config.threads;
      params.thread_index = t;
      params.op_count = plan.sequence_length;
      params.seed = warmup ? Mix64(config.seed + 0x3A3A) : config.seed;
      params.distribution = plan.distribution;
      params.zeta_n = plan.zeta_n;
      params.inserts_as_updates = warmup;
      sequences[static_cast<size_t>(t)] = GenerateOps(plan.spec, params);
    });
  }
  for (std::thread& thread : pool) thread.join();
  return sequences;
}

std::optional<uint64_t> Delta(std::optional<uint64_t> before, std::optional<uint64_t> after) {
  if (!before.has_value() || !after.has_value()) return std::nullopt;
  return *after - *before;
}

// The Store's counters, for the backends that are a Store (AsideBackend and those derived from it).
template <typename Backend>
std::vector<std::pair<std::string, uint64_t>> BackendCounters(Backend& backend,
                                                              const std::optional<Stats>& before) {
  std::vector<std::pair<std::string, uint64_t>> out;
  if constexpr (std::is_base_of_v<AsideBackend, Backend>) {
    const Stats after = backend.GetStats();
    const Stats b = before.value_or(Stats());
    // Counters over the measured phase; gauges as they are at its end ("_now").
    for (const StatField& f : StatFields()) {
      if (f.counter) {
        out.emplace_back(f.name, after.*f.member - b.*f.member);
      } else {
        out.emplace_back(absl::StrCat(f.name, "_now"), after.*f.member);
      }
    }
  }
  return out;
}

template <typename Backend>
std::optional<Stats> StatsBefore(Backend& backend) {
  if constexpr (std::is_base_of_v<AsideBackend, Backend>) {
    return backend.GetStats();
  } else {
    return std::nullopt;
  }
}

// Reads every loaded record once (thread t reads records t, t + threads, ...).
template <typename Backend>
PhaseResult Prewarm(Backend& backend, const YcsbConfig& config, const RecordCodec& codec,
                    ProgressLine& progress, const std::string& name) {
  const auto threads = static_cast<uint64_t>(config.threads);
  const uint64_t per_thread = (config.records + threads - 1) / threads;
  std::vector<std::vector<Op>> sequences(threads);
  for (uint64_t t = 0; t < threads; ++t) {
    for (uint64_t i = 0; i < per_thread; ++i) {
      sequences[t].push_back(Op{(t + i * threads) % config.records, 0, OpType::kRead});
    }
  }
  PhasePlan phase;
  phase.ops = &sequences;
  phase.codec = &codec;
  phase.record_count = config.records;
  phase.ops_per_thread = per_thread;
  phase.verify_every = config.verify_every;
  phase.label = absl::StrCat(name, "  prewarm");
  phase.progress = &progress;
  return RunPhase(backend, phase);
}

template <typename Backend>
BackendRun RunBackend(const YcsbConfig& config, const std::vector<WorkloadPlan>& plans,
                      const RecordCodec& codec, const std::string& path, ProgressLine& progress) {
  BackendRun run;
  run.backend = std::string(Backend::kName);
  BackendOptions options;
  options.path = path;
  options.cache_bytes = config.cache_bytes;
  options.db_block_cache_bytes = config.db_block_cache_bytes;
  options.write_policy_update = config.write_policy == "update";
  options.eviction = config.eviction;
  options.threads = config.threads;
  options.compression = config.compression;
  options.rocksdb_statistics = config.rocksdb_statistics;
  options.postgres = config.postgres;
  options.keep_tables = config.keep_db;
  options.max_staleness = config.max_staleness;
  absl::StatusOr<std::unique_ptr<Backend>> opened = Backend::Open(options);
  if (!opened.ok()) {
    run.error = absl::StrCat("open: ", opened.status().ToString());
    return run;
  }
  Backend& backend = **opened;
  run.description = backend.Describe();

  int64_t start = NowNanos();
  absl::Status s = LoadRecords(backend, codec, config.records, config.threads, progress,
                               absl::StrCat(run.backend, "  load"));
  progress.Clear();
  run.load_seconds = static_cast<double>(NowNanos() - start) / 1e9;
  if (!s.ok()) {
    run.error = absl::StrCat("load: ", s.ToString());
    return run;
  }
  start = NowNanos();
  s = backend.AfterLoad(config.compact_after_load);
  run.settle_seconds = static_cast<double>(NowNanos() - start) / 1e9;
  if (!s.ok()) {
    run.error = absl::StrCat("flush/compact after load: ", s.ToString());
    return run;
  }

  if (config.prewarm) {
    run.prewarm = Prewarm(backend, config, codec, progress, run.backend);
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
    PhasePlan phase;
    phase.codec = &codec;
    phase.record_count = config.records;
    phase.verify_every = config.verify_every;
    phase.progress = &progress;
    if (config.warmup > absl::ZeroDuration()) {
      const std::vector<std::vector<Op>> warmup_ops = GenerateSequences(config, plan, true);
      phase.ops = &warmup_ops;
      phase.duration = config.warmup;
      phase.label = absl::StrCat(run.backend, "  ", std::string(1, plan.spec.name), " warm-up");
      result.warmup = RunPhase(backend, phase);
      progress.Clear();
    }
    const std::vector<std::vector<Op>> ops = GenerateSequences(config, plan, false);
    phase.ops = &ops;
    phase.ops_per_thread = plan.ops_per_thread;
    phase.duration = config.duration;
    phase.label = absl::StrCat(run.backend, "  ", std::string(1, plan.spec.name), " run");
    const CacheCounters before = backend.Counters();
    const std::optional<Stats> stats_before = StatsBefore(backend);
    result.measured = RunPhase(backend, phase);
    progress.Clear();
    const CacheCounters after = backend.Counters();
    const std::optional<uint64_t> hits = Delta(before.hits, after.hits);
    const std::optional<uint64_t> misses = Delta(before.misses, after.misses);
    if (hits.has_value() && misses.has_value() && *hits + *misses > 0) {
      result.hit_ratio = static_cast<double>(*hits) / static_cast<double>(*hits + *misses);
    }
    result.db_reads = Delta(before.db_reads, after.db_reads).value_or(result.measured.point_reads);
    result.backend_counters = BackendCounters(backend, stats_before);
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
  const RecordCodec codec(config.key_size, config.value_min, config.value_max);
  const std::vector<WorkloadPlan> plans = MakePlans(config);
  ProgressLine progress(config.progress);
  // Rounds alternate the backends (a, b, a, b, ...), so that the machine's drift and noise fall
  // on every backend alike.
  for (int round = 0; round < config.rounds; ++round) {
    for (const std::string& name : config.backends) {
      report.backends.push_back(RunNamedBackend(name, config, plans, codec,
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
