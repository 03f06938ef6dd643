// EnableAdminEndpoint(): registers the admin server as the core's admin starter.
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "admin/server.h"
#include "asidekv/admin.h"
#include "core/introspection.h"

namespace asidekv {
namespace {

absl::Mutex options_mu(absl::kConstInit);
// Never destroyed; null until SetAdminServerOptionsForTesting() is called.
admin::AdminServerOptions* server_options ABSL_GUARDED_BY(options_mu) = nullptr;

absl::StatusOr<std::unique_ptr<core::AdminEndpoint>> StartAdminServer(
    const std::string& socket_path, core::Introspection* store) {
  admin::AdminServerOptions options;
  {
    absl::MutexLock lock(&options_mu);
    if (server_options != nullptr) options = *server_options;
  }
  absl::StatusOr<std::unique_ptr<admin::AdminServer>> server =
      admin::AdminServer::Start(socket_path, store, options);
  if (!server.ok()) return server.status();
  return std::unique_ptr<core::AdminEndpoint>(*std::move(server));
}

}  // namespace

void EnableAdminEndpoint() { core::SetAdminStarter(&StartAdminServer); }

namespace admin {

void SetAdminServerOptionsForTesting(const AdminServerOptions& options) {
  absl::MutexLock lock(&options_mu);
  if (server_options == nullptr) {
    server_options = new AdminServerOptions(options);
  } else {
    *server_options = options;
  }
}

}  // namespace admin

}  // namespace asidekv
