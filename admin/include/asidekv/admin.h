// The admin endpoint of a Store: a Unix socket (Options::admin_socket) that serves stats,
// metrics, cache lookups, invalidation and warming to the asidekv-admin tool (admin/protocol.h
// documents the protocol).
//
// The endpoint is a separate library, so applications that never enable it do not link it:
// link asidekv::admin (CMake) and call EnableAdminEndpoint() once, before the first Store::Open
// with Options::admin_socket set. Without it such an Open returns FailedPrecondition.
//
//   #include <asidekv/admin.h>
//   asidekv::EnableAdminEndpoint();
//   options.admin_socket = "/run/myapp/kv.sock";
//   auto store = asidekv::Store::Open(options);
//
// This header compiles as C++17.

#ifndef ASIDEKV_ADMIN_H_
#define ASIDEKV_ADMIN_H_

#include "asidekv/export.h"

namespace asidekv {

// Lets Store::Open start an admin endpoint for Options::admin_socket in this process.
// Idempotent and thread-safe; it cannot be undone.
ASIDEKV_EXPORT void EnableAdminEndpoint();

}  // namespace asidekv

#endif  // ASIDEKV_ADMIN_H_
