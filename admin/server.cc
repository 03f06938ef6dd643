#include "admin/server.h"

#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "admin/prometheus.h"
#include "admin/protocol.h"
#include "core/options_fields.h"
#include "util/json_writer.h"
#include "util/monotonic_clock.h"
#include "util/string_view.h"
#include "util/sync_point.h"

namespace asidekv::admin {
namespace {

// A `get`/`peek` value longer than this is cut (the response says so), bounding response size.
constexpr size_t kMaxValueInResponse = 1 << 20;

absl::Status ErrnoStatus(std::string_view what, int err) {
  return absl::UnavailableError(absl::StrCat(util::ToAbsl(what), ": ", std::strerror(err)));
}

sockaddr_un AddressOf(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

// True if a server accepts connections at `path`.
bool SomeoneListens(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const sockaddr_un addr = AddressOf(path);
  const bool live = connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0 ||
                    errno != ECONNREFUSED;
  close(fd);
  return live;
}

void LatencyJson(const LatencySummary& l, util::JsonWriter* json) {
  json->BeginObject();
  json->Field("count", l.count);
  json->Field("p50_ns", l.p50_ns);
  json->Field("p99_ns", l.p99_ns);
  json->Field("p999_ns", l.p999_ns);
  json->Field("max_ns", l.max_ns);
  json->EndObject();
}

// Seconds of a duration for JSON; null when infinite.
void DurationJson(absl::Duration d, util::JsonWriter* json) {
  if (d == absl::InfiniteDuration()) {
    json->Null();
  } else {
    json->Double(absl::ToDoubleSeconds(d));
  }
}

// One option's value; durations in seconds under the field's name + "_s" (null when infinite).
void OptionJson(const core::OptionField& f, const Options& o, util::JsonWriter* json) {
  const core::OptionField::Value v = f.get(o);
  if (const auto* d = std::get_if<absl::Duration>(&v)) {
    json->Key(absl::StrCat(util::ToAbsl(f.name), "_s"));
    DurationJson(*d, json);
    return;
  }
  json->Key(f.name);
  if (const auto* b = std::get_if<bool>(&v)) {
    json->Bool(*b);
  } else if (const auto* u = std::get_if<uint64_t>(&v)) {
    json->Uint(*u);
  } else if (const auto* i = std::get_if<int64_t>(&v)) {
    json->Int(*i);
  } else if (const auto* x = std::get_if<double>(&v)) {
    json->Double(*x);
  } else {
    json->String(std::get<std::string>(v));
  }
}

struct Client {
  int fd = -1;
  std::string in;
  std::string out;  // Unsent bytes of the current response.
  absl::Time last_progress;
  bool close_after_flush = false;
  bool closed = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<AdminServer>> AdminServer::Start(const std::string& path,
                                                                core::Introspection* store,
                                                                const AdminServerOptions& options) {
  if (path.empty() || path.size() >= sizeof(sockaddr_un::sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "admin socket path must be 1 to ", sizeof(sockaddr_un::sun_path) - 1, " bytes: ", path));
  }
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "admin socket path ", path, " exists and is not a socket; not replacing it"));
    }
    if (SomeoneListens(path)) {
      return absl::FailedPreconditionError(
          absl::StrCat("admin socket ", path, " is in use by a live server"));
    }
    unlink(path.c_str());  // A stale socket of a process that is gone.
  }

  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return ErrnoStatus("admin socket: socket()", errno);
  const sockaddr_un addr = AddressOf(path);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno;
    close(fd);
    if (err == EADDRINUSE) {
      return absl::FailedPreconditionError(absl::StrCat("admin socket ", path, " already exists"));
    }
    return ErrnoStatus(absl::StrCat("admin socket: bind(", path, ")"), err);
  }
  // Nobody can connect before listen(), so the mode is in force before the first connection.
  if (chmod(path.c_str(), 0600) != 0 || lstat(path.c_str(), &st) != 0) {
    const int err = errno;
    unlink(path.c_str());
    close(fd);
    return ErrnoStatus(absl::StrCat("admin socket: chmod(", path, ")"), err);
  }
  if (listen(fd, 16) != 0) {
    const int err = errno;
    unlink(path.c_str());
    close(fd);
    return ErrnoStatus("admin socket: listen()", err);
  }
  const int wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) {
    const int err = errno;
    unlink(path.c_str());
    close(fd);
    return ErrnoStatus("admin socket: eventfd()", err);
  }
  std::unique_ptr<AdminServer> server(
      new AdminServer(path, store, options, fd, wake, st.st_dev, st.st_ino));
  server->thread_ = std::thread([s = server.get()] { s->Run(); });
  return server;
}

AdminServer::AdminServer(std::string path, core::Introspection* store,
                         const AdminServerOptions& options, int listen_fd, int wake_fd, dev_t dev,
                         ino_t ino)
    : path_(std::move(path)),
      store_(store),
      options_(options),
      listen_fd_(listen_fd),
      wake_fd_(wake_fd),
      dev_(dev),
      ino_(ino) {}

AdminServer::~AdminServer() {
  const uint64_t one = 1;
  while (write(wake_fd_, &one, sizeof(one)) < 0 && errno == EINTR) {
  }
  if (thread_.joinable()) thread_.join();
  close(listen_fd_);
  close(wake_fd_);
  struct stat st {};
  if (lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) {
    unlink(path_.c_str());
  }
}

void AdminServer::Run() {
  std::vector<Client> clients;
  std::vector<pollfd> fds;
  char buf[16 * 1024];
  auto handle_lines = [this](Client& c) {
    while (c.out.empty() && !c.close_after_flush) {
      const size_t nl = c.in.find('\n');
      if (nl == std::string::npos) {
        if (c.in.size() >= kMaxRequestBytes) {
          c.out = AdminErrorResponse(absl::InvalidArgumentError("request too large")) + "\n";
          c.close_after_flush = true;
          c.in.clear();
        }
        return;
      }
      if (nl + 1 > kMaxRequestBytes) {
        c.out = AdminErrorResponse(absl::InvalidArgumentError("request too large")) + "\n";
        c.close_after_flush = true;
        c.in.clear();
        return;
      }
      c.out = Handle(std::string_view(c.in).substr(0, nl));
      c.out.push_back('\n');
      c.in.erase(0, nl + 1);
    }
  };
  auto flush = [](Client& c, absl::Time now) {
    while (!c.out.empty()) {
      const ssize_t n = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        c.out.erase(0, static_cast<size_t>(n));
        c.last_progress = now;
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) c.closed = true;
        return;
      }
    }
    if (c.close_after_flush) c.closed = true;
  };

  // Connection timeouts follow a monotonic clock: a wall-clock step must not close every
  // connection at once or keep an idle one open. The origin is arbitrary; only differences count.
  auto monotonic_now = [this] { return absl::FromUnixNanos(options_.now_nanos()); };
  while (true) {
    fds.clear();
    fds.push_back(pollfd{wake_fd_, POLLIN, 0});
    fds.push_back(pollfd{listen_fd_, POLLIN, 0});
    absl::Time now = monotonic_now();
    absl::Duration wait = absl::Seconds(1);
    for (const Client& c : clients) {
      short events = 0;
      if (!c.out.empty()) events |= POLLOUT;
      if (c.out.empty() && !c.close_after_flush) events |= POLLIN;
      fds.push_back(pollfd{c.fd, events, 0});
      wait = std::min(
          wait, std::max(absl::ZeroDuration(), c.last_progress + options_.idle_timeout - now));
    }
    const int timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(wait)) + 1;
    const int ready = poll(fds.data(), fds.size(), timeout_ms);
    if (ready < 0 && errno != EINTR) break;  // Cannot happen with valid fds; stop serving.
    if (fds[0].revents != 0) {               // Woken by the destructor.
      ASIDEKV_SYNC_POINT("AdminServer::Run:Stopped");
      break;
    }
    now = monotonic_now();

    for (size_t i = 0; i < clients.size(); ++i) {
      Client& c = clients[i];
      const short rev = fds[i + 2].revents;
      if ((rev & POLLIN) != 0) {
        const ssize_t n = recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) {
          c.in.append(buf, static_cast<size_t>(n));
          c.last_progress = now;
          ASIDEKV_SYNC_POINT("AdminServer::Run:Read");
          handle_lines(c);
        } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
          c.closed = true;
        }
      } else if ((rev & (POLLERR | POLLHUP | POLLNVAL)) != 0 && (rev & POLLOUT) == 0) {
        c.closed = true;
      }
      if (!c.closed) flush(c, now);
      if (!c.closed && c.out.empty()) {
        handle_lines(c);  // Pipelined requests already buffered.
        flush(c, now);
      }
      if (now - c.last_progress > options_.idle_timeout) c.closed = true;
    }
    for (Client& c : clients) {
      if (!c.closed) continue;
      close(c.fd);
      ASIDEKV_SYNC_POINT("AdminServer::Run:Closed");
    }
    clients.erase(
        std::remove_if(clients.begin(), clients.end(), [](const Client& c) { return c.closed; }),
        clients.end());

    if ((fds[1].revents & POLLIN) != 0) {
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0 && clients.size() >= options_.max_connections) {
        const std::string busy =
            AdminErrorResponse(absl::ResourceExhaustedError("too many admin connections")) + "\n";
        send(fd, busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        close(fd);
      } else if (fd >= 0) {
        Client c;
        c.fd = fd;
        c.last_progress = now;
        clients.push_back(std::move(c));
      }
    }
  }
  for (const Client& c : clients) close(c.fd);
}

std::string AdminServer::Handle(std::string_view line) {
  requests_.fetch_add(1, std::memory_order_relaxed);
  absl::StatusOr<AdminRequest> parsed = ParseAdminRequest(line);
  if (!parsed.ok()) return AdminErrorResponse(parsed.status());
  const AdminRequest& r = *parsed;
  util::JsonWriter json;
  json.BeginObject();
  json.Field("ok", true);
  json.Field("command", AdminCommandName(r.command));
  const Options& o = store_->options();

  auto value_fields = [&json](std::string_view value) {
    json.Field("value_size", uint64_t{value.size()});
    json.Field("truncated", value.size() > kMaxValueInResponse);
    json.Field("value", value.substr(0, kMaxValueInResponse));
  };
  auto entry_fields = [&](const core::CachedEntry& e) {
    json.Field("found", !e.negative);
    json.Field("negative_entry", e.negative);
    if (!e.negative) value_fields(e.value);
    json.Key("ttl_left_ms");
    if (!e.ttl_left.has_value()) {
      json.Null();
    } else {
      json.Int(absl::ToInt64Milliseconds(*e.ttl_left));
    }
  };

  switch (r.command) {
    case AdminCommand::kPing:
      break;
    case AdminCommand::kStats: {
      const Stats s = store_->GetStats();
      json.Key("stats");
      json.BeginObject();
      for (const StatField& f : StatFields()) json.Field(f.name, s.*f.member);
      json.EndObject();
      json.Key("latency");
      json.BeginObject();
      for (const LatencyField& f : LatencyFields()) {
        json.Key(f.op);
        LatencyJson(s.*f.member, &json);
      }
      json.EndObject();
      json.Key("shards");
      json.BeginArray();
      for (const core::ShardStats& c : store_->GetShardStats()) {
        json.BeginObject();
        json.Field("hits", c.hits);
        json.Field("misses", c.misses);
        json.Field("inserts", c.inserts);
        json.Field("evictions", c.evictions);
        json.Field("expirations", c.expirations);
        json.Field("invalidations", c.invalidations);
        json.Field("entries", c.entries);
        json.Field("bytes", c.bytes);
        json.Field("capacity", c.capacity);
        json.EndObject();
      }
      json.EndArray();
      json.Key("db");
      json.BeginObject();
      for (std::string_view p : ReportedDbProperties()) {
        absl::StatusOr<uint64_t> v = store_->DbIntProperty(p);
        if (v.ok()) json.Field(p, *v);
      }
      json.EndObject();
      break;
    }
    case AdminCommand::kGet: {
      json.Field("key", r.key);
      if (std::optional<core::CachedEntry> e = store_->Peek(r.key)) {
        json.Field("from_cache", true);
        entry_fields(*e);
        break;
      }
      // The lookup above counted the miss; the miss path reads (and fills) without another.
      absl::StatusOr<std::string> v = store_->GetAfterMiss(r.key);
      if (!v.ok() && !absl::IsNotFound(v.status())) return AdminErrorResponse(v.status());
      json.Field("from_cache", false);
      json.Field("found", v.ok());
      if (v.ok()) value_fields(*v);
      break;
    }
    case AdminCommand::kPeek: {
      json.Field("key", r.key);
      std::optional<core::CachedEntry> e = store_->Peek(r.key);
      json.Field("cached", e.has_value());
      if (e) entry_fields(*e);
      break;
    }
    case AdminCommand::kInvalidate:
      store_->Invalidate(r.key);
      json.Field("key", r.key);
      break;
    case AdminCommand::kClearCache:
      store_->ClearCache();
      break;
    case AdminCommand::kWarm: {
      // The Store's warming: counted in Stats, bounded by the cache budget.
      absl::StatusOr<size_t> filled = store_->WarmPrefix(r.key, static_cast<size_t>(r.count));
      if (!filled.ok()) return AdminErrorResponse(filled.status());
      json.Field("prefix", r.key);
      json.Field("filled", static_cast<uint64_t>(*filled));
      break;
    }
    case AdminCommand::kHot: {
      json.Key("keys");
      json.BeginArray();
      for (const std::string& k : store_->HottestKeys(static_cast<size_t>(r.count))) json.String(k);
      json.EndArray();
      break;
    }
    case AdminCommand::kConfig: {
      json.Key("config");
      json.BeginObject();
      for (const core::OptionField& f : core::OptionFields()) OptionJson(f, o, &json);
      json.EndObject();
      break;
    }
    case AdminCommand::kMetrics: {
      json.Field("text", PrometheusText(*store_));
      break;
    }
  }
  json.EndObject();
  return json.Take();
}

}  // namespace asidekv::admin
