#include "tests/distributed/workload.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/distributed/client_process.h"
#include "util/monotonic_clock.h"
#include "util/string_view.h"

namespace asidekv::distributed {
namespace {

constexpr int kDatabaseReader = -1;  // The process number of the database's final read.

// Exit codes of a child.
constexpr int kExitOpenFailed = 2;
constexpr int kExitLogFailed = 3;
constexpr int kExitBarrierBroken = 4;

std::string FileOf(const WorkloadOptions& o, int process, std::string_view suffix) {
  return process == kDatabaseReader
             ? absl::StrCat(o.log_dir, "/database", util::ToAbsl(suffix))
             : absl::StrCat(o.log_dir, "/process-", process, util::ToAbsl(suffix));
}

uint64_t ChooseSeed(const WorkloadOptions& o) {
  uint64_t seed = o.seed;
  const char* env = std::getenv("ASIDEKV_SEED");
  if (seed == 0 && env != nullptr) (void)absl::SimpleAtoi(env, &seed);
  while (seed == 0) seed = (uint64_t{std::random_device()()} << 32) | std::random_device()();
  return seed;
}

absl::Duration ChooseDuration(const WorkloadOptions& o) {
  double seconds = 0;
  const char* env = std::getenv("ASIDEKV_DISTRIBUTED_SECONDS");
  if (env != nullptr && absl::SimpleAtod(env, &seconds) && seconds > 0) {
    return absl::Seconds(seconds);
  }
  return o.duration;
}

// Writes `status` to the process's error file and ends the process with `code`.
[[noreturn]] void Fail(const WorkloadOptions& o, int process, int code, const absl::Status& s) {
  std::ofstream(FileOf(o, process, ".error")) << s.ToString() << "\n";
  std::fprintf(stderr, "workload process %d: %s\n", process, s.ToString().c_str());
  _exit(code);
}

// Opens a Store with the cache off and logs a final read of every key.
absl::Status ReadDatabase(const WorkloadOptions& o, uint64_t seed,
                          const OpenDatabaseReader& open_database) {
  ClientProcess reader(o, seed, kDatabaseReader);
  absl::Status s = reader.Open([&](int) { return open_database(); });
  if (!s.ok()) return s;
  reader.FinalReads();
  return reader.Finish(FileOf(o, kDatabaseReader, ".log"));
}

// A barrier between the parent and its children, made of two pipes: a child writes one byte to
// `arrive` and then waits until the parent closes `release` (its read returns end of file).
class Barrier {
 public:
  Barrier() = default;
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;
  ~Barrier() {
    for (int fd : {arrive_[0], arrive_[1], release_[0], release_[1]}) {
      if (fd >= 0) close(fd);
    }
  }

  absl::Status Init() {
    // Close-on-exec: a server the parent (re)starts during the run (WorkloadOptions::during)
    // must not hold the release pipe open, or the children never see it close.
    if (pipe2(arrive_, O_CLOEXEC) != 0 || pipe2(release_, O_CLOEXEC) != 0) {
      return absl::InternalError("pipe failed");
    }
    return absl::OkStatus();
  }
  // In the child: arrive, then wait for the release. False if the parent went away first.
  bool ArriveAndWait() {
    CloseFd(arrive_[0]);
    CloseFd(release_[1]);
    char c = 'x';
    if (write(arrive_[1], &c, 1) != 1) return false;
    return read(release_[0], &c, 1) == 0;
  }
  // In the parent, after the forks.
  void ParentSide() {
    CloseFd(arrive_[1]);
    CloseFd(release_[0]);
  }
  int arrivals() const { return arrive_[0]; }
  void Release() { CloseFd(release_[1]); }

 private:
  static void CloseFd(int& fd) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
  int arrive_[2] = {-1, -1};
  int release_[2] = {-1, -1};
};

// The children of one run. Kills and reaps whatever is left when destroyed.
class Children {
 public:
  explicit Children(const WorkloadOptions& o, uint64_t seed) : options_(o), seed_(seed) {}
  Children(const Children&) = delete;
  Children& operator=(const Children&) = delete;
  ~Children() {
    for (Child& c : children_) {
      if (c.running) {
        kill(c.pid, SIGKILL);
        waitpid(c.pid, nullptr, 0);
      }
    }
  }

  void Add(pid_t pid, int process) { children_.push_back({pid, process, true}); }

  // Reaps the children that exited. An error for the first that failed, or for any exit at all
  // when `exit_is_failure` (a child may not exit before the last barrier).
  absl::Status Reap(bool exit_is_failure) {
    for (Child& c : children_) {
      int status = 0;
      if (!c.running || waitpid(c.pid, &status, WNOHANG) != c.pid) continue;
      c.running = false;
      if (exit_is_failure || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return Failed(c, status);
      }
    }
    return absl::OkStatus();
  }

  // Waits for every child to exit successfully, until `deadline_nanos`.
  absl::Status WaitAll(int64_t deadline_nanos) {
    while (true) {
      absl::Status s = Reap(/*exit_is_failure=*/false);
      if (!s.ok()) return s;
      bool running = false;
      for (const Child& c : children_) running |= c.running;
      if (!running) return absl::OkStatus();
      if (util::MonotonicNanos() >= deadline_nanos) {
        return absl::DeadlineExceededError(
            absl::StrCat("workload children did not exit in time (killed); seed ", seed_));
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
  }

  // Waits until `n` children arrived at `barrier`, a child exits, or the deadline passes.
  absl::Status WaitArrivals(const Barrier& barrier, int n, int64_t deadline_nanos,
                            std::string_view what) {
    int arrived = 0;
    while (arrived < n) {
      if (util::MonotonicNanos() >= deadline_nanos) {
        return absl::DeadlineExceededError(absl::StrCat(arrived, " of ", n, " children reached ",
                                                        util::ToAbsl(what),
                                                        " in time (all killed); seed ", seed_));
      }
      pollfd p = {barrier.arrivals(), POLLIN, 0};
      if (poll(&p, 1, 20) == 1 && (p.revents & POLLIN) != 0) {
        char buf[64];
        const ssize_t got = read(barrier.arrivals(), buf, sizeof(buf));
        if (got > 0) arrived += static_cast<int>(got);
      }
      absl::Status s = Reap(/*exit_is_failure=*/true);
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }

 private:
  struct Child {
    pid_t pid;
    int process;
    bool running;
  };

  absl::Status Failed(const Child& c, int status) const {
    std::ifstream error_file(FileOf(options_, c.process, ".error"));
    std::stringstream error;
    error << error_file.rdbuf();
    return absl::InternalError(
        absl::StrCat("workload process ", c.process,
                     WIFEXITED(status) ? absl::StrCat(" exited with status ", WEXITSTATUS(status))
                                       : absl::StrCat(" was killed by signal ", WTERMSIG(status)),
                     error.str().empty() ? "" : ": ", error.str(), "; seed ", seed_));
  }

  const WorkloadOptions& options_;
  const uint64_t seed_;
  std::vector<Child> children_;
};

// A client process's life in a forked child (workload.h, steps 1 to 3). Never returns.
[[noreturn]] void RunChild(const WorkloadOptions& o, uint64_t seed, int process,
                           absl::Duration duration, const OpenStore& open, Barrier& start,
                           Barrier& end) {
  ClientProcess client(o, seed, process);
  absl::Status s = client.Open(open);
  if (!s.ok()) Fail(o, process, kExitOpenFailed, s);
  if (!start.ArriveAndWait()) {
    Fail(o, process, kExitBarrierBroken, absl::AbortedError("start barrier broken"));
  }
  client.Start(util::MonotonicNanos() + absl::ToInt64Nanoseconds(duration));
  client.Join();
  if (!end.ArriveAndWait()) {
    Fail(o, process, kExitBarrierBroken, absl::AbortedError("end barrier broken"));
  }
  client.FinalReads();
  s = client.Finish(FileOf(o, process, ".log"));
  if (!s.ok()) Fail(o, process, kExitLogFailed, s);
  _exit(0);
}

absl::Status RunForked(const WorkloadOptions& o, uint64_t seed, absl::Duration duration,
                       const OpenStore& open, const OpenDatabaseReader& open_database) {
  const int64_t deadline =
      util::MonotonicNanos() + absl::ToInt64Nanoseconds(duration + o.quiesce + o.grace);
  Children children(o, seed);
  {
    Barrier start, end;
    absl::Status s = start.Init();
    if (s.ok()) s = end.Init();
    if (!s.ok()) return s;
    std::fflush(nullptr);  // Nothing buffered is written twice.
    for (int p = 0; p < o.processes; ++p) {
      const pid_t pid = fork();
      if (pid < 0) return absl::InternalError(absl::StrCat("fork failed; seed ", seed));
      if (pid == 0) RunChild(o, seed, p, duration, open, start, end);
      children.Add(pid, p);
    }
    start.ParentSide();
    end.ParentSide();
    s = children.WaitArrivals(start, o.processes, deadline, "the start");
    if (!s.ok()) return s;
    start.Release();
    if (o.during) o.during();
    s = children.WaitArrivals(end, o.processes, deadline, "the end of the workload");
    if (!s.ok()) return s;
    absl::SleepFor(o.quiesce);
    end.Release();
    s = children.WaitAll(deadline);
    if (!s.ok()) return s;
  }
  if (open_database == nullptr) return absl::OkStatus();
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork failed; seed ", seed));
  if (pid == 0) {
    absl::Status s = ReadDatabase(o, seed, open_database);
    if (!s.ok()) Fail(o, kDatabaseReader, kExitOpenFailed, s);
    _exit(0);
  }
  children.Add(pid, kDatabaseReader);
  return children.WaitAll(util::MonotonicNanos() + absl::ToInt64Nanoseconds(o.grace));
}

absl::Status RunInProcess(const WorkloadOptions& o, uint64_t seed, absl::Duration duration,
                          const OpenStore& open, const OpenDatabaseReader& open_database) {
  std::vector<std::unique_ptr<ClientProcess>> clients;
  for (int p = 0; p < o.processes; ++p) {
    clients.push_back(std::make_unique<ClientProcess>(o, seed, p));
    absl::Status s = clients.back()->Open(open);
    if (!s.ok()) return s;
  }
  const int64_t stop = util::MonotonicNanos() + absl::ToInt64Nanoseconds(duration);
  for (auto& c : clients) c->Start(stop);
  for (auto& c : clients) c->Join();
  absl::SleepFor(o.quiesce);
  for (auto& c : clients) c->FinalReads();
  for (int p = 0; p < o.processes; ++p) {
    absl::Status s = clients[p]->Finish(FileOf(o, p, ".log"));
    if (!s.ok()) return s;
  }
  clients.clear();
  return open_database == nullptr ? absl::OkStatus() : ReadDatabase(o, seed, open_database);
}

absl::Status WithSeed(const absl::Status& s, uint64_t seed) {
  if (s.ok() || absl::StrContains(s.message(), "; seed ")) return s;
  return absl::Status(s.code(), absl::StrCat(s.message(), "; seed ", seed));
}

}  // namespace

absl::StatusOr<WorkloadResult> RunWorkload(const WorkloadOptions& o, const OpenStore& open,
                                           const OpenDatabaseReader& open_database) {
  WorkloadResult result;
  result.seed = ChooseSeed(o);
  if (o.log_dir.empty() || o.processes < 1 || o.threads < 1 || o.keys < 1 || o.read_only_keys < 0 ||
      o.get_percent + o.put_percent + o.delete_percent > 100 || open == nullptr) {
    return WithSeed(absl::InvalidArgumentError("bad WorkloadOptions"), result.seed);
  }
  const absl::Duration duration = ChooseDuration(o);
  std::cout << "workload: seed " << result.seed << ", " << o.processes << " processes x "
            << o.threads << " threads, " << o.keys << " keys, " << absl::FormatDuration(duration)
            << (o.mode == WorkloadOptions::Mode::kFork ? ", forked" : ", in one process")
            << std::endl;
  absl::Status s = o.mode == WorkloadOptions::Mode::kFork
                       ? RunForked(o, result.seed, duration, open, open_database)
                       : RunInProcess(o, result.seed, duration, open, open_database);
  if (!s.ok()) return WithSeed(s, result.seed);
  for (int p = 0; p < o.processes; ++p) {
    absl::StatusOr<std::vector<Operation>> ops = ReadHistory(FileOf(o, p, ".log"));
    if (!ops.ok()) return WithSeed(ops.status(), result.seed);
    for (Operation& op : *ops) result.history.push_back(std::move(op));
  }
  if (open_database != nullptr) {
    absl::StatusOr<std::vector<Operation>> reads = ReadHistory(FileOf(o, kDatabaseReader, ".log"));
    if (!reads.ok()) return WithSeed(reads.status(), result.seed);
    result.database.emplace();
    for (const Operation& r : *reads) {
      if (!r.status.ok()) {
        return WithSeed(
            absl::InternalError(absl::StrCat("reading the database: ", r.status.ToString())),
            result.seed);
      }
      if (r.keys[0].value.has_value()) (*result.database)[r.keys[0].key] = *r.keys[0].value;
    }
  }
  result.check = Recheck(result, o.check);
  return result;
}

std::string CacheModeName(CacheMode mode) {
  switch (mode) {
    case CacheMode::kInvalidate:
      return "Invalidate";
    case CacheMode::kUpdate:
      return "Update";
    case CacheMode::kOff:
      return "CacheOff";
  }
  return "?";
}

Options WithCacheMode(Options options, CacheMode mode) {
  options.cache_capacity_bytes = mode == CacheMode::kOff ? 0 : size_t{1} << 20;
  options.write_policy =
      mode == CacheMode::kUpdate ? WritePolicy::kUpdate : WritePolicy::kInvalidate;
  return options;
}

CheckOptions BoundsFor(const Options& options, int processes) {
  CheckOptions check;
  check.bound.assign(
      processes, options.cache_capacity_bytes == 0 ? absl::ZeroDuration() : options.max_staleness);
  return check;
}

CheckResult Recheck(const WorkloadResult& result, CheckOptions options) {
  options.seed = result.seed;
  options.database = result.database;
  return CheckHistory(result.history, options);
}

}  // namespace asidekv::distributed
