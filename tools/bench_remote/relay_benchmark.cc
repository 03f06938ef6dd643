// relay_benchmark: the commit-log relay's lag (Options::commit_log_relay) at a steady write rate,
// through the public API only.
//
//   relay_benchmark --postgres=CONNINFO --redis_unix=PATH [--rate=2000] [--seconds=10]
//                   [--writers=2]
//   (tools/bench/redis_bench.sh starts private servers and passes the first two; run it with
//    REMOTE_BENCHMARK=<this binary> PG_SETTINGS="wal_level=logical max_replication_slots=4
//    max_wal_senders=4"; other flags it passes are ignored.)
//
// Three Stores over the table asidekv_relay_bench (its slot is left on the server: use a private
// server, as the script does):
//   writer   PostgreSQL only, no cache: its writes invalidate nothing in Redis, so only the relay
//            does; `writers` threads Put `rate` single-key writes per second in all, paced;
//   relay    PostgreSQL + Redis + the relay (it leads: the only relaying Store);
//   probe    PostgreSQL + Redis, no cache: every 50 ms it takes a key Redis holds ("old"), has the
//            writer Put "new", and Gets it every 100 us until Redis no longer answers "old".
// Reported: the relay's lag (Stats::relay_lag: each transaction's commit to Redis's answer to
// its UNLINK) and the probe's (a Put's return to the first Get that no longer sees the old
// value), as p50 / p99 / max, and the write rate reached.
//
// Thread safety: the writer threads share the writer Store (thread-safe); the rest runs on main.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "asidekv/asidekv.h"

namespace {

struct Flags {
  std::string postgres;
  std::string redis;
  int rate = 2000;
  int seconds = 10;
  int writers = 2;
};

constexpr char kTable[] = "asidekv_relay_bench";

asidekv::Options BaseOptions(const Flags& f) {
  asidekv::Options o;
  o.postgres = f.postgres;
  o.postgres_table = kTable;
  o.postgres_connections = f.writers + 1;
  o.log = [](asidekv::LogSeverity, std::string_view) {};
  return o;
}

std::unique_ptr<asidekv::Store> OpenOrDie(const asidekv::Options& o, const char* what) {
  absl::StatusOr<std::unique_ptr<asidekv::Store>> s = asidekv::Store::Open(o);
  if (!s.ok()) {
    std::fprintf(stderr, "relay_benchmark: cannot open the %s Store: %s\n", what,
                 s.status().ToString().c_str());
    std::exit(1);
  }
  return *std::move(s);
}

double Ms(int64_t nanos) { return static_cast<double>(nanos) / 1e6; }

// The q-quantile of sorted `v`.
int64_t Quantile(const std::vector<int64_t>& v, double q) {
  if (v.empty()) return 0;
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

// Puts `per_second` writes per second until `stop`, each to a key of its own range.
void Write(asidekv::Store& store, int id, double per_second, const std::atomic<bool>& stop,
           std::atomic<uint64_t>& done, std::atomic<uint64_t>& failed) {
  const absl::Duration interval = absl::Seconds(1) / per_second;
  absl::Time due = absl::Now();
  for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
    const absl::Duration ahead = due - absl::Now();
    if (ahead > absl::ZeroDuration()) absl::SleepFor(ahead);
    due += interval;
    const absl::Status s =
        store.Put(absl::StrCat("w", id, ":", i % 10000), absl::StrCat("value ", i));
    (s.ok() ? done : failed).fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&](std::string_view flag) -> const char* {
      return a.substr(0, flag.size()) == flag ? argv[i] + flag.size() : nullptr;
    };
    if (const char* v = value("--postgres=")) {
      f.postgres = v;
    } else if (const char* v = value("--redis_unix=")) {
      f.redis = absl::StrCat("unix:", v);
    } else if (const char* v = value("--rate=")) {
      if (!absl::SimpleAtoi(v, &f.rate) || f.rate < 1) return 2;
    } else if (const char* v = value("--seconds=")) {
      if (!absl::SimpleAtoi(v, &f.seconds) || f.seconds < 1) return 2;
    } else if (const char* v = value("--writers=")) {
      if (!absl::SimpleAtoi(v, &f.writers) || f.writers < 1) return 2;
    }  // Others (--redis_tcp, --benchmark_*) are the script's: ignored.
  }
  if (f.postgres.empty() || f.redis.empty()) {
    std::fprintf(stderr, "relay_benchmark: --postgres and --redis_unix are required\n");
    return 2;
  }

  asidekv::Options writer_options = BaseOptions(f);
  writer_options.cache_capacity_bytes = 0;
  auto writer = OpenOrDie(writer_options, "writer");

  asidekv::Options relay_options = BaseOptions(f);
  relay_options.redis = f.redis;
  relay_options.max_staleness = absl::Seconds(60);
  relay_options.commit_log_relay = true;
  auto relay = OpenOrDie(relay_options, "relay");
  const absl::Time wait_until = absl::Now() + absl::Seconds(30);
  // Leading, and its first flush (of the slot it made) done.
  while (relay->GetStats().relay_flushes == 0 || relay->GetStats().relay_leader == 0) {
    if (absl::Now() > wait_until) {
      std::fprintf(stderr, "relay_benchmark: the relay did not start within 30 s\n");
      return 1;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }

  asidekv::Options probe_options = BaseOptions(f);
  probe_options.redis = f.redis;
  probe_options.cache_capacity_bytes = 0;
  auto probe = OpenOrDie(probe_options, "probe");

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> done{0};
  std::atomic<uint64_t> failed{0};
  std::vector<std::thread> threads;
  const absl::Time start = absl::Now();
  for (int w = 0; w < f.writers; ++w) {
    threads.emplace_back(
        [&, w] { Write(*writer, w, static_cast<double>(f.rate) / f.writers, stop, done, failed); });
  }
  std::vector<int64_t> end_to_end;
  uint64_t stuck = 0;
  for (int i = 0; absl::Now() - start < absl::Seconds(f.seconds); ++i) {
    const std::string key = absl::StrCat("probe", i);
    if (!writer->Put(key, "old").ok()) continue;
    absl::StatusOr<std::string> v = probe->Get(key);  // Redis now holds "old" (a fill).
    if (!v.ok() || *v != "old" || !probe->Get(key).ok()) continue;
    if (!writer->Put(key, "new").ok()) continue;
    const auto put_returned = std::chrono::steady_clock::now();
    bool seen = false;
    while (std::chrono::steady_clock::now() - put_returned < std::chrono::seconds(5)) {
      v = probe->Get(key);
      if (v.ok() && *v == "new") {
        seen = true;
        break;
      }
      absl::SleepFor(absl::Microseconds(100));
    }
    if (seen) {
      end_to_end.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::steady_clock::now() - put_returned)
                               .count());
    } else {
      ++stuck;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  stop.store(true);
  for (std::thread& t : threads) t.join();
  const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
  absl::SleepFor(absl::Milliseconds(500));  // The last writes are relayed.

  const asidekv::Stats s = relay->GetStats();
  std::sort(end_to_end.begin(), end_to_end.end());
  std::printf(
      "relay_benchmark: %.0f writes/s reached (target %d, %d writers, %.1f s, %llu failed)\n",
      static_cast<double>(done.load()) / elapsed, f.rate, f.writers, elapsed,
      static_cast<unsigned long long>(failed.load()));
  std::printf(
      "relay lag (commit -> UNLINK acknowledged), %llu transactions: p50 %.2f ms, "
      "p99 %.2f ms, p99.9 %.2f ms, max %.2f ms; flushes %llu\n",
      static_cast<unsigned long long>(s.relay_lag.count), Ms(s.relay_lag.p50_ns),
      Ms(s.relay_lag.p99_ns), Ms(s.relay_lag.p999_ns), Ms(s.relay_lag.max_ns),
      static_cast<unsigned long long>(s.relay_flushes));
  std::printf(
      "end to end (Put returned -> old value gone from Redis), %zu samples: p50 %.2f ms, "
      "p99 %.2f ms, max %.2f ms; %llu never seen within 5 s\n",
      end_to_end.size(), Ms(Quantile(end_to_end, 0.5)), Ms(Quantile(end_to_end, 0.99)),
      Ms(end_to_end.empty() ? 0 : end_to_end.back()), static_cast<unsigned long long>(stuck));
  return stuck == 0 ? 0 : 1;
}
