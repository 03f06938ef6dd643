// EnableMetricsEndpoint(): registers the HTTP metrics server as the core's metrics starter.
#include "admin/metrics_http_server.h"
#include "admin/server_starter.h"
#include "asidekv/metrics.h"
#include "core/introspection.h"

namespace asidekv {

void EnableMetricsEndpoint() {
  core::SetMetricsStarter(
      &admin::StartServer<admin::MetricsHttpServer, admin::MetricsHttpServerOptions>);
}

namespace admin {

void SetMetricsServerOptionsForTesting(const MetricsHttpServerOptions& options) {
  ServerOptionsSlot<MetricsHttpServerOptions>().Set(options);
}

}  // namespace admin

}  // namespace asidekv
