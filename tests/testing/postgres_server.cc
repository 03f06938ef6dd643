#include "tests/testing/postgres_server.h"

#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/testing/subprocess.h"

namespace asidekv::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kMissing[] =
    "PostgreSQL's server binaries (initdb, postgres, psql) are not installed: install the "
    "Debian package postgresql (tools/run.sh deps does)";

bool IsExecutable(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

}  // namespace

PostgresServer::PostgresServer() = default;

PostgresServer::~PostgresServer() {
  if (pid_ > 0) Stop().IgnoreError();
}

absl::StatusOr<std::string> PostgresServer::FindBinDir() {
  std::vector<std::string> candidates;
  if (FILE* p = popen("pg_config --bindir 2>/dev/null", "r")) {
    char line[4096];
    if (fgets(line, sizeof(line), p) != nullptr) {
      std::string dir = line;
      while (!dir.empty() && (dir.back() == '\n' || dir.back() == ' ')) dir.pop_back();
      candidates.push_back(dir);
    }
    pclose(p);
  }
  std::vector<std::string> versions;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    versions.push_back(entry.path().string() + "/bin");
  }
  // Newest first: "/usr/lib/postgresql/16/bin" before ".../15/bin" (same length), ".../9.6".
  std::sort(versions.begin(), versions.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a > b;
  });
  candidates.insert(candidates.end(), versions.begin(), versions.end());
  for (const std::string& dir : candidates) {
    if (IsExecutable(dir + "/postgres") && IsExecutable(dir + "/initdb") &&
        IsExecutable(dir + "/psql")) {
      return dir;
    }
  }
  return absl::NotFoundError(kMissing);
}

absl::StatusOr<pid_t> PostgresServer::Spawn(const std::vector<std::string>& argv,
                                            const std::string& log, bool server) const {
  SpawnOptions options;
  options.argv = argv;
  options.log = log;
  options.cwd = dir_.path();
  options.uid = uid_;
  options.gid = gid_;
  options.die_with_parent = server;
  return testing::Spawn(options);
}

std::vector<pid_t> PostgresServer::Children() const {
  std::vector<pid_t> children;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = ReadFile(entry.path().string() + "/stat");
    const size_t paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    char state = 0;
    int ppid = 0;
    if (std::sscanf(stat.c_str() + paren + 1, " %c %d", &state, &ppid) == 2 && ppid == pid_) {
      children.push_back(static_cast<pid_t>(std::atoi(name.c_str())));
    }
  }
  return children;
}

std::string PostgresServer::LogTail() const {
  std::string log = ReadFile(log_path_);
  if (log.size() > 4000) log = log.substr(log.size() - 4000);
  return log;
}

absl::Status PostgresServer::Init(const PostgresServerOptions& options) {
  absl::StatusOr<std::string> bin = FindBinDir();
  if (!bin.ok()) return bin.status();
  bin_dir_ = *bin;
  password_ = options.password;
  options_ = options;
  data_dir_ = dir_.Sub("data");
  socket_dir_ = dir_.Sub("s");
  log_path_ = dir_.Sub("server.log");
  std::error_code ec;
  fs::create_directory(socket_dir_, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", socket_dir_));
  if (geteuid() == 0) {
    const passwd* pw = getpwnam("postgres");
    if (pw == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "running as root and there is no `postgres` user to run the server as: ", kMissing));
    }
    uid_ = pw->pw_uid;
    gid_ = pw->pw_gid;
    if (chown(dir_.path().c_str(), uid_, gid_) != 0 ||
        chown(socket_dir_.c_str(), uid_, gid_) != 0) {
      return absl::InternalError(absl::StrCat("cannot chown ", dir_.path(), " to postgres"));
    }
  }
  std::vector<std::string> initdb = {bin_dir_ + "/initdb", "-D", data_dir_, "-U",       kUser,
                                     "--no-locale",        "-E", "UTF8",    "--no-sync"};
  if (password_.empty()) {
    initdb.push_back("--auth=trust");
  } else {
    const std::string pwfile = dir_.Sub("pwfile");
    std::ofstream(pwfile) << password_ << "\n";
    if (uid_ != static_cast<uid_t>(-1) && chown(pwfile.c_str(), uid_, gid_) != 0) {
      return absl::InternalError("cannot chown the password file");
    }
    initdb.push_back("--auth=scram-sha-256");
    initdb.push_back("--pwfile=" + pwfile);
  }
  const std::string initdb_log = dir_.Sub("initdb.log");
  absl::StatusOr<pid_t> pid = Spawn(initdb, initdb_log, /*server=*/false);
  if (!pid.ok()) return pid.status();
  const int status = WaitExit(*pid, 120);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat("initdb failed: ", ReadFile(initdb_log)));
  }
  // A port another process takes between FreePort() and the server's bind: try another.
  absl::Status started;
  for (int tries = 0; tries < 5; ++tries) {
    absl::StatusOr<int> port = FreePort(5432);
    if (!port.ok()) return port.status();
    port_ = *port;
    started = Start();
    if (started.ok()) break;
  }
  if (!started.ok()) return started;
  absl::StatusOr<std::string> created =
      Psql(absl::StrCat("CREATE DATABASE ", kDatabase), "postgres");
  return created.status();
}

absl::Status PostgresServer::Start() {
  if (pid_ > 0) return absl::FailedPreconditionError("the server is running");
  std::vector<std::string> argv = {bin_dir_ + "/postgres",
                                   "-D",
                                   data_dir_,
                                   "-k",
                                   socket_dir_,
                                   "-p",
                                   std::to_string(port_),
                                   "-c",
                                   "listen_addresses=127.0.0.1",
                                   "-c",
                                   "fsync=off",
                                   "-c",
                                   "max_connections=50",
                                   "-c",
                                   "shared_buffers=16MB",
                                   "-c",
                                   "lc_messages=C"};
  if (options_.logical_decoding) {
    const std::string n = std::to_string(options_.max_replication_slots);
    for (const std::string& setting :
         {std::string("wal_level=logical"), "max_replication_slots=" + n, "max_wal_senders=" + n}) {
      argv.push_back("-c");
      argv.push_back(setting);
    }
  }
  absl::StatusOr<pid_t> pid = Spawn(argv, log_path_, /*server=*/true);
  if (!pid.ok()) return pid.status();
  pid_ = *pid;
  return WaitReady();
}

absl::Status PostgresServer::WaitReady() {
  // The postmaster rewrites line 8 of postmaster.pid to "ready" once it accepts connections
  // (after crash recovery); line 1 is its PID, which tells a stale file from the new one.
  const std::string pid_file = data_dir_ + "/postmaster.pid";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::InternalError(absl::StrCat("the server exited at start: ", LogTail()));
    }
    std::istringstream lines(ReadFile(pid_file));
    std::vector<std::string> fields;
    for (std::string line; std::getline(lines, line);) fields.push_back(line);
    if (fields.size() >= 8 && fields[0] == std::to_string(pid_) &&
        fields[7].rfind("ready", 0) == 0) {
      return absl::OkStatus();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("the server did not get ready in 60 s: ", LogTail()));
}

absl::Status PostgresServer::Kill() {
  if (pid_ <= 0) return absl::FailedPreconditionError("the server is not running");
  kill(pid_, SIGSTOP);  // No new backends from here on.
  for (pid_t child : Children()) kill(child, SIGKILL);
  kill(pid_, SIGKILL);
  const int status = WaitExit(pid_, 30);
  pid_ = -1;
  paused_ = false;
  return status == -1 ? absl::InternalError("the killed server did not exit") : absl::OkStatus();
}

absl::Status PostgresServer::Stop() {
  if (pid_ <= 0) return absl::FailedPreconditionError("the server is not running");
  if (paused_) {
    absl::Status s = Unpause();
    if (!s.ok()) return s;
  }
  kill(pid_, SIGINT);  // Fast shutdown: ends sessions, checkpoints, exits.
  if (WaitExit(pid_, 30) == -1) return Kill();
  pid_ = -1;
  return absl::OkStatus();
}

absl::Status PostgresServer::StopImmediate() {
  if (pid_ <= 0) return absl::FailedPreconditionError("the server is not running");
  if (paused_) {
    absl::Status s = Unpause();
    if (!s.ok()) return s;
  }
  kill(pid_, SIGQUIT);  // Immediate shutdown: no checkpoint; recovery at the next start.
  if (WaitExit(pid_, 30) == -1) return Kill();
  pid_ = -1;
  return absl::OkStatus();
}

absl::StatusOr<int> PostgresServer::TerminateBackends(std::string_view backend_type) const {
  absl::StatusOr<std::string> out = Psql(absl::StrCat(
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '", kDatabase,
      "' AND pid <> pg_backend_pid() AND backend_type = '", std::string(backend_type), "'"));
  if (!out.ok()) return out.status();
  // The count is the last line: a session that ended before its turn adds a WARNING before it.
  absl::string_view text = absl::StripAsciiWhitespace(*out);
  const size_t newline = text.rfind('\n');
  if (newline != absl::string_view::npos) text = text.substr(newline + 1);
  int n = 0;
  if (!absl::SimpleAtoi(text, &n)) {
    return absl::InternalError(absl::StrCat("unexpected psql output: ", *out));
  }
  return n;
}

absl::Status PostgresServer::Pause() {
  if (pid_ <= 0) return absl::FailedPreconditionError("the server is not running");
  kill(pid_, SIGSTOP);  // First, so that it forks no backend the loop below would miss.
  for (pid_t child : Children()) kill(child, SIGSTOP);
  paused_ = true;
  return absl::OkStatus();
}

absl::Status PostgresServer::Unpause() {
  if (pid_ <= 0) return absl::FailedPreconditionError("the server is not running");
  for (pid_t child : Children()) kill(child, SIGCONT);
  kill(pid_, SIGCONT);
  paused_ = false;
  return absl::OkStatus();
}

std::string PostgresServer::conninfo_without_password() const {
  return absl::StrCat("host=", socket_dir_, " port=", port_, " user=", kUser,
                      " dbname=", kDatabase);
}

std::string PostgresServer::conninfo() const {
  std::string c = conninfo_without_password();
  if (!password_.empty()) absl::StrAppend(&c, " password=", password_);
  return c;
}

std::string PostgresServer::tcp_conninfo() const {
  std::string c =
      absl::StrCat("host=127.0.0.1 port=", port_, " user=", kUser, " dbname=", kDatabase);
  if (!password_.empty()) absl::StrAppend(&c, " password=", password_);
  return c;
}

absl::StatusOr<std::string> PostgresServer::Psql(std::string_view sql,
                                                 std::string_view database) const {
  return Capture({bin_dir_ + "/psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-d",
                  absl::StrCat("host=", socket_dir_, " port=", port_, " user=", kUser,
                               " dbname=", std::string(database)),
                  "-c", std::string(sql)},
                 {{"PGPASSWORD", password_}});
}

}  // namespace asidekv::testing
