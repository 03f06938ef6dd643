#include "tools/bench/flags.h"

#include <cmath>
#include <type_traits>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace asidekv::bench {

FlagParser::Flag FlagParser::MakeFlag(std::string name, std::string help, bool is_bool) {
  Flag flag;
  flag.name = std::move(name);
  flag.help = std::move(help);
  flag.is_bool = is_bool;
  return flag;
}

void FlagParser::Add(Flag flag) { flags_.push_back(std::move(flag)); }

FlagParser::Flag* FlagParser::Find(absl::string_view name) {
  for (Flag& flag : flags_) {
    if (flag.name == name) return &flag;
  }
  return nullptr;
}

bool FlagParser::WasSet(absl::string_view name) const {
  for (const Flag& flag : flags_) {
    if (flag.name == name) return flag.set;
  }
  return false;
}

void FlagParser::AddString(std::string name, std::string* value, std::string help) {
  Flag flag = MakeFlag(std::move(name), std::move(help), /*is_bool=*/false);
  flag.parse = [value](absl::string_view text) {
    *value = std::string(text);
    return absl::OkStatus();
  };
  flag.show = [value] { return *value; };
  Add(std::move(flag));
}

void FlagParser::AddBool(std::string name, bool* value, std::string help) {
  Flag flag = MakeFlag(std::move(name), std::move(help), /*is_bool=*/true);
  flag.parse = [value](absl::string_view text) {
    if (text == "true" || text == "1" || text == "yes") {
      *value = true;
    } else if (text == "false" || text == "0" || text == "no") {
      *value = false;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("expected true or false, got '", text, "'"));
    }
    return absl::OkStatus();
  };
  flag.show = [value] { return std::string(*value ? "true" : "false"); };
  Add(std::move(flag));
}

namespace {

// A parser for a number in [min, max]; `convert` is absl::SimpleAtoi or SimpleAtod.
template <typename T>
std::function<absl::Status(absl::string_view)> RangeParser(T* value, T min, T max,
                                                           bool (*convert)(absl::string_view, T*),
                                                           const char* expected) {
  return [=](absl::string_view text) {
    T parsed{};
    bool ok = convert(text, &parsed);
    if constexpr (std::is_floating_point_v<T>) ok = ok && !std::isnan(parsed);
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat("expected ", expected, ", got '", text, "'"));
    }
    if (parsed < min || parsed > max) {
      return absl::InvalidArgumentError(
          absl::StrCat(parsed, " is out of range [", min, ", ", max, "]"));
    }
    *value = parsed;
    return absl::OkStatus();
  };
}

bool ConvertInt(absl::string_view text, int64_t* out) { return absl::SimpleAtoi(text, out); }
bool ConvertDouble(absl::string_view text, double* out) { return absl::SimpleAtod(text, out); }

}  // namespace

void FlagParser::AddInt(std::string name, int64_t* value, int64_t min, int64_t max,
                        std::string help) {
  Flag flag = MakeFlag(std::move(name), std::move(help), /*is_bool=*/false);
  flag.parse = RangeParser<int64_t>(value, min, max, ConvertInt, "an integer");
  flag.show = [value] { return absl::StrCat(*value); };
  Add(std::move(flag));
}

void FlagParser::AddDouble(std::string name, double* value, double min, double max,
                           std::string help) {
  Flag flag = MakeFlag(std::move(name), std::move(help), /*is_bool=*/false);
  flag.parse = RangeParser<double>(value, min, max, ConvertDouble, "a number");
  flag.show = [value] { return absl::StrCat(*value); };
  Add(std::move(flag));
}

void FlagParser::AddDuration(std::string name, absl::Duration* value, std::string help) {
  Flag flag = MakeFlag(std::move(name), std::move(help), /*is_bool=*/false);
  flag.parse = [value](absl::string_view text) {
    absl::Duration parsed;
    double seconds = 0;
    if (absl::SimpleAtod(text, &seconds) && seconds == seconds) {
      parsed = absl::Seconds(seconds);
    } else if (!absl::ParseDuration(text, &parsed)) {
      return absl::InvalidArgumentError(
          absl::StrCat("expected a duration such as 30s, 500ms or 2m, got '", text, "'"));
    }
    if (parsed < absl::ZeroDuration() || parsed == absl::InfiniteDuration()) {
      return absl::InvalidArgumentError(absl::StrCat("must be finite and >= 0, got '", text, "'"));
    }
    *value = parsed;
    return absl::OkStatus();
  };
  flag.show = [value] { return absl::FormatDuration(*value); };
  Add(std::move(flag));
}

absl::Status FlagParser::Parse(int argc, const char* const* argv, int first) {
  for (int i = first; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h" || arg == "--helpfull") {
      help_requested_ = true;
      return absl::OkStatus();
    }
    if (arg.size() < 3 || arg.substr(0, 2) != "--") {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument '", arg, "' (flags look like --name=value)"));
    }
    arg.remove_prefix(2);
    absl::string_view name = arg;
    absl::string_view text;
    bool has_value = false;
    if (const size_t eq = arg.find('='); eq != absl::string_view::npos) {
      name = arg.substr(0, eq);
      text = arg.substr(eq + 1);
      has_value = true;
    }
    Flag* flag = Find(name);
    if (flag == nullptr && !has_value && name.substr(0, 2) == "no") {
      Flag* negated = Find(name.substr(2));
      if (negated != nullptr && negated->is_bool) {
        flag = negated;
        text = "false";
        has_value = true;
      }
    }
    if (flag == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name, " (see --help)"));
    }
    if (!has_value) {
      if (flag->is_bool) {
        text = "true";
      } else if (i + 1 < argc) {
        text = argv[++i];
      } else {
        return absl::InvalidArgumentError(absl::StrCat("flag --", name, " needs a value"));
      }
    }
    if (absl::Status s = flag->parse(text); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("flag --", name, ": ", s.message()));
    }
    flag->set = true;
  }
  return absl::OkStatus();
}

std::string FlagParser::Usage() const {
  std::string out;
  for (const Flag& flag : flags_) {
    std::string head = absl::StrCat("  --", flag.name, flag.is_bool ? "" : "=...");
    absl::StrAppendFormat(&out, "%-26s %s (default: %s)\n", head, flag.help, flag.show());
  }
  return out;
}

}  // namespace asidekv::bench
