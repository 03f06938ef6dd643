#include "admin/protocol.h"

#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "util/string_view.h"

namespace asidekv::admin {
namespace {

struct CommandSpec {
  AdminCommand command;
  std::string_view name;
};

constexpr CommandSpec kCommands[] = {
    {AdminCommand::kPing, "ping"},
    {AdminCommand::kStats, "stats"},
    {AdminCommand::kGet, "get"},
    {AdminCommand::kPeek, "peek"},
    {AdminCommand::kInvalidate, "invalidate"},
    {AdminCommand::kClearCache, "clear-cache"},
    {AdminCommand::kWarm, "warm"},
    {AdminCommand::kHot, "hot"},
    {AdminCommand::kConfig, "config"},
    {AdminCommand::kMetrics, "metrics"},
};

constexpr char kHex[] = "0123456789ABCDEF";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::Status Bad(std::string_view msg) { return absl::InvalidArgumentError(std::string(msg)); }

std::vector<std::string_view> SplitSpaces(std::string_view line) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ') ++i;
    if (i > start) words.push_back(line.substr(start, i - start));
  }
  return words;
}

absl::StatusOr<uint64_t> ParseCount(std::string_view word, uint64_t max, std::string_view what) {
  uint64_t n = 0;
  if (word.empty() || word.size() > 20 || word.find_first_not_of("0123456789") != word.npos ||
      !absl::SimpleAtoi(util::ToAbsl(word), &n)) {
    return Bad(absl::StrCat(util::ToAbsl(what), " must be a decimal number"));
  }
  if (n == 0 || n > max) {
    return Bad(absl::StrCat(util::ToAbsl(what), " must be in [1, ", max, "]"));
  }
  return n;
}

}  // namespace

std::string_view AdminCommandName(AdminCommand command) {
  for (const CommandSpec& c : kCommands) {
    if (c.command == command) return c.name;
  }
  return "?";
}

std::string PercentEncode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    if (b > 0x20 && b < 0x7F && b != '%') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xF]);
    }
  }
  return out;
}

absl::StatusOr<std::string> PercentDecode(std::string_view arg) {
  std::string out;
  out.reserve(arg.size());
  for (size_t i = 0; i < arg.size(); ++i) {
    const auto b = static_cast<unsigned char>(arg[i]);
    if (b == '%') {
      if (arg.size() - i < 3) return Bad("truncated percent escape");
      const int hi = HexValue(arg[i + 1]);
      const int lo = HexValue(arg[i + 2]);
      if (hi < 0 || lo < 0) return Bad("bad percent escape");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (b <= 0x20 || b >= 0x7F) {
      return Bad("unescaped non-printable byte in argument (percent-encode it)");
    } else {
      out.push_back(static_cast<char>(b));
    }
  }
  return out;
}

absl::StatusOr<AdminRequest> ParseAdminRequest(std::string_view line) {
  if (line.size() > kMaxRequestBytes) return Bad("request too large");
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const std::vector<std::string_view> words = SplitSpaces(line);
  if (words.empty()) return Bad("empty request");
  AdminRequest r;
  bool known = false;
  for (const CommandSpec& c : kCommands) {
    if (c.name == words[0]) {
      r.command = c.command;
      known = true;
      break;
    }
  }
  if (!known) {
    return Bad(absl::StrCat("unknown command '", PercentEncode(words[0].substr(0, 64)),
                            "' (try: ping stats get peek invalidate clear-cache warm hot config "
                            "metrics)"));
  }
  const size_t args = words.size() - 1;
  auto arity = [&](size_t lo, size_t hi, std::string_view usage) -> absl::Status {
    if (args < lo || args > hi) {
      return Bad(absl::StrCat("usage: ", util::ToAbsl(usage)));
    }
    return absl::OkStatus();
  };
  absl::Status s;
  switch (r.command) {
    case AdminCommand::kGet:
    case AdminCommand::kPeek:
    case AdminCommand::kInvalidate: {
      s = arity(1, 1, absl::StrCat(util::ToAbsl(AdminCommandName(r.command)), " KEY"));
      if (!s.ok()) return s;
      absl::StatusOr<std::string> key = PercentDecode(words[1]);
      if (!key.ok()) return key.status();
      if (key->empty()) return Bad("key is empty");
      r.key = *std::move(key);
      return r;
    }
    case AdminCommand::kWarm: {
      s = arity(1, 2, "warm [PREFIX] LIMIT");
      if (!s.ok()) return s;
      if (args == 2) {
        absl::StatusOr<std::string> prefix = PercentDecode(words[1]);
        if (!prefix.ok()) return prefix.status();
        r.key = *std::move(prefix);
      }
      absl::StatusOr<uint64_t> n = ParseCount(words.back(), kMaxWarmLimit, "LIMIT");
      if (!n.ok()) return n.status();
      r.count = *n;
      return r;
    }
    case AdminCommand::kHot: {
      s = arity(1, 1, "hot N");
      if (!s.ok()) return s;
      absl::StatusOr<uint64_t> n = ParseCount(words[1], kMaxHotKeys, "N");
      if (!n.ok()) return n.status();
      r.count = *n;
      return r;
    }
    case AdminCommand::kPing:
    case AdminCommand::kStats:
    case AdminCommand::kClearCache:
    case AdminCommand::kConfig:
    case AdminCommand::kMetrics:
      s = arity(0, 0, AdminCommandName(r.command));
      if (!s.ok()) return s;
      return r;
  }
  return Bad("unknown command");
}

std::string FormatAdminRequest(const AdminRequest& request) {
  std::string line(AdminCommandName(request.command));
  switch (request.command) {
    case AdminCommand::kGet:
    case AdminCommand::kPeek:
    case AdminCommand::kInvalidate:
      absl::StrAppend(&line, " ", PercentEncode(request.key));
      break;
    case AdminCommand::kWarm:
      if (!request.key.empty()) absl::StrAppend(&line, " ", PercentEncode(request.key));
      absl::StrAppend(&line, " ", request.count);
      break;
    case AdminCommand::kHot:
      absl::StrAppend(&line, " ", request.count);
      break;
    default:
      break;
  }
  line.push_back('\n');
  return line;
}

std::string AdminErrorResponse(const absl::Status& status) {
  util::JsonWriter json;
  json.BeginObject();
  json.Field("ok", false);
  json.Field("code", absl::StatusCodeToString(status.code()));
  json.Field("error", util::FromAbsl(status.message()));
  json.EndObject();
  return json.Take();
}

}  // namespace asidekv::admin
