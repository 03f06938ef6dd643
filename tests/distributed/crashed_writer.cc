#include "tests/distributed/crashed_writer.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <memory>

#include "absl/status/status.h"
#include "asidekv/store.h"
#include "util/monotonic_clock.h"
#include "util/sync_point.h"

namespace asidekv::distributed {
namespace {

// The child's one message: a tag, then the Put's invoke time.
struct Report {
  char tag;  // 'C': past the commit, about to be killed; 'F': the Store did not open.
  bool ok;   // The database's answer was OK.
  int64_t invoke_nanos;
};

[[noreturn]] void RunWriter(const Options& options, const std::string& key,
                            const std::string& value, int fd) {
  Report report{'F', false, 0};
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
  if (!store.ok()) {
    (void)!write(fd, &report, sizeof(report));
    _exit(2);
  }
  util::SyncPoint* sp = util::SyncPoint::Get();
  sp->SetCallBack("StoreImpl::WriteOne:CommitStatus",
                  [&](void* arg) { report.ok = static_cast<const absl::Status*>(arg)->ok(); });
  sp->SetCallBack("StoreImpl::WriteOne:Committed", [&](void*) {
    report.tag = 'C';
    (void)!write(fd, &report, sizeof(report));
    for (;;) pause();  // Until the SIGKILL.
  });
  sp->EnableProcessing();
  report.invoke_nanos = util::MonotonicNanos();
  (void)(*store)->Put(key, value);
  _exit(3);  // Unreachable: the callback never returns.
}

}  // namespace

absl::StatusOr<CrashedWrite> KillWriterAfterCommit(const Options& options, int process, int thread,
                                                   const std::string& key, const std::string& value,
                                                   absl::Duration timeout) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  std::fflush(nullptr);
  const int64_t forked = util::MonotonicNanos();
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return absl::InternalError("fork failed");
  }
  if (pid == 0) {
    close(fds[0]);
    RunWriter(options, key, value, fds[1]);
  }
  close(fds[1]);
  Report report{'?', false, 0};
  pollfd p = {fds[0], POLLIN, 0};
  const bool answered = poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) == 1 &&
                        read(fds[0], &report, sizeof(report)) == sizeof(report);
  const int64_t answered_at = util::MonotonicNanos();
  close(fds[0]);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  CrashedWrite w;
  w.committed = answered && report.tag == 'C' && report.ok;
  w.committed_by_nanos = answered_at;
  Operation& op = w.op;
  op.process = process;
  op.thread = thread;
  op.kind = OpKind::kPut;
  op.keys.push_back({key, value});
  op.invoke_nanos = answered && report.tag == 'C' ? report.invoke_nanos : forked;
  op.complete_nanos = util::MonotonicNanos();
  op.status = absl::AbortedError("writer killed between its commit and its invalidation");
  if (answered && report.tag == 'F') {
    return absl::UnavailableError("the writer could not open its Store");
  }
  // Killed after its commit, or (no answer in time) somewhere before: unknown either way.
  return w;
}

}  // namespace asidekv::distributed
