#include "admin/prometheus.h"

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "asidekv/stats.h"
#include "asidekv/version.h"
#include "util/log_linear_buckets.h"
#include "util/string_view.h"

namespace asidekv::admin {
namespace {

// A database property and the metric that exposes it.
struct DbProperty {
  std::string_view property;
  std::string_view metric;
  std::string_view help;
};

constexpr DbProperty kDbProperties[] = {
    {"rocksdb.estimate-num-keys", "asidekv_db_estimated_keys",
     "Estimated number of keys in the database."},
    {"rocksdb.total-sst-files-size", "asidekv_db_sst_files_bytes",
     "Size of all SST files of the database."},
    {"rocksdb.live-sst-files-size", "asidekv_db_live_sst_files_bytes",
     "Size of the SST files of the current version of the database."},
    {"rocksdb.estimate-live-data-size", "asidekv_db_estimated_live_data_bytes",
     "Estimated size of the live data of the database."},
    {"rocksdb.cur-size-all-mem-tables", "asidekv_db_memtables_bytes",
     "Size of the database's memtables."},
    {"rocksdb.block-cache-usage", "asidekv_db_block_cache_usage_bytes",
     "Bytes in the database's block cache."},
    {"rocksdb.block-cache-capacity", "asidekv_db_block_cache_capacity_bytes",
     "Capacity of the database's block cache."},
    {"rocksdb.num-running-compactions", "asidekv_db_running_compactions",
     "Compactions running in the database."},
    {"rocksdb.num-running-flushes", "asidekv_db_running_flushes",
     "Memtable flushes running in the database."},
};

// 1, 2, 5 per decade from 1 us to 10 s.
constexpr uint64_t kLatencyBounds[] = {
    1'000,         2'000,         5'000,         10'000,         20'000,      50'000,
    100'000,       200'000,       500'000,       1'000'000,      2'000'000,   5'000'000,
    10'000'000,    20'000'000,    50'000'000,    100'000'000,    200'000'000, 500'000'000,
    1'000'000'000, 2'000'000'000, 5'000'000'000, 10'000'000'000,
};

// One per-shard metric: a ShardStats field.
struct ShardMetric {
  std::string_view name;  // After "asidekv_shard_".
  bool counter;
  std::string_view help;
  uint64_t core::ShardStats::*member;
};

constexpr ShardMetric kShardMetrics[] = {
    {"cache_hits", true, "Lookups answered by the shard.", &core::ShardStats::hits},
    {"cache_misses", true, "Lookups the shard could not answer.", &core::ShardStats::misses},
    {"cache_inserts", true, "Entries put in the shard.", &core::ShardStats::inserts},
    {"evictions", true, "Entries the shard evicted to make room.", &core::ShardStats::evictions},
    {"expirations", true, "Entries of the shard whose TTL ran out.",
     &core::ShardStats::expirations},
    {"invalidations", true, "Entries of the shard dropped by writes and invalidations.",
     &core::ShardStats::invalidations},
    {"cache_entries", false, "Entries in the shard.", &core::ShardStats::entries},
    {"cache_bytes", false, "Bytes charged to the shard.", &core::ShardStats::bytes},
    {"cache_capacity_bytes", false, "Budget of the shard in bytes.", &core::ShardStats::capacity},
};

// Prometheus text exposition, one metric family at a time.
class Metrics {
 public:
  void Family(std::string_view name, std::string_view type, std::string_view help) {
    absl::StrAppend(&out_, "# HELP ", util::ToAbsl(name), " ", util::ToAbsl(help), "\n# TYPE ",
                    util::ToAbsl(name), " ", util::ToAbsl(type), "\n");
  }
  // Counts and gauges print as exact integers.
  void Sample(std::string_view name, std::string_view labels, uint64_t value) {
    absl::StrAppend(&out_, util::ToAbsl(name), util::ToAbsl(labels), " ", value, "\n");
  }
  void Sample(std::string_view name, std::string_view labels, double value) {
    absl::StrAppend(&out_, util::ToAbsl(name), util::ToAbsl(labels), " ", Number(value), "\n");
  }
  void One(std::string_view name, std::string_view type, std::string_view help, uint64_t value) {
    Family(name, type, help);
    Sample(name, "", value);
  }
  std::string Take() { return std::move(out_); }

  // Seconds: 12 significant digits (nanoseconds up to 1000 s), shortest form ("1e-06", "0.5").
  static std::string Number(double value) {
    char buf[40];
    std::snprintf(buf, sizeof(buf), "%.12g", value);
    return buf;
  }

 private:
  std::string out_;
};

void LatencyHistograms(core::Introspection& store, Metrics& m) {
  constexpr const char* kName = "asidekv_op_duration_seconds";
  m.Family(kName, "histogram",
           "Duration of Store operations since open, by operation (relay_lag: the commit-log "
           "relay's lag).");
  for (const LatencyField& f : LatencyFields()) {
    const core::LatencyHistogramData d = store.GetLatencyHistogram(f.op);
    uint64_t cumulative = 0;
    size_t bucket = 0;
    for (uint64_t bound : kLatencyBounds) {
      for (; bucket < d.counts.size() && util::LogLinearUpperBound(bucket) <= bound; ++bucket) {
        cumulative += d.counts[bucket];
      }
      m.Sample(absl::StrCat(kName, "_bucket"),
               absl::StrCat("{op=\"", f.op, "\",le=\"",
                            Metrics::Number(static_cast<double>(bound) / 1e9), "\"}"),
               cumulative);
    }
    for (; bucket < d.counts.size(); ++bucket) cumulative += d.counts[bucket];
    m.Sample(absl::StrCat(kName, "_bucket"), absl::StrCat("{op=\"", f.op, "\",le=\"+Inf\"}"),
             cumulative);
    m.Sample(absl::StrCat(kName, "_sum"), absl::StrCat("{op=\"", f.op, "\"}"),
             static_cast<double>(d.sum_ns) / 1e9);
    m.Sample(absl::StrCat(kName, "_count"), absl::StrCat("{op=\"", f.op, "\"}"), cumulative);
  }
}

void ShardMetrics(core::Introspection& store, Metrics& m) {
  const std::vector<core::ShardStats> shards = store.GetShardStats();
  for (const ShardMetric& sm : kShardMetrics) {
    const std::string name =
        absl::StrCat("asidekv_shard_", util::ToAbsl(sm.name), sm.counter ? "_total" : "");
    m.Family(name, sm.counter ? "counter" : "gauge", sm.help);
    for (size_t i = 0; i < shards.size(); ++i) {
      m.Sample(name, absl::StrCat("{shard=\"", i, "\"}"), shards[i].*sm.member);
    }
  }
}

}  // namespace

absl::Span<const std::string_view> ReportedDbProperties() {
  static const std::vector<std::string_view>* const names = [] {
    auto* v = new std::vector<std::string_view>;
    for (const DbProperty& p : kDbProperties) v->push_back(p.property);
    return v;
  }();
  return *names;
}
absl::Span<const uint64_t> LatencyBoundsNs() { return kLatencyBounds; }

std::string PrometheusText(core::Introspection& store) {
  const Stats s = store.GetStats();
  Metrics m;
  for (const StatField& f : StatFields()) {
    const std::string name = absl::StrCat("asidekv_", f.name, f.counter ? "_total" : "");
    m.One(name, f.counter ? "counter" : "gauge", f.help, s.*f.member);
  }
  LatencyHistograms(store, m);
  ShardMetrics(store, m);
  for (const DbProperty& p : kDbProperties) {
    absl::StatusOr<uint64_t> v = store.DbIntProperty(p.property);
    if (v.ok()) m.One(p.metric, "gauge", p.help, *v);
  }
  m.Family("asidekv_build_info", "gauge", "The library's version; always 1.");
  m.Sample("asidekv_build_info", "{version=\"" ASIDEKV_VERSION_STRING "\"}", uint64_t{1});
  return m.Take();
}

}  // namespace asidekv::admin
