// Fleet: N child processes of this one (the nodes of `asidekv-bench ycsb --nodes`), each
// talking to the parent over its own socket pair in messages (a 4-byte length, then bytes).
//
// Start() forks every node at once, before the caller starts any thread: a fork of a process
// with threads copies locks other threads may hold, so it is refused (FailedPrecondition) when
// this process already runs more than one thread. Each node runs node_main(node, link) and
// exits with its return value (_exit: no destructor or atexit handler of the parent runs in
// it); it gets SIGKILL when the parent dies (PR_SET_PDEATHSIG). A node learns that the parent
// is done when Receive fails (the parent closed its socket).
//
// Thread safety: none; one thread of the parent drives the Fleet, one of each node its Link.
// Ownership: the Fleet owns the parent's sockets; destroying it closes them (the nodes see
//   end-of-file and exit), waits up to 30 s for every node, then kills what is left.
//
// Example:
//   absl::StatusOr<std::unique_ptr<Fleet>> fleet = Fleet::Start(3, [](int node, Link& link) {
//     while (absl::StatusOr<std::string> m = link.Receive(); m.ok()) link.Send(*m);  // echo
//     return 0;
//   });
//   (*fleet)->Send(0, "hello");
//   absl::StatusOr<std::string> reply = (*fleet)->Receive(0);

#ifndef ASIDEKV_TOOLS_BENCH_FLEET_H_
#define ASIDEKV_TOOLS_BENCH_FLEET_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace asidekv::bench {

// One end of a socket pair, sending and receiving whole messages (blocking). Errors are
// Unavailable ("closed" at end-of-file) or DataLoss for a message over the size limit.
class Link {
 public:
  explicit Link(int fd) : fd_(fd) {}
  absl::Status Send(std::string_view message) const;
  absl::StatusOr<std::string> Receive() const;
  int fd() const { return fd_; }

 private:
  int fd_;  // Not owned.
};

class Fleet {
 public:
  // Forks `nodes` processes, each running node_main(node index, its link). REQUIRES: nodes >= 1.
  static absl::StatusOr<std::unique_ptr<Fleet>> Start(int nodes,
                                                      absl::FunctionRef<int(int, Link&)> node_main);
  ~Fleet();
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  int size() const { return static_cast<int>(pids_.size()); }
  // Errors name the node ("node 2: closed" when it exited).
  absl::Status Send(int node, std::string_view message) const;
  absl::StatusOr<std::string> Receive(int node) const;
  // Sends `message` to every node; the first error.
  absl::Status SendAll(std::string_view message) const;
  // From now on every Send and Receive fails (the caller lost track of the conversation).
  void Abandon() { abandoned_ = true; }

 private:
  Fleet() = default;

  bool abandoned_ = false;
  std::vector<pid_t> pids_;
  std::vector<int> fds_;  // The parent's end of each node's socket pair. Owned.
};

// Threads of this process now (/proc/self/status), or 0 when it cannot tell.
int CountThreads();

}  // namespace asidekv::bench

#endif  // ASIDEKV_TOOLS_BENCH_FLEET_H_
