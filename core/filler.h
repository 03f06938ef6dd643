// Filler: the one owner of the fill. Every path that completes a leader ticket of the cache
// (Get's miss, MultiGet, refresh-ahead reloads, warming and so the admin endpoint's warm) turns
// the DB's answer into the cache's entry here, and nowhere else:
//
//   DB result (stored form) --Decode--> Loaded {value or status, stored TTL}
//   Loaded --Complete--> the ticket: the value cached with its stored TTL, or a negative entry
//            for NotFound (Options::negative_ttl > 0), or nothing for an error; the result is
//            shared with the key's waiters either way.
//
// A stored value that does not decode is DataLoss on every path (never cached, shared with the
// waiters as such), and no path can publish stored bytes to a reader. Read() also counts
// Stats::db_reads, the one counter of DB reads made for misses and refreshes.
//
// Thread safety: every method may be called concurrently.
// Ownership: borrows the cache and the DB (Store::Impl owns them and the Filler).

#ifndef ASIDEKV_CORE_FILLER_H_
#define ASIDEKV_CORE_FILLER_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cache/cache.h"
#include "db/format_marker.h"
#include "db/rocks_db.h"

namespace asidekv::core {

class Filler {
 public:
  // Tag of cache entries that record "not found".
  static constexpr uint8_t kNegativeTag = 1;

  // A value read from the DB: the user value (or NotFound / an error) and its stored cache TTL.
  struct Loaded {
    absl::StatusOr<std::string> value;
    std::optional<absl::Duration> ttl;
  };

  // `negative_ttl`: Options::negative_ttl (0: absence is not cached).
  Filler(cache::Cache* cache, db::RocksDb* db, db::ValueEncoding encoding,
         absl::Duration negative_ttl);

  // Decodes a DB result in stored form.
  Loaded Decode(absl::StatusOr<std::string> stored) const;

  // Reads `key` from the DB and decodes it; counts one DB read.
  Loaded Read(std::string_view key);

  // Counts `n` DB reads made by a batch (MultiGet) that decodes them itself.
  void CountReads(uint64_t n) { db_reads_.fetch_add(n, std::memory_order_relaxed); }

  // Completes a leader ticket with `loaded`: caches it (unless `cache_it` is false) and shares
  // the result with the waiters. REQUIRES: ticket->role() == kLeader, not yet completed.
  cache::FillResult Complete(cache::FillTicket* ticket, const Loaded& loaded, bool cache_it = true);

  uint64_t db_reads() const { return db_reads_.load(std::memory_order_relaxed); }

 private:
  cache::Cache* const cache_;  // Not owned.
  db::RocksDb* const db_;      // Not owned.
  const db::ValueEncoding encoding_;
  const absl::Duration negative_ttl_;
  std::atomic<uint64_t> db_reads_{0};
};

}  // namespace asidekv::core

#endif  // ASIDEKV_CORE_FILLER_H_
