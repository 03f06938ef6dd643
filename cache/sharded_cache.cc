#include "cache/sharded_cache.h"

#include <algorithm>
#include <bit>
#include <limits>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "util/sync_point.h"

namespace asidekv::cache {
namespace {

constexpr int kMaxShards = 1024;
constexpr uint64_t kMinAutoShardBytes = 256 << 10;
// Above this, auto sharding adds shards: a shard of 8 MiB holds at most about 130,000 entries
// (at the smallest charge), so that a lookup compares at most about 0.06 keys beside its own on
// average (entries sharing its 20-bit position hash: cache/entry_table.h).
constexpr uint64_t kMaxAutoShardBytes = uint64_t{8} << 20;

int AutoShards(uint64_t capacity) {
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  uint64_t n = std::bit_ceil(std::max<uint64_t>(16, 4ull * hw));
  while (n < kMaxShards && capacity / n > kMaxAutoShardBytes) n *= 2;
  n = std::min<uint64_t>(n, kMaxShards);
  while (n > 1 && capacity / n < kMinAutoShardBytes) n /= 2;
  return static_cast<int>(n);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ShardedCache>> ShardedCache::Create(const CacheOptions& options) {
  if (options.num_shards < 0 || options.num_shards > kMaxShards ||
      (options.num_shards != 0 &&
       !std::has_single_bit(static_cast<unsigned>(options.num_shards)))) {
    return absl::InvalidArgumentError(absl::StrCat("num_shards must be 0 or a power of two in [1, ",
                                                   kMaxShards, "], got ", options.num_shards));
  }
  if (options.clock == nullptr) return absl::InvalidArgumentError("clock must not be null");
  if (options.default_ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("default_ttl must be positive (or infinite)");
  }
  if (!(options.ttl_jitter >= 0 && options.ttl_jitter < 1)) {
    return absl::InvalidArgumentError("ttl_jitter must be in [0, 1)");
  }
  const int shards = options.num_shards != 0 ? options.num_shards : AutoShards(options.capacity);
  return std::unique_ptr<ShardedCache>(new ShardedCache(options, shards));
}

ShardedCache::ShardedCache(const CacheOptions& options, int num_shards)
    : capacity_(options.capacity),
      weigher_(options.weigher),
      clock_(options.clock),
      default_ttl_(options.default_ttl),
      ttl_jitter_(options.ttl_jitter) {
  shard_shift_ = num_shards == 1 ? 64 : 64 - std::countr_zero(static_cast<unsigned>(num_shards));
  const uint64_t per_shard = capacity_ / num_shards;
  shards_.reserve(num_shards);
  for (int i = 0; i < num_shards; ++i) {
    shards_.push_back(std::make_unique<Shard>(per_shard, options.policy, clock_, &horizon_,
                                              options.max_tracked_versions_per_shard,
                                              /*charge_bookkeeping=*/!weigher_));
  }
}

ShardedCache::~ShardedCache() = default;

uint64_t ShardedCache::ChargeOf(std::string_view key, std::string_view value) const {
  if (weigher_) return weigher_(key, value);
  return key.size() + value.size() + kEntryOverhead;
}

absl::Duration ShardedCache::Jitter(absl::Duration ttl) {
  if (ttl_jitter_ == 0 || ttl == absl::InfiniteDuration()) return ttl;
  double factor;
  {
    absl::MutexLock lock(&rng_mu_);
    factor = absl::Uniform(rng_, 1.0 - ttl_jitter_, 1.0);
  }
  return ttl * factor;
}

Entry* ShardedCache::MakeEntry(std::string_view key, std::string_view value,
                               const EntryOptions& options, uint64_t* charge) {
  const absl::Duration ttl = Jitter(options.ttl.value_or(default_ttl_));
  int64_t expire_nanos = 0;
  *charge = ChargeOf(key, value);
  if (ttl != absl::InfiniteDuration()) {
    // Saturating: a TTL that reaches past the end of the clock's range never expires (INT64_MAX
    // is hundreds of years away). Otherwise at least 1, so a zero TTL still means "expired".
    const int64_t now = clock_->NowNanos();
    const int64_t ttl_nanos = absl::ToInt64Nanoseconds(ttl);
    expire_nanos = ttl_nanos > std::numeric_limits<int64_t>::max() - now
                       ? std::numeric_limits<int64_t>::max()
                       : std::max<int64_t>(1, now + ttl_nanos);
    if (!weigher_ && *charge <= std::numeric_limits<uint32_t>::max()) {
      *charge += kExpiryIndexOverhead + Entry::kTtlBytes;
    }
  }
  if (*charge > std::numeric_limits<uint32_t>::max() ||
      key.size() > std::numeric_limits<uint32_t>::max() ||
      value.size() > std::numeric_limits<uint32_t>::max()) {
    *charge = std::numeric_limits<uint64_t>::max();
    return nullptr;
  }
  const uint16_t ttl_code = expire_nanos != 0 ? EncodeTtl(absl::ToInt64Nanoseconds(ttl)) : 0;
  return Entry::New(key, value, options.tag, expire_nanos, ttl_code);
}

ValueRef ShardedCache::Lookup(std::string_view key) {
  const uint64_t h = HashKey(key);
  return ShardFor(h).Lookup({key, h});
}

bool ShardedCache::LookupCopy(std::string_view key, std::string* value, uint8_t* tag) {
  const uint64_t h = HashKey(key);
  return ShardFor(h).LookupCopy({key, h}, value, tag);
}

FillTicket ShardedCache::BeginFill(std::string_view key) {
  if (capacity_ == 0) return FillTicket::Bypass();
  const uint64_t h = HashKey(key);
  FillTicket ticket = ShardFor(h).BeginFill(this, {key, h});
  // The caller joined another caller's load (counted in coalesced_waits) and will wait for it.
  if (ticket.role() == FillTicket::Role::kWaiter) {
    ASIDEKV_SYNC_POINT("ShardedCache::BeginFill:Joined");
  }
  return ticket;
}

FillTicket ShardedCache::BeginRefresh(const ValueRef& seen) {
  if (capacity_ == 0) return FillTicket::Bypass();
  const uint64_t h = HashKey(seen.key());
  return ShardFor(h).BeginRefresh(this, {seen.key(), h}, seen.get());
}

FillResult ShardedCache::CompleteFill(FillTicket* ticket, const std::string_view* value,
                                      const EntryOptions& options,
                                      const absl::StatusOr<std::string>& result) {
  const std::string& key = ticket->key();
  const uint64_t h = HashKey(key);
  Shard& shard = ShardFor(h);
  FillResult outcome;
  std::shared_ptr<Flight> flight;  // Made only if another caller joined the load.
  if (value != nullptr) {
    uint64_t charge = 0;
    Entry* e = MakeEntry(key, *value, options, &charge);
    if (e == nullptr) {
      flight = shard.WithdrawFill({key, h}, ticket->token());
      shard.CountRejectedTooLarge();
      outcome = FillResult::kTooLarge;
    } else {
      outcome = shard.CompleteFill(
          {key, h}, ticket->token(), e,
          static_cast<uint32_t>(std::min<uint64_t>(charge, std::numeric_limits<uint32_t>::max())),
          &flight);
    }
  } else {
    outcome = shard.CompleteFill({key, h}, ticket->token(), nullptr, 0, &flight);
  }
  ticket->MarkCompleted();
  if (flight != nullptr) flight->Publish(result);
  return outcome;
}

void ShardedCache::AbandonFill(const FillTicket& ticket) {
  const uint64_t h = HashKey(ticket.key());
  std::shared_ptr<Flight> flight = ShardFor(h).WithdrawFill({ticket.key(), h}, ticket.token());
  if (flight != nullptr) {
    flight->Publish(absl::AbortedError("the caller loading this key gave up before finishing"));
  }
}

bool ShardedCache::Insert(std::string_view key, std::string_view value,
                          const EntryOptions& options) {
  if (capacity_ == 0) return false;
  uint64_t charge = 0;
  // A null entry (too large to build) is refused by the shard like any oversized one.
  Entry* e = MakeEntry(key, value, options, &charge);
  const uint64_t h = HashKey(key);
  return ShardFor(h).Insert(
      {key, h}, e,
      static_cast<uint32_t>(std::min<uint64_t>(charge, std::numeric_limits<uint32_t>::max())));
}

void ShardedCache::Invalidate(std::string_view key) {
  const uint64_t h = HashKey(key);
  ShardFor(h).Invalidate({key, h});
}

WriteToken ShardedCache::BeginWrite(std::string_view key) {
  const uint64_t h = HashKey(key);
  auto [seq, solo] = ShardFor(h).BeginWrite({key, h});
  return WriteToken{std::string(key), seq, solo};
}

void ShardedCache::EndWrite(const WriteToken& token, bool db_ok, const std::string_view* value,
                            const EntryOptions& options) {
  const uint64_t h = HashKey(token.key);
  Entry* e = nullptr;
  uint64_t charge = 0;
  if (db_ok && value != nullptr && capacity_ != 0) {
    try {
      e = MakeEntry(token.key, *value, options, &charge);
    } catch (...) {
      // Building the entry failed (an allocation, a throwing weigher): the write still ends,
      // as a write whose value is not cached, so the key's in-flight count comes down.
      ShardFor(h).EndWrite({token.key, h}, token.seq, token.solo, db_ok, nullptr, 0);
      throw;
    }
    // Too large to build: counted here; EndWrite still drops the key's older value.
    if (e == nullptr) ShardFor(h).CountRejectedTooLarge();
  }
  ShardFor(h).EndWrite(
      {token.key, h}, token.seq, token.solo, db_ok, e,
      static_cast<uint32_t>(std::min<uint64_t>(charge, std::numeric_limits<uint32_t>::max())));
}

void ShardedCache::InvalidateAll() {
  for (auto& s : shards_) s->InvalidateAll();
}

void ShardedCache::SetServingHorizon(int64_t nanos) {
  horizon_.store(nanos, std::memory_order_release);
}

void ShardedCache::Clear() {
  for (auto& s : shards_) s->Clear();
}

CacheStats ShardedCache::GetStats() const {
  CacheStats total;
  for (const CacheStats& s : GetShardStats()) {
    total.hits += s.hits;
    total.misses += s.misses;
    total.inserts += s.inserts;
    total.evictions += s.evictions;
    total.expirations += s.expirations;
    total.invalidations += s.invalidations;
    total.coalesced_waits += s.coalesced_waits;
    total.stale_fills_rejected += s.stale_fills_rejected;
    total.rejected_too_large += s.rejected_too_large;
    total.entries += s.entries;
    total.charge += s.charge;
    total.bookkeeping += s.bookkeeping;
  }
  total.capacity = capacity_;
  return total;
}

std::vector<CacheStats> ShardedCache::GetShardStats() const {
  std::vector<CacheStats> out;
  out.reserve(shards_.size());
  for (const auto& s : shards_) out.push_back(s->GetStats());
  return out;
}

std::vector<std::string> ShardedCache::HottestKeys(size_t n) const {
  // Take each shard's hottest in proportion, then interleave them so the head of the list is
  // drawn from every shard. Keys rarely spread evenly, so while shards ran short of their quota
  // and others may hold more, ask again with twice the quota (at most log2(shards) more rounds).
  size_t per_shard = (n + shards_.size() - 1) / shards_.size();
  std::vector<std::vector<std::string>> lists(shards_.size());
  while (true) {
    size_t total = 0;
    bool some_shard_full = false;
    for (size_t i = 0; i < shards_.size(); ++i) {
      lists[i].clear();
      shards_[i]->HottestKeys(per_shard, &lists[i]);
      total += lists[i].size();
      some_shard_full |= lists[i].size() == per_shard;
    }
    if (total >= n || !some_shard_full || per_shard >= n) break;
    per_shard = std::min(n, per_shard * 2);
  }
  std::vector<std::string> out;
  out.reserve(n);
  for (size_t rank = 0; rank < per_shard && out.size() < n; ++rank) {
    for (auto& list : lists) {
      if (rank < list.size() && out.size() < n) out.push_back(std::move(list[rank]));
    }
  }
  return out;
}

size_t ShardedCache::SweepExpired(size_t max_entries) {
  size_t total = 0;
  for (auto& s : shards_) {
    if (total >= max_entries) break;
    total += s->SweepExpired(max_entries - total);
  }
  return total;
}

absl::StatusOr<std::string> ShardedCache::GetOrLoad(
    std::string_view key, const std::function<absl::StatusOr<std::string>()>& loader,
    absl::Duration wait_timeout) {
  if (ValueRef v = Lookup(key)) return std::string(v.value());
  FillTicket ticket = BeginFill(key);
  switch (ticket.role()) {
    case FillTicket::Role::kHit:
      return std::string(ticket.hit().value());
    case FillTicket::Role::kWaiter:
      return ticket.Wait(wait_timeout);
    case FillTicket::Role::kBypass:
      return loader();
    case FillTicket::Role::kLeader:
      break;
  }
  // If loader() throws, ~FillTicket releases the waiters with an error.
  absl::StatusOr<std::string> result = loader();
  if (result.ok()) {
    const std::string_view value = *result;
    CompleteFill(&ticket, &value, EntryOptions{}, result);
  } else {
    CompleteFill(&ticket, nullptr, EntryOptions{}, result);
  }
  return result;
}

}  // namespace asidekv::cache
