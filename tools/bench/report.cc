#include "tools/bench/report.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tools/bench/report_format.h"

namespace asidekv::bench {
namespace {

constexpr double kPercentiles[] = {0.50, 0.95, 0.99, 0.999};

std::string DistributionText(const YcsbConfig& config, const WorkloadSpec& spec) {
  const Distribution d = config.distribution_override.value_or(spec.distribution);
  std::string text(DistributionName(d));
  if (d == Distribution::kZipfian || d == Distribution::kLatest) {
    absl::StrAppendFormat(&text, " (theta %g)", config.distribution.zipfian_theta);
  } else if (d == Distribution::kHotspot) {
    absl::StrAppendFormat(&text, " (%g%% of requests to %g%% of records)",
                          100 * config.distribution.hot_op_fraction,
                          100 * config.distribution.hot_set_fraction);
  }
  return text;
}

void AppendHeader(const BenchReport& report, std::string& out) {
  const YcsbConfig& c = report.config;
  const MachineInfo& m = report.machine;
  const std::string values = c.value_min == c.value_max
                                 ? absl::StrCat(c.value_min, " B values")
                                 : absl::StrCat(c.value_min, "-", c.value_max, " B values");
  const std::string length = c.operations > 0 ? absl::StrCat(Thousands(c.operations), " operations")
                                              : absl::StrCat(absl::FormatDuration(c.duration));
  absl::StrAppend(&out, "asidekv-bench ycsb: ", Thousands(c.records), " records (", c.key_size,
                  " B keys, ", values, ", ", FormatBytes(c.DataBytes()), "), ", c.threads,
                  c.threads == 1 ? " thread, " : " threads, ", length, " per workload (+",
                  absl::FormatDuration(c.warmup), " warm-up), seed ", c.seed, "\n");
  absl::StrAppend(&out, "cache: ", FormatBytes(static_cast<double>(c.cache_bytes)));
  if (c.cache_fraction.has_value()) absl::StrAppendFormat(&out, " (%g x data)", *c.cache_fraction);
  absl::StrAppend(&out, " = asidekv cache = rocksdb block cache = row cache; ",
                  FormatBytes(static_cast<double>(c.db_block_cache_bytes)),
                  " block cache behind asidekv and the row cache; baselines' compression ",
                  c.compression, "; aside write policy ", c.write_policy, ", eviction ", c.eviction,
                  "\n");
  absl::StrAppend(&out, "machine: ", m.cpu_model, ", ", m.logical_cpus, " logical CPUs, ", m.kernel,
                  "; ", m.compiler, " ", m.build_type, m.assertions ? " WITH ASSERTIONS" : "",
                  "; RocksDB ", m.rocksdb_version, "\n");
  absl::StrAppendFormat(&out,
                        "clock: steady_clock, %.1f ns per read (included once in every latency)\n",
                        report.clock_cost_ns);
  for (const BackendRun& b : report.backends) {
    if (!b.error.empty()) {
      absl::StrAppend(&out, "backend ", b.backend, " FAILED: ", b.error, "\n");
    } else {
      absl::StrAppendFormat(&out, "load %-17s %.2fs, flush%s %.2fs", b.backend, b.load_seconds,
                            c.compact_after_load ? "+compact" : "", b.settle_seconds);
      if (b.prewarm.ops > 0) {
        absl::StrAppendFormat(&out, ", prewarm (every record read once) %.2fs", b.prewarm.seconds);
      }
      if (b.prewarm.failed()) absl::StrAppend(&out, " FAILED: ", b.prewarm.first_failure);
      absl::StrAppend(&out, "\n");
    }
  }
}

void AppendWorkload(const BenchReport& report, const WorkloadSpec& spec, std::string& out) {
  absl::StrAppend(&out, "\nWorkload ", std::string(1, spec.name), ": ", spec.summary, ", ",
                  DistributionText(report.config, spec), "\n");
  absl::StrAppendFormat(&out, "  %-17s %10s  %-6s %9s %9s %9s %9s  %9s %12s\n", "backend", "ops/s",
                        "op", "p50", "p95", "p99", "p99.9", "hit ratio", "db reads");
  std::vector<std::string> notes;
  for (const BackendRun& b : report.backends) {
    if (!b.error.empty()) continue;
    for (const WorkloadRun& w : b.workloads) {
      if (w.workload != spec.name) continue;
      if (!w.skipped.empty()) {
        absl::StrAppendFormat(&out, "  %-17s %10s  (skipped: %s)\n", b.backend, "-", w.skipped);
        continue;
      }
      const PhaseResult& p = w.measured;
      bool first = true;
      for (int t = 0; t < kNumOpTypes; ++t) {
        const Histogram& h = p.latency[t];
        if (h.count() == 0) continue;
        std::string row =
            absl::StrFormat("  %-17s %10s  %-6s", first ? b.backend : "",
                            first ? Thousands(static_cast<uint64_t>(p.OpsPerSecond())) : "",
                            OpTypeName(static_cast<OpType>(t)));
        for (double q : kPercentiles) {
          absl::StrAppendFormat(&row, " %9s", FormatNanos(static_cast<double>(h.Percentile(q))));
        }
        if (first) {
          absl::StrAppendFormat(
              &row, "  %9s %12s",
              w.hit_ratio.has_value() ? absl::StrFormat("%.1f%%", 100 * *w.hit_ratio) : "-",
              Thousands(w.db_reads));
        }
        absl::StrAppend(&out, row, "\n");
        first = false;
      }
      const std::string warmup =
          w.warmup.ops == 0
              ? "no warm-up"
              : absl::StrFormat("warm-up %s ops/s (%s ops)", FormatRate(w.warmup.OpsPerSecond()),
                                Thousands(w.warmup.ops));
      std::string note =
          absl::StrFormat("%s: %s ops in %.2fs, %s; %s values checked", b.backend, Thousands(p.ops),
                          p.seconds, warmup, Thousands(p.verified + w.warmup.verified));
      if (p.not_found > 0)
        absl::StrAppend(&note, ", ", Thousands(p.not_found), " not yet inserted");
      if (p.wraps > 0) absl::StrAppend(&note, ", sequence replayed ", p.wraps, "x");
      if (p.failed() || w.warmup.failed()) {
        const PhaseResult& bad = p.failed() ? p : w.warmup;
        absl::StrAppend(&note, "\n      FAILED: ", bad.errors, " errors, ", bad.verify_failures,
                        " wrong values; first: ", bad.first_failure);
      }
      notes.push_back(std::move(note));
    }
  }
  std::vector<std::string> ratios;
  for (const char* baseline : kRatioBaselines) {
    if (std::optional<double> r = report.Ratio("aside", baseline, spec.name)) {
      ratios.push_back(absl::StrFormat("aside/%s %.2fx", baseline, *r));
    }
  }
  if (!ratios.empty()) absl::StrAppend(&out, "  throughput ", absl::StrJoin(ratios, "   "), "\n");
  for (const std::string& note : notes) absl::StrAppend(&out, "    ", note, "\n");
}

}  // namespace

const WorkloadRun* BenchReport::Find(absl::string_view backend, char workload) const {
  for (const BackendRun& b : backends) {
    if (b.backend != backend || !b.error.empty()) continue;
    for (const WorkloadRun& w : b.workloads) {
      if (w.workload == workload && w.skipped.empty()) return &w;
    }
  }
  return nullptr;
}

std::optional<double> BenchReport::Ratio(absl::string_view numerator, absl::string_view denominator,
                                         char workload) const {
  const WorkloadRun* a = Find(numerator, workload);
  const WorkloadRun* b = Find(denominator, workload);
  if (a == nullptr || b == nullptr || b->measured.OpsPerSecond() <= 0) return std::nullopt;
  return a->measured.OpsPerSecond() / b->measured.OpsPerSecond();
}

bool BenchReport::failed() const {
  for (const BackendRun& b : backends) {
    if (!b.error.empty() || b.prewarm.failed()) return true;
    for (const WorkloadRun& w : b.workloads) {
      if (w.measured.failed() || w.warmup.failed()) return true;
    }
  }
  return false;
}

std::string FormatTable(const BenchReport& report) {
  std::string out;
  AppendHeader(report, out);
  for (char name : report.config.workloads) {
    if (std::optional<WorkloadSpec> spec = FindWorkload(name)) AppendWorkload(report, *spec, out);
  }
  absl::StrAppend(&out,
                  "\nLatencies are per operation, upper bounds within 6.25%; hit ratio: "
                  "asidekv cache (aside), block cache (rocksdb), row cache "
                  "(rocksdb-rowcache); db reads: keys read from RocksDB.\n");
  if (report.failed()) absl::StrAppend(&out, "RESULT: FAILED (see FAILED above)\n");
  return out;
}

}  // namespace asidekv::bench
