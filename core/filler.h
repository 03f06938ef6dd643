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
// Bounded staleness (Options::max_staleness, with a shared database): every entry expires at
// most max_staleness after its DB read began, whatever its own TTL; a load that took longer is
// neither cached nor handed to waiters (they read the DB themselves). So a reader that starts
// max_staleness after a write returned elsewhere gets a value read after that write.
//
// Thread safety: every method may be called concurrently.
// Ownership: borrows the cache and the DB (the StoreImpl owns them and the Filler).

#ifndef ASIDEKV_CORE_FILLER_H_
#define ASIDEKV_CORE_FILLER_H_

#include <atomic>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "asidekv/database.h"
#include "cache/cache.h"
#include "cache/clock.h"
#include "db/format_marker.h"

namespace asidekv::core {

class Filler {
 public:
  // Tag of cache entries that record "not found".
  static constexpr uint8_t kNegativeTag = 1;

  // A value read from the DB: the user value (or NotFound / an error), its stored cache TTL,
  // and when its DB read began (on the cache's clock).
  struct Loaded {
    absl::StatusOr<std::string> value;
    std::optional<absl::Duration> ttl;
    int64_t read_start_nanos = 0;
  };

  struct Config {
    db::ValueEncoding encoding = db::ValueEncoding::kHeader;
    // Options::negative_ttl (0: absence is not cached) and Options::default_ttl.
    absl::Duration negative_ttl = absl::ZeroDuration();
    absl::Duration default_ttl = absl::InfiniteDuration();
    // The bound on an entry's age from its DB read (InfiniteDuration: none).
    absl::Duration max_staleness = absl::InfiniteDuration();
  };

  // Borrows `cache`, `db` and `clock` (the cache's).
  Filler(cache::Cache* cache, Database* db, cache::Clock* clock, const Config& config);

  // When a DB read whose result Decode() receives begins: the cache clock's time, read only
  // when entries are bounded by max_staleness (0 otherwise: nothing uses it then).
  int64_t ReadStart() const { return bounded() ? clock_->NowNanos() : 0; }

  // Decodes a DB result in stored form, read from the DB at `read_start_nanos` (ReadStart()).
  Loaded Decode(absl::StatusOr<std::string> stored, int64_t read_start_nanos) const;

  // Reads `key` from the DB and decodes it; counts one DB read.
  Loaded Read(std::string_view key);

  // Counts `n` DB reads made by a batch (MultiGet) that decodes them itself.
  void CountReads(uint64_t n) { db_reads_.fetch_add(n, std::memory_order_relaxed); }

  // Completes a leader ticket with `loaded`: caches it (unless `cache_it` is false) and shares
  // the result with the waiters; or, when the load is older than max_staleness, abandons the
  // ticket (kStale: nothing cached, the waiters read the DB themselves).
  // REQUIRES: ticket->role() == kLeader, not yet completed.
  cache::FillResult Complete(cache::FillTicket* ticket, const Loaded& loaded, bool cache_it = true);

  uint64_t db_reads() const { return db_reads_.load(std::memory_order_relaxed); }

 private:
  bool bounded() const { return max_staleness_nanos_ != std::numeric_limits<int64_t>::max(); }

  cache::Cache* const cache_;  // Not owned.
  Database* const db_;         // Not owned.
  cache::Clock* const clock_;  // Not owned.
  const db::ValueEncoding encoding_;
  const absl::Duration negative_ttl_;
  const absl::Duration default_ttl_;
  const int64_t max_staleness_nanos_;  // INT64_MAX: unbounded.
  std::atomic<uint64_t> db_reads_{0};
};

}  // namespace asidekv::core

#endif  // ASIDEKV_CORE_FILLER_H_
