// EnableAdminEndpoint(): registers the admin server as the core's admin starter.
#include <memory>
#include <string>

#include "admin/server.h"
#include "asidekv/admin.h"
#include "core/introspection.h"

namespace asidekv {
namespace {

absl::StatusOr<std::unique_ptr<core::AdminEndpoint>> StartAdminServer(
    const std::string& socket_path, core::Introspection* store) {
  absl::StatusOr<std::unique_ptr<admin::AdminServer>> server =
      admin::AdminServer::Start(socket_path, store, admin::AdminServerOptions());
  if (!server.ok()) return server.status();
  return std::unique_ptr<core::AdminEndpoint>(*std::move(server));
}

}  // namespace

void EnableAdminEndpoint() { core::SetAdminStarter(&StartAdminServer); }

}  // namespace asidekv
