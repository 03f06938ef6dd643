// MetricsHttpServer: the HTTP endpoint that serves a Store's metrics to Prometheus
// (Options::metrics_address; asidekv/metrics.h).
//
// Design
//   libmicrohttpd does the HTTP: it parses requests, bounds their headers by a per-connection
//   memory pool, times idle connections out and caps the number of connections, all from one
//   internal thread that polls every socket. For each complete request the handler answers
//     GET|HEAD /metrics -> 200, PrometheusText() (admin/prometheus.h)
//     any other path    -> 404          another method -> 405 with Allow: GET, HEAD
//   and libmicrohttpd itself answers requests it cannot parse (400) and headers that do not fit
//   the pool (431). The handler only reads the Store's counters (Introspection::GetStats and
//   friends, which take no lock a Get waits on), so no request, well-formed or not, can stall or
//   change the Store. libmicrohttpd's own messages go through the Store's Options::log.
//
// Thread safety: Start() and the destructor run on the opener's thread; the handler runs on the
//   server's thread. The server keeps no mutable state of its own.
// Ownership: `store` is borrowed and outlives the server (the Store destroys its endpoints
//   first). The destructor stops the daemon, which joins its thread and closes every connection.

#ifndef ASIDEKV_ADMIN_METRICS_HTTP_SERVER_H_
#define ASIDEKV_ADMIN_METRICS_HTTP_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/introspection.h"

struct MHD_Daemon;  // libmicrohttpd's daemon, only named here (no header of it leaks).

namespace asidekv::admin {

struct MetricsHttpServerOptions {
  // Connections served at once; more are closed as they arrive. At least 1.
  unsigned max_connections = 8;
  // A connection with no progress for this long is closed. Whole seconds, at least 1.
  absl::Duration idle_timeout = absl::Seconds(5);
  // Memory of one connection, which bounds its request line and headers (beyond: 431).
  size_t connection_memory_bytes = 32 << 10;
};

class MetricsHttpServer : public core::AdminEndpoint {
 public:
  // Listens on `address` (admin/listen_address.h forms) and serves `store`'s metrics.
  // InvalidArgument for a bad address; Unavailable when the daemon cannot start (e.g. the
  // address is in use). Logs "metrics endpoint listening on http://HOST:PORT/metrics" (kInfo).
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      const std::string& address, core::Introspection* store,
      const MetricsHttpServerOptions& options);

  ~MetricsHttpServer() override;
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  // The bound port (the kernel's choice when the address asked for port 0).
  uint16_t port() const { return port_; }

  // The Store whose metrics are served (for the handler).
  core::Introspection& store() const { return *store_; }

 private:
  explicit MetricsHttpServer(core::Introspection* store) : store_(store) {}

  core::Introspection* const store_;  // Not owned; outlives the server.
  MHD_Daemon* daemon_ = nullptr;      // Owned; set once by Start().
  uint16_t port_ = 0;                 // Set once by Start().
};

// Options for the servers EnableMetricsEndpoint() starts from now on (tests shorten timeouts).
void SetMetricsServerOptionsForTesting(const MetricsHttpServerOptions& options);

}  // namespace asidekv::admin

#endif  // ASIDEKV_ADMIN_METRICS_HTTP_SERVER_H_
