// The benchmark's inner loops: loading the records and running one phase of a workload on one
// backend, on several threads.
//
// Hot path per operation (RunWorker): format the key (and the value to write) into reused
// buffers, read the clock, make the one backend call, read the clock, record the latency in
// the thread's own Histogram for that OpType. The operations were generated beforehand; the
// backend is a template parameter, so there is no virtual call; nothing is allocated except
// what the backend itself allocates; no lock and no shared write (each thread publishes its
// progress counter in its own cache line every 256 operations, for the progress line only).
// A sample of the reads (every verify_every-th) has its value checked against RecordCodec,
// after the clock is read, and a loaded record that reads as missing is a failure.
//
// Thread safety: RunPhase/LoadRecords start and join their own threads; call them from one
// thread. `backend` must be safe for concurrent calls (see backend.h).

#ifndef ASIDEKV_TOOLS_BENCH_RUNNER_H_
#define ASIDEKV_TOOLS_BENCH_RUNNER_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "tools/bench/clock.h"
#include "tools/bench/progress.h"
#include "tools/bench/records.h"
#include "tools/bench/results.h"
#include "tools/bench/workload.h"

namespace asidekv::bench {

struct PhasePlan {
  // One operation sequence per thread (all non-empty). Not owned; outlives the call.
  const std::vector<std::vector<Op>>* ops = nullptr;
  const RecordCodec* codec = nullptr;  // Not owned.
  // Records [0, record_count) were loaded and are never deleted: they must read back.
  uint64_t record_count = 0;
  // Operations per thread; 0: run each thread until `duration` has passed.
  uint64_t ops_per_thread = 0;
  absl::Duration duration = absl::ZeroDuration();
  // Check the value of every verify_every-th read of each thread; 0: never.
  uint64_t verify_every = 0;
  std::string label;                 // For the progress line.
  ProgressLine* progress = nullptr;  // Not owned; may be inactive.
};

// What one worker thread collects; merged by RunPhase once every worker has finished.
struct alignas(64) WorkerState {
  std::atomic<uint64_t> progress{0};
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  PhaseResult result;
};

// Runs body(t) for t in [0, threads) on as many threads, released together. While they run,
// calls on_tick(elapsed seconds) about five times a second when `progress` is active.
void RunOnThreads(int threads, absl::FunctionRef<void(int)> body, const ProgressLine& progress,
                  absl::FunctionRef<void(double)> on_tick);

// Merges the workers' results; the phase lasts from the first start to the last end.
PhaseResult MergeWorkers(const std::vector<std::unique_ptr<WorkerState>>& workers);

// CPU time this process has used so far (CLOCK_PROCESS_CPUTIME_ID), in seconds.
double ProcessCpuSeconds();

// Adds the counts and latencies of `r` to `into` (not `seconds`); keeps into's first failure.
void AddPhase(const PhaseResult& r, PhaseResult& into);

// Records a failure (error or failed check) in `result`, keeping the first message.
void RecordFailure(PhaseResult& result, bool is_error, const std::string& message);

template <typename Backend>
void RunWorker(Backend& backend, const PhasePlan& plan, const std::vector<Op>& ops,
               WorkerState& state) {
  const RecordCodec& codec = *plan.codec;
  PhaseResult& result = state.result;
  std::string key;
  key.reserve(codec.key_size());
  std::string value;
  value.reserve(codec.max_value_size());
  std::string read_value;
  read_value.reserve(codec.max_value_size());
  std::string why;

  const uint64_t limit =
      plan.ops_per_thread > 0 ? plan.ops_per_thread : std::numeric_limits<uint64_t>::max();
  const int64_t start = NowNanos();
  const int64_t deadline = plan.ops_per_thread > 0
                               ? std::numeric_limits<int64_t>::max()
                               : start + absl::ToInt64Nanoseconds(plan.duration);
  uint64_t reads_until_check = plan.verify_every;
  size_t index = 0;
  uint64_t done = 0;
  state.start_ns = start;

  // A read's outcome: a loaded record must be there; a checked value must be right.
  auto check_read = [&](const Op& op, const absl::Status& s) {
    if (s.ok()) {
      if (plan.verify_every == 0 || --reads_until_check != 0) return;
      reads_until_check = plan.verify_every;
      ++result.verified;
      if (!codec.Verify(op.record, read_value, &why)) RecordFailure(result, false, why);
    } else if (absl::IsNotFound(s)) {
      if (op.record < plan.record_count) {
        RecordFailure(result, false, absl::StrCat("loaded record ", op.record, " not found"));
      } else {
        ++result.not_found;
      }
    } else {
      RecordFailure(result, true, s.ToString());
    }
  };

  while (done < limit) {
    if (index == ops.size()) {
      index = 0;
      ++result.wraps;
    }
    const Op& op = ops[index++];
    codec.FormatKey(op.record, &key);
    if (op.type != OpType::kRead && op.type != OpType::kScan) {
      codec.FormatValue(op.record, op.arg, &value);
    }
    int64_t t0 = 0;
    int64_t t1 = 0;
    switch (op.type) {
      case OpType::kRead: {
        t0 = NowNanos();
        absl::Status s = backend.Read(key, &read_value);
        t1 = NowNanos();
        ++result.point_reads;
        check_read(op, s);
        break;
      }
      case OpType::kUpdate:
      case OpType::kInsert: {
        t0 = NowNanos();
        absl::Status s = backend.Write(key, value);
        t1 = NowNanos();
        if (!s.ok()) RecordFailure(result, true, s.ToString());
        break;
      }
      case OpType::kScan: {
        t0 = NowNanos();
        absl::StatusOr<size_t> pairs = backend.Scan(key, op.arg);
        t1 = NowNanos();
        if (pairs.ok()) {
          result.scanned_pairs += *pairs;
        } else {
          RecordFailure(result, true, pairs.status().ToString());
        }
        break;
      }
      case OpType::kReadModifyWrite: {
        t0 = NowNanos();
        absl::Status s = backend.Read(key, &read_value);
        absl::Status w;
        if (s.ok() || absl::IsNotFound(s)) w = backend.Write(key, value);
        t1 = NowNanos();
        ++result.point_reads;
        check_read(op, s);
        if (!w.ok()) RecordFailure(result, true, w.ToString());
        break;
      }
    }
    result.latency[static_cast<int>(op.type)].Record(static_cast<uint64_t>(t1 - t0));
    ++done;
    if ((done & 255) == 0) {
      state.progress.store(done, std::memory_order_relaxed);
      // A broken backend: stop rather than spin on errors.
      if (result.errors > 1000) break;
    }
    if (t1 >= deadline) break;
  }
  state.end_ns = NowNanos();
  state.progress.store(done, std::memory_order_relaxed);
  result.ops = done;
}

// Runs one phase of a workload on `backend` with one thread per operation sequence.
template <typename Backend>
PhaseResult RunPhase(Backend& backend, const PhasePlan& plan) {
  const int threads = static_cast<int>(plan.ops->size());
  std::vector<std::unique_ptr<WorkerState>> workers;
  for (int t = 0; t < threads; ++t) workers.push_back(std::make_unique<WorkerState>());
  const uint64_t total_ops = plan.ops_per_thread * static_cast<uint64_t>(threads);
  const double duration_s = absl::ToDoubleSeconds(plan.duration);
  const double cpu_start = ProcessCpuSeconds();
  RunOnThreads(
      threads, [&](int t) { RunWorker(backend, plan, (*plan.ops)[t], *workers[t]); },
      *plan.progress,
      [&](double elapsed) {
        uint64_t done = 0;
        for (const auto& w : workers) done += w->progress.load(std::memory_order_relaxed);
        const double fraction = total_ops > 0 ? static_cast<double>(done) / total_ops
                                              : (duration_s > 0 ? elapsed / duration_s : -1);
        plan.progress->Update(plan.label, done, elapsed, std::min(fraction, 1.0));
      });
  PhaseResult merged = MergeWorkers(workers);
  merged.cpu_seconds = ProcessCpuSeconds() - cpu_start;
  return merged;
}

// Writes records [0, record_count) at version 0 in batches, spread over `threads` threads.
template <typename Backend>
absl::Status LoadRecords(Backend& backend, const RecordCodec& codec, uint64_t record_count,
                         int threads, ProgressLine& progress, const std::string& label) {
  constexpr uint64_t kBatch = 1000;
  std::vector<std::unique_ptr<WorkerState>> workers;
  for (int t = 0; t < threads; ++t) workers.push_back(std::make_unique<WorkerState>());
  std::vector<absl::Status> statuses(static_cast<size_t>(threads));
  const uint64_t batches = (record_count + kBatch - 1) / kBatch;
  RunOnThreads(
      threads,
      [&](int t) {
        std::vector<std::string> keys(kBatch);
        std::vector<std::string> values(kBatch);
        for (uint64_t b = static_cast<uint64_t>(t); b < batches;
             b += static_cast<uint64_t>(threads)) {
          const uint64_t first = b * kBatch;
          const uint64_t n = std::min(kBatch, record_count - first);
          for (uint64_t i = 0; i < n; ++i) {
            codec.FormatKey(first + i, &keys[i]);
            codec.FormatValue(first + i, 0, &values[i]);
          }
          absl::Status s = backend.LoadBatch(absl::MakeConstSpan(keys).first(n),
                                             absl::MakeConstSpan(values).first(n));
          if (!s.ok()) {
            statuses[static_cast<size_t>(t)] = s;
            return;
          }
          workers[static_cast<size_t>(t)]->progress.fetch_add(n, std::memory_order_relaxed);
        }
      },
      progress,
      [&](double elapsed) {
        uint64_t done = 0;
        for (const auto& w : workers) done += w->progress.load(std::memory_order_relaxed);
        progress.Update(label, done, elapsed, static_cast<double>(done) / record_count);
      });
  for (const absl::Status& s : statuses) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace asidekv::bench

#endif  // ASIDEKV_TOOLS_BENCH_RUNNER_H_
