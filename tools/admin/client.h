// AdminClient: one connection to a Store's admin socket (core/admin_protocol.h).
//
// Thread safety: none; one client per thread. Ownership: owns its socket, closed on destruction.
// Failure: Unavailable when the socket cannot be reached or the connection breaks;
//   DeadlineExceeded when the server does not answer within the timeout.

#ifndef ASIDEKV_TOOLS_ADMIN_CLIENT_H_
#define ASIDEKV_TOOLS_ADMIN_CLIENT_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "admin/protocol.h"
#include "tools/admin/json_reader.h"

namespace asidekv::admin {

class AdminClient {
 public:
  static absl::StatusOr<std::unique_ptr<AdminClient>> Connect(
      const std::string& path, absl::Duration timeout = absl::Seconds(10));
  AdminClient(const AdminClient&) = delete;
  AdminClient& operator=(const AdminClient&) = delete;
  ~AdminClient();

  // Sends `line` (LF appended if missing) and returns the response line, without its LF.
  absl::StatusOr<std::string> CallRaw(std::string_view line);
  // Sends `request` and returns the parsed response; an "ok":false response becomes its status.
  absl::StatusOr<JsonValue> Call(const AdminRequest& request);

 private:
  explicit AdminClient(int fd) : fd_(fd) {}
  const int fd_;
  std::string buffered_;  // Bytes received after the last response line.
};

}  // namespace asidekv::admin

#endif  // ASIDEKV_TOOLS_ADMIN_CLIENT_H_
