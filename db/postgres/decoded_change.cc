#include "db/postgres/decoded_change.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace asidekv::db {
namespace {

constexpr std::string_view kTablePrefix = "table ";
constexpr std::string_view kKeyColumn = " key[bytea]:'\\x";

bool Consume(std::string_view* s, std::string_view prefix) {
  if (s->substr(0, prefix.size()) != prefix) return false;
  s->remove_prefix(prefix.size());
  return true;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One identifier at the front of *s: "quoted" (with "" for a quote) or bare up to '.', ',' or
// ':'. Removes it from *s.
std::optional<std::string> TakeIdentifier(std::string_view* s) {
  std::string out;
  if (!s->empty() && s->front() == '"') {
    size_t i = 1;
    for (;; ++i) {
      if (i >= s->size()) return std::nullopt;
      if ((*s)[i] == '"') {
        if (i + 1 < s->size() && (*s)[i + 1] == '"') {
          out.push_back('"');
          ++i;
          continue;
        }
        break;
      }
      out.push_back((*s)[i]);
    }
    s->remove_prefix(i + 1);
    return out;
  }
  const size_t end = std::min(s->find_first_of(".,:"), s->size());
  if (end == 0) return std::nullopt;
  out.assign(s->substr(0, end));
  s->remove_prefix(end);
  return out;
}

// Whether the relation list `rels` ("public.kv, public.\"user\"") names `table`.
bool NamesTable(std::string_view rels, std::string_view table) {
  while (!rels.empty()) {
    std::optional<std::string> name = TakeIdentifier(&rels);
    if (!name.has_value()) return false;
    while (Consume(&rels, ".")) {
      name = TakeIdentifier(&rels);
      if (!name.has_value()) return false;
    }
    if (*name == table) return true;
    if (!rels.empty() && !Consume(&rels, ", ")) return false;
  }
  return false;
}

// ` key[bytea]:'\x<hex>'` at the front of *s: the key's bytes; removes it from *s.
std::optional<std::string> TakeKey(std::string_view* s) {
  if (!Consume(s, kKeyColumn)) return std::nullopt;
  const size_t end = s->find('\'');
  if (end == std::string_view::npos || end % 2 != 0) return std::nullopt;
  std::string key;
  key.reserve(end / 2);
  for (size_t i = 0; i < end; i += 2) {
    const int hi = HexDigit((*s)[i]);
    const int lo = HexDigit((*s)[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    key.push_back(static_cast<char>(hi * 16 + lo));
  }
  s->remove_prefix(end + 1);
  return key;
}

// The keys of a row change's tuple data (after "INSERT:", "UPDATE:" or "DELETE:").
DecodedChange RowChange(std::string_view rest) {
  DecodedChange change;
  change.kind = DecodedChange::Kind::kUnknownKey;
  if (Consume(&rest, " old-key:")) {  // An UPDATE that changed the key: old and new.
    std::optional<std::string> old_key = TakeKey(&rest);
    if (!old_key.has_value() || !Consume(&rest, " new-tuple:")) return change;
    change.keys.push_back(*std::move(old_key));
  }
  std::optional<std::string> key = TakeKey(&rest);
  if (!key.has_value()) {
    change.keys.clear();
    return change;
  }
  change.keys.push_back(*std::move(key));
  change.kind = DecodedChange::Kind::kRow;
  return change;
}

// Reads `digits` decimal digits at the front of *s.
std::optional<int64_t> TakeNumber(std::string_view* s, size_t digits) {
  if (s->size() < digits) return std::nullopt;
  int64_t v = 0;
  for (size_t i = 0; i < digits; ++i) {
    const char c = (*s)[i];
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  s->remove_prefix(digits);
  return v;
}

// Days from 1970-01-01 to the civil date y-m-d (proleptic Gregorian).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

constexpr int64_t kPgEpochDays = 10957;  // 2000-01-01 in days since 1970-01-01.
constexpr int64_t kMicrosPerSecond = 1000000;

}  // namespace

std::optional<int64_t> ParsePgTimestamp(std::string_view s) {
  std::optional<int64_t> year = TakeNumber(&s, 4);
  if (!year.has_value() || !Consume(&s, "-")) return std::nullopt;
  std::optional<int64_t> month = TakeNumber(&s, 2);
  if (!month.has_value() || !Consume(&s, "-")) return std::nullopt;
  std::optional<int64_t> day = TakeNumber(&s, 2);
  if (!day.has_value() || !Consume(&s, " ")) return std::nullopt;
  std::optional<int64_t> hour = TakeNumber(&s, 2);
  if (!hour.has_value() || !Consume(&s, ":")) return std::nullopt;
  std::optional<int64_t> minute = TakeNumber(&s, 2);
  if (!minute.has_value() || !Consume(&s, ":")) return std::nullopt;
  std::optional<int64_t> second = TakeNumber(&s, 2);
  if (!second.has_value()) return std::nullopt;
  int64_t micros = 0;
  if (Consume(&s, ".")) {
    int64_t scale = kMicrosPerSecond;
    while (!s.empty() && s.front() >= '0' && s.front() <= '9') {
      scale /= 10;
      micros += (s.front() - '0') * scale;
      s.remove_prefix(1);
    }
  }
  if (s.empty() || (s.front() != '+' && s.front() != '-')) return std::nullopt;
  const int64_t sign = s.front() == '-' ? -1 : 1;
  s.remove_prefix(1);
  std::optional<int64_t> offset_hours = TakeNumber(&s, 2);
  if (!offset_hours.has_value()) return std::nullopt;
  int64_t offset_seconds = *offset_hours * 3600;
  if (Consume(&s, ":")) {
    std::optional<int64_t> offset_minutes = TakeNumber(&s, 2);
    if (!offset_minutes.has_value()) return std::nullopt;
    offset_seconds += *offset_minutes * 60;
  }
  if (!s.empty()) return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31) return std::nullopt;
  const int64_t days = DaysFromCivil(*year, *month, *day) - kPgEpochDays;
  const int64_t seconds =
      days * 86400 + *hour * 3600 + *minute * 60 + *second - sign * offset_seconds;
  return seconds * kMicrosPerSecond + micros;
}

namespace {

// The decimal transaction id that starts `text` (up to a space or the end), or nullopt.
std::optional<uint32_t> ParseXid(std::string_view text) {
  const size_t end = std::min(text.find(' '), text.size());
  if (end == 0 || end > 10) return std::nullopt;
  uint64_t xid = 0;
  for (char c : text.substr(0, end)) {
    if (c < '0' || c > '9') return std::nullopt;
    xid = xid * 10 + static_cast<uint64_t>(c - '0');
  }
  if (xid > 0xffffffffu) return std::nullopt;
  return static_cast<uint32_t>(xid);
}

}  // namespace

DecodedChange ParseDecodedChange(std::string_view line, std::string_view table) {
  DecodedChange change;
  if (line == "BEGIN" || line.substr(0, 6) == "BEGIN ") {
    change.kind = DecodedChange::Kind::kBegin;
    change.xid = ParseXid(line.substr(std::min<size_t>(line.size(), 6)));
    return change;
  }
  if (line == "COMMIT" || line.substr(0, 7) == "COMMIT ") {
    change.kind = DecodedChange::Kind::kCommit;
    change.xid = ParseXid(line.substr(std::min<size_t>(line.size(), 7)));
    const size_t at = line.find(" (at ");
    if (at != std::string_view::npos && line.back() == ')') {
      change.commit_micros = ParsePgTimestamp(line.substr(at + 5, line.size() - at - 6));
    }
    return change;
  }
  if (!Consume(&line, kTablePrefix)) return change;
  // The first action marker ends the relation list (values come after it).
  struct Action {
    std::string_view marker;
    bool truncate;
  };
  constexpr Action kActions[] = {
      {": INSERT:", false}, {": UPDATE:", false}, {": DELETE:", false}, {": TRUNCATE:", true}};
  size_t best = std::string_view::npos;
  const Action* action = nullptr;
  for (const Action& a : kActions) {
    const size_t at = line.find(a.marker);
    if (at < best) {
      best = at;
      action = &a;
    }
  }
  if (action == nullptr || !NamesTable(line.substr(0, best), table)) return change;
  if (action->truncate) {
    change.kind = DecodedChange::Kind::kTruncate;
    return change;
  }
  return RowChange(line.substr(best + action->marker.size()));
}

}  // namespace asidekv::db
