// The admin protocol: requests and responses of the Store's admin socket (admin/server.h),
// as pure functions so they can be unit-tested and fuzzed without sockets.
//
// Transport
//   A Unix domain stream socket (Options::admin_socket, mode 0600). The client sends one request
//   per line; the server answers each request with exactly one response line, in order. Either
//   side may close at any time. The server closes a connection after an oversized request, or
//   one that stays incomplete (or idle) past its timeout.
//
// Request (text form)
//   request  := command *( SP arg ) [CR] LF          at most kMaxRequestBytes, LF included
//   arg      := 1*( byte in 0x21..0x7E except '%'  |  "%" HEX HEX )
//   Bytes that are not printable ASCII, and space and '%', travel percent-encoded (%20, %25, %00,
//   %FF...), so keys are binary-safe. Numbers are decimal. Commands:
//     ping                     liveness check
//     stats                    Stats, per-shard cache stats, latency percentiles, RocksDB
//     properties get KEY                  value (reads the DB on a miss, like Store::Get),
//     from_cache, TTL left peek KEY                 the cache entry only; never reads the DB
//     invalidate KEY           Store::Invalidate
//     clear-cache              Store::ClearCache
//     warm [PREFIX] LIMIT      Store::WarmPrefix(PREFIX, LIMIT): fills the cache with up to LIMIT
//                              keys starting with PREFIX (empty when omitted), read from the DB
//                              (LIMIT <= kMaxWarmLimit), until the cache budget is filled;
//                              answers "filled" (counted in warm_reads, warmed_keys)
//     hot N                    up to N hottest keys by the eviction policy (N <= kMaxHotKeys)
//     config                   the effective Options
//     metrics                  Prometheus text exposition format (in the "text" field)
//
// Response
//   One JSON object on one line (no raw LF inside), always with "ok":
//     {"ok":true,"command":"get","key":"k","found":true,"value":"v","from_cache":false,...}
//     {"ok":false,"code":"NOT_FOUND","error":"key not found"}
//   JSON strings carry byte strings: printable ASCII stands for itself; '"' and '\' are escaped;
//   every other byte b is written \u00XX (XX = b in hex), so a reader that maps \u00XX back
//   (tools/admin/json_reader.h) gets the exact bytes, including bytes >= 0x80 (they are not UTF-8
//   decoded).
//
// Responses are written with JsonWriter (util/json_writer.h), which escapes this way.
//
// Thread safety: pure functions.

#ifndef ASIDEKV_ADMIN_PROTOCOL_H_
#define ASIDEKV_ADMIN_PROTOCOL_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "util/json_writer.h"

namespace asidekv::admin {

// Largest request line, LF included.
inline constexpr size_t kMaxRequestBytes = 64 * 1024;
// Caps of the numeric arguments.
inline constexpr uint64_t kMaxHotKeys = 10000;
inline constexpr uint64_t kMaxWarmLimit = 1000000;

enum class AdminCommand {
  kPing,
  kStats,
  kGet,
  kPeek,
  kInvalidate,
  kClearCache,
  kWarm,
  kHot,
  kConfig,
  kMetrics,
};

struct AdminRequest {
  AdminCommand command = AdminCommand::kPing;
  // get/peek/invalidate: the key (not empty). warm: the prefix (may be empty).
  std::string key;
  // warm: LIMIT; hot: N.
  uint64_t count = 0;
};

// The command's name on the wire ("clear-cache", ...).
std::string_view AdminCommandName(AdminCommand command);

// Parses one request line (with or without its trailing LF / CRLF). InvalidArgument for an empty
// line, an unknown command, a wrong argument count, a bad percent escape, a bad or out-of-range
// number, an empty key, or a line longer than kMaxRequestBytes.
absl::StatusOr<AdminRequest> ParseAdminRequest(std::string_view line);

// The request line for `request`, LF included. ParseAdminRequest(FormatAdminRequest(r)) == r.
std::string FormatAdminRequest(const AdminRequest& request);

// Percent-encoding of one argument (see the grammar above); an empty input gives "".
std::string PercentEncode(std::string_view bytes);
// InvalidArgument for a '%' not followed by two hex digits or a byte outside 0x21..0x7E.
absl::StatusOr<std::string> PercentDecode(std::string_view arg);

// The error response for `status`: {"ok":false,"code":"...","error":"..."} (no LF).
std::string AdminErrorResponse(const absl::Status& status);

}  // namespace asidekv::admin

#endif  // ASIDEKV_ADMIN_PROTOCOL_H_
