#include "admin/prometheus.h"

#include <cstdio>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "asidekv/stats.h"
#include "util/string_view.h"

namespace asidekv::admin {
namespace {

constexpr std::string_view kDbProperties[] = {
    "rocksdb.estimate-num-keys",       "rocksdb.total-sst-files-size",
    "rocksdb.live-sst-files-size",     "rocksdb.estimate-live-data-size",
    "rocksdb.cur-size-all-mem-tables", "rocksdb.block-cache-usage",
    "rocksdb.block-cache-capacity",    "rocksdb.num-running-compactions",
    "rocksdb.num-running-flushes",
};

// Prometheus text exposition, one metric family at a time.
class Metrics {
 public:
  void Family(std::string_view name, std::string_view type, std::string_view help) {
    absl::StrAppend(&out_, "# HELP ", util::ToAbsl(name), " ", util::ToAbsl(help), "\n# TYPE ",
                    util::ToAbsl(name), " ", util::ToAbsl(type), "\n");
  }
  void Sample(std::string_view name, std::string_view labels, double value) {
    char buf[40];
    std::snprintf(buf, sizeof(buf), "%.9g", value);
    absl::StrAppend(&out_, util::ToAbsl(name), util::ToAbsl(labels), " ", buf, "\n");
  }
  void One(std::string_view name, std::string_view type, std::string_view help, double value) {
    Family(name, type, help);
    Sample(name, "", value);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

absl::Span<const std::string_view> ReportedDbProperties() { return kDbProperties; }

std::string PrometheusText(core::Introspection& store) {
  const Stats s = store.GetStats();
  Metrics m;
  for (const StatField& f : StatFields()) {
    const std::string name = absl::StrCat("asidekv_", f.name, f.counter ? "_total" : "");
    m.One(name, f.counter ? "counter" : "gauge", f.help, static_cast<double>(s.*f.member));
  }
  m.Family("asidekv_latency_seconds", "gauge",
           "Operation latency percentiles since open (log-linear histogram).");
  for (const LatencyField& f : LatencyFields()) {
    const LatencySummary& l = s.*f.member;
    const std::pair<std::string_view, uint64_t> qs[] = {
        {"0.5", l.p50_ns}, {"0.99", l.p99_ns}, {"0.999", l.p999_ns}, {"1", l.max_ns}};
    for (const auto& [q, ns] : qs) {
      m.Sample("asidekv_latency_seconds",
               absl::StrCat("{op=\"", f.op, "\",quantile=\"", util::ToAbsl(q), "\"}"),
               static_cast<double>(ns) / 1e9);
    }
  }
  m.Family("asidekv_ops_total", "counter", "Timed operations by kind.");
  for (const LatencyField& f : LatencyFields()) {
    m.Sample("asidekv_ops_total", absl::StrCat("{op=\"", f.op, "\"}"),
             static_cast<double>((s.*f.member).count));
  }
  m.Family("asidekv_rocksdb_property", "gauge", "RocksDB integer properties.");
  for (std::string_view p : ReportedDbProperties()) {
    absl::StatusOr<uint64_t> v = store.DbIntProperty(p);
    if (v.ok()) {
      m.Sample("asidekv_rocksdb_property", absl::StrCat("{name=\"", util::ToAbsl(p), "\"}"),
               static_cast<double>(*v));
    }
  }
  return m.Take();
}

}  // namespace asidekv::admin
