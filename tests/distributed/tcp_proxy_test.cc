// Tests of the fault proxy (tests/testing/tcp_proxy.h) against a small echo server on loopback:
// bytes flow through it; a stalled direction holds bytes and delivers them all on Heal(); a
// dropped direction loses them while the connection stays open; CutAll() closes every relayed
// connection; Refuse() closes new ones.

#include "tests/testing/tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace asidekv::testing {
namespace {

// Accepts connections on 127.0.0.1 and echoes what each sends, one thread per connection.
class EchoServer {
 public:
  EchoServer() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
    listen(fd_, 16);
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] {
      while (true) {
        const int c = accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        workers_.emplace_back([c] {
          char buf[4096];
          ssize_t n;
          while ((n = read(c, buf, sizeof(buf))) > 0) {
            if (write(c, buf, static_cast<size_t>(n)) != n) break;
          }
          close(c);
        });
      }
    });
  }
  ~EchoServer() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    acceptor_.join();
    for (std::thread& w : workers_) w.join();
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread acceptor_;
  std::vector<std::thread> workers_;
};

int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  EXPECT_EQ(connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
  return fd;
}

// Reads what arrives on `fd` within `wait`: the bytes, and whether the peer closed.
std::string ReadFor(int fd, absl::Duration wait, bool* closed = nullptr) {
  std::string out;
  const absl::Time end = absl::Now() + wait;
  if (closed != nullptr) *closed = false;
  while (absl::Now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 10) <= 0) continue;
    char buf[4096];
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) {
      if (closed != nullptr) *closed = true;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// Polls cond every millisecond up to 10 s.
template <typename F>
bool Eventually(F cond) {
  const absl::Time end = absl::Now() + absl::Seconds(10);
  while (absl::Now() < end) {
    if (cond()) return true;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return cond();
}

TEST(TcpProxyTest, RelaysBothWays) {
  EchoServer echo;
  TcpProxy proxy;
  ASSERT_OK(proxy.Start("127.0.0.1", echo.port()));
  const int fd = Connect(proxy.port());
  ASSERT_EQ(write(fd, "hello", 5), 5);
  EXPECT_EQ(ReadFor(fd, absl::Milliseconds(500)), "hello");
  EXPECT_EQ(proxy.connections(), 1);
  EXPECT_EQ(proxy.bytes(TcpProxy::Direction::kToServer), 5u);
  EXPECT_EQ(proxy.bytes(TcpProxy::Direction::kToClient), 5u);
  close(fd);
  EXPECT_TRUE(Eventually([&] { return proxy.connections() == 0; }));
}

TEST(TcpProxyTest, AStalledDirectionHoldsBytesAndDeliversThemOnHeal) {
  EchoServer echo;
  TcpProxy proxy;
  ASSERT_OK(proxy.Start("127.0.0.1", echo.port()));
  const int fd = Connect(proxy.port());
  proxy.Set(TcpProxy::Direction::kToClient, TcpProxy::Mode::kStall);
  ASSERT_EQ(write(fd, "ping", 4), 4);
  // The request reaches the server (its echo is what is held).
  EXPECT_TRUE(Eventually([&] { return proxy.bytes(TcpProxy::Direction::kToServer) == 4; }));
  EXPECT_EQ(ReadFor(fd, absl::Milliseconds(300)), "");
  proxy.Heal();
  EXPECT_EQ(ReadFor(fd, absl::Milliseconds(500)), "ping");
  close(fd);
}

TEST(TcpProxyTest, AStalledRequestDirectionReachesTheServerOnlyOnHeal) {
  EchoServer echo;
  TcpProxy proxy;
  ASSERT_OK(proxy.Start("127.0.0.1", echo.port()));
  const int fd = Connect(proxy.port());
  proxy.Set(TcpProxy::Direction::kToServer, TcpProxy::Mode::kStall);
  ASSERT_EQ(write(fd, "abc", 3), 3);
  EXPECT_EQ(ReadFor(fd, absl::Milliseconds(300)), "");
  EXPECT_EQ(proxy.bytes(TcpProxy::Direction::kToServer), 0u);
  proxy.Heal();
  EXPECT_EQ(ReadFor(fd, absl::Milliseconds(500)), "abc");
  close(fd);
}

TEST(TcpProxyTest, ADroppedDirectionLosesBytesButKeepsTheConnection) {
  EchoServer echo;
  TcpProxy proxy;
  ASSERT_OK(proxy.Start("127.0.0.1", echo.port()));
  const int fd = Connect(proxy.port());
  proxy.Set(TcpProxy::Direction::kToClient, TcpProxy::Mode::kDrop);
  ASSERT_EQ(write(fd, "lost", 4), 4);
  bool closed = false;
  EXPECT_EQ(ReadFor(fd, absl::Milliseconds(300), &closed), "");
  EXPECT_FALSE(closed);
  proxy.Heal();
  ASSERT_EQ(write(fd, "kept", 4), 4);
  EXPECT_EQ(ReadFor(fd, absl::Milliseconds(500)), "kept");
  close(fd);
}

TEST(TcpProxyTest, CutAllClosesEveryConnectionAndRefuseClosesNewOnes) {
  EchoServer echo;
  TcpProxy proxy;
  ASSERT_OK(proxy.Start("127.0.0.1", echo.port()));
  const int a = Connect(proxy.port());
  const int b = Connect(proxy.port());
  ASSERT_TRUE(Eventually([&] { return proxy.connections() == 2; }));
  proxy.CutAll();
  EXPECT_EQ(proxy.connections(), 0);
  bool closed = false;
  ReadFor(a, absl::Seconds(1), &closed);
  EXPECT_TRUE(closed);
  ReadFor(b, absl::Seconds(1), &closed);
  EXPECT_TRUE(closed);
  close(a);
  close(b);

  proxy.Refuse();
  const int c = Connect(proxy.port());
  ReadFor(c, absl::Seconds(1), &closed);
  EXPECT_TRUE(closed);
  close(c);
  proxy.Heal();
  const int d = Connect(proxy.port());
  ASSERT_EQ(write(d, "back", 4), 4);
  EXPECT_EQ(ReadFor(d, absl::Milliseconds(500)), "back");
  close(d);
}

}  // namespace
}  // namespace asidekv::testing
