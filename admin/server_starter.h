// StartServer<Server, ServerOptions>(): the core's starter hook (core/introspection.h) for one
// kind of endpoint server, with process-wide server options that tests may replace.
//
// EnableAdminEndpoint() registers StartServer<AdminServer, AdminServerOptions>, and
// EnableMetricsEndpoint() StartServer<MetricsHttpServer, MetricsHttpServerOptions>; their
// Set*ServerOptionsForTesting() functions write ServerOptionsSlot<ServerOptions>().
//
// Thread safety: the slot is guarded by its mutex; StartServer copies the options out before
// starting, so a test may change them while Stores open.

#ifndef ASIDEKV_ADMIN_SERVER_STARTER_H_
#define ASIDEKV_ADMIN_SERVER_STARTER_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/introspection.h"

namespace asidekv::admin {

// The options the next servers of one kind start with (default: ServerOptions{}).
template <typename ServerOptions>
class OptionsSlot {
 public:
  ServerOptions Get() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return options_;
  }
  void Set(const ServerOptions& options) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    options_ = options;
  }

 private:
  mutable absl::Mutex mu_;
  ServerOptions options_ ABSL_GUARDED_BY(mu_);
};

// The one slot of ServerOptions in the process; never destroyed.
template <typename ServerOptions>
OptionsSlot<ServerOptions>& ServerOptionsSlot() {
  static OptionsSlot<ServerOptions>* const slot = new OptionsSlot<ServerOptions>;
  return *slot;
}

// Server::Start(address, store, the slot's options), as a core::AdminStarter.
template <typename Server, typename ServerOptions>
absl::StatusOr<std::unique_ptr<core::AdminEndpoint>> StartServer(const std::string& address,
                                                                 core::Introspection* store) {
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(address, store, ServerOptionsSlot<ServerOptions>().Get());
  if (!server.ok()) return server.status();
  return std::unique_ptr<core::AdminEndpoint>(*std::move(server));
}

}  // namespace asidekv::admin

#endif  // ASIDEKV_ADMIN_SERVER_STARTER_H_
