#include "tools/trace/replay.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cache/sharded_cache.h"
#include "tools/trace/folder.h"
#include "tools/trace/opt.h"
#include "util/string_view.h"

namespace asidekv::trace {
namespace {

// The real cache with one shard and a weight of 1 per entry, so that its capacity counts objects.
class ShardedReplayCache final : public ReplayCache {
 public:
  explicit ShardedReplayCache(std::unique_ptr<cache::ShardedCache> cache)
      : cache_(std::move(cache)) {}

  bool Access(uint32_t /*key_id*/, std::string_view key) override {
    if (cache_->Lookup(key)) return true;
    cache_->Insert(key, /*value=*/"", cache::EntryOptions{});
    return false;
  }

 private:
  const std::unique_ptr<cache::ShardedCache> cache_;
};

// The real cache charged in bytes: a value holds its object's size (8 bytes, native order) and
// the weigher charges that size.
class SizedReplayCache final : public ReplayCache {
 public:
  SizedReplayCache(std::unique_ptr<cache::ShardedCache> cache, const std::vector<uint64_t>* sizes)
      : cache_(std::move(cache)), sizes_(sizes) {}

  static uint64_t Weigh(std::string_view /*key*/, std::string_view value) {
    uint64_t size = 0;
    if (value.size() == sizeof(size)) std::memcpy(&size, value.data(), sizeof(size));
    return size;
  }

  bool Access(uint32_t key_id, std::string_view key) override {
    if (cache_->Lookup(key)) return true;
    const uint64_t size = (*sizes_)[key_id];
    char value[sizeof(size)];
    std::memcpy(value, &size, sizeof(size));
    cache_->Insert(key, std::string_view(value, sizeof(value)), cache::EntryOptions{});
    return false;
  }

 private:
  const std::unique_ptr<cache::ShardedCache> cache_;
  const std::vector<uint64_t>* const sizes_;  // Borrowed: the trace's sizes.
};

// Our Abseil has its own absl::string_view, which std::string_view does not convert to.
absl::Status UsageError(std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(util::ToAbsl(what), "\n", util::ToAbsl(TraceToolUsage())));
}

// Splits "a,b,c" at commas.
std::vector<std::string_view> SplitCommas(std::string_view s) {
  std::vector<std::string_view> parts;
  for (size_t comma; (comma = s.find(',')) != std::string_view::npos; s.remove_prefix(comma + 1)) {
    parts.push_back(s.substr(0, comma));
  }
  parts.push_back(s);
  return parts;
}

template <typename T, typename Parse>
absl::Status ParseList(std::string_view flag, std::string_view value, Parse parse,
                       std::vector<T>* out) {
  for (std::string_view item : SplitCommas(value)) {
    T v;
    if (!parse(item, &v))
      return UsageError(
          absl::StrCat("bad value for ", util::ToAbsl(flag), ": ", util::ToAbsl(item)));
    out->push_back(v);
  }
  return absl::OkStatus();
}

absl::StatusOr<cache::PolicyKind> PolicyKindByName(std::string_view policy) {
  if (policy == "lru") return cache::PolicyKind::kLru;
  if (policy == "s3fifo") return cache::PolicyKind::kS3Fifo;
  if (policy == "wtinylfu") return cache::PolicyKind::kWTinyLfu;
  if (policy == "adaptive") return cache::PolicyKind::kAdaptiveS3Fifo;
  if (policy == "default") return cache::kDefaultPolicy;
  return absl::InvalidArgumentError(absl::StrCat("unknown policy '", util::ToAbsl(policy), "'"));
}

}  // namespace

uint64_t UniqueBytes(const Trace& trace) {
  uint64_t total = 0;
  for (uint64_t size : trace.sizes) total += size;
  return total;
}

uint64_t PercentOf(double p, uint64_t n) {
  return static_cast<uint64_t>(std::floor(p / 100.0 * static_cast<double>(n) + 1e-9));
}

double ReplayResult::HitRatioPercent() const {
  return requests == 0 ? 0.0 : 100.0 * static_cast<double>(hits) / static_cast<double>(requests);
}

double ReplayResult::ByteHitRatioPercent() const {
  return bytes == 0 ? 0.0 : 100.0 * static_cast<double>(hit_bytes) / static_cast<double>(bytes);
}

absl::StatusOr<std::unique_ptr<ReplayCache>> NewReplayCache(cache::PolicyKind kind,
                                                            uint64_t capacity_objects) {
  cache::CacheOptions options;
  options.capacity = capacity_objects;
  options.num_shards = 1;
  options.policy = kind;
  options.weigher = [](std::string_view, std::string_view) -> uint64_t { return 1; };
  absl::StatusOr<std::unique_ptr<cache::ShardedCache>> cache = cache::ShardedCache::Create(options);
  if (!cache.ok()) return cache.status();
  return std::make_unique<ShardedReplayCache>(*std::move(cache));
}

ReplayResult Replay(const Trace& trace, ReplayCache* cache) {
  ReplayResult result;
  result.requests = trace.requests.size();
  for (uint32_t id : trace.requests) {
    if (cache->Access(id, trace.keys[id])) ++result.hits;
  }
  return result;
}

const std::vector<std::string_view>& PolicyNames() {
  static const auto* const kNames =
      new std::vector<std::string_view>{"lru", "s3fifo", "wtinylfu", "adaptive", "default", "opt"};
  return *kNames;
}

absl::StatusOr<ReplayResult> ReplayPolicy(const Trace& trace, std::string_view policy,
                                          uint64_t capacity_objects) {
  if (policy == "opt") return ReplayOpt(trace, capacity_objects);
  absl::StatusOr<cache::PolicyKind> kind = PolicyKindByName(policy);
  if (!kind.ok()) return kind.status();
  absl::StatusOr<std::unique_ptr<ReplayCache>> cache = NewReplayCache(*kind, capacity_objects);
  if (!cache.ok()) return cache.status();
  return Replay(trace, cache->get());
}

absl::StatusOr<ReplayResult> ReplayPolicyBytes(const Trace& trace, std::string_view policy,
                                               uint64_t capacity_bytes) {
  if (trace.sizes.empty()) return absl::InvalidArgumentError("the trace has no object sizes");
  if (policy == "opt") return absl::InvalidArgumentError("no OPT for a byte budget");
  absl::StatusOr<cache::PolicyKind> kind = PolicyKindByName(policy);
  if (!kind.ok()) return kind.status();
  cache::CacheOptions options;
  options.capacity = capacity_bytes;
  options.num_shards = 1;
  options.policy = *kind;
  options.weigher = &SizedReplayCache::Weigh;
  absl::StatusOr<std::unique_ptr<cache::ShardedCache>> sharded =
      cache::ShardedCache::Create(options);
  if (!sharded.ok()) return sharded.status();
  SizedReplayCache cache(*std::move(sharded), &trace.sizes);
  ReplayResult result;
  result.requests = trace.requests.size();
  for (uint32_t id : trace.requests) {
    const uint64_t size = trace.sizes[id];
    result.bytes += size;
    if (cache.Access(id, trace.keys[id])) {
      ++result.hits;
      result.hit_bytes += size;
    }
  }
  return result;
}

std::string_view TraceToolUsage() {
  return "usage: asidekv-trace --file F (--capacity-objects N[,N...] | "
         "--capacity-percent P[,P...]) [--policy lru|s3fifo|wtinylfu|adaptive|default|opt[,...]] "
         "[--bytes]\n"
         "       asidekv-trace --dir D   (every trace of D at 1%, 5%, 10%, against D/README.md)";
}

absl::StatusOr<TraceToolOptions> ParseTraceToolArgs(const std::vector<std::string_view>& args) {
  TraceToolOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view flag = args[i];
    std::string_view value;
    if (flag == "--bytes") {
      options.bytes = true;
      continue;
    }
    if (const size_t eq = flag.find('='); eq != std::string_view::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return UsageError(absl::StrCat("missing value for ", util::ToAbsl(flag)));
    }
    absl::Status s;
    if (flag == "--file") {
      options.file = std::string(value);
    } else if (flag == "--dir") {
      options.dir = std::string(value);
    } else if (flag == "--capacity-objects") {
      s = ParseList(
          flag, value,
          [](std::string_view v, uint64_t* out) { return absl::SimpleAtoi(util::ToAbsl(v), out); },
          &options.capacity_objects);
    } else if (flag == "--capacity-percent") {
      s = ParseList(
          flag, value,
          [](std::string_view v, double* out) {
            return absl::SimpleAtod(util::ToAbsl(v), out) && *out >= 0 && *out <= 100;
          },
          &options.capacity_percents);
    } else if (flag == "--policy") {
      for (std::string_view p : SplitCommas(value)) options.policies.emplace_back(p);
    } else {
      return UsageError(absl::StrCat("unknown flag ", util::ToAbsl(flag)));
    }
    if (!s.ok()) return s;
  }
  if (!options.dir.empty()) {
    if (!options.file.empty()) return UsageError("--dir and --file exclude each other");
    return options;
  }
  if (options.file.empty()) return UsageError("--file or --dir is required");
  if (options.bytes && !options.capacity_objects.empty()) {
    return UsageError("--bytes takes --capacity-percent");
  }
  if (options.capacity_objects.empty() && options.capacity_percents.empty()) {
    return UsageError("--capacity-objects or --capacity-percent is required");
  }
  for (const std::string& p : options.policies) {
    if (std::find(PolicyNames().begin(), PolicyNames().end(), p) == PolicyNames().end()) {
      return UsageError(absl::StrCat("unknown policy '", p, "'"));
    }
  }
  return options;
}

absl::Status RunTraceTool(const TraceToolOptions& options, std::ostream& out) {
  if (!options.dir.empty()) return RunTraceFolder(options.dir, out);
  absl::StatusOr<Trace> trace = ReadTrace(options.file);
  if (!trace.ok()) return trace.status();
  out << "trace=" << options.file << " requests=" << trace->requests.size()
      << " unique_keys=" << trace->unique_keys();
  std::vector<std::string> policies = options.policies;
  if (policies.empty()) policies.assign(PolicyNames().begin(), PolicyNames().end());
  if (options.bytes) {
    const uint64_t unique_bytes = UniqueBytes(*trace);
    out << " unique_bytes=" << unique_bytes << "\n";
    for (double p : options.capacity_percents) {
      const uint64_t capacity = PercentOf(p, unique_bytes);
      for (const std::string& policy : policies) {
        if (policy == "opt") continue;
        absl::StatusOr<ReplayResult> r = ReplayPolicyBytes(*trace, policy, capacity);
        if (!r.ok()) return r.status();
        out << absl::StrFormat("policy=%s hit_ratio=%.2f byte_hit_ratio=%.2f capacity_bytes=%d\n",
                               policy, r->HitRatioPercent(), r->ByteHitRatioPercent(), capacity);
      }
    }
    return absl::OkStatus();
  }
  out << "\n";
  std::vector<uint64_t> capacities = options.capacity_objects;
  for (double p : options.capacity_percents) {
    capacities.push_back(PercentOf(p, trace->unique_keys()));
  }
  for (uint64_t capacity : capacities) {
    for (const std::string& policy : policies) {
      absl::StatusOr<ReplayResult> r = ReplayPolicy(*trace, policy, capacity);
      if (!r.ok()) return r.status();
      out << absl::StrFormat("policy=%s hit_ratio=%.2f capacity_objects=%d\n", policy,
                             r->HitRatioPercent(), capacity);
    }
  }
  return absl::OkStatus();
}

}  // namespace asidekv::trace
