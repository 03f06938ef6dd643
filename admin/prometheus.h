// The Prometheus text exposition of a Store's metrics: the admin `metrics` command and the HTTP
// endpoint (admin/metrics_http_server.h) serve the same text.
//
// Names follow Prometheus's conventions: an `asidekv_` prefix, `_total` on counters, base units
// (bytes, seconds). Every Stats field appears, by walking StatFields() and LatencyFields()
// (asidekv/stats.h), so a new field cannot be forgotten. The families:
//
//   asidekv_<stat>_total, asidekv_<stat>     each Stats counter and gauge
//   asidekv_op_duration_seconds              histogram by op ("get", "put", "delete")
//   asidekv_shard_<stat>_total{shard}, ...   per cache shard (ShardStats), to spot a hot shard
//   asidekv_db_<property>                    the database's integer properties it knows
//   asidekv_build_info{version}              always 1
//
// Histogram buckets. The Store records latencies in log-linear buckets (util/log_linear_buckets.h,
// 16 per power of two, each at most 6.25% wide). They are exposed at the 1-2-5 bounds
// LatencyBoundsNs() (1 us .. 10 s, plus +Inf): the bucket `le` counts every log-linear bucket
// whose largest value is at most le, so it counts only values <= le and misses at most the
// values of one log-linear bucket just below le (within 6.25% of it), counted in the next bound.
//
// Thread safety: PrometheusText() may be called concurrently with the Store's own calls.

#ifndef ASIDEKV_ADMIN_PROMETHEUS_H_
#define ASIDEKV_ADMIN_PROMETHEUS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/types/span.h"
#include "core/introspection.h"

namespace asidekv::admin {

// The Prometheus content type of PrometheusText().
inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// Every metric family above, in the text exposition format (version 0.0.4).
std::string PrometheusText(core::Introspection& store);

// The integer database properties that `stats` and `metrics` report (e.g.
// "rocksdb.estimate-num-keys"); a property the database does not know is left out.
absl::Span<const std::string_view> ReportedDbProperties();

// The finite `le` bounds of asidekv_op_duration_seconds, in nanoseconds, ascending.
absl::Span<const uint64_t> LatencyBoundsNs();

}  // namespace asidekv::admin

#endif  // ASIDEKV_ADMIN_PROMETHEUS_H_
