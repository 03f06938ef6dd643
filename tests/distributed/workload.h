// RunWorkload: N client processes x T threads of random Puts, Deletes, batches and Gets over a
// small key set of one shared database, each operation logged (history.h), then judged by the
// history checker (history_checker.h).
//
// Protocol (kFork, the real thing: one Store per process, as deployed):
//   1. The parent forks N children. Each opens its Store with open(process) after the fork (no
//      Store, connection or thread crosses a fork) and arrives at the start barrier. The N
//      opens run concurrently: a database whose Open creates its schema should have it created
//      before RunWorkload (open and destroy one Store in the parent first).
//   2. Once all have arrived, the parent releases them; each runs T threads of random operations
//      for `duration`, logging every call with its
//      CLOCK_MONOTONIC invoke and complete times, then arrives at the end barrier.
//   3. Once all have stopped writing, the parent waits `quiesce` and releases them; each reads
//      every key once (final reads), closes its Store, writes its log to
//      <log_dir>/process-<p>.log and _exit()s with 0 (another code and a
//      <log_dir>/process-<p>.error file when something failed).
//   4. With open_database, one more child opens a Store with the cache off and reads every key:
//      the database's final content (<log_dir>/database.log).
//   5. The parent reads the logs and runs CheckHistory.
// Barriers are pipes: a child writes a byte to arrive and waits for the parent to close the
// other pipe. A child that exits early, or does not arrive or exit within the deadline
// (duration + quiesce + grace after the start), fails the run; the parent then kills every child
// (SIGKILL) and reaps it, so no child outlives RunWorkload.
//
// kInProcess runs the same protocol in the calling process: the N "processes" are N Stores (over
// one shared in-memory database, say) with T threads each, and the logs go through the same
// files. It needs no fork and runs under every sanitizer; it has no deadline of its own (a hung
// Store hangs the test until ctest's timeout).
//
// Seeds: one master seed (WorkloadOptions::seed, else $ASIDEKV_SEED, else random) drives every
// child (each derives its own from it and its process and thread numbers). It is printed when
// the run starts and appears in every error and every violation message; rerun with
// ASIDEKV_SEED=<seed> to replay the same choices (timing, and so the interleaving, differs).
// $ASIDEKV_DISTRIBUTED_SECONDS, when set, replaces `duration` (lengthens a CI run).
//
// Thread safety: RunWorkload may not run concurrently with itself. REQUIRES for kFork: the
// calling process has no other threads (fork copies only the caller; a lock held elsewhere
// would stay held in the child). In a gtest binary run by ctest, each test is its own process,
// so a test that forks first thing qualifies.
//
// Example (see distributed/workload_test.cc):
//   WorkloadOptions w;
//   w.log_dir = dir.path();
//   w.check.bound = {max_staleness, max_staleness, max_staleness};
//   w.quiesce = max_staleness;
//   auto result = RunWorkload(w, [&](int) { return Store::Open(options); },
//                             [&] { return Store::Open(options_with_cache_off); });
//   ASSERT_TRUE(result.ok()) << result.status();
//   EXPECT_TRUE(result->check.ok()) << result->check.Report();

#ifndef ASIDEKV_TESTS_DISTRIBUTED_WORKLOAD_H_
#define ASIDEKV_TESTS_DISTRIBUTED_WORKLOAD_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "asidekv/store.h"
#include "tests/distributed/history.h"
#include "tests/distributed/history_checker.h"

namespace asidekv::distributed {

// Opens the Store of client process `process` (0-based), in that process.
using OpenStore = std::function<absl::StatusOr<std::unique_ptr<Store>>(int process)>;
// Opens a Store with the cache off (cache_capacity_bytes = 0) over the same database.
using OpenDatabaseReader = std::function<absl::StatusOr<std::unique_ptr<Store>>()>;

struct WorkloadOptions {
  enum class Mode { kFork, kInProcess };
  Mode mode = Mode::kFork;
  int processes = 3;
  int threads = 2;  // Per process.
  int keys = 8;     // Keys "<key_prefix>0" .. "<key_prefix><keys-1>", all absent at the start.
  // Keys "<key_prefix><keys>" .. "<key_prefix><keys + read_only_keys - 1>": the threads read
  // them (a Get picks among every key) and never write them; something else may (a fault
  // campaign's killed writers, whose missing invalidations no later write then hides). The final
  // reads cover them too.
  int read_only_keys = 0;
  std::string key_prefix = "k";
  // How long the threads run operations; $ASIDEKV_DISTRIBUTED_SECONDS replaces it when set.
  absl::Duration duration = absl::Seconds(3);
  // Each thread makes at most this many operations per second (it sleeps when ahead), which
  // bounds the logs of a fast Store without shortening the run. 0: no limit.
  int max_ops_per_second = 10000;
  // The operation mix, in percent; batches take the rest. A batch writes 2 or 3 distinct keys,
  // each a put (3 in 4) or a delete.
  int get_percent = 50;
  int put_percent = 25;
  int delete_percent = 10;
  // Written values are UniqueValue(...) padded to this many bytes.
  size_t value_size = 0;
  // Wait between the last write and the final reads: at least the staleness bound, so that
  // every cache has let go of older values.
  absl::Duration quiesce = absl::ZeroDuration();
  // How much longer than duration + quiesce the run may take before its children are killed.
  absl::Duration grace = absl::Seconds(60);
  // 0: $ASIDEKV_SEED, else a random seed.
  uint64_t seed = 0;
  // Existing folder for the logs. Required.
  std::string log_dir;
  // The checker's bounds (CheckOptions::bound); RunWorkload fills in the seed and the database.
  CheckOptions check;
  // kFork: run by the parent right after it releases the children's start barrier, while they
  // run (a fault schedule: kill, pause or restart a server). It should return within
  // `duration`; the run's deadline counts it. Unset: nothing.
  std::function<void()> during;
};

struct WorkloadResult {
  uint64_t seed = 0;
  std::vector<Operation> history;  // Every process's operations, process by process.
  // The database's final content, when RunWorkload was given open_database.
  std::optional<std::map<std::string, std::string>> database;
  CheckResult check;
};

// The configurations every distributed run covers: the two write policies, and the cache off.
enum class CacheMode { kInvalidate, kUpdate, kOff };
// "Invalidate", "Update", "CacheOff" (gtest parameter names).
std::string CacheModeName(CacheMode mode);
// `options` with a 1 MiB cache and the write policy of `mode`, or with the cache off.
Options WithCacheMode(Options options, CacheMode mode);
// The checker's bounds for `processes` processes opened with `options`: max_staleness for every
// process with the cache on, zero with it off.
CheckOptions BoundsFor(const Options& options, int processes);

// Runs the workload (protocol above) and checks its history with options.check. Statuses (each
// message ends with the seed): InvalidArgument for bad options; Internal when a child failed
// (its exit status and error file); DeadlineExceeded when children hung (they are killed);
// DataLoss for a corrupt log. A run that completed returns OK, with violations in `check`.
absl::StatusOr<WorkloadResult> RunWorkload(const WorkloadOptions& options, const OpenStore& open,
                                           const OpenDatabaseReader& open_database = nullptr);

// Re-checks a finished run with other options (other bounds), keeping its seed and database.
CheckResult Recheck(const WorkloadResult& result, CheckOptions options);

}  // namespace asidekv::distributed

#endif  // ASIDEKV_TESTS_DISTRIBUTED_WORKLOAD_H_
