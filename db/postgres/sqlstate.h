// SqlStateCode: the absl::StatusCode of a PostgreSQL error, from its SQLSTATE (the five-character
// code every server error carries; appendix A of the PostgreSQL manual). The table, checked in
// order, the first match wins:
//
//   SQLSTATE  meaning                                    absl::StatusCode
//   57014     query_canceled (statement_timeout)         DeadlineExceeded
//   57P01     admin_shutdown                             Unavailable
//   57P02     crash_shutdown                             Unavailable
//   57P03     cannot_connect_now (starting up)           Unavailable
//   40001     serialization_failure                      Aborted
//   40P01     deadlock_detected                          Aborted
//   08...     connection exception                       Unavailable
//   53...     insufficient resources (disk, memory,      ResourceExhausted
//             too many connections)
//   23...     integrity constraint violation             FailedPrecondition
//   22...     data exception                             InvalidArgument
//   28...     invalid authorization specification        PermissionDenied
//   42...     syntax error or access rule violation      FailedPrecondition
//             (42501 insufficient_privilege included; a missing table is 42P01)
//   3D...     invalid catalog name (no such database)    FailedPrecondition
//   54...     program limit exceeded (e.g. a key too     InvalidArgument
//             large for the index)
//   58...     system error (I/O error on the server)     Unavailable
//   XX...     internal error (e.g. data corrupted)       Internal
//   other     (40 other than above, 25, 55, 57 other...) Internal
//
// Never NotFound: asidekv::Database reserves NotFound for "no such key" (asidekv/database.h,
// guarantee 4), so no server error may look like an absent key.
//
// Thread safety: pure functions.

#ifndef ASIDEKV_DB_POSTGRES_SQLSTATE_H_
#define ASIDEKV_DB_POSTGRES_SQLSTATE_H_

#include <string_view>

#include "absl/status/status.h"

namespace asidekv::db {

// The code for `sqlstate` per the table above. An empty or malformed SQLSTATE is Internal.
absl::StatusCode SqlStateCode(std::string_view sqlstate);

}  // namespace asidekv::db

#endif  // ASIDEKV_DB_POSTGRES_SQLSTATE_H_
