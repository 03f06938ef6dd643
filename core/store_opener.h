// StoreOpener: opens a Store with internal hooks that the public Options do not expose.
//
// Tests use it to run the Store on a FakeClock, or over a Cache double that fails or drops
// operations. Applications use Store::Open().

#ifndef ASIDEKV_CORE_STORE_OPENER_H_
#define ASIDEKV_CORE_STORE_OPENER_H_

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "asidekv/store.h"
#include "cache/cache.h"
#include "cache/clock.h"
#include "db/fault_injection.h"

namespace asidekv::core {

struct StoreHooks {
  // Clock of the cache's TTLs. Borrowed; must outlive the Store. Default: the wall clock. Not
  // with a Redis tier and a cache (the coherence gate runs on the real clock): InvalidArgument.
  cache::Clock* clock = nullptr;
  // If set, replaces the cache the Store would build from its options. Receives that cache, so
  // a double can wrap it.
  std::function<std::unique_ptr<cache::Cache>(std::unique_ptr<cache::Cache> built)> wrap_cache;
  // If set, the DB's files go through a file system that this injector can make fail (see
  // db/fault_injection.h). Default: null.
  std::shared_ptr<db::FaultInjector> fault_injector;
};

// Store::Open with `hooks`: it passes them to Store::Open through a thread-local slot for the
// duration of the call, so the public Store needs no friend.
class StoreOpener {
 public:
  static absl::StatusOr<std::unique_ptr<Store>> Open(const Options& options,
                                                     const StoreHooks& hooks);
  // Store::Open(options, database) with `hooks` (database null: Store::Open(options)).
  static absl::StatusOr<std::unique_ptr<Store>> Open(const Options& options,
                                                     std::unique_ptr<Database> database,
                                                     const StoreHooks& hooks);
};

}  // namespace asidekv::core

#endif  // ASIDEKV_CORE_STORE_OPENER_H_
