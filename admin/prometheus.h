// The Prometheus text exposition of a Store's metrics (the admin `metrics` command; an HTTP
// endpoint serves the same text).
//
// Names follow Prometheus's conventions: an `asidekv_` prefix, `_total` on counters, base units
// (bytes, seconds). Every Stats field appears, by walking StatFields() and LatencyFields()
// (asidekv/stats.h), so a new field cannot be forgotten.
//
// Thread safety: PrometheusText() may be called concurrently with the Store's own calls.

#ifndef ASIDEKV_ADMIN_PROMETHEUS_H_
#define ASIDEKV_ADMIN_PROMETHEUS_H_

#include <string>
#include <string_view>

#include "absl/types/span.h"
#include "core/introspection.h"

namespace asidekv::admin {

// Every counter and gauge of `store`, its latency percentiles and the database properties of
// ReportedDbProperties(), in the text exposition format (version 0.0.4).
std::string PrometheusText(core::Introspection& store);

// The integer database properties that `stats` and `metrics` report.
absl::Span<const std::string_view> ReportedDbProperties();

}  // namespace asidekv::admin

#endif  // ASIDEKV_ADMIN_PROMETHEUS_H_
