#include "tools/bench/runner.h"

#include <time.h>

#include <latch>
#include <thread>

#include "absl/synchronization/notification.h"

namespace asidekv::bench {

void RunOnThreads(int threads, absl::FunctionRef<void(int)> body, const ProgressLine& progress,
                  absl::FunctionRef<void(double)> on_tick) {
  std::latch ready(threads);
  std::atomic<int> running{threads};
  absl::Notification all_done;
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      ready.arrive_and_wait();
      body(t);
      if (running.fetch_sub(1, std::memory_order_acq_rel) == 1) all_done.Notify();
    });
  }
  if (progress.active()) {
    const int64_t start = NowNanos();
    while (!all_done.WaitForNotificationWithTimeout(absl::Milliseconds(200))) {
      on_tick(static_cast<double>(NowNanos() - start) / 1e9);
    }
  }
  for (std::thread& thread : pool) thread.join();
}

double ProcessCpuSeconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

PhaseResult MergeWorkers(const std::vector<std::unique_ptr<WorkerState>>& workers) {
  PhaseResult merged;
  int64_t first_start = std::numeric_limits<int64_t>::max();
  int64_t last_end = std::numeric_limits<int64_t>::min();
  for (const auto& worker : workers) {
    first_start = std::min(first_start, worker->start_ns);
    last_end = std::max(last_end, worker->end_ns);
    AddPhase(worker->result, merged);
  }
  if (!workers.empty() && last_end > first_start) {
    merged.seconds = static_cast<double>(last_end - first_start) / 1e9;
  }
  return merged;
}

void AddPhase(const PhaseResult& r, PhaseResult& into) {
  into.ops += r.ops;
  into.cpu_seconds += r.cpu_seconds;
  for (int i = 0; i < kNumOpTypes; ++i) into.latency[i].Merge(r.latency[i]);
  into.point_reads += r.point_reads;
  into.not_found += r.not_found;
  into.scanned_pairs += r.scanned_pairs;
  into.verified += r.verified;
  into.verify_failures += r.verify_failures;
  into.errors += r.errors;
  into.wraps += r.wraps;
  if (into.first_failure.empty()) into.first_failure = r.first_failure;
}

void RecordFailure(PhaseResult& result, bool is_error, const std::string& message) {
  if (is_error) {
    ++result.errors;
  } else {
    ++result.verify_failures;
  }
  if (result.first_failure.empty()) result.first_failure = message;
}

}  // namespace asidekv::bench
