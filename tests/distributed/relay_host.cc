#include "tests/distributed/relay_host.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "absl/time/clock.h"
#include "asidekv/store.h"
#include "util/monotonic_clock.h"

namespace asidekv::distributed {
namespace {

// Exits 0 after the control pipe closed; 2 if the Store did not open; 3 if it never led.
[[noreturn]] void RunHost(const Options& options, absl::Duration timeout, int report, int control) {
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
  if (!store.ok()) {
    std::fprintf(stderr, "relay host: %s\n", store.status().ToString().c_str());
    _exit(2);
  }
  const int64_t deadline = util::MonotonicNanos() + absl::ToInt64Nanoseconds(timeout);
  for (;;) {
    const Stats s = (*store)->GetStats();
    if (s.relay_leader == 1 && s.relay_flushes >= 1) break;
    if (util::MonotonicNanos() > deadline) _exit(3);
    absl::SleepFor(absl::Milliseconds(5));
  }
  const char leads = 'L';
  if (write(report, &leads, 1) != 1) _exit(4);
  char c;
  while (read(control, &c, 1) > 0) {
  }
  const Stats s = (*store)->GetStats();
  std::fprintf(stderr,
               "relay host: leader %llu, %llu transactions, %llu invalidations, %llu flushes, "
               "lag p50 %.3f ms p99 %.3f ms max %.3f ms\n",
               static_cast<unsigned long long>(s.relay_leader),
               static_cast<unsigned long long>(s.relay_transactions),
               static_cast<unsigned long long>(s.relay_invalidations),
               static_cast<unsigned long long>(s.relay_flushes), s.relay_lag.p50_ns / 1e6,
               s.relay_lag.p99_ns / 1e6, s.relay_lag.max_ns / 1e6);
  store->reset();
  _exit(0);
}

}  // namespace

RelayHost::~RelayHost() {
  if (pid_ > 0) Kill().IgnoreError();
}

absl::Status RelayHost::Start(const Options& options, absl::Duration timeout) {
  if (pid_ > 0) return absl::FailedPreconditionError("already started");
  int report[2], control[2];
  if (pipe2(report, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  if (pipe2(control, O_CLOEXEC) != 0) {
    close(report[0]);
    close(report[1]);
    return absl::InternalError("pipe failed");
  }
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    close(report[0]);
    close(control[1]);
    RunHost(options, timeout, report[1], control[0]);
  }
  close(report[1]);
  close(control[0]);
  pid_ = pid;
  control_ = control[1];
  char c = 0;
  pollfd p = {report[0], POLLIN, 0};
  const bool leads =
      poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout + absl::Seconds(5)))) == 1 &&
      read(report[0], &c, 1) == 1 && c == 'L';
  close(report[0]);
  if (leads) return absl::OkStatus();
  Kill().IgnoreError();
  return absl::UnavailableError("the relay host's Store did not open or did not lead in time");
}

absl::Status RelayHost::Stop() {
  if (pid_ <= 0) return absl::FailedPreconditionError("not running");
  close(control_);
  control_ = -1;
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError("the relay host did not exit cleanly");
  }
  return absl::OkStatus();
}

absl::Status RelayHost::Kill() {
  if (pid_ <= 0) return absl::FailedPreconditionError("not running");
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
  if (control_ >= 0) close(control_);
  control_ = -1;
  return absl::OkStatus();
}

absl::Status RelayHost::Pause() {
  if (pid_ <= 0) return absl::FailedPreconditionError("not running");
  return kill(pid_, SIGSTOP) == 0 ? absl::OkStatus() : absl::InternalError("SIGSTOP failed");
}

absl::Status RelayHost::Unpause() {
  if (pid_ <= 0) return absl::FailedPreconditionError("not running");
  return kill(pid_, SIGCONT) == 0 ? absl::OkStatus() : absl::InternalError("SIGCONT failed");
}

}  // namespace asidekv::distributed
