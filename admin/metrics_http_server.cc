#include "admin/metrics_http_server.h"

#include <microhttpd.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "admin/listen_address.h"
#include "admin/prometheus.h"
#include "core/log.h"
#include "util/string_view.h"

namespace asidekv::admin {
namespace {

// Queues `body` with `status` on `connection`; MHD copies the body.
MHD_Result Respond(MHD_Connection* connection, unsigned status, std::string_view content_type,
                   const std::string& body, bool allow_header = false) {
  MHD_Response* response = MHD_create_response_from_buffer(
      body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
  if (response == nullptr) return MHD_NO;
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
                          std::string(content_type).c_str());
  if (allow_header) MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
  const MHD_Result r = MHD_queue_response(connection, status, response);
  MHD_destroy_response(response);
  return r;
}

// libmicrohttpd's request handler: called once the request line and headers are in (and again
// for each piece of a body, which no accepted request has: every answer is queued on the first
// call, and libmicrohttpd then discards the body and closes the connection).
MHD_Result Handle(void* cls, MHD_Connection* connection, const char* url, const char* method,
                  const char* /*version*/, const char* /*upload_data*/,
                  size_t* /*upload_data_size*/, void** /*request_state*/) {
  const auto* server = static_cast<const MetricsHttpServer*>(cls);
  constexpr std::string_view kText = "text/plain; charset=utf-8";
  if (std::string_view(url) != "/metrics") {
    return Respond(connection, MHD_HTTP_NOT_FOUND, kText, "not found: try /metrics\n");
  }
  const std::string_view m(method);
  if (m != MHD_HTTP_METHOD_GET && m != MHD_HTTP_METHOD_HEAD) {
    return Respond(connection, MHD_HTTP_METHOD_NOT_ALLOWED, kText, "method not allowed\n",
                   /*allow_header=*/true);
  }
  return Respond(connection, MHD_HTTP_OK, kPrometheusContentType, PrometheusText(server->store()));
}

// libmicrohttpd's messages (printf-style), as warnings through the Store's Options::log.
void LogFromDaemon(void* cls, const char* format, va_list args) {
  const auto* server = static_cast<const MetricsHttpServer*>(cls);
  char buf[512];
  std::vsnprintf(buf, sizeof(buf), format, args);
  std::string_view line(buf);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  core::Log(server->store().options().log, LogSeverity::kWarning,
            absl::StrCat("metrics endpoint: ", util::ToAbsl(line)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    const std::string& address, core::Introspection* store,
    const MetricsHttpServerOptions& options) {
  absl::StatusOr<ListenAddress> listen = ParseListenAddress(address);
  if (!listen.ok()) return listen.status();
  std::unique_ptr<MetricsHttpServer> server(new MetricsHttpServer(store));
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG;
  if (listen->ipv6) flags |= MHD_USE_IPv6;
  const unsigned timeout_s =
      static_cast<unsigned>(std::max<int64_t>(1, absl::ToInt64Seconds(options.idle_timeout)));
  // The varargs must have exactly the types libmicrohttpd reads (unsigned int, size_t...).
  server->daemon_ = MHD_start_daemon(
      flags, listen->port, /*apc=*/nullptr, /*apc_cls=*/nullptr, &Handle, server.get(),
      MHD_OPTION_SOCK_ADDR, reinterpret_cast<const sockaddr*>(&listen->addr),
      MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned int>(std::max(1u, options.max_connections)),
      MHD_OPTION_CONNECTION_TIMEOUT, timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
      static_cast<size_t>(options.connection_memory_bytes), MHD_OPTION_EXTERNAL_LOGGER,
      &LogFromDaemon, server.get(), MHD_OPTION_END);
  if (server->daemon_ == nullptr) {
    return absl::UnavailableError(absl::StrCat("metrics endpoint: cannot listen on ", address,
                                               " (address in use, or not this machine's?)"));
  }
  const MHD_DaemonInfo* info = MHD_get_daemon_info(server->daemon_, MHD_DAEMON_INFO_BIND_PORT);
  server->port_ = info != nullptr ? info->port : listen->port;
  const std::string host = listen->ipv6 ? absl::StrCat("[", listen->host, "]") : listen->host;
  core::Log(
      store->options().log, LogSeverity::kInfo,
      absl::StrCat("metrics endpoint listening on http://", host, ":", server->port_, "/metrics"));
  return server;
}

MetricsHttpServer::~MetricsHttpServer() {
  if (daemon_ != nullptr) MHD_stop_daemon(daemon_);
}

}  // namespace asidekv::admin
