#include "tools/admin/json_reader.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "util/string_view.h"

namespace asidekv::admin {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Recursive-descent JSON parser over a string_view.
class JsonParser {
 public:
  explicit JsonParser(std::string_view text) : text_(text) {}

  absl::StatusOr<JsonValue> ParseAll() {
    JsonValue v;
    absl::Status s = ParseValue(&v, 0);
    if (!s.ok()) return s;
    SkipSpace();
    if (pos_ != text_.size()) return Error("trailing bytes");
    return v;
  }

 private:
  static constexpr int kMaxDepth = 64;

  absl::Status Error(std::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON: ", util::ToAbsl(what), " at byte ", pos_));
  }
  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Consume(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  absl::Status ParseValue(JsonValue* v, int depth) {
    if (depth > kMaxDepth) return Error("nesting too deep");
    SkipSpace();
    if (pos_ >= text_.size()) return Error("unexpected end");
    const char c = text_[pos_];
    if (c == '{') return ParseObject(v, depth);
    if (c == '[') return ParseArray(v, depth);
    if (c == '"') {
      v->type = JsonValue::Type::kString;
      return ParseString(&v->text);
    }
    if (Consume("true")) {
      v->type = JsonValue::Type::kBool;
      v->boolean = true;
      return absl::OkStatus();
    }
    if (Consume("false")) {
      v->type = JsonValue::Type::kBool;
      return absl::OkStatus();
    }
    if (Consume("null")) return absl::OkStatus();
    return ParseNumber(v);
  }

  absl::Status ParseNumber(JsonValue* v) {
    const size_t start = pos_;
    if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
    const size_t digits = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
    if (pos_ == digits) return Error("bad value");
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      const size_t frac = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      if (pos_ == frac) return Error("bad number");
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      const size_t exp = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      if (pos_ == exp) return Error("bad number");
    }
    v->type = JsonValue::Type::kNumber;
    v->text = std::string(text_.substr(start, pos_ - start));
    return absl::OkStatus();
  }

  absl::StatusOr<uint32_t> ParseHex4() {
    if (text_.size() - pos_ < 4) return Error("short \\u escape");
    uint32_t u = 0;
    for (int i = 0; i < 4; ++i) {
      const int h = HexValue(text_[pos_++]);
      if (h < 0) return Error("bad \\u escape");
      u = u * 16 + static_cast<uint32_t>(h);
    }
    return u;
  }

  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    }
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }

  absl::Status ParseEscape(std::string* out) {
    if (pos_ >= text_.size()) return Error("unexpected end");
    const char e = text_[pos_++];
    switch (e) {
      case '"':
      case '\\':
      case '/':
        out->push_back(e);
        return absl::OkStatus();
      case 'b':
        out->push_back('\b');
        return absl::OkStatus();
      case 'f':
        out->push_back('\f');
        return absl::OkStatus();
      case 'n':
        out->push_back('\n');
        return absl::OkStatus();
      case 'r':
        out->push_back('\r');
        return absl::OkStatus();
      case 't':
        out->push_back('\t');
        return absl::OkStatus();
      case 'u':
        break;
      default:
        return Error("bad escape");
    }
    absl::StatusOr<uint32_t> u = ParseHex4();
    if (!u.ok()) return u.status();
    uint32_t cp = *u;
    if (cp < 0x100) {
      out->push_back(static_cast<char>(cp));  // A byte (see the header).
      return absl::OkStatus();
    }
    if (cp >= 0xD800 && cp < 0xDC00) {
      if (!Consume("\\u")) return Error("lone surrogate");
      absl::StatusOr<uint32_t> lo = ParseHex4();
      if (!lo.ok()) return lo.status();
      if (*lo < 0xDC00 || *lo >= 0xE000) return Error("bad surrogate pair");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (*lo - 0xDC00);
    } else if (cp >= 0xDC00 && cp < 0xE000) {
      return Error("lone surrogate");
    }
    AppendUtf8(cp, out);
    return absl::OkStatus();
  }

  absl::Status ParseString(std::string* out) {
    ++pos_;  // The opening quote.
    while (true) {
      if (pos_ >= text_.size()) return Error("unterminated string");
      const char c = text_[pos_++];
      if (c == '"') return absl::OkStatus();
      if (c == '\\') {
        absl::Status s = ParseEscape(out);
        if (!s.ok()) return s;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        return Error("control byte in string");
      } else {
        out->push_back(c);
      }
    }
  }

  absl::Status ParseArray(JsonValue* v, int depth) {
    ++pos_;
    v->type = JsonValue::Type::kArray;
    SkipSpace();
    if (Consume("]")) return absl::OkStatus();
    while (true) {
      v->items.emplace_back();
      absl::Status s = ParseValue(&v->items.back(), depth + 1);
      if (!s.ok()) return s;
      SkipSpace();
      if (Consume("]")) return absl::OkStatus();
      if (!Consume(",")) return Error("expected ',' or ']'");
    }
  }

  absl::Status ParseObject(JsonValue* v, int depth) {
    ++pos_;
    v->type = JsonValue::Type::kObject;
    SkipSpace();
    if (Consume("}")) return absl::OkStatus();
    while (true) {
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != '"') return Error("expected a key");
      std::string key;
      absl::Status s = ParseString(&key);
      if (!s.ok()) return s;
      SkipSpace();
      if (!Consume(":")) return Error("expected ':'");
      v->keys.push_back(std::move(key));
      v->items.emplace_back();
      s = ParseValue(&v->items.back(), depth + 1);
      if (!s.ok()) return s;
      SkipSpace();
      if (Consume("}")) return absl::OkStatus();
      if (!Consume(",")) return Error("expected ',' or '}'");
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

const JsonValue* JsonValue::Find(std::string_view key) const {
  if (type != Type::kObject) return nullptr;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i] == key) return &items[i];
  }
  return nullptr;
}

absl::StatusOr<JsonValue> ParseJson(std::string_view text) { return JsonParser(text).ParseAll(); }

absl::Status AdminResponseStatus(const JsonValue& response) {
  const JsonValue* ok = response.Find("ok");
  if (ok != nullptr && ok->type == JsonValue::Type::kBool && ok->boolean) {
    return absl::OkStatus();
  }
  absl::StatusCode code = absl::StatusCode::kUnknown;
  if (const JsonValue* c = response.Find("code"); c != nullptr) {
    for (int i = 1; i <= 16; ++i) {
      const auto candidate = static_cast<absl::StatusCode>(i);
      if (absl::StatusCodeToString(candidate) == c->text) code = candidate;
    }
  }
  const JsonValue* error = response.Find("error");
  return absl::Status(code, error != nullptr ? error->text : "malformed response");
}

}  // namespace asidekv::admin
