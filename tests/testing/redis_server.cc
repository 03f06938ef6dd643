#include "tests/testing/redis_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/testing/subprocess.h"

namespace asidekv::testing {
namespace {

// The first executable `name` on PATH (then /usr/bin), or "".
std::string FindBinary(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::vector<std::string> dirs = absl::StrSplit(path != nullptr ? path : "", ':');
  dirs.push_back("/usr/bin");
  for (const std::string& dir : dirs) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// A socket connected to 127.0.0.1:port whose reads time out after `seconds`, or -1.
int ConnectLocal(int port, int seconds) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{seconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Sends PING to 127.0.0.1:port; true when the server answers it (+PONG, or -NOAUTH).
bool Pings(int port) {
  const int fd = ConnectLocal(port, 1);
  if (fd < 0) return false;
  bool ok = false;
  if (write(fd, "PING\r\n", 6) == 6) {
    char buf[64] = {};
    const ssize_t n = read(fd, buf, sizeof(buf) - 1);
    const std::string_view reply(buf, n > 0 ? static_cast<size_t>(n) : 0);
    ok = reply.substr(0, 5) == "+PONG" || reply.substr(0, 7) == "-NOAUTH";
  }
  close(fd);
  return ok;
}

// A blocking reader of one RESP2 reply from a socket.
class RespReader {
 public:
  explicit RespReader(int fd) : fd_(fd) {}

  // One reply as Call() describes it; `error` gets an error reply's text.
  absl::StatusOr<std::string> Reply(std::string* error) {
    absl::StatusOr<std::string> line = Line();
    if (!line.ok()) return line.status();
    if (line->empty()) return absl::InternalError("empty reply line");
    const char type = (*line)[0];
    const std::string rest = line->substr(1);
    switch (type) {
      case '+':
      case ':':
        return rest;
      case '-':
        if (error->empty()) *error = rest;
        return rest;
      case '$': {
        const long n = std::strtol(rest.c_str(), nullptr, 10);
        if (n < 0) return std::string();
        absl::StatusOr<std::string> bytes = Bytes(static_cast<size_t>(n) + 2);
        if (!bytes.ok()) return bytes.status();
        return bytes->substr(0, static_cast<size_t>(n));
      }
      case '*': {
        const long n = std::strtol(rest.c_str(), nullptr, 10);
        std::string out;
        for (long i = 0; i < n; ++i) {
          absl::StatusOr<std::string> element = Reply(error);
          if (!element.ok()) return element.status();
          if (i > 0) out += "\n";
          out += *element;
        }
        return out;
      }
      default:
        return absl::InternalError(absl::StrCat("unexpected reply: ", *line));
    }
  }

 private:
  absl::StatusOr<std::string> Line() {
    while (true) {
      const size_t end = buffer_.find("\r\n");
      if (end != std::string::npos) {
        std::string line = buffer_.substr(0, end);
        buffer_.erase(0, end + 2);
        return line;
      }
      absl::Status s = Fill();
      if (!s.ok()) return s;
    }
  }

  absl::StatusOr<std::string> Bytes(size_t n) {
    while (buffer_.size() < n) {
      absl::Status s = Fill();
      if (!s.ok()) return s;
    }
    std::string out = buffer_.substr(0, n);
    buffer_.erase(0, n);
    return out;
  }

  absl::Status Fill() {
    char chunk[4096];
    const ssize_t n = read(fd_, chunk, sizeof(chunk));
    if (n <= 0) return absl::UnavailableError("the server closed the connection or timed out");
    buffer_.append(chunk, static_cast<size_t>(n));
    return absl::OkStatus();
  }

  const int fd_;
  std::string buffer_;
};

std::string Resp(const std::vector<std::string>& args) {
  std::string out = absl::StrCat("*", args.size(), "\r\n");
  for (const std::string& arg : args) absl::StrAppend(&out, "$", arg.size(), "\r\n", arg, "\r\n");
  return out;
}

}  // namespace

RedisServer::RedisServer() = default;

RedisServer::~RedisServer() {
  if (pid_ > 0) Kill().IgnoreError();
}

absl::Status RedisServer::Init(const RedisServerOptions& options) {
  options_ = options;
  server_bin_ = FindBinary("redis-server");
  if (server_bin_.empty()) {
    return absl::NotFoundError(
        "redis-server is not installed: install the Debian package redis-server "
        "(tools/run.sh deps does)");
  }
  cli_bin_ = FindBinary("redis-cli");
  if (cli_bin_.empty()) {
    return absl::NotFoundError(
        "redis-cli is not installed: install the Debian package redis-tools "
        "(tools/run.sh deps does)");
  }
  socket_ = dir_.Sub("redis.sock");
  log_path_ = dir_.Sub("server.log");
  // A port another process takes between FreePort() and the server's bind: try another.
  absl::Status started;
  for (int tries = 0; tries < 5; ++tries) {
    absl::StatusOr<int> port = FreePort(6379);
    if (!port.ok()) return port.status();
    port_ = *port;
    if (options_.cluster) {
      absl::StatusOr<int> bus = FreePort(16379);
      if (!bus.ok()) return bus.status();
      if (*bus == port_) continue;
      cluster_port_ = *bus;
    }
    started = Start();
    if (started.ok()) break;
  }
  return started;
}

absl::Status RedisServer::Start() {
  if (pid_ > 0) return absl::FailedPreconditionError("the server is running");
  SpawnOptions spawn;
  spawn.argv = {server_bin_,
                "--port",
                std::to_string(port_),
                "--bind",
                "127.0.0.1",
                "--unixsocket",
                socket_,
                "--unixsocketperm",
                "700",
                "--dir",
                dir_.path(),
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--logfile",
                "",
                "--protected-mode",
                "no"};
  if (!options_.password.empty()) {
    spawn.argv.insert(spawn.argv.end(), {"--requirepass", options_.password});
    if (options_.cluster) spawn.argv.insert(spawn.argv.end(), {"--masterauth", options_.password});
  }
  if (options_.cluster) {
    spawn.argv.insert(spawn.argv.end(),
                      {"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                       "--cluster-port", std::to_string(cluster_port_), "--cluster-node-timeout",
                       "2000", "--cluster-require-full-coverage", "no"});
  }
  for (const RedisServerOptions::User& user : options_.users) {
    spawn.argv.insert(spawn.argv.end(), {"--user", user.name});
    std::vector<std::string> rules = absl::StrSplit(user.rules, ' ', absl::SkipEmpty());
    spawn.argv.insert(spawn.argv.end(), rules.begin(), rules.end());
  }
  spawn.log = log_path_;
  spawn.cwd = dir_.path();
  absl::StatusOr<pid_t> pid = Spawn(spawn);
  if (!pid.ok()) return pid.status();
  pid_ = *pid;
  return WaitReady();
}

absl::Status RedisServer::WaitReady() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::InternalError(absl::StrCat("redis-server exited at start: ", LogTail()));
    }
    if (Pings(port_)) return absl::OkStatus();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("redis-server did not answer PING in 60 s: ", LogTail()));
}

std::string RedisServer::LogTail() const {
  std::string log = ReadFile(log_path_);
  if (log.size() > 4000) log = log.substr(log.size() - 4000);
  return log;
}

absl::Status RedisServer::Kill() {
  if (pid_ <= 0) return absl::FailedPreconditionError("the server is not running");
  kill(pid_, SIGKILL);
  const int status = WaitExit(pid_, 30);
  pid_ = -1;
  return status == -1 ? absl::InternalError("the killed server did not exit") : absl::OkStatus();
}

absl::Status RedisServer::Stop() {
  if (pid_ <= 0) return absl::FailedPreconditionError("the server is not running");
  kill(pid_, SIGCONT);  // In case it was paused.
  kill(pid_, SIGTERM);
  if (WaitExit(pid_, 30) == -1) return Kill();
  pid_ = -1;
  return absl::OkStatus();
}

absl::Status RedisServer::Pause() {
  if (pid_ <= 0) return absl::FailedPreconditionError("the server is not running");
  kill(pid_, SIGSTOP);
  return absl::OkStatus();
}

absl::Status RedisServer::Unpause() {
  if (pid_ <= 0) return absl::FailedPreconditionError("the server is not running");
  kill(pid_, SIGCONT);
  return absl::OkStatus();
}

std::string RedisServer::address() const { return absl::StrCat("127.0.0.1:", port_); }

std::string RedisServer::unix_address() const { return absl::StrCat("unix:", socket_); }

absl::StatusOr<std::string> RedisServer::Cli(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {cli_bin_, "-h", "127.0.0.1", "-p", std::to_string(port_)};
  argv.insert(argv.end(), args.begin(), args.end());
  return Capture(argv, {{"REDISCLI_AUTH", options_.password}});
}

absl::StatusOr<std::string> RedisServer::Call(const std::vector<std::string>& args) const {
  const int fd = ConnectLocal(port_, 10);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat("cannot connect to 127.0.0.1:", port_));
  }
  std::string request;
  if (!options_.password.empty()) request = Resp({"AUTH", options_.password});
  request += Resp(args);
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = write(fd, request.data() + sent, request.size() - sent);
    if (n <= 0) {
      close(fd);
      return absl::UnavailableError("write failed");
    }
    sent += static_cast<size_t>(n);
  }
  RespReader reader(fd);
  std::string error;
  absl::StatusOr<std::string> reply = std::string();
  if (!options_.password.empty()) reply = reader.Reply(&error);
  if (reply.ok() && error.empty()) reply = reader.Reply(&error);
  close(fd);
  if (!reply.ok()) return reply.status();
  if (!error.empty()) return absl::InternalError(absl::StrCat("redis: ", error));
  return reply;
}

}  // namespace asidekv::testing
