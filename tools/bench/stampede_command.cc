#include "tools/bench/stampede_command.h"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "asidekv/asidekv.h"
#include "tools/bench/clock.h"
#include "tools/bench/db_folder.h"
#include "tools/bench/flags.h"
#include "tools/bench/histogram.h"

namespace asidekv::bench {
namespace {

struct StampedeConfig {
  int64_t threads = 32;
  absl::Duration ttl = absl::Milliseconds(50);
  absl::Duration duration = absl::Seconds(3);
  int64_t value_size = 4096;
  int64_t other_keys = 5000;  // Cold keys around the hot one, so its DB read is not trivial.
  double fraction = 0.2;
  double beta = 1.0;
  std::string path;
};

struct ModeResult {
  const char* name;
  Stats stats;
  Histogram latency;
  double periods = 0;
  uint64_t gets = 0;
};

const char* kModeNames[] = {"off", "background", "xfetch"};
constexpr RefreshAhead kModes[] = {RefreshAhead::kOff, RefreshAhead::kBackground,
                                   RefreshAhead::kProbabilistic};

absl::Status RunMode(const StampedeConfig& c, const std::string& path, int mode, ModeResult* out) {
  Options o;
  o.path = path;
  o.default_ttl = c.ttl;
  o.refresh_ahead = kModes[mode];
  o.refresh_ahead_fraction = c.fraction;
  o.early_expiration_beta = c.beta;
  o.latency_stats = false;
  absl::StatusOr<std::unique_ptr<Store>> opened = Store::Open(o);
  if (!opened.ok()) return opened.status();
  Store& store = **opened;
  const std::string value(static_cast<size_t>(c.value_size), 'h');
  const std::string filler(static_cast<size_t>(c.value_size), 'f');
  for (int64_t i = 0; i < c.other_keys; ++i) {
    absl::Status s = store.Put("cold" + std::to_string(i), filler);
    if (!s.ok()) return s;
  }
  absl::Status s = store.Put("hot", value);
  if (s.ok()) s = store.Flush();
  if (s.ok()) s = store.CompactAll();
  if (!s.ok()) return s;
  store.Invalidate("hot");
  if (absl::StatusOr<std::string> v = store.Get("hot"); !v.ok()) return v.status();
  const Stats before = store.GetStats();

  std::atomic<bool> stop{false};
  std::atomic<bool> failed{false};
  std::vector<Histogram> histograms(static_cast<size_t>(c.threads));
  std::vector<std::thread> readers;
  const int64_t start = NowNanos();
  for (int64_t t = 0; t < c.threads; ++t) {
    readers.emplace_back([&, t] {
      Histogram& h = histograms[static_cast<size_t>(t)];
      while (!stop.load(std::memory_order_relaxed)) {
        const int64_t t0 = NowNanos();
        absl::StatusOr<std::string> v = store.Get("hot");
        h.Record(static_cast<uint64_t>(NowNanos() - t0));
        if (!v.ok() || v->size() != value.size()) failed.store(true);
      }
    });
  }
  absl::SleepFor(c.duration);
  stop.store(true);
  for (std::thread& r : readers) r.join();
  const int64_t elapsed = NowNanos() - start;
  if (failed.load()) return absl::InternalError("a Get of the hot key failed or was wrong");

  const Stats after = store.GetStats();
  out->name = kModeNames[mode];
  out->stats = after;
  out->stats.db_reads = after.db_reads - before.db_reads;
  out->stats.cache_misses = after.cache_misses - before.cache_misses;
  out->stats.coalesced_waits = after.coalesced_waits - before.coalesced_waits;
  out->stats.refreshes = after.refreshes - before.refreshes;
  out->stats.early_expirations = after.early_expirations - before.early_expirations;
  for (const Histogram& h : histograms) out->latency.Merge(h);
  out->gets = out->latency.count();
  out->periods =
      static_cast<double>(elapsed) / static_cast<double>(absl::ToInt64Nanoseconds(c.ttl));
  return absl::OkStatus();
}

}  // namespace

int RunStampedeCommand(int argc, const char* const* argv, int first) {
  StampedeConfig c;
  FlagParser flags;
  flags.AddInt("threads", &c.threads, 1, 1024, "reader threads on the hot key");
  flags.AddDuration("ttl", &c.ttl, "TTL of the hot key's cache entry");
  flags.AddDuration("duration", &c.duration, "measured run per mode");
  flags.AddInt("value_size", &c.value_size, 1, 64 << 20, "bytes of each value");
  flags.AddInt("other_keys", &c.other_keys, 0, 10'000'000, "cold keys written around the hot one");
  flags.AddDouble("fraction", &c.fraction, 0.001, 0.999, "refresh_ahead_fraction (background)");
  flags.AddDouble("beta", &c.beta, 1e-6, 1e6, "early_expiration_beta (xfetch)");
  flags.AddString("path", &c.path, "folder for the databases (default: a temporary folder)");
  absl::Status s = flags.Parse(argc, argv, first);
  if (flags.help_requested()) {
    std::cout << "usage: asidekv-bench stampede [flags]\n\n" << flags.Usage();
    return 0;
  }
  if (!s.ok()) {
    std::cerr << "asidekv-bench stampede: " << s.message() << "\n";
    return 2;
  }
  if (c.ttl <= absl::ZeroDuration() || c.duration <= absl::ZeroDuration()) {
    std::cerr << "asidekv-bench stampede: --ttl and --duration must be positive\n";
    return 2;
  }
  DbFolder folder;
  const std::vector<std::string> subs = {"off", "background", "xfetch"};
  s = folder.Create(c.path, subs, /*keep=*/false);
  if (!s.ok()) {
    std::cerr << "asidekv-bench stampede: " << s.message() << "\n";
    return 2;
  }
  std::printf("hot key, %lld readers, TTL %s, %s per mode, %lld-byte values\n",
              static_cast<long long>(c.threads), absl::FormatDuration(c.ttl).c_str(),
              absl::FormatDuration(c.duration).c_str(), static_cast<long long>(c.value_size));
  std::printf("%-10s %12s %10s %9s %9s %9s %9s %10s %10s\n", "mode", "db_reads/exp", "gets/s",
              "p50_us", "p99_us", "p999_us", "max_us", "misses", "refreshes");
  for (int mode = 0; mode < 3; ++mode) {
    ModeResult r;
    s = RunMode(c, folder.PathFor(subs[static_cast<size_t>(mode)]), mode, &r);
    if (!s.ok()) {
      std::cerr << "asidekv-bench stampede: " << kModeNames[mode] << ": " << s.message() << "\n";
      return 1;
    }
    const double seconds = absl::ToDoubleSeconds(c.duration);
    std::printf("%-10s %12.2f %10.0f %9.1f %9.1f %9.1f %9.1f %10llu %10llu\n", r.name,
                static_cast<double>(r.stats.db_reads) / r.periods,
                static_cast<double>(r.gets) / seconds, r.latency.Percentile(0.5) / 1e3,
                r.latency.Percentile(0.99) / 1e3, r.latency.Percentile(0.999) / 1e3,
                r.latency.max() / 1e3, static_cast<unsigned long long>(r.stats.cache_misses),
                static_cast<unsigned long long>(r.stats.refreshes));
  }
  return 0;
}

}  // namespace asidekv::bench
