#include "tools/bench/report.h"

#include <algorithm>

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

// "aside", or "aside #2" when there are rounds.
std::string RunLabel(const BenchReport& report, const BackendRun& b) {
  if (report.config.rounds <= 1) return b.backend;
  return absl::StrCat(b.backend, " #", b.round + 1);
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
                  c.compression, c.rocksdb_pipelined_write ? ", pipelined writes" : "",
                  c.rocksdb_point_reads_fill_block_cache ? "" : ", point reads not filling",
                  c.rocksdb_mmap_reads ? ", mmap reads" : "",
                  c.rocksdb_block_size != kDefaultBlockSize
                      ? absl::StrCat(", ", c.rocksdb_block_size, " B blocks")
                      : "",
                  c.db_point_reads_fill_block_cache ? "; aside's misses fill its block cache" : "",
                  c.db_mmap_reads ? "; aside mmap reads" : "",
                  c.db_block_size != kDefaultBlockSize
                      ? absl::StrCat("; aside ", c.db_block_size, " B blocks")
                      : "",
                  "; aside write policy ", c.write_policy, ", eviction ", c.eviction, "\n");
  if (!c.postgres.empty()) {
    absl::StrAppend(&out, "postgres: a fresh table per backend and round; aside-postgres max ",
                    "staleness ", absl::FormatDuration(c.max_staleness), ", ", c.threads,
                    " connections; postgres: prepared statements on ", c.threads, " connections\n");
  }
  if (!c.redis.empty()) {
    absl::StrAppend(&out, "redis: a fresh key prefix per backend and round; aside-postgres ",
                    c.strict ? "strict" : "bounded", ", coherence bound ",
                    absl::FormatDuration(c.coherence_bound), "; redis-aside TTL ",
                    absl::FormatDuration(c.redis_ttl), "\n");
  }
  if (c.nodes > 1) {
    absl::StrAppend(&out, "nodes: ", c.nodes, " processes x ", c.threads,
                    " threads over each table (loaded once), every phase started together; ",
                    "ops/s is the sum of the nodes'\n");
  }
  if (c.rounds > 1) {
    absl::StrAppend(
        &out, "rounds: ", c.rounds,
        ", the backends interleaved (odd rounds in reverse order), each round from a fresh load\n");
  }
  absl::StrAppend(&out, "machine: ", m.cpu_model, ", ", m.logical_cpus, " logical CPUs, ", m.kernel,
                  "; ", m.compiler, " ", m.build_type, m.assertions ? " WITH ASSERTIONS" : "",
                  "; RocksDB ", m.rocksdb_version, "\n");
  absl::StrAppendFormat(&out,
                        "clock: steady_clock, %.1f ns per read (included once in every latency)\n",
                        report.clock_cost_ns);
  for (const BackendRun& b : report.backends) {
    if (!b.error.empty()) {
      absl::StrAppend(&out, "backend ", RunLabel(report, b), " FAILED: ", b.error, "\n");
    } else {
      absl::StrAppendFormat(&out, "load %-17s %.2fs, flush%s %.2fs", RunLabel(report, b),
                            b.load_seconds, c.compact_after_load ? "+compact" : "",
                            b.settle_seconds);
      if (b.prewarm.ops > 0) {
        absl::StrAppendFormat(&out, ", prewarm (every record read once) %.2fs", b.prewarm.seconds);
      }
      if (b.prewarm.failed()) absl::StrAppend(&out, " FAILED: ", b.prewarm.first_failure);
      absl::StrAppend(&out, "\n");
    }
  }
}

std::string FormatSummary(const RatioSummary& summary) {
  std::vector<std::string> each;
  for (double r : summary.rounds) each.push_back(absl::StrFormat("%.2fx", r));
  return absl::StrFormat("%s; median %.2fx (%.2fx-%.2fx)", absl::StrJoin(each, " "), summary.median,
                         summary.min, summary.max);
}

// The ratio lines of one workload: one line for all pairs with a single round, else one line
// per pair and measure with every round's ratio and their median and range.
void AppendRatios(const BenchReport& report, char workload, std::string& out) {
  const int rounds = std::max(1, report.config.rounds);
  std::vector<std::string> single;
  for (const RatioPair& pair : kRatioPairs) {
    const std::string name = absl::StrCat(pair.numerator, "/", pair.denominator);
    using Measure = BenchReport::Measure;
    std::optional<RatioSummary> t = report.RatioOverRounds(pair, workload, Measure::kThroughput);
    if (!t.has_value()) continue;
    std::optional<RatioSummary> l =
        pair.read_p50 ? report.RatioOverRounds(pair, workload, Measure::kReadP50) : std::nullopt;
    std::optional<RatioSummary> c =
        pair.read_p50 ? report.RatioOverRounds(pair, workload, Measure::kCpuPerOp) : std::nullopt;
    if (rounds == 1) {
      single.push_back(absl::StrFormat("%s %.2fx", name, t->median));
      if (l.has_value()) single.push_back(absl::StrFormat("(read p50 %.2fx)", l->median));
      if (c.has_value()) single.push_back(absl::StrFormat("(CPU/op %.2fx)", c->median));
      continue;
    }
    absl::StrAppend(&out, "  throughput ", name, ": ", FormatSummary(*t), "\n");
    if (l.has_value()) absl::StrAppend(&out, "  read p50   ", name, ": ", FormatSummary(*l), "\n");
    if (c.has_value()) absl::StrAppend(&out, "  CPU/op     ", name, ": ", FormatSummary(*c), "\n");
  }
  if (!single.empty()) absl::StrAppend(&out, "  throughput ", absl::StrJoin(single, "   "), "\n");
}

std::string Percent(const std::optional<double>& ratio) {
  return ratio.has_value() ? absl::StrFormat("%.1f%%", 100 * *ratio) : "-";
}

// With Redis or nodes: per backend, the hit ratio of each tier, the store reads per operation
// and each node's ops/s.
void AppendTiers(const BenchReport& report, char workload, std::string& out) {
  std::vector<std::string> rows;
  for (const BackendRun& b : report.backends) {
    const WorkloadRun* w = b.error.empty() ? report.Find(b.backend, workload, b.round) : nullptr;
    if (w == nullptr || (!w->remote_hit_ratio.has_value() && w->nodes.empty())) continue;
    const double ops = static_cast<double>(w->measured.ops);
    std::string row = absl::StrFormat("  %-17s %9s %10s %11s", RunLabel(report, b),
                                      Percent(w->hit_ratio), Percent(w->remote_hit_ratio),
                                      ops > 0 ? absl::StrFormat("%.4f", w->db_reads / ops) : "-");
    std::vector<std::string> per_node;
    for (const NodeFigures& n : w->nodes) {
      per_node.push_back(Thousands(static_cast<uint64_t>(n.OpsPerSecond())));
    }
    if (!per_node.empty()) absl::StrAppend(&row, "  ", absl::StrJoin(per_node, " / "));
    rows.push_back(std::move(row));
  }
  if (rows.empty()) return;
  absl::StrAppendFormat(&out, "  %-17s %9s %10s %11s  %s\n", "tiers", "near hit", "redis hit",
                        "db reads/op", report.config.nodes > 1 ? "ops/s per node" : "");
  for (const std::string& row : rows) absl::StrAppend(&out, row, "\n");
}

// With --audit-fraction: per asidekv run, the hits read again from the database and those the
// database no longer matched (the Store's audits / audit_mismatches, summed over the nodes).
void AppendAudits(const BenchReport& report, char workload, std::string& out) {
  if (report.config.audit_fraction <= 0) return;
  for (const BackendRun& b : report.backends) {
    const WorkloadRun* w = b.error.empty() ? report.Find(b.backend, workload, b.round) : nullptr;
    if (w == nullptr) continue;
    std::optional<uint64_t> audits;
    uint64_t mismatches = 0;
    for (const auto& [name, value] : w->backend_counters) {
      if (name == "audits") audits = value;
      if (name == "audit_mismatches") mismatches = value;
    }
    if (!audits.has_value()) continue;
    const double consistent =
        *audits == 0 ? 1.0 : 1.0 - static_cast<double>(mismatches) / static_cast<double>(*audits);
    absl::StrAppendFormat(&out,
                          "  audit %-11s %s hits read again %s later, %s mismatches (%.4f%% "
                          "consistent)\n",
                          RunLabel(report, b), Thousands(*audits),
                          absl::FormatDuration(report.config.audit_delay), Thousands(mismatches),
                          100 * consistent);
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
        absl::StrAppendFormat(&out, "  %-17s %10s  (skipped: %s)\n", RunLabel(report, b), "-",
                              w.skipped);
        continue;
      }
      const PhaseResult& p = w.measured;
      bool first = true;
      for (int t = 0; t < kNumOpTypes; ++t) {
        const Histogram& h = p.latency[t];
        if (h.count() == 0) continue;
        std::string row =
            absl::StrFormat("  %-17s %10s  %-6s", first ? RunLabel(report, b) : "",
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
      std::string note = absl::StrFormat("%s: %s ops in %.2fs, %s; %s values checked",
                                         RunLabel(report, b), Thousands(p.ops), p.seconds, warmup,
                                         Thousands(p.verified + w.warmup.verified));
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
  AppendTiers(report, spec.name, out);
  AppendAudits(report, spec.name, out);
  AppendRatios(report, spec.name, out);
  for (const std::string& note : notes) absl::StrAppend(&out, "    ", note, "\n");
}

}  // namespace

const WorkloadRun* BenchReport::Find(absl::string_view backend, char workload, int round) const {
  for (const BackendRun& b : backends) {
    if (b.backend != backend || b.round != round || !b.error.empty()) continue;
    for (const WorkloadRun& w : b.workloads) {
      if (w.workload == workload && w.skipped.empty()) return &w;
    }
  }
  return nullptr;
}

namespace {

// `measure` of the measured phase of `a` over that of `b`; nullopt when either is missing or
// has no positive measure.
std::optional<double> PhaseRatio(const WorkloadRun* a, const WorkloadRun* b,
                                 double (*measure)(const PhaseResult&)) {
  if (a == nullptr || b == nullptr) return std::nullopt;
  const double ma = measure(a->measured);
  const double mb = measure(b->measured);
  if (ma <= 0 || mb <= 0) return std::nullopt;
  return ma / mb;
}

double ReadP50(const PhaseResult& p) {
  const Histogram& h = p.latency[static_cast<int>(OpType::kRead)];
  return h.count() == 0 ? 0 : static_cast<double>(h.Percentile(0.5));
}

}  // namespace

std::optional<double> BenchReport::Ratio(absl::string_view numerator, absl::string_view denominator,
                                         char workload, int round) const {
  return PhaseRatio(Find(numerator, workload, round), Find(denominator, workload, round),
                    [](const PhaseResult& p) { return p.OpsPerSecond(); });
}

std::optional<double> BenchReport::ReadP50Ratio(absl::string_view numerator,
                                                absl::string_view denominator, char workload,
                                                int round) const {
  return PhaseRatio(Find(numerator, workload, round), Find(denominator, workload, round), ReadP50);
}

std::optional<double> BenchReport::CpuPerOpRatio(absl::string_view numerator,
                                                 absl::string_view denominator, char workload,
                                                 int round) const {
  return PhaseRatio(Find(numerator, workload, round), Find(denominator, workload, round),
                    [](const PhaseResult& p) { return p.CpuMicrosPerOp(); });
}

std::optional<RatioSummary> BenchReport::RatioOverRounds(const RatioPair& pair, char workload,
                                                         Measure measure) const {
  std::vector<double> ratios;
  for (int round = 0; round < std::max(1, config.rounds); ++round) {
    std::optional<double> r;
    switch (measure) {
      case Measure::kThroughput:
        r = Ratio(pair.numerator, pair.denominator, workload, round);
        break;
      case Measure::kReadP50:
        r = ReadP50Ratio(pair.numerator, pair.denominator, workload, round);
        break;
      case Measure::kCpuPerOp:
        r = CpuPerOpRatio(pair.numerator, pair.denominator, workload, round);
        break;
    }
    if (r.has_value()) ratios.push_back(*r);
  }
  return Summarize(std::move(ratios));
}

std::optional<RatioSummary> Summarize(std::vector<double> rounds) {
  if (rounds.empty()) return std::nullopt;
  RatioSummary summary;
  summary.rounds = rounds;
  std::sort(rounds.begin(), rounds.end());
  const size_t n = rounds.size();
  summary.median = n % 2 == 1 ? rounds[n / 2] : (rounds[n / 2 - 1] + rounds[n / 2]) / 2;
  summary.min = rounds.front();
  summary.max = rounds.back();
  return summary;
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
                  "asidekv cache (aside, aside-postgres), block cache (rocksdb), row cache "
                  "(rocksdb-rowcache); db reads: keys read from RocksDB or PostgreSQL; redis "
                  "hit: of the reads that reached Redis, those it answered.\n");
  if (report.failed()) absl::StrAppend(&out, "RESULT: FAILED (see FAILED above)\n");
  return out;
}

}  // namespace asidekv::bench
