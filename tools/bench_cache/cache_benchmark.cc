// Micro-benchmarks of asidekv's ShardedCache against RocksDB's LRUCache and HyperClockCache,
// run in one process on the same pre-generated keys.
//
// Benchmarks are named  <op>/<keys>/<capacity>/<backend>  and run at 1 and 2 threads, real time:
//   op        lookup  Lookup; a miss inserts the key (read-through), so hit_ratio shows the
//                     policy at work when the cache is smaller than the key set.
//             insert  Insert (replacing, and evicting at the smaller capacity).
//             mixed   90% Lookup (no fill on a miss), 5% Insert, 5% erase.
//             refill  asidekv only: Invalidate, then the read a read after a write runs
//                     (AsideBackend::InvalidateAndFill: lookup, then lead the fill, wait for
//                     another thread's, or hit): the cache's share of a cache-aside update
//                     followed by a read of the key, without the database.
//   keys      zipf (theta 0.99, ranks scattered over the key set) or uniform, over --keys keys.
//   capacity  full: every key fits (the lookup benchmark is all hits); half: about half fit.
//   backend   asidekv (Cache::LookupCopy, as Store::Get reads), asidekv_pin (Cache::Lookup, a
//             pinned ValueRef; lookup only), rocksdb_lru, rocksdb_hcc.
// A hit copies the 100-byte value into a thread-local string, for every backend. Each benchmark
// starts from a freshly built cache holding every key inserted once, in key order (shared by
// its thread counts and repetitions). items_per_second counts operations of all threads.
// The keys sit in one contiguous array, and each step prefetches the key kKeyPrefetch steps
// ahead, as a caller's key is in its cache when it calls: the time is the cache's own. (With a
// std::string per key, a 16-byte key is out of the string's inline buffer, and every step paid
// two memory misses of the harness's before the cache's: 40-120 ns of every backend's figure.)
//
//   cache_benchmark [--keys=N] [--deadlock_detection=0] [benchmark flags]
//   e.g. --benchmark_filter='lookup/.*/full' --benchmark_repetitions=3
// --keys: the key set (default 1,000,000).
// --deadlock_detection=0: turns off absl::Mutex's lock-order tracking, which an Abseil built
//   without NDEBUG (Debian's) runs on every Lock() under one process-wide spinlock: it doubles
//   the instructions of a ShardedCache hit and serialises all shards. Default: left as built.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "benchmark/benchmark.h"
#include "tools/bench_cache/cache_backends.h"

namespace asidekv::bench_cache {
namespace {

// Length of each pre-generated sequence (a power of two); threads start at spread offsets.
constexpr size_t kSequence = size_t{1} << 22;
// How many steps ahead the loop prefetches its key.
constexpr size_t kKeyPrefetch = 16;

enum class Op { kLookup, kInsert, kMixed, kRefill };
enum class Keys { kZipf, kUniform };
enum class Capacity { kFull, kHalf };

// The key set and the index sequences every backend replays.
struct Workload {
  size_t num_keys = 1'000'000;
  std::string key_bytes;          // Key i at i * kKeySize.
  std::vector<uint32_t> zipf;     // Key indexes.
  std::vector<uint32_t> uniform;  // Key indexes.
  std::vector<uint8_t> mix;       // Per step of "mixed": < 90 lookup, < 95 insert, else erase.
  std::string value = std::string(kValueSize, 'v');

  const std::vector<uint32_t>& sequence(Keys k) const { return k == Keys::kZipf ? zipf : uniform; }
  std::string_view key(size_t i) const { return {key_bytes.data() + i * kKeySize, kKeySize}; }

  // Bytes of capacity that hold every key with room to spare, for all three caches (asidekv
  // charges payload + kEntryOverhead, RocksDB payload + its handle), or about half of them.
  uint64_t CapacityFor(Capacity c) const {
    const uint64_t payload = num_keys * (kKeySize + kValueSize);
    return c == Capacity::kFull ? payload * 5 / 2 : payload * 3 / 4;
  }
};

Workload& TheWorkload() {
  static Workload* const w = new Workload();
  return *w;
}

// YCSB's Zipfian generator (Gray et al.) over [0, n), rank 0 the most popular.
class Zipfian {
 public:
  Zipfian(uint64_t n, double theta) : n_(n), theta_(theta) {
    double zetan = 0;
    for (uint64_t i = 1; i <= n; ++i) zetan += 1.0 / std::pow(static_cast<double>(i), theta);
    const double zeta2 = 1.0 + 1.0 / std::pow(2.0, theta);
    zetan_ = zetan;
    alpha_ = 1.0 / (1.0 - theta);
    eta_ = (1.0 - std::pow(2.0 / static_cast<double>(n), 1.0 - theta)) / (1.0 - zeta2 / zetan);
  }
  template <typename Rng>
  uint64_t Next(Rng& rng) {
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    const double uz = u * zetan_;
    if (uz < 1.0) return 0;
    if (uz < 1.0 + std::pow(0.5, theta_)) return 1;
    const auto r =
        static_cast<uint64_t>(static_cast<double>(n_) * std::pow(eta_ * u - eta_ + 1.0, alpha_));
    return std::min(r, n_ - 1);
  }

 private:
  uint64_t n_;
  double theta_;
  double zetan_;
  double alpha_;
  double eta_;
};

void BuildWorkload(size_t num_keys) {
  Workload& w = TheWorkload();
  w.num_keys = num_keys;
  w.key_bytes.reserve(num_keys * kKeySize);
  for (size_t i = 0; i < num_keys; ++i) w.key_bytes += KeyOf(i);
  std::mt19937_64 rng(42);
  // Popularity ranks land on random keys, so hot keys spread over every cache's shards.
  std::vector<uint32_t> rank_to_key(num_keys);
  std::iota(rank_to_key.begin(), rank_to_key.end(), 0);
  std::shuffle(rank_to_key.begin(), rank_to_key.end(), rng);
  Zipfian zipf(num_keys, 0.99);
  std::uniform_int_distribution<uint32_t> uniform(0, static_cast<uint32_t>(num_keys - 1));
  std::uniform_int_distribution<int> percent(0, 99);
  w.zipf.resize(kSequence);
  w.uniform.resize(kSequence);
  w.mix.resize(kSequence);
  for (size_t i = 0; i < kSequence; ++i) {
    w.zipf[i] = rank_to_key[zipf.Next(rng)];
    w.uniform[i] = uniform(rng);
    w.mix[i] = static_cast<uint8_t>(percent(rng));
  }
}

constexpr int kMaxThreads = 2;

// The cache a benchmark runs on: built and filled by thread 0 of the first run of a benchmark,
// kept for its other thread counts and repetitions, replaced when another benchmark starts.
// Each thread's place in the sequence carries over from run to run too: Google Benchmark runs a
// benchmark several times (to size it, and per repetition), and replaying the same prefix would
// find the keys the previous run just filled.
template <typename Backend>
struct Current {
  static inline int id = -1;
  static inline std::unique_ptr<Backend> backend;
  static inline size_t cursor[kMaxThreads] = {};
};

template <typename Backend>
void Prepare(int id, Capacity capacity) {
  if (Current<Backend>::id == id) return;
  Current<Backend>::backend.reset();
  const Workload& w = TheWorkload();
  auto backend = std::make_unique<Backend>(w.CapacityFor(capacity));
  for (size_t i = 0; i < w.num_keys; ++i) backend->Insert(w.key(i), w.value);
  Current<Backend>::backend = std::move(backend);
  Current<Backend>::id = id;
  for (int t = 0; t < kMaxThreads; ++t) Current<Backend>::cursor[t] = t * (kSequence / kMaxThreads);
}

template <typename Backend>
void Run(benchmark::State& state, int id, Op op, Keys keys, Capacity capacity) {
  if (state.thread_index() == 0) Prepare<Backend>(id, capacity);
  const Workload& w = TheWorkload();
  const std::vector<uint32_t>& seq = w.sequence(keys);
  const std::string_view value = w.value;
  thread_local std::string out;
  uint64_t lookups = 0;
  uint64_t hits = 0;
  uint64_t filled = 0;
  const absl::StatusOr<std::string> loaded(w.value);
  const auto end = state.end();  // Waits for every thread, so thread 0 has prepared the cache.
  Backend& b = *Current<Backend>::backend;
  size_t& cursor = Current<Backend>::cursor[state.thread_index()];
  size_t pos = cursor;
  for (auto it = state.begin(); it != end; ++it) {
    __builtin_prefetch(w.key(seq[(pos + kKeyPrefetch) & (kSequence - 1)]).data());
    const std::string_view key = w.key(seq[pos]);
    switch (op) {
      case Op::kLookup:
        ++lookups;
        if (b.Lookup(key, &out)) {
          ++hits;
        } else {
          b.Insert(key, value);
        }
        break;
      case Op::kInsert:
        b.Insert(key, value);
        break;
      case Op::kMixed: {
        const uint8_t m = w.mix[pos];
        if (m < 90) {
          ++lookups;
          hits += b.Lookup(key, &out) ? 1 : 0;
        } else if (m < 95) {
          b.Insert(key, value);
        } else {
          b.Erase(key);
        }
        break;
      }
      case Op::kRefill:
        if constexpr (requires { b.InvalidateAndFill(key, loaded, &out); }) {
          filled += b.InvalidateAndFill(key, loaded, &out) ? 1 : 0;
        }
        break;
    }
    pos = (pos + 1) & (kSequence - 1);
  }
  cursor = pos;
  benchmark::DoNotOptimize(out);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  if (op == Op::kRefill) {
    state.counters["filled"] =
        benchmark::Counter(static_cast<double>(filled) / std::max<uint64_t>(1, state.iterations()),
                           benchmark::Counter::kAvgThreads);
  }
  if (lookups > 0) {
    state.counters["hit_ratio"] =
        benchmark::Counter(static_cast<double>(hits) / lookups, benchmark::Counter::kAvgThreads);
  }
}

template <typename Backend>
void Register(int id, const char* op_name, Op op, const char* keys_name, Keys keys,
              const char* cap_name, Capacity capacity) {
  const std::string name =
      std::string(op_name) + "/" + keys_name + "/" + cap_name + "/" + Backend::kName;
  benchmark::RegisterBenchmark(
      name.c_str(), [=](benchmark::State& state) { Run<Backend>(state, id, op, keys, capacity); })
      ->Threads(1)
      ->Threads(kMaxThreads)
      ->UseRealTime();
}

void RegisterAll() {
  int id = 0;
  for (const auto& [op_name, op] :
       {std::pair{"lookup", Op::kLookup}, std::pair{"insert", Op::kInsert},
        std::pair{"mixed", Op::kMixed}, std::pair{"refill", Op::kRefill}}) {
    for (const auto& [keys_name, keys] :
         {std::pair{"zipf", Keys::kZipf}, std::pair{"uniform", Keys::kUniform}}) {
      for (const auto& [cap_name, cap] :
           {std::pair{"full", Capacity::kFull}, std::pair{"half", Capacity::kHalf}}) {
        ++id;
        Register<AsideBackend>(id, op_name, op, keys_name, keys, cap_name, cap);
        if (op == Op::kRefill) continue;
        if (op == Op::kLookup)
          Register<AsidePinBackend>(id, op_name, op, keys_name, keys, cap_name, cap);
        Register<LruBackend>(id, op_name, op, keys_name, keys, cap_name, cap);
        Register<HyperClockBackend>(id, op_name, op, keys_name, keys, cap_name, cap);
      }
    }
  }
}

}  // namespace
}  // namespace asidekv::bench_cache

int main(int argc, char** argv) {
  size_t num_keys = 1'000'000;
  // Take our flags out of argv before Google Benchmark parses the rest.
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--keys=", 7) == 0) {
      num_keys = std::strtoull(argv[i] + 7, nullptr, 10);
    } else if (std::strcmp(argv[i], "--deadlock_detection=0") == 0) {
      absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
      benchmark::AddCustomContext("absl_deadlock_detection", "off");
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  if (num_keys < 2 || num_keys > UINT32_MAX) {
    std::fprintf(stderr, "--keys must be in [2, 2^32)\n");
    return 2;
  }
  asidekv::bench_cache::BuildWorkload(num_keys);
  asidekv::bench_cache::RegisterAll();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
