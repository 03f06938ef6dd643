#include "tools/admin/client.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "util/string_view.h"

namespace asidekv::admin {
namespace {

// Largest response accepted (a `get` value is cut at 1 MiB by the server; `stats` of 1024
// shards is a few hundred KiB).
constexpr size_t kMaxResponseBytes = size_t{64} << 20;

absl::Status SocketError(std::string_view what, int err) {
  if (err == EAGAIN || err == EWOULDBLOCK) {
    return absl::DeadlineExceededError(
        absl::StrCat(util::ToAbsl(what), ": the store did not answer"));
  }
  return absl::UnavailableError(absl::StrCat(util::ToAbsl(what), ": ", std::strerror(err)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<AdminClient>> AdminClient::Connect(const std::string& path,
                                                                  absl::Duration timeout) {
  sockaddr_un addr{};
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("socket path too long: ", path));
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return SocketError("socket", errno);
  const timeval tv = absl::ToTimeval(timeout);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno;
    close(fd);
    return SocketError(absl::StrCat("cannot connect to ", path), err);
  }
  return std::unique_ptr<AdminClient>(new AdminClient(fd));
}

AdminClient::~AdminClient() { close(fd_); }

absl::StatusOr<std::string> AdminClient::CallRaw(std::string_view line) {
  std::string out(line);
  if (out.empty() || out.back() != '\n') out.push_back('\n');
  size_t sent = 0;
  while (sent < out.size()) {
    const ssize_t n = send(fd_, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return SocketError("send", errno);
    sent += static_cast<size_t>(n);
  }
  char buf[64 * 1024];
  while (true) {
    const size_t nl = buffered_.find('\n');
    if (nl != std::string::npos) {
      std::string response = buffered_.substr(0, nl);
      buffered_.erase(0, nl + 1);
      return response;
    }
    if (buffered_.size() > kMaxResponseBytes) return absl::DataLossError("response too large");
    const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return SocketError("recv", errno);
    if (n == 0) return absl::UnavailableError("the store closed the connection");
    buffered_.append(buf, static_cast<size_t>(n));
  }
}

absl::StatusOr<JsonValue> AdminClient::Call(const AdminRequest& request) {
  absl::StatusOr<std::string> line = CallRaw(FormatAdminRequest(request));
  if (!line.ok()) return line.status();
  absl::StatusOr<JsonValue> v = ParseJson(*line);
  if (!v.ok()) return absl::DataLossError(absl::StrCat("bad response: ", v.status().message()));
  absl::Status s = AdminResponseStatus(*v);
  if (!s.ok()) return s;
  return v;
}

}  // namespace asidekv::admin
