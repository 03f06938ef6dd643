// RelayHost: a process of its own whose Store does nothing but lead the commit-log relay
// (core/relay.h), so that the fault campaign (fault_campaign_test.cc) can kill or pause the
// relay's leader without losing a workload process's history.
//
// Start() forks a child that opens a Store with `options` (commit_log_relay on) and reports once
// that Store leads the relay and has made its first flush (a fresh slot's: the campaign's
// servers are fresh), so it leads before any other Store opens. The child then holds its Store
// until Stop() (it closes it: the leadership passes on cleanly), Kill() (SIGKILL: the
// PostgreSQL session holding the advisory lock ends with the process, and a follower takes
// over) or the destructor (SIGKILL). Pause() / Unpause() SIGSTOP / SIGCONT it: a leader that
// holds the lock and relays nothing (a slow relay).
//
// REQUIRES: Start() is called while the calling process runs no other thread (it forks).
// Thread safety: none; one test thread drives it.

#ifndef ASIDEKV_TESTS_DISTRIBUTED_RELAY_HOST_H_
#define ASIDEKV_TESTS_DISTRIBUTED_RELAY_HOST_H_

#include <sys/types.h>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "asidekv/options.h"

namespace asidekv::distributed {

class RelayHost {
 public:
  RelayHost() = default;
  ~RelayHost();
  RelayHost(const RelayHost&) = delete;
  RelayHost& operator=(const RelayHost&) = delete;

  // Starts the child and waits until it leads (above). An error when its Store does not open
  // or does not lead within `timeout` (the child is killed).
  absl::Status Start(const Options& options, absl::Duration timeout = absl::Seconds(30));
  absl::Status Stop();
  absl::Status Kill();
  absl::Status Pause();
  absl::Status Unpause();
  bool running() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
  int control_ = -1;  // The write end of the child's control pipe; closing it stops the child.
};

}  // namespace asidekv::distributed

#endif  // ASIDEKV_TESTS_DISTRIBUTED_RELAY_HOST_H_
