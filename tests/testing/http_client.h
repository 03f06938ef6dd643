// A minimal HTTP/1.1 client over loopback TCP, for tests of HTTP endpoints (the Store's metrics
// endpoint, a real Prometheus server's API). It sends bytes as given and reads until the server
// closes, so tests can also send malformed or partial requests.
//
// Thread safety: free functions, no shared state.

#ifndef ASIDEKV_TESTS_TESTING_HTTP_CLIENT_H_
#define ASIDEKV_TESTS_TESTING_HTTP_CLIENT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace asidekv::testing {

struct HttpResponse {
  int status = 0;       // From the status line.
  std::string headers;  // The header lines, as received (without the status line).
  std::string body;     // Everything after the blank line (responses here are not chunked).
};

// Connects to 127.0.0.1:`port`, sends `request` verbatim, half-closes nothing, and reads until
// the server closes the connection or `timeout` passes without data (DeadlineExceeded).
absl::StatusOr<HttpResponse> RawHttp(uint16_t port, std::string_view request,
                                     absl::Duration timeout = absl::Seconds(30));

// GET `target` (e.g. "/metrics", "/api/v1/query?query=up") with "Connection: close".
absl::StatusOr<HttpResponse> HttpGet(uint16_t port, std::string_view target);

// A TCP port on 127.0.0.1 that was free a moment ago (bound with port 0, then closed).
uint16_t FreeTcpPort();

// `s` percent-encoded for a URL query value.
std::string UrlEncode(std::string_view s);

}  // namespace asidekv::testing

#endif  // ASIDEKV_TESTS_TESTING_HTTP_CLIENT_H_
