#include "core/filler.h"

#include <utility>

#include "db/value_format.h"

namespace asidekv::core {

Filler::Filler(cache::Cache* cache, db::RocksDb* db, db::ValueEncoding encoding,
               absl::Duration negative_ttl)
    : cache_(cache), db_(db), encoding_(encoding), negative_ttl_(negative_ttl) {}

Filler::Loaded Filler::Decode(absl::StatusOr<std::string> stored) const {
  Loaded out;
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
  return Decode(db_->Get(key));
}

cache::FillResult Filler::Complete(cache::FillTicket* ticket, const Loaded& loaded, bool cache_it) {
  if (cache_it && loaded.value.ok()) {
    const std::string_view value = *loaded.value;
    cache::EntryOptions o;
    o.ttl = loaded.ttl;
    return cache_->CompleteFill(ticket, &value, o, loaded.value);
  }
  if (cache_it && absl::IsNotFound(loaded.value.status()) && negative_ttl_ > absl::ZeroDuration()) {
    const std::string_view empty;
    cache::EntryOptions o;
    o.ttl = negative_ttl_;
    o.tag = kNegativeTag;
    return cache_->CompleteFill(ticket, &empty, o, loaded.value);
  }
  // Errors (and what the caller does not cache) are shared with the waiters only.
  return cache_->CompleteFill(ticket, nullptr, cache::EntryOptions(), loaded.value);
}

}  // namespace asidekv::core
