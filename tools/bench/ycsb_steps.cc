#include "tools/bench/ycsb_steps.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "tools/bench/random.h"

namespace asidekv::bench {
namespace {

std::optional<uint64_t> Delta(std::optional<uint64_t> before, std::optional<uint64_t> after) {
  if (!before.has_value() || !after.has_value()) return std::nullopt;
  return *after - *before;
}

}  // namespace

std::vector<WorkloadPlan> MakePlans(const YcsbConfig& config) {
  const int total_threads = config.threads * config.nodes;
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
      plan.ops_per_thread = config.operations / static_cast<uint64_t>(total_threads);
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
    insert_base = InsertEnd(plan.spec, insert_base, total_threads, plan.sequence_length);
    plans.push_back(plan);
  }
  return plans;
}

std::vector<std::vector<Op>> GenerateSequences(const YcsbConfig& config, const WorkloadPlan& plan,
                                               bool warmup, int node) {
  std::vector<std::vector<Op>> sequences(static_cast<size_t>(config.threads));
  std::vector<std::thread> pool;
  for (int t = 0; t < config.threads; ++t) {
    pool.emplace_back([&, t] {
      GenerateParams params;
      params.record_count = config.records;
      params.insert_base = plan.insert_base;
      params.threads = config.threads * config.nodes;
      params.thread_index = node * config.threads + t;
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

void PlanStep(const YcsbConfig& config, const RecordCodec& codec, StepKind kind,
              const WorkloadPlan& plan, int node, StepPlan* out) {
  PhasePlan& phase = out->phase;
  phase = PhasePlan();
  phase.codec = &codec;
  phase.record_count = config.records;
  phase.verify_every = config.verify_every;
  switch (kind) {
    case StepKind::kPrewarm: {
      // Every loaded record once: thread t reads records t, t + threads, ...
      const auto threads = static_cast<uint64_t>(config.threads);
      const uint64_t per_thread = (config.records + threads - 1) / threads;
      out->ops.assign(threads, {});
      for (uint64_t t = 0; t < threads; ++t) {
        for (uint64_t i = 0; i < per_thread; ++i) {
          out->ops[t].push_back(Op{(t + i * threads) % config.records, 0, OpType::kRead});
        }
      }
      phase.ops_per_thread = per_thread;
      break;
    }
    case StepKind::kWarmup:
      out->ops = GenerateSequences(config, plan, /*warmup=*/true, node);
      phase.duration = config.warmup;
      break;
    case StepKind::kMeasured:
      out->ops = GenerateSequences(config, plan, /*warmup=*/false, node);
      phase.ops_per_thread = plan.ops_per_thread;
      phase.duration = config.duration;
      break;
  }
  phase.ops = &out->ops;
}

BackendOptions MakeBackendOptions(const YcsbConfig& config, const std::string& path) {
  BackendOptions options;
  options.path = path;
  options.cache_bytes = config.cache_bytes;
  options.db_block_cache_bytes = config.db_block_cache_bytes;
  options.write_policy_update = config.write_policy == "update";
  options.eviction = config.eviction;
  options.threads = config.threads;
  options.compression = config.compression;
  options.rocksdb_statistics = config.rocksdb_statistics;
  options.rocksdb_pipelined_write = config.rocksdb_pipelined_write;
  options.latency_stats = config.latency_stats;
  options.db_point_reads_fill_block_cache = config.db_point_reads_fill_block_cache;
  options.rocksdb_point_reads_fill_block_cache = config.rocksdb_point_reads_fill_block_cache;
  options.db_mmap_reads = config.db_mmap_reads;
  options.rocksdb_mmap_reads = config.rocksdb_mmap_reads;
  options.db_block_size = config.db_block_size;
  options.rocksdb_block_size = config.rocksdb_block_size;
  options.postgres = config.postgres;
  options.keep_tables = config.keep_db;
  options.max_staleness = config.max_staleness;
  options.audit_fraction = config.audit_fraction;
  options.audit_delay = config.audit_delay;
  options.redis = config.redis;
  options.redis_password = config.redis_password;
  options.strict = config.strict;
  options.coherence_bound = config.coherence_bound;
  options.redis_ttl = config.redis_ttl;
  return options;
}

CacheCounters CountersDelta(const CacheCounters& before, const CacheCounters& after) {
  CacheCounters d;
  d.hits = Delta(before.hits, after.hits);
  d.misses = Delta(before.misses, after.misses);
  d.db_reads = Delta(before.db_reads, after.db_reads);
  d.remote_hits = Delta(before.remote_hits, after.remote_hits);
  return d;
}

void RecordMeasured(PhaseOutcome outcome, WorkloadRun& run) {
  const CacheCounters& c = outcome.counters;
  if (c.hits.has_value() && c.misses.has_value() && *c.hits + *c.misses > 0) {
    run.hit_ratio = static_cast<double>(*c.hits) / static_cast<double>(*c.hits + *c.misses);
  }
  run.db_reads = c.db_reads.value_or(outcome.result.point_reads);
  if (c.remote_hits.has_value() && *c.remote_hits + run.db_reads > 0) {
    run.remote_hit_ratio =
        static_cast<double>(*c.remote_hits) / static_cast<double>(*c.remote_hits + run.db_reads);
  }
  run.measured = std::move(outcome.result);
  run.backend_counters = std::move(outcome.backend_counters);
}

std::vector<std::pair<std::string, uint64_t>> StatsDelta(const std::optional<Stats>& before,
                                                         const std::optional<Stats>& after) {
  std::vector<std::pair<std::string, uint64_t>> out;
  if (!before.has_value() || !after.has_value()) return out;
  // Counters over the phase; gauges as they are at its end ("_now").
  for (const StatField& f : StatFields()) {
    if (f.counter) {
      out.emplace_back(f.name, (*after).*f.member - (*before).*f.member);
    } else {
      out.emplace_back(absl::StrCat(f.name, "_now"), (*after).*f.member);
    }
  }
  return out;
}

}  // namespace asidekv::bench
