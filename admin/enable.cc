// EnableAdminEndpoint(): registers the admin server as the core's admin starter.
#include "admin/server.h"
#include "admin/server_starter.h"
#include "asidekv/admin.h"
#include "core/introspection.h"

namespace asidekv {

void EnableAdminEndpoint() {
  core::SetAdminStarter(&admin::StartServer<admin::AdminServer, admin::AdminServerOptions>);
}

namespace admin {

void SetAdminServerOptionsForTesting(const AdminServerOptions& options) {
  ServerOptionsSlot<AdminServerOptions>().Set(options);
}

}  // namespace admin

}  // namespace asidekv
