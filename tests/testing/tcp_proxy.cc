#include "tests/testing/tcp_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"

namespace asidekv::testing {
namespace {

constexpr size_t kMaxPending = 64 << 10;  // Bytes held per direction before reading pauses.
constexpr size_t kChunk = 16 << 10;

absl::Status Errno(const std::string& what) {
  return absl::InternalError(absl::StrCat("tcp proxy: ", what, ": ", std::strerror(errno)));
}

void SetNonBlocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

// A blocking connect to host:port, then non-blocking; -1 on failure.
int ConnectTo(const std::string& host, int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) return -1;
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  SetNonBlocking(fd);
  return fd;
}

// One relayed connection: fd[0] the client's side, fd[1] the server's. pending[d] holds bytes
// read for direction d and not yet written (d = 0: client to server).
struct Pair {
  int fd[2] = {-1, -1};
  std::string pending[2];
  ~Pair() {
    for (int f : fd) {
      if (f >= 0) close(f);
    }
  }
};

// The socket bytes of direction d come from, and the one they go to.
int Source(const Pair& p, int d) { return p.fd[d == 0 ? 0 : 1]; }
int Sink(const Pair& p, int d) { return p.fd[d == 0 ? 1 : 0]; }

}  // namespace

TcpProxy::~TcpProxy() {
  if (thread_.joinable()) {
    stop_.store(true);
    Wake();
    thread_.join();
  }
  if (listen_fd_ >= 0) close(listen_fd_);
  for (int f : wake_) {
    if (f >= 0) close(f);
  }
}

absl::Status TcpProxy::Start(const std::string& upstream_host, int upstream_port) {
  if (thread_.joinable()) return absl::FailedPreconditionError("tcp proxy: already started");
  upstream_host_ = upstream_host;
  upstream_port_ = upstream_port;
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listen_fd_ < 0) return Errno("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(listen_fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    return Errno("bind");
  }
  if (listen(listen_fd_, 64) != 0) return Errno("listen");
  socklen_t len = sizeof(addr);
  if (getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return Errno("getsockname");
  }
  port_ = ntohs(addr.sin_port);
  if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) return Errno("pipe");
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

std::string TcpProxy::address() const { return absl::StrCat("127.0.0.1:", port_); }

void TcpProxy::Wake() {
  const char c = 0;
  (void)!write(wake_[1], &c, 1);
}

void TcpProxy::Apply() {
  const uint64_t target = ++control_.generation;
  Wake();
  while (applied_ < target && !stop_.load() && thread_.joinable()) {
    acted_.WaitWithTimeout(&mu_, absl::Milliseconds(100));
  }
}

TcpProxy::Control TcpProxy::Snapshot() {
  absl::MutexLock lock(&mu_);
  applied_ = control_.generation;
  acted_.SignalAll();
  return control_;
}

void TcpProxy::Set(Direction direction, Mode mode) {
  absl::MutexLock lock(&mu_);
  control_.mode[static_cast<int>(direction)] = mode;
  Apply();
}

void TcpProxy::Heal() {
  absl::MutexLock lock(&mu_);
  control_.mode[0] = control_.mode[1] = Mode::kPass;
  control_.refuse = false;
  Apply();
}

void TcpProxy::Refuse() {
  absl::MutexLock lock(&mu_);
  control_.refuse = true;
  Apply();
}

void TcpProxy::CutAll() {
  absl::MutexLock lock(&mu_);
  const uint64_t target = ++control_.cut_requests;
  Wake();
  while (cuts_done_ < target && !stop_.load() && thread_.joinable()) {
    acted_.WaitWithTimeout(&mu_, absl::Milliseconds(100));
  }
}

int TcpProxy::connections() const {
  absl::MutexLock lock(&mu_);
  return open_;
}

void TcpProxy::Run() {
  std::vector<std::unique_ptr<Pair>> pairs;
  uint64_t cuts_seen = 0;
  std::vector<pollfd> fds;
  while (!stop_.load()) {
    Control c;
    {
      absl::MutexLock lock(&mu_);
      c = control_;
      applied_ = c.generation;
      if (c.cut_requests > cuts_seen) {
        pairs.clear();
        cuts_seen = c.cut_requests;
        open_ = 0;
        cuts_done_ = cuts_seen;
      }
      acted_.SignalAll();
    }
    for (auto& p : pairs) {
      for (int d = 0; d < 2; ++d) {
        if (c.mode[d] == Mode::kDrop) p->pending[d].clear();
      }
    }
    fds.clear();
    fds.push_back({wake_[0], POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});
    for (auto& p : pairs) {
      for (int side = 0; side < 2; ++side) {
        // This socket is the source of direction `side` and the sink of the other one.
        const int out = 1 - side;
        short events = 0;
        if (c.mode[side] != Mode::kStall && p->pending[side].size() < kMaxPending) events |= POLLIN;
        if (c.mode[out] == Mode::kPass && !p->pending[out].empty()) events |= POLLOUT;
        fds.push_back({p->fd[side], events, 0});
      }
    }
    if (poll(fds.data(), fds.size(), 100) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if ((fds[0].revents & POLLIN) != 0) {
      char buf[64];
      while (read(wake_[0], buf, sizeof(buf)) > 0) {
      }
    }
    // Act on the control as it is now (a change made while polling applies to these bytes).
    {
      const Control now = Snapshot();
      c.mode[0] = now.mode[0];
      c.mode[1] = now.mode[1];
      c.refuse = now.refuse;
    }
    // Relay first (fds[2..] match pairs), then accept, so indices stay valid.
    std::vector<bool> dead(pairs.size(), false);
    for (size_t i = 0; i < pairs.size(); ++i) {
      Pair& p = *pairs[i];
      for (int side = 0; side < 2 && !dead[i]; ++side) {
        const short revents = fds[2 + 2 * i + side].revents;
        if ((revents & POLLERR) != 0 ||
            ((revents & POLLHUP) != 0 && c.mode[side] == Mode::kStall)) {
          dead[i] = true;  // Gone (a stalled sender that hung up is not waited for).
          break;
        }
        if ((revents & (POLLIN | POLLHUP)) != 0 && c.mode[side] != Mode::kStall) {
          char buf[kChunk];
          const ssize_t n = read(Source(p, side), buf, sizeof(buf));
          if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            dead[i] = true;
          } else if (n > 0 && c.mode[side] == Mode::kPass) {
            p.pending[side].append(buf, static_cast<size_t>(n));
          }
        }
        const int out = 1 - side;
        if (!dead[i] && (revents & POLLOUT) != 0 && c.mode[out] == Mode::kPass &&
            !p.pending[out].empty()) {
          const ssize_t n = write(Sink(p, out), p.pending[out].data(), p.pending[out].size());
          if (n > 0) {
            p.pending[out].erase(0, static_cast<size_t>(n));
            relayed_[out].fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
          } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
            dead[i] = true;
          }
        }
      }
    }
    int closed = 0;
    for (size_t i = pairs.size(); i-- > 0;) {
      if (dead[i]) {
        pairs.erase(pairs.begin() + static_cast<std::ptrdiff_t>(i));
        ++closed;
      }
    }
    int opened = 0;
    if ((fds[1].revents & POLLIN) != 0) {
      while (true) {
        const int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (client < 0) break;
        if (c.refuse) {
          close(client);
          continue;
        }
        const int server = ConnectTo(upstream_host_, upstream_port_);
        if (server < 0) {
          close(client);
          continue;
        }
        const int one = 1;
        setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        auto p = std::make_unique<Pair>();
        p->fd[0] = client;
        p->fd[1] = server;
        pairs.push_back(std::move(p));
        ++opened;
      }
    }
    if (closed != 0 || opened != 0) {
      absl::MutexLock lock(&mu_);
      open_ += opened - closed;
    }
  }
  absl::MutexLock lock(&mu_);
  open_ = 0;
  cuts_done_ = control_.cut_requests;
  applied_ = control_.generation;
  acted_.SignalAll();
}

TcpProxyProcess::~TcpProxyProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  for (int fd : {to_child_, from_child_}) {
    if (fd >= 0) close(fd);
  }
}

absl::Status TcpProxyProcess::Start(const std::string& upstream_host, int upstream_port) {
  if (pid_ > 0) return absl::FailedPreconditionError("tcp proxy process: already started");
  int down[2];
  int up[2];
  if (pipe2(down, O_CLOEXEC) != 0 || pipe2(up, O_CLOEXEC) != 0) return Errno("pipe");
  pid_ = fork();
  if (pid_ < 0) return Errno("fork");
  if (pid_ == 0) {
    // The child: the proxy, then one answer per command byte until the pipe closes.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    close(down[1]);
    close(up[0]);
    TcpProxy proxy;
    uint64_t answer = proxy.Start(upstream_host, upstream_port).ok() ? proxy.port() : 0;
    if (write(up[1], &answer, sizeof(answer)) != sizeof(answer) || answer == 0) _exit(1);
    char c;
    while (read(down[0], &c, 1) == 1) {
      answer = 0;
      switch (c) {
        case 's':
          proxy.Set(TcpProxy::Direction::kToServer, TcpProxy::Mode::kStall);
          break;
        case 'S':
          proxy.Set(TcpProxy::Direction::kToClient, TcpProxy::Mode::kStall);
          break;
        case 'd':
          proxy.Set(TcpProxy::Direction::kToServer, TcpProxy::Mode::kDrop);
          break;
        case 'D':
          proxy.Set(TcpProxy::Direction::kToClient, TcpProxy::Mode::kDrop);
          break;
        case 'h':
          proxy.Heal();
          break;
        case 'c':
          proxy.CutAll();
          break;
        case 'b':
          answer = proxy.bytes(TcpProxy::Direction::kToServer);
          break;
        default:
          break;
      }
      if (write(up[1], &answer, sizeof(answer)) != sizeof(answer)) break;
    }
    _exit(0);
  }
  close(down[0]);
  close(up[1]);
  to_child_ = down[1];
  from_child_ = up[0];
  uint64_t port = 0;
  if (read(from_child_, &port, sizeof(port)) != sizeof(port) || port == 0) {
    return absl::InternalError("tcp proxy process: the proxy did not start");
  }
  port_ = static_cast<int>(port);
  return absl::OkStatus();
}

std::string TcpProxyProcess::address() const { return absl::StrCat("127.0.0.1:", port_); }

absl::StatusOr<uint64_t> TcpProxyProcess::Command(char c) {
  uint64_t answer = 0;
  if (write(to_child_, &c, 1) != 1 ||
      read(from_child_, &answer, sizeof(answer)) != sizeof(answer)) {
    return absl::InternalError("tcp proxy process: the proxy is gone");
  }
  return answer;
}

absl::Status TcpProxyProcess::Set(TcpProxy::Direction direction, TcpProxy::Mode mode) {
  const bool to_server = direction == TcpProxy::Direction::kToServer;
  char c = 'h';
  if (mode == TcpProxy::Mode::kStall) c = to_server ? 's' : 'S';
  if (mode == TcpProxy::Mode::kDrop) c = to_server ? 'd' : 'D';
  return Command(c).status();
}

absl::Status TcpProxyProcess::Heal() { return Command('h').status(); }
absl::Status TcpProxyProcess::CutAll() { return Command('c').status(); }
absl::StatusOr<uint64_t> TcpProxyProcess::BytesToServer() { return Command('b'); }

}  // namespace asidekv::testing
