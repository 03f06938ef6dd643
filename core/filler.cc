#include "core/filler.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>

#include "db/value_format.h"
#include "util/sync_point.h"

namespace asidekv::core {

namespace {

int64_t BoundNanos(absl::Duration d) {
  if (d == absl::InfiniteDuration()) return std::numeric_limits<int64_t>::max();
  return absl::ToInt64Nanoseconds(d);
}

}  // namespace

Filler::Filler(cache::Cache* cache, Database* db, cache::Clock* clock, const Config& config)
    : cache_(cache),
      db_(db),
      clock_(clock),
      encoding_(config.encoding),
      negative_ttl_(config.negative_ttl),
      default_ttl_(config.default_ttl),
      max_staleness_nanos_(BoundNanos(config.max_staleness)) {}

Filler::Loaded Filler::Decode(absl::StatusOr<std::string> stored, int64_t read_start_nanos) const {
  Loaded out;
  out.read_start_nanos = read_start_nanos;
  if (!stored.ok()) {
    out.value = stored.status();
    return out;
  }
  absl::StatusOr<std::optional<absl::Duration>> ttl = db::StripHeader(&*stored, encoding_);
  if (!ttl.ok()) {
    out.value = ttl.status();
    return out;
  }
  out.ttl = *ttl;
  out.value = *std::move(stored);
  return out;
}

Filler::Loaded Filler::Read(std::string_view key) {
  db_reads_.fetch_add(1, std::memory_order_relaxed);
  const int64_t start = ReadStart();
  std::string value;
  // Tests: how many database reads are in flight (coalescing bounds them per key).
  ASIDEKV_SYNC_POINT("Filler::Read:Begin");
  absl::Status s = db_->Get(key, &value);
  ASIDEKV_SYNC_POINT("Filler::Read:End");
  if (!s.ok()) return Decode(std::move(s), start);
  return Decode(std::move(value), start);
}

cache::FillResult Filler::Complete(cache::FillTicket* ticket, const Loaded& loaded, bool cache_it) {
  std::optional<absl::Duration> bound;  // The most an entry may live now; unset: no bound.
  if (bounded()) {
    const int64_t left = max_staleness_nanos_ - (clock_->NowNanos() - loaded.read_start_nanos);
    if (left <= 0) {
      cache_->AbandonFill(*ticket);
      return cache::FillResult::kStale;
    }
    bound = absl::Nanoseconds(left);
  }
  const auto bounded = [&](std::optional<absl::Duration> ttl) -> std::optional<absl::Duration> {
    if (!bound.has_value()) return ttl;
    return std::min(ttl.value_or(default_ttl_), *bound);
  };
  if (cache_it && loaded.value.ok()) {
    const std::string_view value = *loaded.value;
    cache::EntryOptions o;
    o.ttl = bounded(loaded.ttl);
    return cache_->CompleteFill(ticket, &value, o, loaded.value);
  }
  if (cache_it && absl::IsNotFound(loaded.value.status()) && negative_ttl_ > absl::ZeroDuration()) {
    const std::string_view empty;
    cache::EntryOptions o;
    o.ttl = bounded(negative_ttl_);
    o.tag = kNegativeTag;
    return cache_->CompleteFill(ticket, &empty, o, loaded.value);
  }
  // Errors (and what the caller does not cache) are shared with the waiters only.
  return cache_->CompleteFill(ticket, nullptr, cache::EntryOptions(), loaded.value);
}

}  // namespace asidekv::core
