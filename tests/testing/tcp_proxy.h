// TcpProxy: a TCP relay on 127.0.0.1 between the connections a test makes and one upstream
// server, for network faults that hit one direction of a connection, or one process only, without
// iptables: give one process the proxy's address and the others the server's.
//
// Each accepted connection gets its own connection to the upstream server; bytes are relayed in
// both directions by one thread (poll). Per direction, for every connection at once:
//   kPass   bytes flow.
//   kStall  bytes are held: the proxy stops reading from the sender, so its kernel buffers fill
//           and its writes then block; nothing is lost, and everything held flows again on kPass.
//           A stalled server looks exactly like this to its clients (a SIGSTOPped process).
//   kDrop   bytes are read and thrown away: lost for good, while the connection stays open.
// CutAll() closes every relayed connection on both sides (a connection reset), and new
// connections are still accepted and relayed; Refuse() makes new ones fail at once (closed on
// accept, as a dead port would).
//
// Example:
//   TcpProxy proxy;
//   ASSERT_OK(proxy.Start("127.0.0.1", redis.port()));
//   options.redis = proxy.address();
//   proxy.Set(TcpProxy::Direction::kToClient, TcpProxy::Mode::kStall);  // replies held
//
// Thread safety: every method may be called from any thread.
// Ownership: the destructor stops the relay thread and closes every socket.

#ifndef ASIDEKV_TESTS_TESTING_TCP_PROXY_H_
#define ASIDEKV_TESTS_TESTING_TCP_PROXY_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace asidekv::testing {

class TcpProxy {
 public:
  enum class Direction { kToServer = 0, kToClient = 1 };
  enum class Mode { kPass, kStall, kDrop };

  TcpProxy() = default;
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  // Listens on 127.0.0.1 (a port the kernel picks) and relays to upstream_host:upstream_port
  // (a numeric IPv4 address). FailedPrecondition if already started.
  absl::Status Start(const std::string& upstream_host, int upstream_port);

  int port() const { return port_; }
  // "127.0.0.1:<port>".
  std::string address() const;

  // Sets the mode of `direction` for every connection, current and future. Like Heal() and
  // Refuse(), it returns once the relay thread acts on it: no byte moves against it afterwards.
  void Set(Direction direction, Mode mode) ABSL_LOCKS_EXCLUDED(mu_);
  // Both directions back to kPass, and new connections accepted again.
  void Heal() ABSL_LOCKS_EXCLUDED(mu_);
  // Closes every relayed connection (both of its sockets); returns once they are closed.
  void CutAll() ABSL_LOCKS_EXCLUDED(mu_);
  // New connections are closed as soon as they are accepted (until Heal()).
  void Refuse() ABSL_LOCKS_EXCLUDED(mu_);

  // Relayed connections open now, and bytes relayed (delivered) so far in `direction`.
  int connections() const ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t bytes(Direction direction) const {
    return relayed_[static_cast<int>(direction)].load(std::memory_order_relaxed);
  }

 private:
  struct Control {
    Mode mode[2] = {Mode::kPass, Mode::kPass};
    bool refuse = false;
    uint64_t cut_requests = 0;
    uint64_t generation = 0;  // Bumped by every change.
  };

  void Run();
  void Wake();
  // Bumps the generation, wakes the relay thread and waits until it acts on the change.
  void Apply() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The relay thread's view of control_, marked as applied.
  Control Snapshot() ABSL_LOCKS_EXCLUDED(mu_);

  std::string upstream_host_;
  int upstream_port_ = 0;
  int port_ = 0;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};  // A pipe: writing to wake_[1] makes the relay thread look again.
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> relayed_[2] = {0, 0};

  mutable absl::Mutex mu_;
  // Signalled when the relay thread applied a change or finished a cut (CondVar waits, not
  // Conditions: see tests/testing/absl_mutex_tsan.cc).
  absl::CondVar acted_;
  Control control_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t cuts_done_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t applied_ ABSL_GUARDED_BY(mu_) = 0;  // The generation the relay thread acts on.
};

// TcpProxyProcess: the same proxy in a child process of its own, driven through a pipe, for
// tests whose process forks workers afterwards: a process must not fork while it runs threads
// (ThreadSanitizer refuses a child that then starts threads), and TcpProxy runs one. Start() it
// before this process starts any thread. Every call waits for the child's acknowledgement; a
// child that died fails it (Internal). The destructor kills the child (SIGKILL) and reaps it.
class TcpProxyProcess {
 public:
  TcpProxyProcess() = default;
  ~TcpProxyProcess();
  TcpProxyProcess(const TcpProxyProcess&) = delete;
  TcpProxyProcess& operator=(const TcpProxyProcess&) = delete;

  absl::Status Start(const std::string& upstream_host, int upstream_port);
  int port() const { return port_; }
  std::string address() const;
  absl::Status Set(TcpProxy::Direction direction, TcpProxy::Mode mode);
  absl::Status Heal();
  absl::Status CutAll();
  // Bytes relayed so far toward the server.
  absl::StatusOr<uint64_t> BytesToServer();

 private:
  // Sends one command byte; returns the child's 8-byte answer.
  absl::StatusOr<uint64_t> Command(char c);

  pid_t pid_ = -1;
  int to_child_ = -1;
  int from_child_ = -1;
  int port_ = 0;
};

}  // namespace asidekv::testing

#endif  // ASIDEKV_TESTS_TESTING_TCP_PROXY_H_
