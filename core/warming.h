// Warming: bulk loads of keys from the DB into the cache, and the hot-set file that lets a
// Store warm its cache on restart.
//
// Design
//   Warmer loads keys through the fill protocol, never by unconditional Insert(): for each key it
//   takes a leader ticket (BeginFill; a key already cached or being loaded is skipped) and only
//   then reads the DB (one MultiGet per batch), so a write of the key that begins after the
//   ticket rejects the fill and a write that ended before it is read. A call stops once it has
//   filled as many bytes as the cache can hold, so warming never evicts its own first keys.
//
//   Hot-set file: its layout and version are documented in db/formats.h (3). A file that does
//   not check is refused as a whole (DataLoss); the Store then starts cold and warns.
//
//   HotSetKeeper runs one thread: it warms the cache from the file found at start (in batches,
//   checking for shutdown between them) while the Store serves requests, then records the
//   cache's hottest keys every `interval` (and once more on Stop()). A warm-up cut short (by
//   Stop() or a DB error) does not shrink the hot set: until warming from the file has
//   finished, a record is the cache's hottest keys followed by the file's keys not warmed yet
//   (up to max_keys), so the keys a partial warm-up never reached are kept.
//
// Thread safety: Warmer's methods may be called concurrently. HotSetKeeper is driven by its
//   owner (constructor, Stop(), destructor) and its own thread.
// Ownership: StoreImpl owns both and destroys them before the cache and the DB they borrow.

#ifndef ASIDEKV_CORE_WARMING_H_
#define ASIDEKV_CORE_WARMING_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "asidekv/database.h"
#include "asidekv/options.h"
#include "cache/cache.h"
#include "core/filler.h"

namespace asidekv::core {

class Warmer {
 public:
  // `cache`, `db` and `filler` are borrowed and must outlive the Warmer. Every ticket it takes
  // is completed by `filler` (core/filler.h), the one owner of the fill, so warming decodes and
  // caches exactly as a miss does and never publishes stored bytes.
  // `capacity`: the cache budget in bytes (0: disabled cache, nothing is warmed).
  Warmer(cache::Cache* cache, Database* db, Filler* filler, uint64_t capacity);

  // Store::Warm / Store::WarmPrefix (see asidekv/store.h).
  absl::StatusOr<size_t> Warm(absl::Span<const std::string> keys);
  absl::StatusOr<size_t> WarmPrefix(std::string_view prefix, size_t limit);

  // Warm() with a byte budget shared by several calls: stops when *budget reaches 0 and
  // decrements it by each filled entry's charge.
  absl::StatusOr<size_t> WarmWithin(absl::Span<const std::string> keys, uint64_t* budget);

  // Reads a batch of keys for warming instead of the database: one result per key and whether
  // it may be cached (the Redis tier's RemoteTier::LoadMany). Set once, before any warming.
  using LoadMany =
      std::function<void(absl::Span<const std::string_view> keys,
                         std::vector<Filler::Loaded>* loaded, std::vector<bool>* cacheable)>;
  void set_load_many(LoadMany load_many) { load_many_ = std::move(load_many); }

  uint64_t capacity() const { return capacity_; }
  // What warming may fill: the capacity less what the cache's own bookkeeping holds now.
  uint64_t Budget() const;
  uint64_t reads() const { return reads_.load(std::memory_order_relaxed); }
  uint64_t warmed() const { return warmed_.load(std::memory_order_relaxed); }

 private:
  cache::Cache* const cache_;  // Not owned.
  Database* const db_;         // Not owned.
  const uint64_t capacity_;
  Filler* const filler_;  // Not owned.
  LoadMany load_many_;    // Empty: the database's MultiGet.
  std::atomic<uint64_t> reads_{0};
  std::atomic<uint64_t> warmed_{0};
};

// Writes `keys` to a hot-set file at `path` (via path + ".tmp" and a rename).
absl::Status WriteHotSetFile(const std::string& path, absl::Span<const std::string> keys);
// The keys of the hot-set file at `path`; NotFound if there is none, DataLoss if it is
// truncated or corrupt, or the I/O error.
absl::StatusOr<std::vector<std::string>> ReadHotSetFile(const std::string& path);

class HotSetKeeper {
 public:
  // Starts the thread: warms `warmer`'s cache from `path` if the file is valid, then records
  // up to `max_keys` of `cache`'s hottest keys to `path` every `interval` (infinite: never
  // before Stop()). All pointers are borrowed and must outlive the keeper. Warnings go to `log`
  // (core/log.h).
  HotSetKeeper(std::string path, size_t max_keys, absl::Duration interval, cache::Cache* cache,
               Warmer* warmer, LogFunction log = nullptr);
  // Stop()s.
  ~HotSetKeeper();
  HotSetKeeper(const HotSetKeeper&) = delete;
  HotSetKeeper& operator=(const HotSetKeeper&) = delete;

  // Ends warming at the next batch, joins the thread, then records the hot set one last time
  // (errors are reported through the LogFunction). Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // The first step of Stop() without waiting: warming ends at the next batch and the thread
  // ends at its next wake-up. Stop() still joins and records. Idempotent.
  void RequestStop() ABSL_LOCKS_EXCLUDED(mu_);

  // Blocks until warming from the file has finished (or been cut short). For tests and tools.
  void WaitWarmed() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run() ABSL_LOCKS_EXCLUDED(mu_);
  void WarmFromFile() ABSL_LOCKS_EXCLUDED(mu_);
  void Record() const ABSL_LOCKS_EXCLUDED(mu_);
  bool stopping() const ABSL_LOCKS_EXCLUDED(mu_);

  const std::string path_;
  const size_t max_keys_;
  const absl::Duration interval_;
  cache::Cache* const cache_;  // Not owned.
  Warmer* const warmer_;       // Not owned.
  const LogFunction log_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool warmed_ ABSL_GUARDED_BY(mu_) = false;
  // Keys of the file that warming has not reached yet (cleared once warming has finished).
  std::vector<std::string> unwarmed_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;  // Joined by Stop().
};

}  // namespace asidekv::core

#endif  // ASIDEKV_CORE_WARMING_H_
