// RedisServer: a private redis-server for one test, on localhost, in a fresh temp folder.
//
// Init() starts
//   redis-server --port <free> --bind 127.0.0.1 --unixsocket <tmp>/redis.sock --dir <tmp>
//                --save "" --appendonly no --daemonize no [--requirepass P] [--user ...]
// on a free port (never 6379) and waits until it answers PING (+PONG, or -NOAUTH when it wants a
// password). A missing binary is an error naming the Debian package (redis-server, and
// redis-tools for redis-cli); the tests never skip.
//
// Fault injection: Kill() (SIGKILL: a crash; nothing persisted, so it comes back empty),
// Stop() (SIGTERM), Start() (restart on the same port and socket), Pause() / Unpause() (SIGSTOP /
// SIGCONT: a server whose kernel still accepts connections and bytes, and that answers nothing).
//
// Example:
//   RedisServer server;
//   ASSERT_OK(server.Init());
//   config.address = server.address();            // "127.0.0.1:<port>"
//   ASSERT_OK_AND_ASSIGN(std::string keys, server.Cli({"DBSIZE"}));
//
// Thread safety: none; one test thread drives it.
// Ownership: the destructor kills the server by its PID and removes the folder. A server left
//   behind by a crashed test dies with it (PR_SET_PDEATHSIG).

#ifndef ASIDEKV_TESTS_TESTING_REDIS_SERVER_H_
#define ASIDEKV_TESTS_TESTING_REDIS_SERVER_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/testing/temp_dir.h"

namespace asidekv::testing {

struct RedisServerOptions {
  // Non-empty: requirepass (the default user needs it).
  std::string password;
  // ACL users: each entry is a name and its rules, e.g. {"app", "on >pw ~* &* +@all"}.
  struct User {
    std::string name;
    std::string rules;
  };
  std::vector<User> users;
  // A Redis Cluster node: --cluster-enabled yes, its nodes.conf in its folder (kept across
  // Kill/Start, so a restarted node rejoins with its slots), a second free port for the cluster
  // bus, --cluster-node-timeout 2000, --cluster-require-full-coverage no. tests/testing/
  // redis_cluster.h joins nodes into a cluster.
  bool cluster = false;
};

class RedisServer {
 public:
  RedisServer();
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Starts the server. The error says what is missing or shows the server's log.
  absl::Status Init(const RedisServerOptions& options = {});

  // "127.0.0.1:<port>" and "unix:<socket path>", as RedisConfig::address takes them.
  std::string address() const;
  std::string unix_address() const;
  int port() const { return port_; }
  int cluster_port() const { return cluster_port_; }

  // Fault injection (see the file comment). Start() waits until the server answers PING.
  absl::Status Kill();
  absl::Status Stop();
  absl::Status Start();
  absl::Status Pause();
  absl::Status Unpause();
  bool running() const { return pid_ > 0; }

  // Runs redis-cli with `args` against the server over TCP (as the default user, with the
  // password when one was set); its output, or an error with it. Not while paused.
  absl::StatusOr<std::string> Cli(const std::vector<std::string>& args) const;
  // Runs one command over TCP in this process (no child process: safe while threads run), with
  // AUTH first when a password was set. The reply as text: a string or status as is, an integer
  // in decimal, nil as "", an array's elements one per line (nested arrays flattened). An error
  // reply is an Internal error with Redis's text.
  absl::StatusOr<std::string> Call(const std::vector<std::string>& args) const;

 private:
  absl::Status WaitReady();
  std::string LogTail() const;

  TempDir dir_;
  RedisServerOptions options_;
  std::string server_bin_;
  std::string cli_bin_;
  std::string socket_;
  std::string log_path_;
  int port_ = 0;
  int cluster_port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace asidekv::testing

#endif  // ASIDEKV_TESTS_TESTING_REDIS_SERVER_H_
