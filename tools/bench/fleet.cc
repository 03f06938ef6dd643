#include "tools/bench/fleet.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace asidekv::bench {
namespace {

// Larger messages are refused (a phase's report is a few kilobytes).
constexpr uint32_t kMaxMessage = 64 << 20;

absl::Status SendAllBytes(int fd, const char* data, size_t size) {
  while (size > 0) {
    // MSG_NOSIGNAL: a node that died is an error here, not a SIGPIPE.
    const ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return absl::UnavailableError(absl::StrCat("send: ", std::strerror(errno)));
    data += n;
    size -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status ReceiveAllBytes(int fd, char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = recv(fd, data, size, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return absl::UnavailableError("closed");
    if (n < 0) return absl::UnavailableError(absl::StrCat("receive: ", std::strerror(errno)));
    data += n;
    size -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status Prefixed(int node, const absl::Status& s) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat("node ", node, ": ", s.message()));
}

}  // namespace

absl::Status Link::Send(std::string_view message) const {
  if (message.size() > kMaxMessage) return absl::DataLossError("message too large");
  char header[4];
  const auto size = static_cast<uint32_t>(message.size());
  std::memcpy(header, &size, sizeof(size));
  absl::Status s = SendAllBytes(fd_, header, sizeof(header));
  if (!s.ok()) return s;
  return SendAllBytes(fd_, message.data(), message.size());
}

absl::StatusOr<std::string> Link::Receive() const {
  char header[4];
  absl::Status s = ReceiveAllBytes(fd_, header, sizeof(header));
  if (!s.ok()) return s;
  uint32_t size = 0;
  std::memcpy(&size, header, sizeof(size));
  if (size > kMaxMessage) return absl::DataLossError("message too large");
  std::string message(size, '\0');
  s = ReceiveAllBytes(fd_, message.data(), size);
  if (!s.ok()) return s;
  return message;
}

int CountThreads() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    int threads = 0;
    if (line.rfind("Threads:", 0) == 0 &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(absl::string_view(line).substr(8)), &threads)) {
      return threads;
    }
  }
  return 0;
}

absl::StatusOr<std::unique_ptr<Fleet>> Fleet::Start(int nodes,
                                                    absl::FunctionRef<int(int, Link&)> node_main) {
  const int threads = CountThreads();
  if (threads != 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot start the nodes: this process runs ", threads,
                     " threads, and only a single-threaded process may fork"));
  }
  std::unique_ptr<Fleet> fleet(new Fleet());
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t parent = getpid();
  for (int node = 0; node < nodes; ++node) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      return absl::ResourceExhaustedError(absl::StrCat("socketpair: ", std::strerror(errno)));
    }
    const pid_t pid = fork();
    if (pid < 0) {
      close(pair[0]);
      close(pair[1]);
      return absl::ResourceExhaustedError(absl::StrCat("fork: ", std::strerror(errno)));
    }
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(1);     // The parent died before prctl.
      for (int fd : fleet->fds_) close(fd);  // The other nodes' parent ends.
      close(pair[0]);
      Link link(pair[1]);
      const int code = node_main(node, link);
      std::fflush(stdout);
      std::fflush(stderr);
      _exit(code);
    }
    close(pair[1]);
    fleet->pids_.push_back(pid);
    fleet->fds_.push_back(pair[0]);
  }
  return fleet;
}

Fleet::~Fleet() {
  for (int fd : fds_) close(fd);
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  for (pid_t pid : pids_) {
    while (waitpid(pid, nullptr, WNOHANG) == 0) {
      if (absl::Now() > deadline) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        break;
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
  }
}

absl::Status Fleet::Send(int node, std::string_view message) const {
  if (abandoned_) return absl::FailedPreconditionError("the nodes failed earlier in this run");
  return Prefixed(node, Link(fds_[static_cast<size_t>(node)]).Send(message));
}

absl::StatusOr<std::string> Fleet::Receive(int node) const {
  if (abandoned_) return absl::FailedPreconditionError("the nodes failed earlier in this run");
  absl::StatusOr<std::string> message = Link(fds_[static_cast<size_t>(node)]).Receive();
  if (!message.ok()) return Prefixed(node, message.status());
  return message;
}

absl::Status Fleet::SendAll(std::string_view message) const {
  for (int node = 0; node < size(); ++node) {
    absl::Status s = Send(node, message);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace asidekv::bench
