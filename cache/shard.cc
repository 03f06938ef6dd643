#include "cache/shard.h"

#include <algorithm>
#include <utility>

namespace asidekv::cache {
namespace {

uint64_t NodeHash(PolicyNode* node) { return HashKey(Entry::FromNode(node)->key()); }

size_t VersionBound(uint64_t capacity, size_t max_tracked, bool charge_bookkeeping) {
  if (!charge_bookkeeping) return max_tracked;
  const uint64_t fit = capacity / Shard::kVersionShare / KeyVersions::kBytesPerRecord;
  // The minimum, but never more than 1/8 of a tiny shard (KeyVersions keeps at least 1).
  const uint64_t least =
      std::min<uint64_t>(Shard::kMinTrackedVersions, capacity / 8 / KeyVersions::kBytesPerRecord);
  return std::min<uint64_t>(max_tracked, std::max(least, fit));
}

}  // namespace

Shard::Shard(uint64_t capacity, PolicyKind policy, Clock* clock,
             const std::atomic<int64_t>* horizon, size_t max_tracked_versions,
             bool charge_bookkeeping)
    : capacity_(capacity),
      charge_bookkeeping_(charge_bookkeeping),
      clock_(clock),
      horizon_(horizon),
      versions_(capacity == 0 ? nullptr
                              : std::make_unique<KeyVersions>(VersionBound(
                                    capacity, max_tracked_versions, charge_bookkeeping))),
      policy_(NewEvictionPolicy(policy, &NodeHash)) {
  uint64_t policy_capacity = capacity;
  if (charge_bookkeeping) {
    policy_->SetMemoryLimit(capacity / kGhostShare);
    policy_capacity -= capacity / kGhostShare + capacity / kVersionShare;
  }
  policy_->SetCapacity(policy_capacity);
  stats_.capacity = capacity;
}

Shard::~Shard() {
  MutexLock lock(&mu_);
  for (Entry* e : table_) {
    e->in_table = false;
    e->Unref();
  }
}

size_t Shard::EntryHash::operator()(const Entry* e) const {
  return static_cast<size_t>(HashKey(e->key()));
}

Shard::Servable Shard::ServableLocked(const Entry* e) const {
  // Acquire: pairs with the release of the PONG that moved the horizon, so that the
  // invalidations received before it (already applied to this shard under mu_) are seen.
  const int64_t horizon = horizon_->load(std::memory_order_acquire);
  if (e->expire_nanos == 0 && horizon == Cache::kNoHorizon) return Servable::kServed;
  const int64_t now = clock_->NowNanos();
  if (e->expire_nanos != 0 && now >= e->expire_nanos) return Servable::kExpired;
  return now < horizon ? Servable::kServed : Servable::kWithheld;
}

void Shard::Release(const Garbage& garbage) {
  for (Entry* e : garbage) e->Unref();
}

ValueRef Shard::Lookup(const HashedKey& k) {
  Entry* expired = nullptr;
  {
    MutexLock lock(&mu_);
    auto it = table_.find(k);
    if (it == table_.end()) {
      ++stats_.misses;
      return ValueRef();
    }
    Entry* e = *it;
    const Servable servable = ServableLocked(e);
    if (servable == Servable::kServed) {
      ++stats_.hits;
      policy_->OnAccess(&e->node);
      e->Ref();
      return ValueRef(e);
    }
    ++stats_.misses;
    if (servable == Servable::kWithheld) return ValueRef();
    ++stats_.expirations;
    Garbage garbage;
    RemoveLocked(e, /*evicted=*/false, &garbage);
    expired = garbage[0];
  }
  expired->Unref();  // Freed outside the lock.
  return ValueRef();
}

FillTicket Shard::BeginFill(Cache* cache, const HashedKey& k) {
  Garbage garbage;
  FillTicket ticket;
  {
    MutexLock lock(&mu_);
    auto it = table_.find(k);
    if (it != table_.end()) {
      Entry* e = *it;
      const Servable servable = ServableLocked(e);
      if (servable == Servable::kServed) {
        e->Ref();
        ticket = FillTicket::Hit(ValueRef(e));
      } else if (servable == Servable::kExpired) {
        ++stats_.expirations;
        RemoveLocked(e, /*evicted=*/false, &garbage);
      }
    }
    if (ticket.role() != FillTicket::Role::kHit) {
      auto [f, inserted] = flights_.try_emplace(k.key);
      if (!inserted) {
        ++stats_.coalesced_waits;
        f->second.flight->AddWaiter();
        ticket = FillTicket::Waiter(f->second.flight);
      } else {
        ticket = NewFlightLocked(cache, k, &f->second);
      }
    }
  }
  Release(garbage);
  return ticket;
}

FillTicket Shard::BeginRefresh(Cache* cache, const HashedKey& k, const Entry* seen) {
  MutexLock lock(&mu_);
  auto it = table_.find(k);
  if (it == table_.end() || *it != seen) return FillTicket::Bypass();
  auto [f, inserted] = flights_.try_emplace(k.key);
  if (!inserted) return FillTicket::Bypass();
  return NewFlightLocked(cache, k, &f->second);
}

FillTicket Shard::NewFlightLocked(Cache* cache, const HashedKey& k, InFlight* slot) {
  slot->flight = std::make_shared<Flight>();
  // A shard with capacity 0 gets no fills (ShardedCache bypasses them); token 0 is never allowed.
  slot->token = versions_ ? versions_->NextToken() : 0;
  return FillTicket::Leader(cache, k.key, slot->token, slot->flight);
}

FillResult Shard::CompleteFill(const HashedKey& k, uint64_t token, const Flight* flight, Entry* e,
                               uint32_t charge, int64_t expire_nanos) {
  Garbage garbage;
  FillResult result = FillResult::kSkipped;
  {
    MutexLock lock(&mu_);
    DetachFlightLocked(k.key, flight);
    if (e != nullptr) {
      if (charge > capacity_) {
        ++stats_.rejected_too_large;
        garbage.push_back(e);
        result = FillResult::kTooLarge;
      } else if (!versions_ || !versions_->FillAllowed(k.hash, token)) {
        ++stats_.stale_fills_rejected;
        garbage.push_back(e);
        result = FillResult::kStale;
      } else {
        PublishLocked(k, e, charge, expire_nanos, &garbage);
        result = FillResult::kInserted;
      }
    }
  }
  Release(garbage);
  return result;
}

void Shard::AbandonFill(const HashedKey& k, const Flight* flight) {
  MutexLock lock(&mu_);
  DetachFlightLocked(k.key, flight);
}

bool Shard::Insert(const HashedKey& k, Entry* e, uint32_t charge, int64_t expire_nanos) {
  Garbage garbage;
  bool inserted = false;
  {
    MutexLock lock(&mu_);
    if (e == nullptr || charge > capacity_) {
      ++stats_.rejected_too_large;
      // The refused value still supersedes the key's older one, which must not be served.
      if (EraseLocked(k, &garbage)) ++stats_.invalidations;
      if (e != nullptr) garbage.push_back(e);
    } else {
      PublishLocked(k, e, charge, expire_nanos, &garbage);
      inserted = true;
    }
  }
  Release(garbage);
  return inserted;
}

void Shard::CountRejectedTooLarge() {
  MutexLock lock(&mu_);
  ++stats_.rejected_too_large;
}

void Shard::Invalidate(const HashedKey& k) {
  Garbage garbage;
  {
    MutexLock lock(&mu_);
    // Tokens of the key still to be judged belong to a flight registered now (loads detached
    // earlier were covered by the version recorded when they were detached), and only a write in
    // flight can still install: with neither, there is nothing for a version to reject, and none
    // is recorded (an invalidation of a key nobody is loading costs no version record).
    const bool loading = DetachFlightLocked(k.key, nullptr);
    if (versions_ && (loading || versions_->WriteInFlight(k.hash))) versions_->Invalidate(k.hash);
    if (EraseLocked(k, &garbage)) ++stats_.invalidations;
    EvictToBudgetLocked(&garbage);
  }
  Release(garbage);
}

std::pair<uint64_t, bool> Shard::BeginWrite(const HashedKey& k) {
  Garbage garbage;
  std::pair<uint64_t, bool> result(0, false);
  {
    MutexLock lock(&mu_);
    DetachFlightLocked(k.key, nullptr);
    if (versions_) {
      result = versions_->BeginWrite(k.hash);
      EvictToBudgetLocked(&garbage);
    }
  }
  Release(garbage);
  return result;
}

void Shard::EndWrite(const HashedKey& k, uint64_t version, bool solo, bool db_ok, Entry* e,
                     uint32_t charge, int64_t expire_nanos) {
  Garbage garbage;
  {
    MutexLock lock(&mu_);
    const bool install = versions_ && versions_->EndWrite(k.hash, version, solo);
    DetachFlightLocked(k.key, nullptr);
    if (db_ok) {
      if (EraseLocked(k, &garbage)) ++stats_.invalidations;
      if (e != nullptr && install && charge <= capacity_) {
        PublishLocked(k, e, charge, expire_nanos, &garbage);
        e = nullptr;
      } else if (e != nullptr && charge > capacity_) {
        ++stats_.rejected_too_large;
      }
    }
    if (e != nullptr) garbage.push_back(e);
    EvictToBudgetLocked(&garbage);
  }
  Release(garbage);
}

size_t Shard::ClearLocked(Garbage* garbage) {
  const size_t n = table_.size();
  garbage->reserve(garbage->size() + n);
  for (Entry* e : table_) {
    policy_->OnRemove(&e->node);
    e->in_table = false;
    garbage->push_back(e);
  }
  table_.clear();
  expiry_.clear();
  charge_ = 0;
  stats_.entries = 0;
  stats_.charge = 0;
  return n;
}

void Shard::Clear() {
  Garbage garbage;
  {
    MutexLock lock(&mu_);
    ClearLocked(&garbage);
  }
  Release(garbage);
}

void Shard::InvalidateAll() {
  Garbage garbage;
  {
    MutexLock lock(&mu_);
    if (versions_) versions_->RejectAll();
    flights_.clear();
    stats_.invalidations += ClearLocked(&garbage);
    EvictToBudgetLocked(&garbage);
  }
  Release(garbage);
}

size_t Shard::SweepExpired(size_t max_entries) {
  Garbage garbage;
  size_t n;
  {
    MutexLock lock(&mu_);
    n = SweepLocked(max_entries, &garbage);
  }
  Release(garbage);
  return n;
}

CacheStats Shard::GetStats() const {
  MutexLock lock(&mu_);
  return stats_;
}

void Shard::HottestKeys(size_t n, std::vector<std::string>* out) const {
  MutexLock lock(&mu_);
  std::vector<PolicyNode*> nodes;
  policy_->Hottest(n, &nodes);
  for (PolicyNode* node : nodes) out->emplace_back(Entry::FromNode(node)->key());
}

void Shard::RemoveLocked(Entry* e, bool evicted, Garbage* garbage) {
  if (!evicted) policy_->OnRemove(&e->node);
  if (e->expire_nanos != 0) expiry_.erase({e->expire_nanos, e});
  table_.erase(e);
  e->in_table = false;
  charge_ -= e->node.charge;
  stats_.entries = table_.size();
  stats_.charge = charge_;
  garbage->push_back(e);
}

bool Shard::EraseLocked(const HashedKey& k, Garbage* garbage) {
  auto it = table_.find(k);
  if (it == table_.end()) return false;
  RemoveLocked(*it, /*evicted=*/false, garbage);
  return true;
}

void Shard::PublishLocked(const HashedKey& k, Entry* e, uint32_t charge, int64_t expire_nanos,
                          Garbage* garbage) {
  EraseLocked(k, garbage);
  SweepLocked(2, garbage);
  e->node.charge = charge;
  e->expire_nanos = expire_nanos;
  e->in_table = true;
  table_.insert(e);
  if (expire_nanos != 0) expiry_.insert({expire_nanos, e});
  policy_->OnInsert(&e->node, k.hash);
  charge_ += charge;
  ++stats_.inserts;
  EvictToBudgetLocked(garbage);
}

uint64_t Shard::BookkeepingBytesLocked() const {
  if (!charge_bookkeeping_) return 0;
  return policy_->MemoryBytes() + (versions_ ? versions_->MemoryBytes() : 0);
}

uint64_t Shard::BudgetedBookkeepingLocked() const {
  if (!charge_bookkeeping_) return 0;
  const uint64_t mean_charge = table_.empty() ? 0 : charge_ / table_.size();
  return policy_->FullMemoryBytes(mean_charge) + (versions_ ? versions_->MemoryBytes() : 0);
}

void Shard::EvictToBudgetLocked(Garbage* garbage) {
  uint64_t budgeted = BudgetedBookkeepingLocked();
  while (charge_ + budgeted > capacity_) {
    PolicyNode* victim = policy_->Evict();
    if (victim == nullptr) break;  // No entry left: the bookkeeping alone is over budget.
    ++stats_.evictions;
    RemoveLocked(Entry::FromNode(victim), /*evicted=*/true, garbage);
    budgeted = BudgetedBookkeepingLocked();  // An eviction may grow the ghost set.
  }
  const uint64_t bookkeeping = BookkeepingBytesLocked();
  stats_.entries = table_.size();
  stats_.charge = charge_;
  stats_.bookkeeping = bookkeeping;
}

bool Shard::DetachFlightLocked(std::string_view key, const Flight* only) {
  auto it = flights_.find(key);
  if (it == flights_.end()) return false;
  if (only != nullptr && it->second.flight.get() != only) return false;
  flights_.erase(it);
  return true;
}

size_t Shard::SweepLocked(size_t max_entries, Garbage* garbage) {
  if (expiry_.empty()) return 0;
  const int64_t now = clock_->NowNanos();
  size_t n = 0;
  while (n < max_entries && !expiry_.empty() && expiry_.begin()->first <= now) {
    Entry* e = expiry_.begin()->second;
    ++stats_.expirations;
    RemoveLocked(e, /*evicted=*/false, garbage);
    ++n;
  }
  return n;
}

}  // namespace asidekv::cache
