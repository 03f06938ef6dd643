// The process plumbing of the server fixtures (postgres_server.h, redis_server.h): a free TCP
// port, a server spawned with its output in a log, a command run for its output, waiting for an
// exit.
//
// Thread safety: the functions may be called from any thread; each waits for its own child.

#ifndef ASIDEKV_TESTS_TESTING_SUBPROCESS_H_
#define ASIDEKV_TESTS_TESTING_SUBPROCESS_H_

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace asidekv::testing {

// A TCP port on 127.0.0.1 that nothing listens on now (the kernel's pick), never `avoid` (the
// server's well-known port, 5432 or 6379).
absl::StatusOr<int> FreePort(int avoid);

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is the binary's path.
  std::string log;                // stdout and stderr are appended to this file.
  std::string cwd;                // Non-empty: the child's working folder.
  // Not -1: the child drops to this user and group before exec (a server that refuses root).
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  // The child gets SIGKILL when the test process dies (PR_SET_PDEATHSIG), so no server is left.
  bool die_with_parent = true;
};

// Forks and execs; the child's PID.
absl::StatusOr<pid_t> Spawn(const SpawnOptions& options);

// Runs `argv` with stdout and stderr captured and `env` set (an empty value unsets the
// variable); its output without trailing newlines, or an error with it when it fails.
absl::StatusOr<std::string> Capture(const std::vector<std::string>& argv,
                                    const std::vector<std::pair<std::string, std::string>>& env);

// Waits for `pid` to exit, at most `seconds`; its wait status, or -1 on timeout.
int WaitExit(pid_t pid, int seconds);

// The file's contents ("" when unreadable).
std::string ReadFile(const std::string& path);

}  // namespace asidekv::testing

#endif  // ASIDEKV_TESTS_TESTING_SUBPROCESS_H_
