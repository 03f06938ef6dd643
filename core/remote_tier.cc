#include "core/remote_tier.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "db/value_format.h"
#include "util/monotonic_clock.h"

namespace asidekv::core {
namespace {

// Redis bytes: a kind byte, then (for a value) the value in asidekv's header format, which keeps
// its per-key TTL (so every Store that reads it from Redis caches it as the writer asked).
constexpr char kValueKind = 'v';
constexpr char kNotFoundKind = 'n';

// The longest a value lives in Redis when nothing shorter applies (no TTL and no max_staleness).
constexpr absl::Duration kMaxRemoteTtl = absl::Hours(1);

// Waits between asks of a held lease: 1 ms doubling to 8 ms, never beyond the lease's remaining
// time.
constexpr absl::Duration kFirstLeaseBackoff = absl::Milliseconds(1);
constexpr absl::Duration kMaxLeaseBackoff = absl::Milliseconds(8);

// How often owed invalidations are retried.
constexpr absl::Duration kOwedRetryInterval = absl::Milliseconds(20);

remote::RedisConfig ToRedisConfig(const Options& o) {
  remote::RedisConfig c;
  c.address = o.redis;
  c.user = o.redis_user;
  c.password = o.redis_password;
  c.prefix = o.redis_prefix;
  c.connections = o.redis_connections;
  c.timeout = o.redis_timeout;
  return c;
}

absl::Duration Elapsed(int64_t since_nanos) {
  return absl::Nanoseconds(util::MonotonicNanos() - since_nanos);
}

}  // namespace

absl::StatusOr<std::unique_ptr<RemoteTier>> RemoteTier::Open(const Options& options,
                                                             cache::Cache* cache, Database* db,
                                                             Filler* filler) {
  const remote::RedisConfig config = ToRedisConfig(options);
  absl::StatusOr<std::unique_ptr<remote::RedisTier>> redis = remote::RedisTier::Connect(config);
  if (!redis.ok()) return redis.status();
  std::unique_ptr<RemoteTier> tier(new RemoteTier(options, cache, db, filler, *std::move(redis)));
  if (options.cache_capacity_bytes > 0) {
    cache->SetServingHorizon(0);  // Closed until the channels' first PONGs.
  }
  if (options.cache_capacity_bytes > 0 && tier->redis_->cluster()) {
    absl::StatusOr<std::unique_ptr<remote::ClusterInvalidation>> channels =
        remote::ClusterInvalidation::Start(config, options.coherence_bound, tier.get(),
                                           tier->redis_.get());
    if (!channels.ok()) return channels.status();
    tier->cluster_channels_ = *std::move(channels);
    tier->cluster_channels_->WaitServing(options.redis_timeout);
  } else if (options.cache_capacity_bytes > 0) {
    absl::StatusOr<std::unique_ptr<remote::InvalidationChannel>> channel =
        remote::InvalidationChannel::Start(config, options.coherence_bound, tier.get());
    if (!channel.ok()) return channel.status();
    tier->channel_ = *std::move(channel);
    // Not an error if it takes longer: the cache serves nothing until the gate opens.
    tier->channel_->WaitServing(options.redis_timeout);
  }
  return tier;
}

RemoteTier::RemoteTier(const Options& options, cache::Cache* cache, Database* db, Filler* filler,
                       std::unique_ptr<remote::RedisTier> redis)
    : options_(options), cache_(cache), db_(db), filler_(filler), redis_(std::move(redis)) {
  retry_thread_ = std::thread([this] { RetryOwed(); });
}

RemoteTier::~RemoteTier() {
  {
    absl::MutexLock lock(&owed_mu_);
    stopping_ = true;
    owed_cv_.SignalAll();
  }
  retry_thread_.join();
  channel_.reset();  // Stops its thread before the cache it invalidates goes.
  cluster_channels_.reset();
}

void RemoteTier::PrepareFill(const Filler::Loaded& loaded, int64_t read_began, std::string* bytes,
                             remote::FillRequest* fill) const {
  absl::Duration ttl;
  bytes->clear();
  if (loaded.value.ok()) {
    bytes->push_back(kValueKind);
    db::EncodeValue(*loaded.value, loaded.ttl, db::ValueEncoding::kHeader, bytes);
    ttl = loaded.ttl.value_or(options_.default_ttl);
  } else if (absl::IsNotFound(loaded.value.status()) &&
             options_.negative_ttl > absl::ZeroDuration()) {
    bytes->push_back(kNotFoundKind);
    ttl = options_.negative_ttl;
  } else {
    return;  // An error, or "not found" that is not cached: the fill only releases the lease.
  }
  ttl = std::min(ttl, kMaxRemoteTtl);
  if (options_.max_staleness > absl::ZeroDuration()) ttl = std::min(ttl, options_.max_staleness);
  // Counted from the database read, like a cache entry's bound.
  ttl -= Elapsed(read_began);
  if (ttl <= absl::ZeroDuration()) return;
  fill->value = *bytes;
  fill->ttl = ttl;
}

std::optional<Filler::Loaded> RemoteTier::DecodeFromRedis(std::string_view bytes,
                                                          absl::Duration redis_ttl,
                                                          int64_t read_start) const {
  if (bytes.empty()) return std::nullopt;
  Filler::Loaded out;
  out.read_start_nanos = read_start;
  if (bytes[0] == kNotFoundKind && bytes.size() == 1) {
    out.value = absl::NotFoundError("key not found");
    out.ttl = std::min(options_.negative_ttl, redis_ttl);
    return out;
  }
  if (bytes[0] != kValueKind) return std::nullopt;
  absl::StatusOr<db::DecodedValue> d = db::DecodeValue(bytes.substr(1), db::ValueEncoding::kHeader);
  if (!d.ok()) return std::nullopt;
  out.value = std::string(d->value);
  // The cache entry lives no longer than the Redis value it copies: so an entry is never older
  // than max_staleness from the database read that Redis's value came from.
  out.ttl = std::min(d->ttl.value_or(options_.default_ttl), redis_ttl);
  return out;
}

std::optional<Filler::Loaded> RemoteTier::TakeHit(const remote::LeaseResult& hit,
                                                  int64_t read_start) {
  std::optional<Filler::Loaded> out = DecodeFromRedis(hit.value, hit.ttl, read_start);
  // Bytes asidekv did not write count as an error; the caller reads the database.
  (out.has_value() ? hits_ : errors_).fetch_add(1, std::memory_order_relaxed);
  return out;
}

Filler::Loaded RemoteTier::ReadAndFill(std::string_view key, uint64_t token, bool* cache_it) {
  const int64_t start = util::MonotonicNanos();
  Filler::Loaded loaded = filler_->Read(key);
  std::string bytes;
  remote::FillRequest fill;
  fill.key = key;
  fill.token = token;
  PrepareFill(loaded, start, &bytes, &fill);
  absl::StatusOr<std::vector<bool>> filled = redis_->Fill({&fill, 1});
  if (!fill.value.has_value()) *cache_it = false;
  if (!filled.ok()) {
    errors_.fetch_add(1, std::memory_order_relaxed);
    *cache_it = false;
  } else if (fill.value.has_value() && !(*filled)[0]) {
    // A write deleted the lease while we read: our read may predate it. The answer stands for
    // this call (it overlapped the write), but nothing keeps it.
    fills_rejected_.fetch_add(1, std::memory_order_relaxed);
    *cache_it = false;
  }
  return loaded;
}

Filler::Loaded RemoteTier::Load(std::string_view key, bool* cache_it) {
  // Only a value Redis holds (a hit, or a fill Redis took) enters this Store's cache: a write
  // elsewhere deletes it from Redis, which broadcasts the key; a write that finds nothing in
  // Redis broadcasts nothing, so a cached value Redis never held would never be invalidated.
  *cache_it = false;
  if (IsOwed(key)) return filler_->Read(key);
  const int64_t start = util::MonotonicNanos();
  const absl::Duration give_up =
      options_.consistency == Consistency::kStrict ? 2 * options_.lease_ttl : options_.lease_ttl;
  absl::Duration backoff = kFirstLeaseBackoff;
  absl::Duration held_for;  // What the last kHeld answer said is left of the lease.
  const std::string_view one[] = {key};
  for (bool first = true;; first = false) {
    if (!first) {  // Another Store holds the lease: ask again, 1, 2, 4, 8 ms later.
      if (Elapsed(start) >= give_up) break;
      absl::SleepFor(std::min(backoff, std::max(held_for, absl::Microseconds(100))));
      backoff = std::min(2 * backoff, kMaxLeaseBackoff);
    }
    const int64_t read_start = filler_->ReadStart();
    absl::StatusOr<std::vector<remote::LeaseResult>> r =
        redis_->GetOrLease(one, options_.lease_ttl);
    if (!r.ok()) {
      errors_.fetch_add(1, std::memory_order_relaxed);
      break;
    }
    remote::LeaseResult& answer = (*r)[0];
    switch (answer.kind) {
      case remote::LeaseResult::Kind::kHit:
        if (std::optional<Filler::Loaded> l = TakeHit(answer, read_start)) {
          *cache_it = true;
          return *std::move(l);
        }
        return filler_->Read(key);
      case remote::LeaseResult::Kind::kWon:
        leases_won_.fetch_add(1, std::memory_order_relaxed);
        *cache_it = true;
        return ReadAndFill(key, answer.token, cache_it);
      case remote::LeaseResult::Kind::kHeld:
        lease_waits_.fetch_add(1, std::memory_order_relaxed);
        held_for = answer.held_for;
        break;
    }
  }
  // Redis failed, or the lease holder is slow: the database answers this call; nothing is
  // filled or cached.
  return filler_->Read(key);
}

void RemoteTier::LoadMany(absl::Span<const std::string_view> keys,
                          std::vector<Filler::Loaded>* loaded, std::vector<bool>* cache_it) {
  loaded->assign(keys.size(), Filler::Loaded());
  // As in Load: only values Redis holds are cached here; set per key below.
  cache_it->assign(keys.size(), false);
  std::vector<size_t> ask;  // Keys Redis is asked about (not owed).
  std::vector<std::string_view> ask_keys;
  std::vector<size_t> direct;  // Keys read from the database without Redis.
  for (size_t i = 0; i < keys.size(); ++i) {
    if (IsOwed(keys[i])) {
      direct.push_back(i);
    } else {
      ask.push_back(i);
      ask_keys.push_back(keys[i]);
    }
  }
  std::vector<size_t> won;
  std::vector<uint64_t> tokens;
  std::vector<size_t> held;
  if (!ask.empty()) {
    const int64_t read_start = filler_->ReadStart();
    absl::StatusOr<std::vector<remote::LeaseResult>> r =
        redis_->GetOrLease(ask_keys, options_.lease_ttl);
    if (!r.ok()) {
      errors_.fetch_add(1, std::memory_order_relaxed);
      direct.insert(direct.end(), ask.begin(), ask.end());
    } else {
      for (size_t j = 0; j < ask.size(); ++j) {
        remote::LeaseResult& answer = (*r)[j];
        const size_t i = ask[j];
        switch (answer.kind) {
          case remote::LeaseResult::Kind::kHit:
            if (std::optional<Filler::Loaded> l = TakeHit(answer, read_start)) {
              (*loaded)[i] = *std::move(l);
              (*cache_it)[i] = true;
            } else {
              direct.push_back(i);
            }
            break;
          case remote::LeaseResult::Kind::kWon:
            leases_won_.fetch_add(1, std::memory_order_relaxed);
            won.push_back(i);
            tokens.push_back(answer.token);
            break;
          case remote::LeaseResult::Kind::kHeld:
            lease_waits_.fetch_add(1, std::memory_order_relaxed);
            held.push_back(i);
            break;
        }
      }
    }
  }
  // One database MultiGet for the leases won and the direct reads.
  std::vector<size_t> read = won;
  read.insert(read.end(), direct.begin(), direct.end());
  if (!read.empty()) {
    std::vector<std::string_view> read_keys;
    read_keys.reserve(read.size());
    for (size_t i : read) read_keys.push_back(keys[i]);
    filler_->CountReads(read.size());
    const int64_t start = util::MonotonicNanos();
    const int64_t read_start = filler_->ReadStart();
    std::vector<absl::StatusOr<std::string>> raw = db_->MultiGet(read_keys);
    for (size_t j = 0; j < read.size(); ++j) {
      (*loaded)[read[j]] = filler_->Decode(std::move(raw[j]), read_start);
    }
    // One round trip fills (or releases) every lease won.
    if (!won.empty()) {
      std::vector<std::string> bytes(won.size());
      std::vector<remote::FillRequest> fills(won.size());
      for (size_t j = 0; j < won.size(); ++j) {
        const Filler::Loaded& l = (*loaded)[won[j]];
        fills[j].key = keys[won[j]];
        fills[j].token = tokens[j];
        PrepareFill(l, start, &bytes[j], &fills[j]);
      }
      absl::StatusOr<std::vector<bool>> filled = redis_->Fill(fills);
      if (!filled.ok()) {
        errors_.fetch_add(1, std::memory_order_relaxed);
      } else {
        for (size_t j = 0; j < won.size(); ++j) {
          if (!fills[j].value.has_value()) continue;
          if ((*filled)[j]) {
            (*cache_it)[won[j]] = true;
          } else {
            fills_rejected_.fetch_add(1, std::memory_order_relaxed);
          }
        }
      }
    }
  }
  for (size_t i : held) {  // Rare: one at a time, as a Get would.
    bool c;
    (*loaded)[i] = Load(keys[i], &c);
    (*cache_it)[i] = c;
  }
}

bool RemoteTier::InvalidateRemote(absl::Span<const std::string_view> keys) {
  std::vector<bool> landed;
  if (redis_->Invalidate(keys, &landed).ok()) return true;
  errors_.fetch_add(1, std::memory_order_relaxed);
  AddOwed(keys, landed);
  return false;
}

absl::Status RemoteTier::AwaitVisibility(absl::Span<const std::string_view> keys, bool landed) {
  if (options_.consistency != Consistency::kStrict) return absl::OkStatus();
  if (!landed) {
    // Wait for the retry thread to land the UNLINK, up to redis_timeout.
    const int64_t start = util::MonotonicNanos();
    for (;;) {
      bool owed = false;
      for (std::string_view k : keys) owed = owed || IsOwed(k);
      if (!owed) break;
      if (Elapsed(start) >= options_.redis_timeout) {
        return absl::UnavailableError(absl::StrCat(
            "the write is committed, but its invalidation could not reach ", redis_->server(),
            " within redis_timeout: other Stores may serve the value it replaced for up to "
            "max_staleness"));
      }
      absl::SleepFor(kOwedRetryInterval / 4);
    }
  }
  // Every Store's gate now needs a PONG to a PING sent after the UNLINK's answer, and Redis sent
  // that PONG after the invalidation it queued before the answer. 1% covers clock-rate drift.
  absl::SleepFor(options_.coherence_bound * 1.01);
  return absl::OkStatus();
}

bool RemoteTier::IsOwed(std::string_view key) const {
  if (owed_count_.load(std::memory_order_acquire) == 0) return false;
  absl::MutexLock lock(&owed_mu_);
  return owed_.contains(key);
}

void RemoteTier::AddOwed(absl::Span<const std::string_view> keys, const std::vector<bool>& landed) {
  absl::MutexLock lock(&owed_mu_);
  ++owed_generation_;
  size_t added = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i < landed.size() && landed[i]) continue;
    owed_[std::string(keys[i])] = owed_generation_;
    ++added;
  }
  owed_total_.fetch_add(added, std::memory_order_relaxed);
  owed_count_.store(owed_.size(), std::memory_order_release);
  owed_cv_.Signal();
}

void RemoteTier::RetryOwed() {
  for (;;) {
    std::vector<std::pair<std::string, uint64_t>> batch;
    {
      absl::MutexLock lock(&owed_mu_);
      while (!stopping_ && owed_.empty()) owed_cv_.Wait(&owed_mu_);
      if (stopping_) return;
      owed_cv_.WaitWithTimeout(&owed_mu_, kOwedRetryInterval);
      if (stopping_) return;
      batch.reserve(std::min<size_t>(owed_.size(), 1024));
      for (const auto& [key, generation] : owed_) {
        batch.emplace_back(key, generation);
        if (batch.size() == 1024) break;
      }
    }
    std::vector<std::string_view> keys;
    keys.reserve(batch.size());
    for (const auto& [key, generation] : batch) keys.push_back(key);
    std::vector<bool> landed;
    if (!redis_->Invalidate(keys, &landed).ok() &&
        std::find(landed.begin(), landed.end(), true) == landed.end()) {
      continue;
    }
    absl::MutexLock lock(&owed_mu_);
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!landed[i]) continue;  // Still owed (on a cluster: its master is down).
      const auto& [key, generation] = batch[i];
      auto it = owed_.find(key);
      if (it != owed_.end() && it->second == generation) owed_.erase(it);
    }
    owed_count_.store(owed_.size(), std::memory_order_release);
  }
}

void RemoteTier::OnInvalidate(absl::Span<const std::string_view> keys) {
  for (std::string_view k : keys) cache_->Invalidate(k);
  invalidations_received_.fetch_add(keys.size(), std::memory_order_relaxed);
}

void RemoteTier::OnInvalidateAll() {
  cache_->InvalidateAll();
  flushes_.fetch_add(1, std::memory_order_relaxed);
}

void RemoteTier::OnServingUntil(int64_t nanos) { cache_->SetServingHorizon(nanos); }

void RemoteTier::AddStats(Stats* stats) const {
  stats->remote_hits += hits_.load(std::memory_order_relaxed);
  stats->remote_leases_won += leases_won_.load(std::memory_order_relaxed);
  stats->remote_lease_waits += lease_waits_.load(std::memory_order_relaxed);
  stats->remote_fills_rejected += fills_rejected_.load(std::memory_order_relaxed);
  stats->remote_errors += errors_.load(std::memory_order_relaxed);
  stats->invalidations_received += invalidations_received_.load(std::memory_order_relaxed);
  stats->coherence_flushes += flushes_.load(std::memory_order_relaxed);
  if (channel_ != nullptr) stats->heartbeat_lapses += channel_->GetStats().lapses;
  if (cluster_channels_ != nullptr) {
    const remote::ClusterInvalidationStats c = cluster_channels_->GetStats();
    stats->heartbeat_lapses += c.channels.lapses;
    stats->cluster_topology_changes += c.topology_changes;
  }
  stats->owed_invalidations += owed_total_.load(std::memory_order_relaxed);
  stats->owed_keys += owed_count_.load(std::memory_order_relaxed);
}

}  // namespace asidekv::core
