// PostgresServer: a private PostgreSQL server for one test, on localhost, in a fresh temp folder.
//
// Init() runs initdb (C locale, UTF-8, no fsync) into <tmp>/data, starts
// `postgres -D <tmp>/data -k <tmp>/socket -p <port> -c listen_addresses=127.0.0.1 -c fsync=off`
// (plus the logical decoding settings when PostgresServerOptions::logical_decoding asks for them)
// on a free port (never 5432), waits until it accepts connections (its postmaster.pid says
// "ready"), and creates the database "asidekv_test". The server binaries come from
// `pg_config --bindir`, else /usr/lib/postgresql/<newest>/bin; missing ones are an error that
// names the Debian package to install (postgresql). PostgreSQL refuses to run as root: under
// root, the folders are handed to the `postgres` user and initdb/postgres run as that user
// (fork, setgid, setuid, exec). Clients (psql) run as the caller.
//
// Fault injection: Kill() (SIGKILL of the postmaster and every backend: a crash), Stop() (fast
// shutdown), StopImmediate() (SIGQUIT: `pg_ctl stop -m immediate`, every backend quits at once
// and the next start runs crash recovery), Start() (restart on the same folder and port, after
// crash recovery if it was killed), Pause() / Unpause() (SIGSTOP / SIGCONT of the postmaster and
// every backend: a server that accepts bytes and answers nothing), TerminateBackends()
// (pg_terminate_backend of some sessions: the connection of a Store, or a relay's stream).
//
// Example:
//   PostgresServer server;
//   ASSERT_OK(server.Init());
//   options.conninfo = server.conninfo();            // Unix socket
//   ... server.Pause(); ... server.Unpause();
//   ASSERT_OK_AND_ASSIGN(std::string n, server.Psql("SELECT count(*) FROM asidekv"));
//
// Thread safety: none; one test thread drives it.
// Ownership: the destructor stops the server (SIGINT, then SIGKILL after 30 s) and removes the
//   folder. A server left behind by a crashed test dies with it (PR_SET_PDEATHSIG).

#ifndef ASIDEKV_TESTS_TESTING_POSTGRES_SERVER_H_
#define ASIDEKV_TESTS_TESTING_POSTGRES_SERVER_H_

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/testing/temp_dir.h"

namespace asidekv::testing {

struct PostgresServerOptions {
  // Non-empty: the superuser "postgres" gets this password and every connection, Unix socket or
  // TCP, must give it (scram-sha-256); conninfo() then includes it. Empty: trust authentication.
  std::string password;
  // Start with -c wal_level=logical -c max_replication_slots=N -c max_wal_senders=N, so that
  // logical decoding works (the commit-log relay). Slots are per database and outlive the
  // Stores that made them: a test drops its own or uses a fresh server. Default: off (the
  // server's default, wal_level=replica).
  bool logical_decoding = false;
  int max_replication_slots = 4;
};

class PostgresServer {
 public:
  static constexpr char kDatabase[] = "asidekv_test";
  static constexpr char kUser[] = "postgres";

  PostgresServer();
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // initdb, start, create kDatabase. The error says what is missing or shows the server's log.
  absl::Status Init(const PostgresServerOptions& options = {});

  // A conninfo for kDatabase over the Unix socket / over TCP to 127.0.0.1 (with the password,
  // when one was set).
  std::string conninfo() const;
  std::string tcp_conninfo() const;
  // The same without the password.
  std::string conninfo_without_password() const;

  int port() const { return port_; }
  const std::string& socket_dir() const { return socket_dir_; }

  // Fault injection (see the file comment). Start() waits until the server accepts connections.
  absl::Status Kill();
  absl::Status Stop();
  absl::Status StopImmediate();
  absl::Status Start();
  absl::Status Pause();
  absl::Status Unpause();
  bool running() const { return pid_ > 0; }
  // pg_terminate_backend of every session of kDatabase (but psql's own) of `backend_type`, as
  // pg_stat_activity names it ("client backend", "walsender"); how many were terminated.
  absl::StatusOr<int> TerminateBackends(std::string_view backend_type) const;

  // Runs `sql` with psql (-X -A -t -q, ON_ERROR_STOP) in kDatabase (or `database`) over the
  // Unix socket; its output, or an error with psql's output.
  absl::StatusOr<std::string> Psql(std::string_view sql,
                                   std::string_view database = kDatabase) const;

  // The folder of the PostgreSQL server binaries, or an error naming the package to install.
  static absl::StatusOr<std::string> FindBinDir();

 private:
  // Spawns `argv`, as the postgres user when running as root; stdout+stderr to `log`.
  absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& log,
                              bool server) const;
  // The postmaster's backends (and other children): processes whose parent is pid_.
  std::vector<pid_t> Children() const;
  absl::Status WaitReady();
  std::string LogTail() const;

  TempDir dir_;
  std::string bin_dir_;
  std::string data_dir_;
  std::string socket_dir_;
  std::string log_path_;
  std::string password_;
  PostgresServerOptions options_;
  int port_ = 0;
  pid_t pid_ = -1;
  bool paused_ = false;
  // Under root: the postgres user's ids; -1 otherwise.
  uid_t uid_ = static_cast<uid_t>(-1);
  gid_t gid_ = static_cast<gid_t>(-1);
};

}  // namespace asidekv::testing

#endif  // ASIDEKV_TESTS_TESTING_POSTGRES_SERVER_H_
