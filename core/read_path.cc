// The read path of the engine (core::StoreImpl): Get, GetPinned, MultiGet, Scan. See store_impl.h.
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cache/clock.h"
#include "core/store_impl.h"
#include "db/value_format.h"
#include "util/monotonic_clock.h"

namespace asidekv::core {
namespace {

absl::Status KeyNotFound() { return absl::NotFoundError("key not found"); }

absl::StatusOr<std::string> FromEntry(const cache::ValueRef& v) {
  if (v.tag() == StoreImpl::kNegativeTag) return KeyNotFound();
  return std::string(v.value());
}

}  // namespace

absl::Status StoreImpl::CheckKey(std::string_view key) const {
  if (key.empty()) return absl::InvalidArgumentError("key is empty");
  if (key.size() > options_.max_key_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "key of ", key.size(), " bytes exceeds max_key_size (", options_.max_key_size, ")"));
  }
  return absl::OkStatus();
}

absl::Status StoreImpl::CheckValue(std::string_view value) const {
  if (value.size() > options_.max_value_size) {
    return absl::InvalidArgumentError(absl::StrCat("value of ", value.size(),
                                                   " bytes exceeds max_value_size (",
                                                   options_.max_value_size, ")"));
  }
  return absl::OkStatus();
}

cache::EntryOptions StoreImpl::EntryOptionsFor(std::optional<absl::Duration> ttl) const {
  cache::EntryOptions o;
  o.ttl = ttl;
  // A written value is as fresh as it gets; with a shared database it still lives at most
  // max_staleness (another process may overwrite it).
  if (staleness_bound_.has_value())
    o.ttl = std::min(ttl.value_or(options_.default_ttl), *staleness_bound_);
  return o;
}

void StoreImpl::Reload(cache::FillTicket* ticket) {
  const int64_t start = util::MonotonicNanos();
  bool cache_it;
  Loaded loaded = Load(ticket->key(), &cache_it);
  refresher_->RecordReloadCost(util::MonotonicNanos() - start);
  filler_.Complete(ticket, loaded, cache_it);
}

absl::StatusOr<std::string> StoreImpl::AwaitOrRead(const cache::FillTicket& ticket,
                                                   std::string_view key) {
  absl::StatusOr<std::string> r = ticket.Wait(options_.coalesced_wait_timeout);
  // The leader timed out on us or gave up: read the DB ourselves, without filling.
  if (absl::IsDeadlineExceeded(r.status()) || absl::IsAborted(r.status())) {
    return filler_.Read(key).value;
  }
  return r;
}

StoreImpl::Loaded StoreImpl::Load(std::string_view key, bool* cache_it) {
  if (remote_ == nullptr) {
    *cache_it = true;
    return filler_.Read(key);
  }
  Loaded loaded = remote_->Load(key, cache_it);
  // Nothing enters the cache while it may not serve (its invalidations may be lost).
  *cache_it = *cache_it && remote_->NearServing();
  return loaded;
}

absl::StatusOr<std::string> StoreImpl::GetMiss(std::string_view key) {
  cache::FillTicket ticket = cache_->BeginFill(key);
  bool cache_it;
  switch (ticket.role()) {
    case cache::FillTicket::Role::kHit:
      return FromEntry(ticket.hit());
    case cache::FillTicket::Role::kWaiter:
      return AwaitOrRead(ticket, key);
    case cache::FillTicket::Role::kBypass:
      return Load(key, &cache_it).value;
    case cache::FillTicket::Role::kLeader:
      break;
  }
  const bool timed = refresher_ != nullptr && refresher_->wants_reload_cost();
  const int64_t start = timed ? util::MonotonicNanos() : 0;
  Loaded loaded = Load(key, &cache_it);
  if (timed) refresher_->RecordReloadCost(util::MonotonicNanos() - start);
  filler_.Complete(&ticket, loaded, cache_it);
  return std::move(loaded.value);
}

absl::StatusOr<std::string> StoreImpl::Get(std::string_view key) {
  absl::Status s = CheckKey(key);
  if (!s.ok()) return s;
  const int64_t start = StartTimer();
  absl::StatusOr<std::string> result;
  // With a Redis tier the cache withholds every entry while the coherence gate is closed (its
  // serving horizon: RemoteTier::OnServingUntil), so a hit needs no check of its own here.
  if (refresher_ == nullptr && auditor_ == nullptr) {
    // Nothing needs the entry itself: copy the value out without pinning it.
    std::string value;
    uint8_t tag = 0;
    if (cache_->LookupCopy(key, &value, &tag)) {
      if (tag == kNegativeTag) {
        result = KeyNotFound();
      } else {
        result = std::move(value);
      }
    } else {
      result = GetMiss(key);
    }
  } else if (cache::ValueRef v = cache_->Lookup(key)) {
    result = FromEntry(v);
    if (refresher_ != nullptr) refresher_->OnHit(v);
    if (auditor_ != nullptr) auditor_->OnHit(v);
  } else {
    result = GetMiss(key);
  }
  RecordLatency(get_latency_, start);
  return result;
}

absl::StatusOr<PinnedValue> StoreImpl::GetPinned(std::string_view key) {
  absl::Status s = CheckKey(key);
  if (!s.ok()) return s;
  const int64_t start = StartTimer();
  absl::StatusOr<PinnedValue> result;
  cache::ValueRef v = cache_->Lookup(key);  // Gated by the cache's horizon, as in Get.
  if (v && refresher_ != nullptr) refresher_->OnHit(v);
  if (v && auditor_ != nullptr) auditor_->OnHit(v);
  if (v && v.tag() == kNegativeTag) {
    result = KeyNotFound();
  } else if (v) {
    const std::string_view view = v.value();
    cache::Entry* e = v.release();
    result = PinnedValue(
        std::shared_ptr<const void>(
            e, [](const void* p) { static_cast<cache::Entry*>(const_cast<void*>(p))->Unref(); }),
        view);
  } else {
    absl::StatusOr<std::string> loaded = GetMiss(key);
    if (!loaded.ok()) {
      result = loaded.status();
    } else {
      auto owned = std::make_shared<const std::string>(*std::move(loaded));
      const std::string_view view = *owned;
      result = PinnedValue(std::move(owned), view);
    }
  }
  RecordLatency(get_latency_, start);
  return result;
}

std::vector<absl::StatusOr<std::string>> StoreImpl::MultiGet(
    absl::Span<const std::string_view> keys) {
  std::vector<absl::StatusOr<std::string>> results(keys.size());
  std::vector<size_t> to_read;                  // Indexes read from the DB by this call.
  std::vector<cache::FillTicket> read_tickets;  // Parallel to to_read (leader or bypass).
  std::vector<std::pair<size_t, cache::FillTicket>> waiters;
  for (size_t i = 0; i < keys.size(); ++i) {
    absl::Status s = CheckKey(keys[i]);
    if (!s.ok()) {
      results[i] = s;
      continue;
    }
    if (cache::ValueRef v = cache_->Lookup(keys[i])) {  // Gated by the horizon, as in Get.
      results[i] = FromEntry(v);
      if (refresher_ != nullptr) refresher_->OnHit(v);
      if (auditor_ != nullptr) auditor_->OnHit(v);
      continue;
    }
    cache::FillTicket ticket = cache_->BeginFill(keys[i]);
    switch (ticket.role()) {
      case cache::FillTicket::Role::kHit:
        results[i] = FromEntry(ticket.hit());
        break;
      case cache::FillTicket::Role::kWaiter:
        waiters.emplace_back(i, std::move(ticket));
        break;
      case cache::FillTicket::Role::kLeader:
      case cache::FillTicket::Role::kBypass:
        to_read.push_back(i);
        read_tickets.push_back(std::move(ticket));
        break;
    }
  }
  if (!to_read.empty()) {
    std::vector<std::string_view> read_keys;
    read_keys.reserve(to_read.size());
    for (size_t i : to_read) read_keys.push_back(keys[i]);
    std::vector<Loaded> loaded;
    std::vector<bool> cache_it;
    if (remote_ != nullptr) {
      remote_->LoadMany(read_keys, &loaded, &cache_it);
      if (!remote_->NearServing()) cache_it.assign(cache_it.size(), false);
    } else {
      filler_.CountReads(to_read.size());
      const int64_t read_start = filler_.ReadStart();
      std::vector<absl::StatusOr<std::string>> raw = db_->MultiGet(read_keys);
      loaded.reserve(raw.size());
      for (auto& r : raw) loaded.push_back(filler_.Decode(std::move(r), read_start));
      cache_it.assign(raw.size(), true);
    }
    // Complete every load this call leads before waiting on anyone else's, so two MultiGets
    // that wait on each other's keys cannot deadlock.
    for (size_t j = 0; j < to_read.size(); ++j) {
      if (read_tickets[j].role() == cache::FillTicket::Role::kLeader) {
        filler_.Complete(&read_tickets[j], loaded[j], cache_it[j]);
      }
      results[to_read[j]] = std::move(loaded[j].value);
    }
  }
  for (auto& [i, ticket] : waiters) results[i] = AwaitOrRead(ticket, keys[i]);
  return results;
}

absl::StatusOr<std::vector<KeyValue>> StoreImpl::Scan(const ScanOptions& options) {
  std::vector<KeyValue> out;
  // Room for the whole limit up to a page's worth, so that a short scan does not regrow.
  if (options.limit != 0) out.reserve(std::min<size_t>(options.limit, 1024));
  absl::Status decode_error;
  absl::Status s = db_->Scan(options, [&](std::string_view key, std::string_view stored) {
    absl::StatusOr<db::DecodedValue> d = db::DecodeValue(stored, encoding_);
    if (!d.ok()) {
      decode_error = absl::DataLossError(
          absl::StrCat("corrupt value at a key of ", key.size(), " bytes: ", d.status().message()));
      return false;
    }
    out.push_back(KeyValue{std::string(key), std::string(d->value)});
    return true;
  });
  if (!s.ok()) return s;
  if (!decode_error.ok()) return decode_error;
  return out;
}

}  // namespace asidekv::core
