// Stampedes across processes over PostgreSQL + a private redis-server: 3 forked processes x 4
// threads, each process with its own Store (near cache + Redis tier), on one hot key.
//   - Redis up: the threads missing an invalidated hot key at once cost exactly one database
//     read fleet-wide (the Redis lease holder's), every Get returning the value.
//   - During a Redis restart (SIGKILL, then a restart on the same port, empty), with a writer
//     rewriting the key every 200 ms: reads keep being served (no Get fails, every value read
//     was written), and store reads stay within the documented bound (README "Many
//     instances"): while Redis is unusable a process reads the key from PostgreSQL at most once
//     at a time, plus one when a write's invalidation lands while that read is in flight (Gets
//     that start after a write must not share a read that began before it), so PostgreSQL sees
//     at most 2 reads of the key in flight per process, 6 here and never 12 (counted in each
//     process by the test sync points Filler::Read:Begin/End); the other Gets wait for that
//     read (coalesced_waits); once Redis is back, one database read fleet-wide per write
//     again.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "asidekv/asidekv.h"
#include "gtest/gtest.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/status_matchers.h"
#include "util/monotonic_clock.h"
#include "util/sync_point.h"

namespace asidekv::distributed {
namespace {

using ::asidekv::testing::PostgresServer;
using ::asidekv::testing::RedisServer;

constexpr int kProcesses = 3;
constexpr int kThreads = 4;

// One barrier between the parent and its children over two pipes: a child writes a byte to
// `arrive` and waits until the parent closes `go`.
struct Barrier {
  int arrive[2] = {-1, -1};
  int go[2] = {-1, -1};
};

// Forks kProcesses children. Each opens a Store with `options` and runs
// body(process, store, wait), where wait() arrives at the next barrier and returns once every
// child arrived there and the parent ran that barrier's hook: hooks[0] first (the children's
// Stores are open), then hooks[1], ... The body returns a one-line report. Returns the reports,
// one per child (a child that failed fails the test).
std::vector<std::string> RunChildren(
    const Options& options, const std::vector<std::function<void()>>& hooks,
    const std::function<std::string(int, Store&, const std::function<void()>&)>& body) {
  std::vector<Barrier> barriers(hooks.size());
  int report[2];
  // Close-on-exec: a server a hook restarts must not hold a pipe open.
  for (Barrier& b : barriers) {
    EXPECT_EQ(pipe2(b.arrive, O_CLOEXEC), 0);
    EXPECT_EQ(pipe2(b.go, O_CLOEXEC), 0);
  }
  EXPECT_EQ(pipe2(report, O_CLOEXEC), 0);
  std::fflush(nullptr);
  std::vector<pid_t> children;
  for (int c = 0; c < kProcesses; ++c) {
    const pid_t pid = fork();
    EXPECT_GE(pid, 0);
    if (pid == 0) {
      for (Barrier& b : barriers) close(b.go[1]);
      absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
      if (!store.ok()) {
        std::fprintf(stderr, "child %d: %s\n", c, store.status().ToString().c_str());
        _exit(2);
      }
      size_t next = 0;
      const auto wait = [&] {
        char byte = 1;
        if (next >= barriers.size() || write(barriers[next].arrive[1], &byte, 1) != 1 ||
            read(barriers[next].go[0], &byte, 1) != 0) {
          _exit(3);
        }
        ++next;
      };
      wait();
      const std::string line = body(c, **store, wait) + "\n";
      if (write(report[1], line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
        _exit(4);
      }
      store->reset();
      _exit(0);
    }
    children.push_back(pid);
  }
  close(report[1]);
  for (size_t i = 0; i < barriers.size(); ++i) {
    close(barriers[i].arrive[1]);
    for (int c = 0; c < kProcesses; ++c) {
      // A child that died leaves the others waiting: give up after a minute (they are killed).
      pollfd p = {barriers[i].arrive[0], POLLIN, 0};
      char byte;
      if (poll(&p, 1, 60000) != 1 || read(barriers[i].arrive[0], &byte, 1) != 1) {
        ADD_FAILURE() << "a child did not reach barrier " << i;
        for (pid_t pid : children) kill(pid, SIGKILL);
        break;
      }
    }
    hooks[i]();
    close(barriers[i].go[1]);
  }
  for (pid_t pid : children) {
    int status = 0;
    EXPECT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  }
  std::string out;
  char buf[256];
  for (ssize_t n; (n = read(report[0], buf, sizeof(buf))) > 0;) out.append(buf, n);
  close(report[0]);
  for (Barrier& b : barriers) {
    close(b.arrive[0]);
    close(b.go[0]);
  }
  std::vector<std::string> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  EXPECT_EQ(lines.size(), static_cast<size_t>(kProcesses)) << out;
  return lines;
}

// Sums field `i` (0-based, space-separated integers) over the reports.
uint64_t Sum(const std::vector<std::string>& reports, int i) {
  uint64_t total = 0;
  for (const std::string& line : reports) {
    std::istringstream fields(line);
    uint64_t v = 0;
    for (int f = 0; f <= i; ++f) fields >> v;
    total += v;
  }
  return total;
}

// Each thread Gets the hot key once; the report: "<right> <db_reads>".
std::string GetOnceEach(Store& store, const std::string& expected) {
  std::atomic<int> right{0};
  const uint64_t db_reads = store.GetStats().db_reads;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      absl::StatusOr<std::string> v = store.Get("hot");
      if (v.ok() && *v == expected) right.fetch_add(1);
    });
  }
  for (std::thread& t : threads) t.join();
  return absl::StrCat(right.load(), " ", store.GetStats().db_reads - db_reads);
}

// Puts "hot" = `value` through a Store of its own, closed again (this process forks no more
// once it runs threads: the children are all forked by then).
void PutHot(const Options& options, const std::string& value) {
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
  ASSERT_OK(store.status());
  ASSERT_OK((*store)->Put("hot", value));
}

// A private PostgreSQL and redis-server per test, and Options for both.
class RedisStampedeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(postgres_.Init());
    ASSERT_OK(redis_.Init());
  }

  Options BaseOptions() const {
    Options options;
    options.postgres = postgres_.conninfo();
    options.max_staleness = absl::Seconds(30);
    options.redis = redis_.address();
    return options;
  }

  PostgresServer postgres_;
  RedisServer redis_;
};

TEST_F(RedisStampedeTest, ThreeProcessesTimesFourThreadsCostOneDatabaseRead) {
  Options options = BaseOptions();
  options.lease_ttl = absl::Seconds(10);  // No waiter gives up: every Get waits for the holder.
  {
    // The hot key is in the database; its Redis copy and lease are gone (the Put's UNLINK).
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
    ASSERT_OK(store.status());
    ASSERT_OK((*store)->Put("hot", "value"));
    ASSERT_OK((*store)->Get("hot").status());  // Fills Redis...
    ASSERT_OK((*store)->Put("hot", "fresh"));  // ...and this write invalidates it everywhere.
  }
  const std::vector<std::string> reports = RunChildren(
      options, {[] {}},
      [](int, Store& store, const std::function<void()>&) { return GetOnceEach(store, "fresh"); });
  std::cout << "stampede (right db_reads per process):\n";
  for (const std::string& r : reports) std::cout << "  " << r << "\n";
  EXPECT_EQ(Sum(reports, 0), static_cast<uint64_t>(kProcesses * kThreads));
  EXPECT_EQ(Sum(reports, 1), 1u);
}

// The hammer's report of one process: "<gets> <failed> <unwritten> <db_reads>
// <max in flight> <coalesced_waits>".
std::string Hammer(int process, Store& store, absl::Duration duration) {
  std::atomic<int> in_flight{0};
  std::atomic<int> max_in_flight{0};
  util::SyncPoint* sp = util::SyncPoint::Get();
  sp->SetCallBack("Filler::Read:Begin", [&](void*) {
    const int now = in_flight.fetch_add(1) + 1;
    int seen = max_in_flight.load();
    while (now > seen && !max_in_flight.compare_exchange_weak(seen, now)) {
    }
  });
  sp->SetCallBack("Filler::Read:End", [&](void*) { in_flight.fetch_sub(1); });
  sp->EnableProcessing();
  const Stats before = store.GetStats();
  const int64_t stop = util::MonotonicNanos() + absl::ToInt64Nanoseconds(duration);
  std::atomic<uint64_t> gets{0}, failed{0}, unwritten{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      while (util::MonotonicNanos() < stop) {
        absl::StatusOr<std::string> v = store.Get("hot");
        gets.fetch_add(1);
        if (!v.ok()) {
          failed.fetch_add(1);
        } else if (!absl::StartsWith(*v, "v")) {
          unwritten.fetch_add(1);
        }
      }
    });
  }
  if (process == 0) {
    // The writer: a new value every 200 ms, each invalidating every tier.
    threads.emplace_back([&] {
      for (int n = 1; util::MonotonicNanos() < stop; ++n) {
        if (!store.Put("hot", absl::StrCat("v", n)).ok()) failed.fetch_add(1);
        absl::SleepFor(absl::Milliseconds(200));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  sp->DisableProcessing();
  sp->ClearAllCallBacks();
  const Stats after = store.GetStats();
  return absl::StrCat(gets.load(), " ", failed.load(), " ", unwritten.load(), " ",
                      after.db_reads - before.db_reads, " ", max_in_flight.load(), " ",
                      after.coalesced_waits - before.coalesced_waits);
}

TEST_F(RedisStampedeTest, ThreeProcessesTimesFourThreadsDuringARedisRestart) {
  Options options = BaseOptions();
  options.postgres_connections = 4;
  options.redis_timeout = absl::Milliseconds(300);
  options.lease_ttl = absl::Seconds(2);
  options.log = [](LogSeverity, std::string_view) {};
  {
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
    ASSERT_OK(store.status());
    ASSERT_OK((*store)->Put("hot", "v0"));
  }
  const absl::Duration hammer = absl::Milliseconds(3500);
  const absl::Duration after_restart = 2 * options.coherence_bound;
  std::vector<std::string> phase2;
  const std::vector<std::string> reports = RunChildren(
      options,
      {// Every Store is open: the hammer starts; Redis dies and comes back while it runs.
       [&] {
         absl::SleepFor(absl::Milliseconds(800));
         EXPECT_OK(redis_.Kill());
         absl::SleepFor(absl::Milliseconds(800));
         EXPECT_OK(redis_.Start());
       },
       // The hammer is over: one more write, seen by every Store within the bound.
       [&] {
         PutHot(options, "final");
         absl::SleepFor(after_restart);
       }},
      [&](int process, Store& store, const std::function<void()>& wait) {
        const std::string line = Hammer(process, store, hammer);
        wait();
        return absl::StrCat(line, " ", GetOnceEach(store, "final"));
      });
  std::cout << "stampede during a Redis restart (gets failed unwritten db_reads max_in_flight "
               "coalesced_waits | right db_reads after the restart, per process):\n";
  for (const std::string& r : reports) {
    std::cout << "  " << r << "\n";
    std::istringstream fields(r);
    uint64_t gets = 0, failed = 0, unwritten = 0, db_reads = 0, max_in_flight = 0, waits = 0;
    fields >> gets >> failed >> unwritten >> db_reads >> max_in_flight >> waits;
    EXPECT_GT(gets, 0u) << r;
    EXPECT_EQ(failed, 0u) << r;     // Reads keep being served...
    EXPECT_EQ(unwritten, 0u) << r;  // ...with values that were written.
    EXPECT_GE(max_in_flight, 1u) << r;
    EXPECT_LE(max_in_flight, 2u) << r;  // The bound (file comment).
    EXPECT_GT(waits, 0u) << r;          // Gets shared the reads in flight.
  }
  // Redis is back: one database read fleet-wide for the last write's stampede.
  EXPECT_EQ(Sum(reports, 6), static_cast<uint64_t>(kProcesses * kThreads));
  EXPECT_EQ(Sum(reports, 7), 1u);
}

}  // namespace
}  // namespace asidekv::distributed
