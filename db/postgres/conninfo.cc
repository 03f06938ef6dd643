#include "db/postgres/conninfo.h"

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "util/secret.h"

namespace asidekv::db {
namespace {

constexpr std::string_view kMask = "****";

struct OptionsDeleter {
  void operator()(PQconninfoOption* options) const { PQconninfoFree(options); }
};
using OptionsPtr = std::unique_ptr<PQconninfoOption, OptionsDeleter>;

// A value as libpq's keyword/value syntax wants it: bare when it has no space, quote or
// backslash, else single-quoted with those escaped.
std::string QuoteValue(std::string_view value) {
  if (!value.empty() && value.find_first_of(" \t\n\r\f\v'\\") == std::string_view::npos) {
    return std::string(value);
  }
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

const char* Find(const PQconninfoOption* options, std::string_view keyword) {
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (keyword == o->keyword) return o->val;
  }
  return nullptr;
}

// The value of `keyword` in `options`, else libpq's default (which reads PGHOST, PGPORT...).
std::string WithDefault(const PQconninfoOption* options, const PQconninfoOption* defaults,
                        std::string_view keyword) {
  const char* v = Find(options, keyword);
  if (v != nullptr && *v != '\0') return v;
  v = defaults != nullptr ? Find(defaults, keyword) : nullptr;
  return v != nullptr ? v : "";
}

}  // namespace

absl::StatusOr<ParsedConninfo> ParseConninfo(std::string_view conninfo) {
  if (conninfo.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError("the PostgreSQL connection string holds a NUL byte");
  }
  const std::string text(conninfo);
  char* error = nullptr;
  OptionsPtr options(PQconninfoParse(text.c_str(), &error));
  if (options == nullptr) {
    std::string reason = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) reason.pop_back();
    // libpq's reason may quote a piece of the string, which may be the password's.
    const bool may_quote_secret =
        text.find("password") != std::string::npos || text.find('@') != std::string::npos;
    return absl::InvalidArgumentError(
        may_quote_secret
            ? std::string("the PostgreSQL connection string cannot be parsed")
            : absl::StrCat("the PostgreSQL connection string cannot be parsed: ", reason));
  }
  ParsedConninfo parsed;
  for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    const std::string_view keyword = o->keyword;
    const bool secret = keyword == "password";
    if (secret) parsed.password = o->val;
    if (!parsed.redacted.empty()) parsed.redacted.push_back(' ');
    absl::StrAppend(&parsed.redacted, o->keyword, "=",
                    secret ? std::string(kMask) : QuoteValue(o->val));
  }
  OptionsPtr defaults(PQconndefaults());
  std::string host = WithDefault(options.get(), defaults.get(), "host");
  if (host.empty()) host = WithDefault(options.get(), defaults.get(), "hostaddr");
  if (host.empty()) host = "(libpq's default socket folder)";
  parsed.server =
      absl::StrCat("host=", host, " port=", WithDefault(options.get(), defaults.get(), "port"));
  const std::string dbname = WithDefault(options.get(), defaults.get(), "dbname");
  if (!dbname.empty()) absl::StrAppend(&parsed.server, " dbname=", dbname);
  // A password given as the host or database name (a mistake, but possible) stays hidden.
  parsed.server = util::ScrubSecret(parsed.server, parsed.password);
  return parsed;
}

std::string RedactConninfo(std::string_view conninfo) {
  absl::StatusOr<ParsedConninfo> parsed = ParseConninfo(conninfo);
  if (!parsed.ok()) return "(unparsable connection string)";
  return parsed->redacted;
}

}  // namespace asidekv::db
