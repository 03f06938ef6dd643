#include "tools/trace/replay.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cache/sharded_cache.h"
#include "tools/trace/opt.h"

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

// Our Abseil has its own absl::string_view, which std::string_view does not convert to.
absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

absl::Status UsageError(std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(Absl(what), "\n", Absl(TraceToolUsage())));
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
      return UsageError(absl::StrCat("bad value for ", Absl(flag), ": ", Absl(item)));
    out->push_back(v);
  }
  return absl::OkStatus();
}

}  // namespace

double ReplayResult::HitRatioPercent() const {
  return requests == 0 ? 0.0 : 100.0 * static_cast<double>(hits) / static_cast<double>(requests);
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
      new std::vector<std::string_view>{"lru", "s3fifo", "default", "opt"};
  return *kNames;
}

absl::StatusOr<ReplayResult> ReplayPolicy(const Trace& trace, std::string_view policy,
                                          uint64_t capacity_objects) {
  if (policy == "opt") return ReplayOpt(trace, capacity_objects);
  cache::PolicyKind kind;
  if (policy == "lru") {
    kind = cache::PolicyKind::kLru;
  } else if (policy == "s3fifo") {
    kind = cache::PolicyKind::kS3Fifo;
  } else if (policy == "default") {
    kind = cache::kDefaultPolicy;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown policy '", Absl(policy), "'"));
  }
  absl::StatusOr<std::unique_ptr<ReplayCache>> cache = NewReplayCache(kind, capacity_objects);
  if (!cache.ok()) return cache.status();
  return Replay(trace, cache->get());
}

std::string_view TraceToolUsage() {
  return "usage: asidekv-trace --file F (--capacity-objects N[,N...] | "
         "--capacity-percent P[,P...]) [--policy lru|s3fifo|default|opt[,...]]";
}

absl::StatusOr<TraceToolOptions> ParseTraceToolArgs(const std::vector<std::string_view>& args) {
  TraceToolOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view flag = args[i];
    std::string_view value;
    if (const size_t eq = flag.find('='); eq != std::string_view::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return UsageError(absl::StrCat("missing value for ", Absl(flag)));
    }
    absl::Status s;
    if (flag == "--file") {
      options.file = std::string(value);
    } else if (flag == "--capacity-objects") {
      s = ParseList(
          flag, value,
          [](std::string_view v, uint64_t* out) { return absl::SimpleAtoi(Absl(v), out); },
          &options.capacity_objects);
    } else if (flag == "--capacity-percent") {
      s = ParseList(
          flag, value,
          [](std::string_view v, double* out) {
            return absl::SimpleAtod(Absl(v), out) && *out >= 0 && *out <= 100;
          },
          &options.capacity_percents);
    } else if (flag == "--policy") {
      for (std::string_view p : SplitCommas(value)) options.policies.emplace_back(p);
    } else {
      return UsageError(absl::StrCat("unknown flag ", Absl(flag)));
    }
    if (!s.ok()) return s;
  }
  if (options.file.empty()) return UsageError("--file is required");
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
  absl::StatusOr<Trace> trace = ReadTrace(options.file);
  if (!trace.ok()) return trace.status();
  out << "trace=" << options.file << " requests=" << trace->requests.size()
      << " unique_keys=" << trace->unique_keys() << "\n";
  std::vector<uint64_t> capacities = options.capacity_objects;
  for (double p : options.capacity_percents) {
    // Percent as given, e.g. 1 -> 0.01; floor(p x unique keys) as the README defines it.
    capacities.push_back(static_cast<uint64_t>(
        std::floor(p / 100.0 * static_cast<double>(trace->unique_keys()) + 1e-9)));
  }
  std::vector<std::string> policies = options.policies;
  if (policies.empty()) policies.assign(PolicyNames().begin(), PolicyNames().end());
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
