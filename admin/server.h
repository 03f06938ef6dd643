// AdminServer: the Store's live admin endpoint on a Unix domain socket (Options::admin_socket).
//
// Design
//   One background thread runs a poll() loop over the listening socket, a wake-up eventfd and up
//   to max_connections clients. Each client sends request lines (admin/protocol.h) and gets
//   one JSON response line per request, in order. The thread answers requests itself, through
//   the core's Introspection interface (core/introspection.h); no lock is held across socket I/O
//   or across a Store call.
//
//   Bounded work per connection:
//     - a request line longer than kMaxRequestBytes gets an error response, then the
//       connection is closed;
//     - the server reads a connection only while it has no unsent response and at most one
//       request line buffered, so a client that does not read its responses stops being read
//       (memory per connection stays below about kMaxRequestBytes + one response);
//     - a connection with no progress (no byte read or written) for `idle_timeout` is closed,
//       which also ends slow ("slowloris") requests; the clock is AdminServerOptions::now_nanos;
//     - a connection beyond max_connections gets one error response and is closed.
//   Malformed requests get an error response; the connection stays open.
//
// The socket file
//   Created with mode 0600 (chmod between bind() and listen(), so nobody can connect before).
//   An existing non-socket file at the path is never replaced (FailedPrecondition); an existing
//   socket that accepts connections belongs to a live server (FailedPrecondition "in use"); a
//   stale socket that refuses connections is replaced. The destructor removes the file (only if
//   it is still the one this server created).
//
// Side effects of the commands on the Store (documented for operators):
//   `get` and `peek` look the key up in the cache, which counts a cache hit or miss; a `get`
//   miss reads the DB and fills the cache like Store::Get. `warm` is Store::WarmPrefix (the one
//   warming path: fill protocol, cache budget, Stats counters), so a write concurrent with it
//   still wins.
//
// Sync points (util/sync_point.h), for tests: "AdminServer::Run:Read" after bytes from a client
//   were read, "AdminServer::Run:Closed" for each connection closed, "AdminServer::Run:Stopped"
//   when the destructor's wake-up ended the thread's loop.
//
// Thread safety: Start() and the destructor are called by the Store's owner; the server thread
//   shares only the eventfd (written by the destructor) and atomic counters with other threads.
// Ownership: the Store owns the server (as its core::AdminEndpoint) and destroys it before the
//   cache and the DB; the server borrows the Store's Introspection, which outlives it.

#ifndef ASIDEKV_ADMIN_SERVER_H_
#define ASIDEKV_ADMIN_SERVER_H_

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/introspection.h"
#include "util/monotonic_clock.h"

namespace asidekv::admin {

struct AdminServerOptions {
  // Most clients served at once.
  size_t max_connections = 8;
  // A connection without progress (bytes in or out) for this long is closed.
  absl::Duration idle_timeout = absl::Seconds(5);
  // The clock of idle_timeout, in nanoseconds from an arbitrary origin; it must not run backwards.
  // Called on the server thread only. Tests substitute a fake clock; the server sees a change of
  // it when it next wakes up (a connection, a request, or at most 1 s).
  std::function<int64_t()> now_nanos = util::MonotonicNanos;
};

// The options of the servers that EnableAdminEndpoint() starts for Store::Open, from the next
// Open on (default: AdminServerOptions()). For tests: a short idle timeout, a fake clock.
void SetAdminServerOptionsForTesting(const AdminServerOptions& options);

class AdminServer final : public core::AdminEndpoint {
 public:
  // Creates the socket at `path` and starts the server thread.
  // InvalidArgument if `path` does not fit a sockaddr_un; FailedPrecondition if a non-socket file
  // or a live server holds `path`; Unavailable/Internal for other socket errors.
  static absl::StatusOr<std::unique_ptr<AdminServer>> Start(const std::string& path,
                                                            core::Introspection* store,
                                                            const AdminServerOptions& options);

  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;
  // Stops the thread promptly (closing every connection) and removes the socket file.
  ~AdminServer() override;

  // The answer to one request line (without the LF): what a client would receive. Used by the
  // server thread; exposed for tests. May be called from any thread.
  std::string Handle(std::string_view line);

  // Requests answered so far (for tests and monitoring).
  uint64_t requests_served() const { return requests_.load(std::memory_order_relaxed); }

 private:
  AdminServer(std::string path, core::Introspection* store, const AdminServerOptions& options,
              int listen_fd, int wake_fd, dev_t dev, ino_t ino);
  void Run();

  // Constant after construction.
  const std::string path_;
  core::Introspection* const store_;  // Not owned; outlives the server.
  const AdminServerOptions options_;
  const int listen_fd_;
  const int wake_fd_;  // eventfd: written by the destructor to stop Run().
  const dev_t dev_;    // Identity of the socket file created, for its removal.
  const ino_t ino_;

  std::atomic<uint64_t> requests_{0};
  std::thread thread_;
};

}  // namespace asidekv::admin

#endif  // ASIDEKV_ADMIN_SERVER_H_
