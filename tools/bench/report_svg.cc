// FormatSvg: a hand-written SVG of a BenchReport. One band per workload: on the left,
// throughput per backend (bars, linear scale); on the right, latency per backend and operation
// type as a strip on a log scale, with markers at p50, p95, p99 and p99.9.

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/bench/report.h"
#include "tools/bench/report_format.h"

namespace asidekv::bench {
namespace {

constexpr double kWidth = 1040;
constexpr double kLeftLabel = 130;   // backend names
constexpr double kBarsWidth = 250;   // throughput bars
constexpr double kRightStart = 570;  // latency panel
constexpr double kRightLabel = 150;  // "backend op" labels
constexpr double kStripWidth = kWidth - kRightStart - kRightLabel - 40;
constexpr double kRow = 22;

std::string Color(absl::string_view backend) {
  if (backend == "aside") return "#1f77b4";
  if (backend == "rocksdb") return "#d62728";
  if (backend == "rocksdb-rowcache") return "#ff7f0e";
  if (backend == "aside-postgres") return "#17becf";
  if (backend == "postgres") return "#2ca02c";
  if (backend == "redis-aside") return "#9467bd";
  return "#7f7f7f";
}

std::string Escape(absl::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

void Text(std::string& svg, double x, double y, absl::string_view text, absl::string_view anchor,
          absl::string_view extra = "") {
  absl::StrAppendFormat(&svg, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" %s>%s</text>\n", x, y,
                        anchor, extra, Escape(text));
}

struct LatencyRow {
  std::string label;
  std::string backend;
  uint64_t p[4];
};

constexpr double kQuantiles[] = {0.5, 0.95, 0.99, 0.999};

// One marker per percentile: filled/hollow circle, filled/hollow square.
void Marker(std::string& svg, int i, double x, double y, const std::string& color) {
  const bool filled = i % 2 == 0;
  const std::string fill = filled ? color : "white";
  if (i < 2) {
    absl::StrAppendFormat(&svg,
                          "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"%s\" stroke=\"%s\" "
                          "stroke-width=\"1.5\"/>\n",
                          x, y, fill, color);
  } else {
    absl::StrAppendFormat(&svg,
                          "<rect x=\"%.1f\" y=\"%.1f\" width=\"9\" height=\"9\" fill=\"%s\" "
                          "stroke=\"%s\" stroke-width=\"1.5\"/>\n",
                          x - 4.5, y - 4.5, fill, color);
  }
}

// Draws one workload band starting at `top`; returns its height.
double DrawWorkload(const BenchReport& report, const WorkloadSpec& spec, double top,
                    std::string& svg) {
  struct Bar {
    std::string backend;
    double rate;
    std::string note;
    std::string label;  // the backend, with its round when there are rounds
    int round = 0;
  };
  std::vector<Bar> bars;
  std::vector<LatencyRow> rows;
  for (const BackendRun& b : report.backends) {
    const std::string label =
        report.config.rounds > 1 ? absl::StrCat(b.backend, " #", b.round + 1) : b.backend;
    if (!b.error.empty()) {
      bars.push_back({b.backend, 0, "failed", label, b.round});
      continue;
    }
    for (const WorkloadRun& w : b.workloads) {
      if (w.workload != spec.name) continue;
      if (!w.skipped.empty()) {
        bars.push_back({b.backend, 0, w.skipped, label, b.round});
        continue;
      }
      bars.push_back({b.backend, w.measured.OpsPerSecond(), "", label, b.round});
      for (int t = 0; t < kNumOpTypes; ++t) {
        const Histogram& h = w.measured.latency[t];
        if (h.count() == 0) continue;
        LatencyRow row{absl::StrCat(label, " ", OpTypeName(static_cast<OpType>(t))), b.backend, {}};
        for (int i = 0; i < 4; ++i) row.p[i] = std::max<uint64_t>(1, h.Percentile(kQuantiles[i]));
        rows.push_back(row);
      }
    }
  }

  const double header = 46;
  const double height =
      header + kRow * static_cast<double>(std::max(bars.size(), rows.size())) + 34;
  absl::StrAppendFormat(&svg, "<g transform=\"translate(0,%.1f)\">\n", top);
  absl::StrAppendFormat(&svg,
                        "<rect x=\"4\" y=\"0\" width=\"%.0f\" height=\"%.1f\" fill=\"#fafafa\" "
                        "stroke=\"#dddddd\"/>\n",
                        kWidth - 8, height - 6);
  Text(svg, 14, 20, absl::StrCat("Workload ", std::string(1, spec.name), ": ", spec.summary),
       "start", "font-weight=\"bold\"");
  Text(svg, kLeftLabel, 38, "throughput (ops/s)", "start", "fill=\"#555\"");
  Text(svg, kRightStart + kRightLabel, 38,
       "latency: \u25CF p50  \u25CB p95  \u25A0 p99  \u25A1 p99.9 (log scale)", "start",
       "fill=\"#555\"");

  // Throughput bars.
  double max_rate = 0;
  for (const Bar& bar : bars) max_rate = std::max(max_rate, bar.rate);
  for (size_t i = 0; i < bars.size(); ++i) {
    const double y = header + kRow * static_cast<double>(i);
    Text(svg, kLeftLabel - 8, y + 14, bars[i].label, "end");
    if (!bars[i].note.empty()) {
      Text(svg, kLeftLabel + 4, y + 14, absl::StrCat("(", bars[i].note, ")"), "start",
           "fill=\"#888\"");
      continue;
    }
    const double w = max_rate > 0 ? kBarsWidth * bars[i].rate / max_rate : 0;
    absl::StrAppendFormat(&svg,
                          "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"16\" "
                          "fill=\"%s\"/>\n",
                          kLeftLabel, y + 2, std::max(w, 1.0), Color(bars[i].backend));
    std::string label = FormatRate(bars[i].rate);
    for (const RatioPair& pair : kRatioPairs) {
      if (bars[i].backend != pair.denominator) continue;
      if (std::optional<double> r =
              report.Ratio(pair.numerator, pair.denominator, spec.name, bars[i].round)) {
        absl::StrAppendFormat(&label, "  (%s %.2fx)", pair.numerator, *r);
      }
    }
    Text(svg, kLeftLabel + w + 6, y + 15, label, "start");
  }

  // Latency strips on a shared log axis.
  if (!rows.empty()) {
    uint64_t lo = UINT64_MAX;
    uint64_t hi = 1;
    for (const LatencyRow& row : rows) {
      lo = std::min(lo, row.p[0]);
      hi = std::max(hi, row.p[3]);
    }
    const double log_lo = std::floor(std::log10(static_cast<double>(lo)));
    const double log_hi = std::max(log_lo + 1, std::ceil(std::log10(static_cast<double>(hi))));
    auto x_of = [&](double ns) {
      return kRightStart + kRightLabel +
             kStripWidth * (std::log10(ns) - log_lo) / (log_hi - log_lo);
    };
    const double axis_y = header + kRow * static_cast<double>(rows.size()) + 4;
    for (double e = log_lo; e <= log_hi; e += 1) {
      const double x = x_of(std::pow(10.0, e));
      absl::StrAppendFormat(&svg,
                            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                            "stroke=\"#dddddd\"/>\n",
                            x, header, x, axis_y);
      Text(svg, x, axis_y + 14, FormatNanos(std::pow(10.0, e)), "middle", "fill=\"#555\"");
    }
    for (size_t i = 0; i < rows.size(); ++i) {
      const LatencyRow& row = rows[i];
      const double y = header + kRow * static_cast<double>(i) + 10;
      const std::string color = Color(row.backend);
      Text(svg, kRightStart + kRightLabel - 8, y + 4, row.label, "end");
      absl::StrAppendFormat(&svg,
                            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                            "stroke-width=\"2\"/>\n",
                            x_of(static_cast<double>(row.p[0])), y,
                            x_of(static_cast<double>(row.p[3])), y, color);
      for (int q = 0; q < 4; ++q) Marker(svg, q, x_of(static_cast<double>(row.p[q])), y, color);
    }
  }
  svg += "</g>\n";
  return height;
}

}  // namespace

std::string FormatSvg(const BenchReport& report) {
  std::string body;
  double y = 70;
  for (char name : report.config.workloads) {
    if (std::optional<WorkloadSpec> spec = FindWorkload(name)) {
      y += DrawWorkload(report, *spec, y, body);
    }
  }
  const YcsbConfig& c = report.config;
  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
      "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
      kWidth, y + 10, kWidth, y + 10);
  Text(svg, 14, 24, "asidekv-bench ycsb", "start", "font-size=\"16\" font-weight=\"bold\"");
  Text(svg, 14, 44,
       absl::StrCat(Thousands(c.records), " records, ", c.threads, " threads, cache ",
                    FormatBytes(static_cast<double>(c.cache_bytes)), ", ",
                    c.operations > 0 ? absl::StrCat(Thousands(c.operations), " ops")
                                     : absl::FormatDuration(c.duration),
                    " per workload"),
       "start", "fill=\"#333\"");
  Text(
      svg, 14, 60,
      absl::StrCat(report.machine.cpu_model, ", ", report.machine.logical_cpus, " CPUs, ",
                   report.machine.compiler, " ", report.machine.build_type,
                   report.machine.optimized() ? "" : " (NOT OPTIMIZED)", ", ", report.machine.date),
      "start", "fill=\"#777\"");
  svg += body;
  svg += "</svg>\n";
  return svg;
}

}  // namespace asidekv::bench
