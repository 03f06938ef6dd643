// Micro-benchmarks of the Redis tier (Options::redis), each against its baseline in the same run,
// over one PostgreSQL and one redis-server (tools/bench/redis_bench.sh starts private ones).
//
//   near_hit/redis_{off,on}        Get of a key in the near cache (every key pre-read, so every
//                                  Get is a hit), a Store over PostgreSQL without and with the
//                                  Redis tier: the cost of the coherence gate on the hit path.
//                                  1 and 2 threads.
//   near_miss/{store,hiredis}/{unix,tcp}
//                                  store: Get through a Store without a cache
//                                  (cache_capacity_bytes = 0) whose Redis holds every key, so each
//                                  Get is one GETL script hit; hiredis: a plain GET of the same
//                                  Redis key (and bytes) through hiredis, one connection per
//                                  thread. The same transport on both sides. 1 thread.
//   invalidation/latency           Store A writes a key that Store B holds in its near cache;
//                                  the time from just before A's Put until B's channel dropped
//                                  the key (B's invalidations_received moved, polled every few
//                                  microseconds by a second thread). One write per iteration,
//                                  manual time; p50_us, p99_us, max_us; A's own put_p50_us and
//                                  put_p99_us (the PostgreSQL commit is inside both); and
//                                  after_put_p50_us, after_put_p99_us: from A's Put returning
//                                  to B's drop (negative when B dropped the key first).
// Keys are 16 bytes, values --value_size bytes; Gets pick keys uniformly at random.
//
//   remote_benchmark --postgres=CONNINFO --redis_unix=PATH [--redis_tcp=HOST:PORT]
//                    [--keys=N] [--value_size=B] [--writes=N] [--deadlock_detection=0]
//                    [benchmark flags]
// --postgres: a libpq connection string; the data lives in the table asidekv_bench (created,
//   and filled with the keys when missing). --redis_unix: the server's Unix socket (required);
//   --redis_tcp: the same server over TCP (the tcp cells are skipped without it).
// --keys: Get benchmarks' key set (default 10,000); --value_size (default 100); --writes: writes
//   per invalidation run (default 1000). --deadlock_detection=0: as in cache_benchmark.
// After the runs, a table of medians (over --benchmark_repetitions) and each cell's ratio to
// its baseline is printed. Needs a redis-server without persistence (Store::Open refuses one).
#include <hiredis/hiredis.h>
#include <sys/prctl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/call_once.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "asidekv/asidekv.h"
#include "benchmark/benchmark.h"

namespace asidekv::bench_remote {
namespace {

constexpr char kTable[] = "asidekv_bench";
constexpr char kPrefix[] = "akvbench";            // Redis keys of the Get benchmarks.
constexpr char kInvalidationPrefix[] = "akvinv";  // Of the invalidation pair (not tracked by
                                                  // the other Stores' channels).
constexpr int kMaxThreads = 2;
constexpr size_t kSequence = 1 << 16;      // Pre-drawn key indexes per thread (a power of two).
constexpr size_t kInvalidationKeys = 200;  // Keys written in turn by the invalidation run.

struct Flags {
  std::string postgres;
  std::string redis_unix;
  std::string redis_tcp;  // HOST:PORT, or empty.
  size_t keys = 10000;
  size_t value_size = 100;
  int64_t writes = 1000;
};

Flags& TheFlags() {
  static Flags flags;
  return flags;
}

// 16-byte keys: "<4-char kind>-key-<7 digits>".
std::string KeyName(const char* kind, size_t i) { return absl::StrFormat("%s-key-%07d", kind, i); }

struct Workload {
  std::vector<std::string> keys;
  std::vector<std::string> invalidation_keys;
  std::string value;
  std::vector<uint32_t> sequence[kMaxThreads];  // Uniform key indexes, one stream per thread.
};

const Workload& TheWorkload() {
  static const Workload* const w = [] {
    auto* w = new Workload;
    const Flags& f = TheFlags();
    for (size_t i = 0; i < f.keys; ++i) w->keys.push_back(KeyName("data", i));
    for (size_t i = 0; i < kInvalidationKeys; ++i)
      w->invalidation_keys.push_back(KeyName("invl", i));
    w->value.assign(f.value_size, 'v');
    for (int t = 0; t < kMaxThreads; ++t) {
      std::mt19937_64 rng(1234 + t);
      std::uniform_int_distribution<uint32_t> pick(0, static_cast<uint32_t>(f.keys - 1));
      w->sequence[t].resize(kSequence);
      for (uint32_t& k : w->sequence[t]) k = pick(rng);
    }
    return w;
  }();
  return *w;
}

[[noreturn]] void Die(const std::string& what, const absl::Status& s) {
  std::fprintf(stderr, "remote_benchmark: %s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

Options BaseOptions() {
  Options o;
  o.postgres = TheFlags().postgres;
  o.postgres_table = kTable;
  o.max_staleness = absl::Hours(1);   // No entry expires during a run.
  o.cache_capacity_bytes = 64 << 20;  // Holds every key.
  return o;
}

std::unique_ptr<Store> OpenStore(const Options& o, const std::string& what) {
  absl::StatusOr<std::unique_ptr<Store>> s = Store::Open(o);
  if (!s.ok()) Die(absl::StrCat("open ", what), s.status());
  return *std::move(s);
}

// Writes every key of the workload into PostgreSQL once per process (in batches).
void Populate() {
  static absl::once_flag once;
  absl::call_once(once, [] {
    Options o = BaseOptions();
    o.cache_capacity_bytes = 0;
    std::unique_ptr<Store> store = OpenStore(o, "populate");
    const Workload& w = TheWorkload();
    std::vector<std::string> all = w.keys;
    all.insert(all.end(), w.invalidation_keys.begin(), w.invalidation_keys.end());
    WriteBatch batch;
    for (size_t i = 0; i < all.size(); ++i) {
      batch.Put(all[i], w.value);
      if (batch.size() == 500 || i + 1 == all.size()) {
        absl::Status s = store->Write(batch);
        if (!s.ok()) Die("populate", s);
        batch.Clear();
      }
    }
  });
}

void ReadAll(Store* store) {
  for (const std::string& k : TheWorkload().keys) {
    absl::StatusOr<std::string> v = store->Get(k);
    if (!v.ok()) Die("pre-read", v.status());
  }
}

// The Stores of the Get benchmarks, opened on first use and kept for the whole run (the
// interleaved repetitions come back to each).
enum class Cell { kNearOff, kNearOn, kMissUnix, kMissTcp };

Store* StoreFor(Cell cell) {
  static absl::Mutex mu;
  static std::map<Cell, std::unique_ptr<Store>>* stores =
      new std::map<Cell, std::unique_ptr<Store>>;
  absl::MutexLock lock(&mu);
  std::unique_ptr<Store>& s = (*stores)[cell];
  if (s != nullptr) return s.get();
  Populate();
  Options o = BaseOptions();
  o.redis_prefix = kPrefix;
  switch (cell) {
    case Cell::kNearOff:
      break;
    case Cell::kNearOn:
      o.redis = absl::StrCat("unix:", TheFlags().redis_unix);
      break;
    case Cell::kMissUnix:
    case Cell::kMissTcp:
      o.cache_capacity_bytes = 0;
      o.redis = cell == Cell::kMissUnix ? absl::StrCat("unix:", TheFlags().redis_unix)
                                        : TheFlags().redis_tcp;
      break;
  }
  s = OpenStore(o, "store");
  // Twice: the first pass fills Redis (leases won), whose broadcasts may drop near entries
  // again; the second is served by Redis and fills the near cache for good.
  ReadAll(s.get());
  absl::SleepFor(absl::Milliseconds(20));
  ReadAll(s.get());
  return s.get();
}

void NearHit(benchmark::State& state, Cell cell) {
  Store* store = StoreFor(cell);
  const Workload& w = TheWorkload();
  const std::vector<uint32_t>& seq = w.sequence[state.thread_index()];
  const Stats before = state.thread_index() == 0 ? store->GetStats() : Stats();
  size_t pos = 0;
  for (auto _ : state) {
    absl::StatusOr<std::string> v = store->Get(w.keys[seq[pos]]);
    benchmark::DoNotOptimize(v);
    pos = (pos + 1) & (kSequence - 1);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  if (state.thread_index() == 0) {
    // Over all threads' Gets (thread 0's iterations times the thread count, roughly).
    const double gets = static_cast<double>(state.iterations()) * state.threads();
    const Stats after = store->GetStats();
    state.counters["hit_ratio"] = static_cast<double>(after.cache_hits - before.cache_hits) / gets;
    // The gate closing (a late PONG on a busy machine) flushes the cache: misses follow.
    state.counters["flushes"] =
        static_cast<double>(after.coherence_flushes - before.coherence_flushes);
  }
}

void NearMissStore(benchmark::State& state, Cell cell) {
  Store* store = StoreFor(cell);
  const Workload& w = TheWorkload();
  const std::vector<uint32_t>& seq = w.sequence[state.thread_index()];
  const uint64_t remote_before = store->GetStats().remote_hits;
  size_t pos = 0;
  for (auto _ : state) {
    absl::StatusOr<std::string> v = store->Get(w.keys[seq[pos]]);
    if (!v.ok()) {
      state.SkipWithError(v.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(v);
    pos = (pos + 1) & (kSequence - 1);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["redis_hit_ratio"] =
      static_cast<double>(store->GetStats().remote_hits - remote_before) /
      std::max<double>(1, static_cast<double>(state.iterations()));
}

// One hiredis connection per (transport, thread), kept for the run.
redisContext* Connection(bool unix_socket, int thread) {
  static absl::Mutex mu;
  static std::map<std::pair<bool, int>, redisContext*>* conns =
      new std::map<std::pair<bool, int>, redisContext*>;
  absl::MutexLock lock(&mu);
  redisContext*& c = (*conns)[{unix_socket, thread}];
  if (c != nullptr) return c;
  if (unix_socket) {
    c = redisConnectUnix(TheFlags().redis_unix.c_str());
  } else {
    const std::string& a = TheFlags().redis_tcp;
    const size_t colon = a.rfind(':');
    c = redisConnect(a.substr(0, colon).c_str(), std::atoi(a.c_str() + colon + 1));
  }
  if (c == nullptr || c->err != 0) {
    Die("hiredis connect", absl::UnavailableError(c != nullptr ? c->errstr : "out of memory"));
  }
  return c;
}

void NearMissHiredis(benchmark::State& state, Cell cell) {
  StoreFor(cell);  // Redis holds every key once this Store has read them.
  const Workload& w = TheWorkload();
  std::vector<std::string> redis_keys;  // "<prefix>:v:{key}" as the Redis tier names them.
  redis_keys.reserve(w.keys.size());
  for (const std::string& k : w.keys) redis_keys.push_back(absl::StrCat(kPrefix, ":v:{", k, "}"));
  redisContext* c = Connection(cell == Cell::kMissUnix, state.thread_index());
  const std::vector<uint32_t>& seq = w.sequence[state.thread_index()];
  size_t pos = 0;
  size_t found = 0;
  for (auto _ : state) {
    const std::string& k = redis_keys[seq[pos]];
    auto* reply = static_cast<redisReply*>(redisCommand(c, "GET %b", k.data(), k.size()));
    if (reply == nullptr) {
      state.SkipWithError(c->errstr);
      break;
    }
    // A copy of the value, as Store::Get makes.
    if (reply->type == REDIS_REPLY_STRING) {
      std::string v(reply->str, reply->len);
      benchmark::DoNotOptimize(v);
      ++found;
    }
    freeReplyObject(reply);
    pos = (pos + 1) & (kSequence - 1);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["redis_hit_ratio"] =
      static_cast<double>(found) / std::max<double>(1, static_cast<double>(state.iterations()));
}

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double Percentile(std::vector<int64_t> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return static_cast<double>(v[i]);
}

// The two Stores of the invalidation run (A writes, B holds the keys), kept for the whole run.
struct Pair {
  std::unique_ptr<Store> a;
  std::unique_ptr<Store> b;
  uint64_t written = 0;  // Values written so far (each write's value is new).
};

Pair& ThePair() {
  static Pair* const pair = [] {
    Populate();
    auto* p = new Pair;
    Options o = BaseOptions();
    o.redis = absl::StrCat("unix:", TheFlags().redis_unix);
    o.redis_prefix = kInvalidationPrefix;
    o.latency_stats = false;  // B's GetStats() is polled: keep it cheap.
    p->a = OpenStore(o, "store A");
    p->b = OpenStore(o, "store B");
    return p;
  }();
  return *pair;
}

// Waits until B's invalidation count stays put for 10 ms (no broadcast in flight).
uint64_t Quiesce(Store* b) {
  uint64_t last = b->GetStats().invalidations_received;
  for (;;) {
    absl::SleepFor(absl::Milliseconds(10));
    const uint64_t now = b->GetStats().invalidations_received;
    if (now == last) return now;
    last = now;
  }
}

// Puts every invalidation key in B's near cache, served by Redis. The first Get of a key A wrote
// wins its lease and fills Redis, and that fill's broadcast drops B's entry again; so: Get all,
// let the broadcasts land, Get all again (Redis hits: no broadcast), and check they are hits.
bool Rearm(Store* b) {
  const std::vector<std::string>& keys = TheWorkload().invalidation_keys;
  for (int attempt = 0; attempt < 5; ++attempt) {
    for (const std::string& k : keys) b->Get(k).IgnoreError();
    Quiesce(b);
    for (const std::string& k : keys) b->Get(k).IgnoreError();
    Quiesce(b);
    const uint64_t hits = b->GetStats().cache_hits;
    for (const std::string& k : keys) b->Get(k).IgnoreError();
    if (b->GetStats().cache_hits - hits == keys.size()) return true;
  }
  return false;
}

void InvalidationLatency(benchmark::State& state) {
  Pair& pair = ThePair();
  const std::vector<std::string>& keys = TheWorkload().invalidation_keys;
  std::vector<int64_t> latencies;  // Put start -> B dropped the key, ns.
  std::vector<int64_t> puts;       // A's Put, ns.
  std::vector<int64_t> after_put;  // A's Put returned -> B dropped the key, ns (may be < 0).
  size_t next = keys.size();       // Rearm before the first write.
  for (auto _ : state) {
    if (next == keys.size()) {
      if (!Rearm(pair.b.get())) {
        state.SkipWithError("B's near cache does not hold the keys");
        break;
      }
      next = 0;
    }
    const std::string& key = keys[next++];
    const std::string value = absl::StrCat(++pair.written, ":", TheWorkload().value);
    const uint64_t before = pair.b->GetStats().invalidations_received;
    std::atomic<bool> ready{false};
    int64_t dropped_at = 0;
    Store* b = pair.b.get();
    std::thread watcher([&] {
      prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);  // Short sleeps stay short.
      ready.store(true, std::memory_order_release);
      const int64_t give_up = NowNanos() + 2'000'000'000;
      while (b->GetStats().invalidations_received == before) {
        if (NowNanos() > give_up) return;
        std::this_thread::sleep_for(std::chrono::microseconds(5));
      }
      dropped_at = NowNanos();
    });
    while (!ready.load(std::memory_order_acquire)) std::this_thread::yield();
    const int64_t start = NowNanos();
    absl::Status s = pair.a->Put(key, value);
    const int64_t put_end = NowNanos();
    watcher.join();
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
    if (dropped_at == 0) {
      state.SkipWithError("B's cache never dropped the key");
      break;
    }
    latencies.push_back(dropped_at - start);
    puts.push_back(put_end - start);
    after_put.push_back(dropped_at - put_end);
    state.SetIterationTime(static_cast<double>(dropped_at - start) * 1e-9);
  }
  state.counters["p50_us"] = Percentile(latencies, 0.50) / 1e3;
  state.counters["p99_us"] = Percentile(latencies, 0.99) / 1e3;
  state.counters["max_us"] = Percentile(latencies, 1.0) / 1e3;
  state.counters["put_p50_us"] = Percentile(puts, 0.50) / 1e3;
  state.counters["put_p99_us"] = Percentile(puts, 0.99) / 1e3;
  state.counters["after_put_p50_us"] = Percentile(after_put, 0.50) / 1e3;
  state.counters["after_put_p99_us"] = Percentile(after_put, 0.99) / 1e3;
}

void RegisterAll() {
  for (const auto& [name, cell] : {std::pair{"near_hit/redis_off", Cell::kNearOff},
                                   std::pair{"near_hit/redis_on", Cell::kNearOn}}) {
    benchmark::RegisterBenchmark(name, [cell = cell](benchmark::State& s) { NearHit(s, cell); })
        ->Threads(1)
        ->Threads(kMaxThreads)
        ->UseRealTime();
  }
  std::vector<std::pair<std::string, Cell>> transports = {{"unix", Cell::kMissUnix}};
  if (!TheFlags().redis_tcp.empty()) transports.push_back({"tcp", Cell::kMissTcp});
  for (const auto& [transport, cell] : transports) {
    benchmark::RegisterBenchmark(("near_miss/store/" + transport).c_str(),
                                 [cell = cell](benchmark::State& s) { NearMissStore(s, cell); })
        ->UseRealTime();
    benchmark::RegisterBenchmark(("near_miss/hiredis/" + transport).c_str(),
                                 [cell = cell](benchmark::State& s) { NearMissHiredis(s, cell); })
        ->UseRealTime();
  }
  benchmark::RegisterBenchmark("invalidation/latency", InvalidationLatency)
      ->Iterations(TheFlags().writes)
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond);
}

// The console output, then a table of medians over the repetitions and each cell's ratio to its
// baseline (same thread count).
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      if (r.error_occurred) continue;
      // With --benchmark_display_aggregates_only only the aggregates come here: use the median.
      Samples* samples = &samples_;
      if (r.run_type == Run::RT_Aggregate) {
        if (r.aggregate_name != "median") continue;
        samples = &medians_;
      }
      // Cells without Threads() are named without a thread count: they run one thread.
      const std::string threads = r.run_name.threads.empty() ? "threads:1" : r.run_name.threads;
      Sample& s = (*samples)[r.run_name.function_name + "/" + threads];
      s.ns.push_back(r.GetAdjustedRealTime() * Multiplier(r.time_unit));
      s.cpu_ns.push_back(r.GetAdjustedCPUTime() * Multiplier(r.time_unit));
      for (const auto& [name, counter] : r.counters) s.counters[name].push_back(counter.value);
    }
  }

  void Finalize() override {
    ConsoleReporter::Finalize();
    if (samples_.empty()) samples_ = medians_;
    std::printf(
        "\nMedians over repetitions (ratio: cell / baseline, same run; in parentheses the\n"
        "ratio of CPU time of the benchmark's threads, less sensitive to a busy machine):\n");
    const std::pair<const char*, const char*> pairs[] = {
        {"near_hit/redis_on", "near_hit/redis_off"},
        {"near_miss/store/unix", "near_miss/hiredis/unix"},
        {"near_miss/store/tcp", "near_miss/hiredis/tcp"},
    };
    for (const auto& [cell, base] : pairs) {
      for (const char* threads : {"threads:1", "threads:2"}) {
        const auto c = samples_.find(absl::StrCat(cell, "/", threads));
        const auto b = samples_.find(absl::StrCat(base, "/", threads));
        if (c == samples_.end() || b == samples_.end()) continue;
        const double cn = Median(c->second.ns);
        const double bn = Median(b->second.ns);
        const double cc = Median(c->second.cpu_ns);
        const double bc = Median(b->second.cpu_ns);
        std::printf("  %-22s %-10s %9.1f ns  vs %-24s %9.1f ns  ratio %.3f  (CPU: %.3f)\n", cell,
                    threads, cn, base, bn, cn / bn, cc / bc);
      }
    }
    const auto inv = samples_.find("invalidation/latency/threads:1");
    if (inv != samples_.end()) {
      auto m = [&](const char* name) { return Median(inv->second.counters[name]); };
      std::printf(
          "  invalidation A.Put start -> B dropped: p50 %.1f us, p99 %.1f us, max %.1f us\n"
          "    A.Put itself: p50 %.1f us, p99 %.1f us; A.Put returned -> B dropped:"
          " p50 %.1f us, p99 %.1f us\n",
          m("p50_us"), m("p99_us"), m("max_us"), m("put_p50_us"), m("put_p99_us"),
          m("after_put_p50_us"), m("after_put_p99_us"));
    }
    std::fflush(stdout);
  }

 private:
  struct Sample {
    std::vector<double> ns;      // Real time per iteration.
    std::vector<double> cpu_ns;  // CPU time of the benchmark's threads per iteration.
    std::map<std::string, std::vector<double>> counters;
  };
  static double Multiplier(benchmark::TimeUnit unit) {
    switch (unit) {
      case benchmark::kSecond:
        return 1e9;
      case benchmark::kMillisecond:
        return 1e6;
      case benchmark::kMicrosecond:
        return 1e3;
      case benchmark::kNanosecond:
        return 1;
    }
    return 1;
  }
  static double Median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }
  using Samples = std::map<std::string, Sample>;
  Samples samples_;  // Each repetition.
  Samples medians_;  // The median aggregates.
};

}  // namespace
}  // namespace asidekv::bench_remote

int main(int argc, char** argv) {
  asidekv::bench_remote::Flags& f = asidekv::bench_remote::TheFlags();
  // Take our flags out of argv before Google Benchmark parses the rest.
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&](std::string_view flag) -> const char* {
      return a.substr(0, flag.size()) == flag ? argv[i] + flag.size() : nullptr;
    };
    if (const char* v = value("--postgres=")) {
      f.postgres = v;
    } else if (const char* v = value("--redis_unix=")) {
      f.redis_unix = v;
    } else if (const char* v = value("--redis_tcp=")) {
      f.redis_tcp = v;
    } else if (const char* v = value("--keys=")) {
      f.keys = std::strtoull(v, nullptr, 10);
    } else if (const char* v = value("--value_size=")) {
      f.value_size = std::strtoull(v, nullptr, 10);
    } else if (const char* v = value("--writes=")) {
      f.writes = std::strtoll(v, nullptr, 10);
    } else if (a == "--deadlock_detection=0") {
      absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
      benchmark::AddCustomContext("absl_deadlock_detection", "off");
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  if (f.postgres.empty() || f.redis_unix.empty()) {
    std::fprintf(stderr,
                 "remote_benchmark: --postgres and --redis_unix are required "
                 "(tools/bench/redis_bench.sh starts both servers)\n");
    return 2;
  }
  if (f.keys < 1 || f.keys > 9'999'999 || f.writes < 1) {
    std::fprintf(stderr, "remote_benchmark: --keys must be in [1, 9999999], --writes positive\n");
    return 2;
  }
  asidekv::bench_remote::RegisterAll();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  asidekv::bench_remote::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
