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
      policy_(NewEvictionPolicy(policy, &NodeHash)),
      freq_cap_(policy_->FreqOnlyAccessCap()) {
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
  table_.ForEach([](Entry* e) { e->Unref(); });
}

Shard::Servable Shard::ServableLocked(const Entry* e) const {
  // Acquire: pairs with the release of the PONG that moved the horizon, so that the
  // invalidations received before it (already applied to this shard under mu_) are seen.
  return ServableAt(e, horizon_->load(std::memory_order_acquire));
}

Shard::Servable Shard::ServableAt(const Entry* e, int64_t horizon) const {
  const int64_t expire_nanos = e->expire_nanos();
  if (expire_nanos == 0 && horizon == Cache::kNoHorizon) return Servable::kServed;
  const int64_t now = clock_->NowNanos();
  if (expire_nanos != 0 && now >= expire_nanos) return Servable::kExpired;
  return now < horizon ? Servable::kServed : Servable::kWithheld;
}

void Shard::Release(const Garbage& garbage) {
  for (const util::Retired& r : garbage) r.Release();
}

Entry* Shard::LockFreeFind(const HashedKey& k, const util::EpochGuard& guard, bool count_hit,
                           bool* absent) {
  if (freq_cap_ == 0 || !guard.active()) return nullptr;
  // The horizon before the probe (acquire): the invalidations applied before it moved are seen.
  const int64_t horizon = horizon_->load(std::memory_order_acquire);
  Entry* e = UnlockedTable().Find(k.key, k.hash);
  if (e == nullptr && absent != nullptr) *absent = true;
  if (e == nullptr || ServableAt(e, horizon) != Servable::kServed) return nullptr;
  if (count_hit) {
    const uint8_t freq = LoadFreq(&e->node);
    if (freq < freq_cap_) StoreFreq(&e->node, freq + 1);
    CountLockFreeHit(guard.thread_index());
  }
  return e;
}

Entry* Shard::LockFreeHit(const HashedKey& k, bool count_hit) {
  if (freq_cap_ == 0) return nullptr;
  util::EpochGuard guard;
  Entry* e = LockFreeFind(k, guard, count_hit);
  // Inside the guard the table's reference is not yet dropped: refs >= 1.
  if (e != nullptr) e->Ref();
  return e;
}

ValueRef Shard::Lookup(const HashedKey& k) {
  if (Entry* e = LockFreeHit(k, /*count_hit=*/true)) return ValueRef(e);
  return LookupLocked(k);
}

bool Shard::LookupCopy(const HashedKey& k, std::string* value, uint8_t* tag) {
  if (freq_cap_ != 0) {
    util::EpochGuard guard;
    // Inside the guard the entry's memory stays and its bytes never change: copy, no reference.
    bool absent = false;
    if (const Entry* e = LockFreeFind(k, guard, /*count_hit=*/true, &absent)) {
      value->assign(e->value());
      *tag = e->tag();
      return true;
    }
    if (absent) {
      CountLockFreeMiss(guard.thread_index());
      return false;
    }
  }
  ValueRef v = LookupLocked(k);
  if (!v) return false;
  value->assign(v.value());
  *tag = v.tag();
  return true;
}

ValueRef Shard::LookupLocked(const HashedKey& k) {
  Garbage garbage;
  {
    MutexLock lock(&mu_);
    Entry* e = table_.Find(k.key, k.hash);
    if (e == nullptr) {
      ++stats_.misses;
      return ValueRef();
    }
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
    RemoveLocked(e, k.hash, /*evicted=*/false, &garbage);
  }
  Release(garbage);  // Outside the lock.
  return ValueRef();
}

FillTicket Shard::BeginFill(Cache* cache, const HashedKey& k) {
  if (Entry* e = LockFreeHit(k, /*count_hit=*/false)) return FillTicket::Hit(ValueRef(e));
  Garbage garbage;
  FillTicket ticket;
  {
    MutexLock lock(&mu_);
    if (Entry* e = table_.Find(k.key, k.hash)) {
      const Servable servable = ServableLocked(e);
      if (servable == Servable::kServed) {
        e->Ref();
        ticket = FillTicket::Hit(ValueRef(e));
      } else if (servable == Servable::kExpired) {
        ++stats_.expirations;
        RemoveLocked(e, k.hash, /*evicted=*/false, &garbage);
      }
    }
    if (ticket.role() != FillTicket::Role::kHit) {
      auto [f, inserted] = flights_.try_emplace(k.key);
      if (!inserted) {
        ++stats_.coalesced_waits;
        if (f->second.flight == nullptr) f->second.flight = std::make_shared<Flight>();
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
  if (table_.Find(k.key, k.hash) != seen) return FillTicket::Bypass();
  auto [f, inserted] = flights_.try_emplace(k.key);
  if (!inserted) return FillTicket::Bypass();
  return NewFlightLocked(cache, k, &f->second);
}

FillTicket Shard::NewFlightLocked(Cache* cache, const HashedKey& k, InFlight* slot) {
  // A shard without versions (capacity 0) caches no fill (FillAllowed is never asked), but its
  // tokens still name loads, so they are unique too.
  slot->token = versions_ ? versions_->NextToken() : ++untracked_tokens_;
  return FillTicket::Leader(cache, k.key, slot->token);
}

FillResult Shard::CompleteFill(const HashedKey& k, uint64_t token, Entry* e, uint32_t charge,
                               std::shared_ptr<Flight>* flight) {
  Garbage garbage;
  FillResult result = FillResult::kSkipped;
  {
    MutexLock lock(&mu_);
    *flight = WithdrawFillLocked(k.key, token);
    if (e != nullptr) {
      if (charge > capacity_) {
        ++stats_.rejected_too_large;
        garbage.push_back(UnrefLater(e));
        result = FillResult::kTooLarge;
      } else if (!versions_ || !versions_->FillAllowed(k.hash, token)) {
        ++stats_.stale_fills_rejected;
        garbage.push_back(UnrefLater(e));
        result = FillResult::kStale;
      } else {
        PublishLocked(k, e, charge, &garbage);
        result = FillResult::kInserted;
      }
    }
  }
  Release(garbage);
  return result;
}

std::shared_ptr<Flight> Shard::WithdrawFill(const HashedKey& k, uint64_t token) {
  MutexLock lock(&mu_);
  return WithdrawFillLocked(k.key, token);
}

bool Shard::Insert(const HashedKey& k, Entry* e, uint32_t charge) {
  Garbage garbage;
  bool inserted = false;
  {
    MutexLock lock(&mu_);
    if (e == nullptr || charge > capacity_) {
      ++stats_.rejected_too_large;
      // The refused value still supersedes the key's older one, which must not be served.
      if (EraseLocked(k, &garbage)) ++stats_.invalidations;
      if (e != nullptr) garbage.push_back(UnrefLater(e));
    } else {
      PublishLocked(k, e, charge, &garbage);
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
    const bool loading = DetachFlightLocked(k.key);
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
    DetachFlightLocked(k.key);
    if (versions_) {
      result = versions_->BeginWrite(k.hash);
      EvictToBudgetLocked(&garbage);
    }
  }
  Release(garbage);
  return result;
}

void Shard::EndWrite(const HashedKey& k, uint64_t version, bool solo, bool db_ok, Entry* e,
                     uint32_t charge) {
  Garbage garbage;
  {
    MutexLock lock(&mu_);
    const bool install = versions_ && versions_->EndWrite(k.hash, version, solo);
    DetachFlightLocked(k.key);
    if (db_ok) {
      if (EraseLocked(k, &garbage)) ++stats_.invalidations;
      if (e != nullptr && install && charge <= capacity_) {
        PublishLocked(k, e, charge, &garbage);
        e = nullptr;
      } else if (e != nullptr && charge > capacity_) {
        ++stats_.rejected_too_large;
      }
    }
    if (e != nullptr) garbage.push_back(UnrefLater(e));
    EvictToBudgetLocked(&garbage);
  }
  Release(garbage);
}

size_t Shard::ClearLocked(Garbage* garbage) {
  const size_t n = table_.size();
  if (freq_cap_ == 0) garbage->reserve(garbage->size() + n);
  // Each entry is retired after the emptied array is published (its tag read after the unlink).
  // (The callback runs here, under mu_.)
  table_.Clear(&retired_, [&](Entry* e) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    policy_->OnRemove(&e->node);
    if (freq_cap_ == 0) {
      garbage->push_back(UnrefLater(e));
    } else {
      retired_charge_ += e->node.charge;
      retired_.Retire(e, &UnrefEntry);
    }
  });
  expiry_.clear();
  charge_ = 0;
  stats_.entries = 0;
  stats_.charge = 0;
  CollectRetiredLocked(garbage);
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
    DetachAllFlightsLocked();
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
  CacheStats stats;
  {
    MutexLock lock(&mu_);
    stats = stats_;
  }
  for (const HitStripe& stripe : hit_stripes_) {
    stats.hits += stripe.hits.load(std::memory_order_relaxed);
    stats.misses += stripe.misses.load(std::memory_order_relaxed);
  }
  return stats;
}

void Shard::HottestKeys(size_t n, std::vector<std::string>* out) const {
  MutexLock lock(&mu_);
  std::vector<PolicyNode*> nodes;
  policy_->Hottest(n, &nodes);
  for (PolicyNode* node : nodes) out->emplace_back(Entry::FromNode(node)->key());
}

void Shard::RemoveLocked(Entry* e, uint64_t hash, bool evicted, Garbage* garbage) {
  if (!evicted) policy_->OnRemove(&e->node);
  if (const int64_t expire_nanos = e->expire_nanos(); expire_nanos != 0) {
    expiry_.erase({expire_nanos, e});
  }
  table_.Erase(e, hash);
  charge_ -= e->node.charge;
  stats_.entries = table_.size();
  stats_.charge = charge_;
  if (freq_cap_ == 0) {  // Only the locked path reads the table: release it now.
    garbage->push_back(UnrefLater(e));
    return;
  }
  retired_.Retire(e, &UnrefEntry);
  retired_charge_ += e->node.charge;
  if (retired_.size() >= retire_threshold_ || retired_charge_ * kRetireShare >= capacity_) {
    CollectRetiredLocked(garbage);
  }
}

void Shard::CollectRetiredLocked(Garbage* garbage) {
  retired_.Collect(garbage);
  // Entries a reader still holds back stay; collect again once as many more have come.
  retired_charge_ = 0;
  retired_.ForEach([&](const util::Retired& r) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    if (r.release == &UnrefEntry) retired_charge_ += static_cast<Entry*>(r.object)->node.charge;
  });
  retire_threshold_ = std::max(kRetireBatch, 2 * retired_.size());
}

bool Shard::EraseLocked(const HashedKey& k, Garbage* garbage) {
  Entry* e = table_.Find(k.key, k.hash);
  if (e == nullptr) return false;
  RemoveLocked(e, k.hash, /*evicted=*/false, garbage);
  return true;
}

void Shard::PublishLocked(const HashedKey& k, Entry* e, uint32_t charge, Garbage* garbage) {
  EraseLocked(k, garbage);
  SweepLocked(2, garbage);
  e->node.charge = charge;
  // A replaced array is as large as the table: give it back as soon as readers allow.
  if (table_.Insert(e, k.hash, &retired_)) CollectRetiredLocked(garbage);
  if (const int64_t expire_nanos = e->expire_nanos(); expire_nanos != 0) {
    expiry_.insert({expire_nanos, e});
  }
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
    Entry* e = Entry::FromNode(victim);
    RemoveLocked(e, HashKey(e->key()), /*evicted=*/true, garbage);
    budgeted = BudgetedBookkeepingLocked();  // An eviction may grow the ghost set.
  }
  const uint64_t bookkeeping = BookkeepingBytesLocked();
  stats_.entries = table_.size();
  stats_.charge = charge_;
  stats_.bookkeeping = bookkeeping;
}

bool Shard::DetachFlightLocked(std::string_view key) {
  if (flights_.empty()) return false;  // Most writes: no hashing of the key.
  auto it = flights_.find(key);
  if (it == flights_.end()) return false;
  if (it->second.flight != nullptr) {
    orphans_.emplace(it->second.token, std::move(it->second.flight));
  }
  flights_.erase(it);
  return true;
}

void Shard::DetachAllFlightsLocked() {
  for (auto& [key, in_flight] : flights_) {
    if (in_flight.flight != nullptr) orphans_.emplace(in_flight.token, std::move(in_flight.flight));
  }
  flights_.clear();
}

std::shared_ptr<Flight> Shard::WithdrawFillLocked(std::string_view key, uint64_t token) {
  std::shared_ptr<Flight> flight;
  if (auto it = flights_.find(key); it != flights_.end() && it->second.token == token) {
    flight = std::move(it->second.flight);
    flights_.erase(it);
  } else if (!orphans_.empty()) {
    if (auto o = orphans_.find(token); o != orphans_.end()) {
      flight = std::move(o->second);
      orphans_.erase(o);
    }
  }
  return flight;
}

size_t Shard::SweepLocked(size_t max_entries, Garbage* garbage) {
  if (expiry_.empty()) return 0;
  const int64_t now = clock_->NowNanos();
  size_t n = 0;
  while (n < max_entries && !expiry_.empty() && expiry_.begin()->first <= now) {
    Entry* e = expiry_.begin()->second;
    ++stats_.expirations;
    RemoveLocked(e, HashKey(e->key()), /*evicted=*/false, garbage);
    ++n;
  }
  return n;
}

}  // namespace asidekv::cache
