// FormatJson: every figure of a BenchReport, the configuration and the machine, as JSON.
// Latencies are in nanoseconds; rates in operations per second.

#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/bench/report.h"
#include "util/json_writer.h"

namespace asidekv::bench {
namespace {

using util::JsonWriter;

// Debian's Abseil has its own string_view; the writer takes std::string_view.
std::string_view Std(absl::string_view s) { return {s.data(), s.size()}; }

void WriteConfig(const YcsbConfig& c, JsonWriter& json) {
  json.BeginObject();
  json.Key("workloads");
  json.BeginArray();
  for (char w : c.workloads) json.String(std::string(1, w));
  json.EndArray();
  json.Key("backends");
  json.BeginArray();
  for (const std::string& b : c.backends) json.String(b);
  json.EndArray();
  json.Field("records", c.records);
  json.Field("operations", c.operations);
  json.Field("duration_seconds", c.operations > 0 ? 0 : absl::ToDoubleSeconds(c.duration));
  json.Field("warmup_seconds", absl::ToDoubleSeconds(c.warmup));
  json.Field("threads", c.threads);
  json.Field("key_size", c.key_size);
  json.Field("value_size_min", c.value_min);
  json.Field("value_size_max", c.value_max);
  json.Field("data_bytes", c.DataBytes());
  json.Key("distribution_override");
  if (c.distribution_override.has_value()) {
    json.String(Std(DistributionName(*c.distribution_override)));
  } else {
    json.Null();
  }
  json.Field("zipfian_theta", c.distribution.zipfian_theta);
  json.Field("hotspot_set_fraction", c.distribution.hot_set_fraction);
  json.Field("hotspot_op_fraction", c.distribution.hot_op_fraction);
  json.Field("cache_bytes", c.cache_bytes);
  json.Field("cache_fraction", c.cache_fraction);
  json.Field("db_block_cache_bytes", c.db_block_cache_bytes);
  json.Field("write_policy", c.write_policy);
  json.Field("eviction", c.eviction);
  json.Field("compression", c.compression);
  json.Field("rocksdb_statistics", c.rocksdb_statistics);
  json.Field("rocksdb_pipelined_write", c.rocksdb_pipelined_write);
  json.Field("latency_stats", c.latency_stats);
  json.Field("db_point_reads_fill_block_cache", c.db_point_reads_fill_block_cache);
  json.Field("rocksdb_point_reads_fill_block_cache", c.rocksdb_point_reads_fill_block_cache);
  json.Field("db_mmap_reads", c.db_mmap_reads);
  json.Field("rocksdb_mmap_reads", c.rocksdb_mmap_reads);
  json.Field("db_block_size", c.db_block_size);
  json.Field("rocksdb_block_size", c.rocksdb_block_size);
  json.Field("compact_after_load", c.compact_after_load);
  json.Field("prewarm", c.prewarm);
  json.Field("seed", c.seed);
  json.Field("verify_every", c.verify_every);
  json.Field("op_buffer", c.op_buffer);
  json.Field("rounds", c.rounds);
  json.Field("postgres", !c.postgres.empty());  // the conninfo itself may hold a password
  json.Field("max_staleness_seconds", absl::ToDoubleSeconds(c.max_staleness));
  json.Field("redis", !c.redis.empty());  // the address alone; no password
  json.Field("consistency", c.strict ? "strict" : "bounded");
  json.Field("coherence_bound_seconds", absl::ToDoubleSeconds(c.coherence_bound));
  json.Field("redis_ttl_seconds", absl::ToDoubleSeconds(c.redis_ttl));
  json.Field("nodes", c.nodes);
  json.EndObject();
}

void WriteMachine(const BenchReport& report, JsonWriter& json) {
  const MachineInfo& m = report.machine;
  json.BeginObject();
  json.Field("cpu_model", m.cpu_model);
  json.Field("logical_cpus", m.logical_cpus);
  json.Field("kernel", m.kernel);
  json.Field("hostname", m.hostname);
  json.Field("compiler", m.compiler);
  json.Field("build_type", m.build_type);
  json.Field("assertions", m.assertions);
  json.Field("optimized", m.optimized());
  json.Field("rocksdb_version", m.rocksdb_version);
  json.Field("date", m.date);
  json.Field("clock", "std::chrono::steady_clock");
  json.Field("clock_read_ns", report.clock_cost_ns);
  json.EndObject();
}

void WritePhase(const PhaseResult& p, JsonWriter& json) {
  json.BeginObject();
  json.Field("ops", p.ops);
  json.Field("seconds", p.seconds);
  json.Field("ops_per_second", p.OpsPerSecond());
  if (p.cpu_seconds > 0) json.Field("cpu_us_per_op", p.CpuMicrosPerOp());
  json.Field("point_reads", p.point_reads);
  json.Field("not_yet_inserted", p.not_found);
  json.Field("scanned_pairs", p.scanned_pairs);
  json.Field("values_verified", p.verified);
  json.Field("verify_failures", p.verify_failures);
  json.Field("errors", p.errors);
  json.Field("sequence_replays", p.wraps);
  json.Field("first_failure", p.first_failure);
  json.Key("latency_ns");
  json.BeginObject();
  for (int t = 0; t < kNumOpTypes; ++t) {
    const Histogram& h = p.latency[t];
    if (h.count() == 0) continue;
    json.Key(Std(OpTypeName(static_cast<OpType>(t))));
    json.BeginObject();
    json.Field("count", h.count());
    json.Field("mean", h.Mean());
    json.Field("min", h.min());
    for (const auto& [name, q] : {std::pair<const char*, double>{"p50", 0.5},
                                  {"p90", 0.9},
                                  {"p95", 0.95},
                                  {"p99", 0.99},
                                  {"p999", 0.999},
                                  {"p9999", 0.9999}}) {
      json.Field(name, h.Percentile(q));
    }
    json.Field("max", h.max());
    json.EndObject();
  }
  json.EndObject();
  json.EndObject();
}

void WriteBackend(const BackendRun& b, JsonWriter& json) {
  json.BeginObject();
  json.Field("backend", b.backend);
  json.Field("round", b.round);
  json.Field("error", b.error);
  json.Key("configuration");
  json.BeginObject();
  for (const auto& [key, value] : b.description) {
    json.Field(key, value);
  }
  json.EndObject();
  json.Field("load_seconds", b.load_seconds);
  json.Field("flush_compact_seconds", b.settle_seconds);
  json.Key("prewarm");
  WritePhase(b.prewarm, json);
  json.Key("workloads");
  json.BeginArray();
  for (const WorkloadRun& w : b.workloads) {
    json.BeginObject();
    json.Field("workload", std::string(1, w.workload));
    json.Field("skipped", w.skipped);
    json.Field("hit_ratio", w.hit_ratio);
    json.Field("remote_hit_ratio", w.remote_hit_ratio);
    json.Field("db_reads", w.db_reads);
    json.Field("db_reads_per_op", w.measured.ops > 0 ? static_cast<double>(w.db_reads) /
                                                           static_cast<double>(w.measured.ops)
                                                     : 0.0);
    json.Key("nodes");
    json.BeginArray();
    for (const NodeFigures& n : w.nodes) {
      json.BeginObject();
      json.Field("ops", n.ops);
      json.Field("seconds", n.seconds);
      json.Field("ops_per_second", n.OpsPerSecond());
      json.Field("hit_ratio", n.hit_ratio);
      json.Field("remote_hit_ratio", n.remote_hit_ratio);
      json.Field("db_reads", n.db_reads);
      json.EndObject();
    }
    json.EndArray();
    json.Key("warmup");
    WritePhase(w.warmup, json);
    json.Key("measured");
    WritePhase(w.measured, json);
    json.Key("backend_counters");
    json.BeginObject();
    for (const auto& [key, value] : w.backend_counters) {
      json.Field(key, value);
    }
    json.EndObject();
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
}

// "<name>_ratio_rounds": [...], "<name>_ratio_median", "_min", "_max".
void WriteSummary(const std::string& name, const RatioSummary& summary, JsonWriter& json) {
  json.Key(absl::StrCat(name, "_ratio_rounds"));
  json.BeginArray();
  for (double r : summary.rounds) json.Double(r);
  json.EndArray();
  json.Field(absl::StrCat(name, "_ratio_median"), summary.median);
  json.Field(absl::StrCat(name, "_ratio_min"), summary.min);
  json.Field(absl::StrCat(name, "_ratio_max"), summary.max);
}

}  // namespace

std::string FormatJson(const BenchReport& report) {
  JsonWriter json(JsonWriter::Style::kIndented);
  json.BeginObject();
  json.Field("tool", "asidekv-bench ycsb");
  json.Field("ok", !report.failed());
  json.Key("configuration");
  WriteConfig(report.config, json);
  json.Key("machine");
  WriteMachine(report, json);
  json.Field("db_folder", report.db_root);
  json.Key("backends");
  json.BeginArray();
  for (const BackendRun& b : report.backends) WriteBackend(b, json);
  json.EndArray();
  json.Key("ratios");
  json.BeginArray();
  for (char workload : report.config.workloads) {
    for (const RatioPair& pair : kRatioPairs) {
      using Measure = BenchReport::Measure;
      std::optional<RatioSummary> t = report.RatioOverRounds(pair, workload, Measure::kThroughput);
      if (!t.has_value()) continue;
      json.BeginObject();
      json.Field("workload", std::string(1, workload));
      json.Field("name", absl::StrCat(pair.numerator, "/", pair.denominator));
      json.Field("throughput_ratio", t->median);
      WriteSummary("throughput", *t, json);
      for (auto [measure, name] : {std::pair{Measure::kReadP50, "read_p50"},
                                   std::pair{Measure::kCpuPerOp, "cpu_per_op"}}) {
        if (std::optional<RatioSummary> r = report.RatioOverRounds(pair, workload, measure)) {
          WriteSummary(name, *r, json);
        }
      }
      json.EndObject();
    }
  }
  json.EndArray();
  json.EndObject();
  return json.Take();
}

}  // namespace asidekv::bench
