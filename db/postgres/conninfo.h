// PostgreSQL connection strings (libpq's "conninfo", keyword/value or URI form) without their
// secret: what asidekv may show of one in an error, a log line or a property.
//
// Rule: the password of a connection string never leaves this module in text form. Every message
// that might quote it (libpq's own messages, the server description) goes through
// util::ScrubSecret() (util/secret.h) with the password that ParseConninfo() found.
//
// Example (keywords come out in libpq's order of keywords, not the input's):
//   RedactConninfo("host=db user=app password=s3cr3t")
//       == "user=app password=**** host=db"
//   RedactConninfo("postgresql://app:s3cr3t@db:5433/prod")
//       == "user=app password=**** dbname=prod host=db port=5433"
//
// Thread safety: pure functions (libpq's PQconninfoParse and PQconndefaults are thread-safe).

#ifndef ASIDEKV_DB_POSTGRES_CONNINFO_H_
#define ASIDEKV_DB_POSTGRES_CONNINFO_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace asidekv::db {

// What asidekv needs to know about a connection string.
struct ParsedConninfo {
  // RedactConninfo's text.
  std::string redacted;
  // The server it names, for messages: "host=<host or socket folder> port=<port> dbname=<db>"
  // with libpq's defaults (environment, compiled-in socket folder) for what it leaves out.
  std::string server;
  // The password it holds (empty when none): only for ScrubSecret().
  std::string password;
};

// Parses `conninfo` with libpq. InvalidArgument when libpq cannot parse it (a NUL byte, a
// missing '=', an unknown keyword, a bad URI); the message quotes libpq's reason only when the
// string holds no password that it might echo.
absl::StatusOr<ParsedConninfo> ParseConninfo(std::string_view conninfo);

// `conninfo` as keyword/value pairs, each keyword it sets kept with its value except the
// password, shown as "****"; a URI comes back in keyword/value form. An unparsable string gives
// "(unparsable connection string)".
std::string RedactConninfo(std::string_view conninfo);

}  // namespace asidekv::db

#endif  // ASIDEKV_DB_POSTGRES_CONNINFO_H_
