// Crash test, after RocksDB's db_crashtest: a child process writes and deletes through a Store
// and reports each operation through a pipe before it starts ("B ...") and after it returned OK
// ("A"). The parent SIGKILLs the child at a random moment (some right after the child announced
// a Flush() or CompactAll(), so the kill lands inside it), reopens the store and checks that what
// it holds is exactly the state after some prefix of the operations:
//   sync_writes=true:  the prefix includes every acknowledged operation (nothing lost, no deleted
//                      key back, no value other than the last written), plus at most the one
//                      operation in flight;
//   sync_writes=false: some prefix (a process crash loses nothing either, as RocksDB hands the log
//                      to the OS before a write returns; the count of lost writes is reported).
// Every Get through the reopened Store must agree with the DB. Then the next child continues on
// the same folder.
//
// This binary has its own main(): run with --asidekv_crash_child it is the child; otherwise it
// runs the GoogleTest driver. Kills: ASIDEKV_CRASH_KILLS (default 15; e.g. 200 for a long run).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "asidekv/asidekv.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace asidekv {
namespace {

constexpr int kKeys = 200;
constexpr char kChildFlag[] = "--asidekv_crash_child";

std::string KeyName(int k) { return absl::StrCat("key", k); }

// A value is its tag (unique per operation) padded to a length the tag decides, so records stay
// short while SST files get some size.
std::string ValueFor(std::string_view tag) {
  const size_t pad = (std::hash<std::string_view>()(tag) % 400);
  return absl::StrCat(std::string(tag.data(), tag.size()), std::string(pad, 'x'));
}

// ---------------------------------------------------------------------------------------------
// Child.

void WriteAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(5);  // The parent is gone.
    off += static_cast<size_t>(n);
  }
}

[[noreturn]] void ChildFail(int fd, const std::string& why) {
  WriteAll(fd, absl::StrCat("E ", why, "\n"));
  std::cerr << "crash child: " << why << "\n";
  _exit(4);
}

// Records: "B <n> (<key> <tag or ->)*n", then "A" once the operation returned OK;
// "F" / "C" just before a Flush() / CompactAll(); "E <why>" on an unexpected error.
[[noreturn]] void RunChild(const std::string& dir, int fd, uint64_t seed, int gen, bool sync) {
  Options o;
  o.path = dir;
  o.sync_writes = sync;
  o.cache_capacity_bytes = 64 << 10;
  auto opened = Store::Open(o);
  if (!opened.ok()) ChildFail(fd, absl::StrCat("open: ", opened.status().ToString()));
  Store& store = **opened;
  std::mt19937_64 rng(seed);
  std::map<std::string, std::optional<std::string>> mine;  // Keys written by this child.
  for (int n = 0; n < 1'000'000; ++n) {
    if (n % 40 == 39) {
      WriteAll(fd, "F\n");
      if (absl::Status s = store.Flush(); !s.ok()) ChildFail(fd, s.ToString());
    }
    if (n % 97 == 96) {
      WriteAll(fd, "C\n");
      if (absl::Status s = store.CompactAll(); !s.ok()) ChildFail(fd, s.ToString());
    }
    const int dice = static_cast<int>(rng() % 100);
    if (dice < 10) {  // Read back a key this child wrote.
      if (mine.empty()) continue;
      auto it = mine.begin();
      std::advance(it, static_cast<long>(rng() % mine.size()));
      absl::StatusOr<std::string> v = store.Get(it->first);
      const bool ok =
          it->second.has_value() ? (v.ok() && *v == *it->second) : absl::IsNotFound(v.status());
      if (!ok) ChildFail(fd, absl::StrCat("read of ", it->first, " disagrees with its last write"));
      continue;
    }
    const int count = dice < 25 ? 2 + static_cast<int>(rng() % 3) : 1;
    std::string record = absl::StrCat("B ", count);
    WriteBatch batch;
    for (int i = 0; i < count; ++i) {
      const std::string key = KeyName(static_cast<int>(rng() % kKeys));
      if (rng() % 4 == 0) {
        absl::StrAppend(&record, " ", key, " -");
        batch.Delete(key);
        mine[key] = std::nullopt;
      } else {
        const std::string tag = absl::StrCat("g", gen, "n", n, "i", i);
        absl::StrAppend(&record, " ", key, " ", tag);
        batch.Put(key, ValueFor(tag));
        mine[key] = ValueFor(tag);
      }
    }
    WriteAll(fd, record + "\n");
    absl::Status s;
    if (count == 1 && batch.ops()[0].type == WriteBatch::OpType::kPut) {
      s = store.Put(batch.ops()[0].key, batch.ops()[0].value);
    } else if (count == 1) {
      s = store.Delete(batch.ops()[0].key);
    } else {
      s = store.Write(batch);
    }
    if (!s.ok()) ChildFail(fd, s.ToString());
    WriteAll(fd, "A\n");
  }
  WriteAll(fd, "E child ran out of operations before it was killed\n");
  _exit(6);
}

// ---------------------------------------------------------------------------------------------
// Driver.

using State = std::map<std::string, std::string>;  // Key -> value; absent keys are deleted.

struct Op {
  std::vector<std::pair<std::string, std::optional<std::string>>> writes;
  bool acked = false;
};

struct ChildRun {
  std::vector<Op> ops;
  int flushes = 0;
  int compactions = 0;
  std::string error;  // An "E" record, or how the child ended if not by our SIGKILL.
};

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  int n = 0;
  if (v != nullptr && absl::SimpleAtoi(v, &n) && n > 0) return n;
  return fallback;
}

// Runs one child on `dir` and kills it: after `kill_after` acknowledgements, or (kill_on != 0)
// at the first 'F' or 'C' record after `kill_after` / 2 acknowledgements.
ChildRun RunAndKill(const std::string& dir, uint64_t seed, int gen, bool sync, int kill_after,
                    char kill_on) {
  ChildRun run;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    run.error = "pipe failed";
    return run;
  }
  constexpr int kChildFd = 100;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], kChildFd);  // dup2 clears CLOEXEC.
  std::vector<std::string> args = {"/proc/self/exe",
                                   kChildFlag,
                                   absl::StrCat("--dir=", dir),
                                   absl::StrCat("--fd=", kChildFd),
                                   absl::StrCat("--seed=", seed),
                                   absl::StrCat("--gen=", gen),
                                   absl::StrCat("--sync=", sync ? 1 : 0)};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (spawned != 0) {
    close(fds[0]);
    run.error = absl::StrCat("posix_spawn failed: ", std::strerror(spawned));
    return run;
  }

  bool killed = false;
  int acks = 0;
  std::string buffer;
  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  auto handle_line = [&](std::string_view line) {
    if (line.empty()) return;
    if (line[0] == 'B') {
      std::vector<std::string> parts =
          absl::StrSplit(absl::string_view(line.data(), line.size()), ' ');
      Op op;
      for (size_t i = 2; i + 1 < parts.size(); i += 2) {
        std::optional<std::string> value;
        if (parts[i + 1] != "-") value = ValueFor(parts[i + 1]);
        op.writes.emplace_back(parts[i], std::move(value));
      }
      run.ops.push_back(std::move(op));
    } else if (line[0] == 'A') {
      if (!run.ops.empty()) run.ops.back().acked = true;
      ++acks;
    } else if (line[0] == 'F' || line[0] == 'C') {
      (line[0] == 'F' ? run.flushes : run.compactions)++;
      if (!killed && kill_on == line[0] && acks >= kill_after / 2) {
        kill(pid, SIGKILL);
        killed = true;
      }
    } else if (line[0] == 'E') {
      run.error = std::string(line);
    }
    if (!killed && kill_on == 0 && acks >= kill_after) {
      kill(pid, SIGKILL);
      killed = true;
    }
  };
  for (;;) {
    if (!killed && absl::Now() > deadline) {
      kill(pid, SIGKILL);
      killed = true;
      run.error = "child made no progress in 120 s";
    }
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, 1000) < 0 && errno != EINTR) break;
    char chunk[4096];
    const ssize_t n = read(fds[0], chunk, sizeof(chunk));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;  // EOF: the child is dead (only it held the write end).
    buffer.append(chunk, static_cast<size_t>(n));
    size_t nl;
    while ((nl = buffer.find('\n')) != std::string::npos) {
      handle_line(std::string_view(buffer).substr(0, nl));
      buffer.erase(0, nl + 1);
    }
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (run.error.empty() && !(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) {
    run.error = absl::StrCat("child ended by itself (status ", status, ")");
  }
  return run;
}

// The first key where `a` and `b` differ, for messages.
std::string FirstDifference(const State& a, const State& b) {
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end()) return absl::StrCat(k, " present (", v.substr(0, 16), ") / absent");
    if (it->second != v)
      return absl::StrCat(k, ": ", v.substr(0, 16), " / ", it->second.substr(0, 16));
  }
  for (const auto& [k, v] : b) {
    if (a.find(k) == a.end()) return absl::StrCat(k, " absent / present (", v.substr(0, 16), ")");
  }
  return "none";
}

struct Totals {
  int kills = 0;
  int kills_in_flush_or_compaction = 0;
  uint64_t acked = 0;
  uint64_t lost_acked = 0;
  uint64_t in_flight_applied = 0;
};

void RunCrashLoop(bool sync, int kills, uint64_t seed) {
  testing::TempDir tmp;
  const std::string dir = tmp.Sub("db");
  State model;
  std::mt19937_64 rng(seed);
  Totals totals;
  const absl::Time start = absl::Now();
  for (int gen = 0; gen < kills; ++gen) {
    const int kill_after = 1 + static_cast<int>(rng() % 120);
    const int mode = static_cast<int>(rng() % 4);
    const char kill_on = mode == 1 ? 'F' : mode == 2 ? 'C' : 0;
    ChildRun run = RunAndKill(dir, rng(), gen, sync, kill_after, kill_on);
    ASSERT_TRUE(run.error.empty()) << "kill " << gen << ": " << run.error;
    ++totals.kills;
    if (kill_on != 0) ++totals.kills_in_flush_or_compaction;

    Options o;
    o.path = dir;
    o.sync_writes = sync;
    o.cache_capacity_bytes = 64 << 10;
    auto opened = Store::Open(o);
    ASSERT_OK(opened.status()) << "reopen after kill " << gen;
    Store& store = **opened;
    auto rows = store.Scan(ScanOptions());
    ASSERT_OK(rows.status());
    State actual;
    for (const KeyValue& kv : *rows) actual[kv.key] = kv.value;
    // Reads through the Store (cache then DB) agree with the scan.
    for (int k = 0; k < kKeys; ++k) {
      const std::string key = KeyName(k);
      absl::StatusOr<std::string> v = store.Get(key);
      auto it = actual.find(key);
      if (it == actual.end()) {
        ASSERT_TRUE(absl::IsNotFound(v.status())) << key << ": " << v.status();
      } else {
        ASSERT_OK(v.status());
        ASSERT_EQ(*v, it->second) << key;
      }
    }

    // Which prefixes of this run's operations give exactly `actual`?
    size_t acked = 0;
    for (const Op& op : run.ops) acked += op.acked ? 1 : 0;
    auto differs = [&](const State& s, const std::string& key) {
      auto a = actual.find(key);
      auto m = s.find(key);
      if (a == actual.end() || m == s.end()) return (a == actual.end()) != (m == s.end());
      return a->second != m->second;
    };
    State state = model;
    size_t mismatches = 0;
    {
      std::map<std::string, bool> keys;
      for (const auto& [k, v] : state) keys[k] = true;
      for (const auto& [k, v] : actual) keys[k] = true;
      for (const auto& [k, unused] : keys) mismatches += differs(state, k) ? 1 : 0;
    }
    std::optional<size_t> matched;  // The longest matching prefix.
    if (mismatches == 0) matched = 0;
    for (size_t i = 0; i < run.ops.size(); ++i) {
      for (const auto& [key, value] : run.ops[i].writes) {
        const bool before = differs(state, key);
        if (value.has_value()) {
          state[key] = *value;
        } else {
          state.erase(key);
        }
        const bool after = differs(state, key);
        mismatches = mismatches - (before ? 1 : 0) + (after ? 1 : 0);
      }
      if (mismatches == 0) matched = i + 1;
    }
    ASSERT_TRUE(matched.has_value())
        << "kill " << gen << ": the reopened store is not the state after any prefix of the "
        << run.ops.size() << " operations (" << acked << " acknowledged); first difference from "
        << "the acknowledged state: " << FirstDifference(model, actual);
    if (sync) {
      ASSERT_GE(*matched, acked) << "kill " << gen << ": acknowledged synced writes were lost";
    }
    ASSERT_LE(*matched, run.ops.size());
    totals.acked += acked;
    if (*matched < acked) totals.lost_acked += acked - *matched;
    if (*matched > acked) ++totals.in_flight_applied;
    model = std::move(actual);
  }
  std::cout << "crash test (sync_writes=" << (sync ? "true" : "false") << "): " << totals.kills
            << " kills (" << totals.kills_in_flush_or_compaction << " at a flush or compaction), "
            << totals.acked << " acknowledged operations, " << totals.lost_acked << " lost, "
            << totals.in_flight_applied << " in-flight operations found applied, " << model.size()
            << " keys at the end, " << absl::FormatDuration(absl::Now() - start) << "\n";
}

TEST(CrashTest, SyncedWritesSurviveSigkill) {
  RunCrashLoop(/*sync=*/true, EnvInt("ASIDEKV_CRASH_KILLS", 15), /*seed=*/20240601);
}

TEST(CrashTest, UnsyncedWritesReopenToAPrefix) {
  RunCrashLoop(/*sync=*/false, std::max(4, EnvInt("ASIDEKV_CRASH_KILLS", 15) / 2),
               /*seed=*/777);
}

}  // namespace
}  // namespace asidekv

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], asidekv::kChildFlag) == 0) {
    std::string dir;
    int fd = -1;
    uint64_t seed = 0;
    int gen = 0;
    int sync = 1;
    for (int i = 2; i < argc; ++i) {
      std::string_view a = argv[i];
      auto value = [&](std::string_view name) -> std::optional<absl::string_view> {
        if (a.substr(0, name.size()) != name) return std::nullopt;
        const std::string_view rest = a.substr(name.size());
        return absl::string_view(rest.data(), rest.size());
      };
      if (auto v = value("--dir=")) dir = std::string(*v);
      if (auto v = value("--fd=")) (void)absl::SimpleAtoi(*v, &fd);
      if (auto v = value("--seed=")) (void)absl::SimpleAtoi(*v, &seed);
      if (auto v = value("--gen=")) (void)absl::SimpleAtoi(*v, &gen);
      if (auto v = value("--sync=")) (void)absl::SimpleAtoi(*v, &sync);
    }
    if (dir.empty() || fd < 0) return 2;
    asidekv::RunChild(dir, fd, seed, gen, sync != 0);
  }
  ::testing::InitGoogleMock(&argc, argv);
  return RUN_ALL_TESTS();
}
