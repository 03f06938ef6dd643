// The HTTP metrics endpoint of a Store: `GET /metrics` in the Prometheus text format on
// Options::metrics_address (the README's Admin section lists the metrics and the scrape
// configuration; tools/grafana/asidekv.json is a dashboard over them).
//
// The endpoint is a separate library, so applications that never enable it do not link it (nor
// its HTTP server, libmicrohttpd): link asidekv::metrics (CMake) and call EnableMetricsEndpoint()
// once, before the first Store::Open with Options::metrics_address set. Without it such an Open
// returns FailedPrecondition.
//
//   #include <asidekv/metrics.h>
//   asidekv::EnableMetricsEndpoint();
//   options.metrics_address = "127.0.0.1:9464";
//   auto store = asidekv::Store::Open(options);
//
// The server runs one background thread per Store. Requests: GET or HEAD /metrics (200), another
// path (404), another method (405); request headers beyond 16 KiB are refused (431), a
// connection idle for 5 s is closed, and at most 8 connections are served at a time. None of
// these touches the Store beyond reading its counters. This header compiles as C++17.

#ifndef ASIDEKV_METRICS_H_
#define ASIDEKV_METRICS_H_

#include "asidekv/export.h"

namespace asidekv {

// Lets Store::Open start a metrics endpoint for Options::metrics_address in this process.
// Idempotent and thread-safe; it cannot be undone.
ASIDEKV_EXPORT void EnableMetricsEndpoint();

}  // namespace asidekv

#endif  // ASIDEKV_METRICS_H_
