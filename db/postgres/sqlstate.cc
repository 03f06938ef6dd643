#include "db/postgres/sqlstate.h"

#include <string_view>

#include "absl/status/status.h"

namespace asidekv::db {
namespace {

struct Rule {
  std::string_view prefix;  // Five characters (one code) or two (a class).
  absl::StatusCode code;
};

// The table of the header comment, in the same order.
constexpr Rule kRules[] = {
    {"57014", absl::StatusCode::kDeadlineExceeded}, {"57P01", absl::StatusCode::kUnavailable},
    {"57P02", absl::StatusCode::kUnavailable},      {"57P03", absl::StatusCode::kUnavailable},
    {"40001", absl::StatusCode::kAborted},          {"40P01", absl::StatusCode::kAborted},
    {"08", absl::StatusCode::kUnavailable},         {"53", absl::StatusCode::kResourceExhausted},
    {"23", absl::StatusCode::kFailedPrecondition},  {"22", absl::StatusCode::kInvalidArgument},
    {"28", absl::StatusCode::kPermissionDenied},    {"42", absl::StatusCode::kFailedPrecondition},
    {"3D", absl::StatusCode::kFailedPrecondition},  {"54", absl::StatusCode::kInvalidArgument},
    {"58", absl::StatusCode::kUnavailable},         {"XX", absl::StatusCode::kInternal},
};

}  // namespace

absl::StatusCode SqlStateCode(std::string_view sqlstate) {
  if (sqlstate.size() != 5) return absl::StatusCode::kInternal;
  for (const Rule& rule : kRules) {
    if (sqlstate.substr(0, rule.prefix.size()) == rule.prefix) return rule.code;
  }
  return absl::StatusCode::kInternal;
}

}  // namespace asidekv::db
