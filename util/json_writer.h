// JsonWriter: builds one JSON text with correct commas and byte-exact string escaping, nothing
// more. The admin protocol writes its one-line responses with it, the tools their reports.
//
// Strings carry byte strings: printable ASCII stands for itself; '"' and '\' are escaped; every
// other byte b is written \u00XX (XX = b in hex), so a reader that maps \u00XX back to the byte
// (ParseJson in core/admin_protocol.h does) gets the exact bytes, including bytes >= 0x80.
//
// Thread safety: none. Misuse (a value where a key is due, unbalanced End) is the caller's bug
// and not checked.
//
// Example:
//   JsonWriter json;                       // or JsonWriter json(JsonWriter::Style::kIndented);
//   json.BeginObject();
//   json.Field("ok", true);
//   json.EndObject();
//   std::string text = json.Take();        // {"ok":true}

#ifndef ASIDEKV_UTIL_JSON_WRITER_H_
#define ASIDEKV_UTIL_JSON_WRITER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace asidekv::util {

// Appends `bytes` as a quoted JSON string with the byte escaping described above.
void AppendJsonString(std::string_view bytes, std::string* out);

class JsonWriter {
 public:
  enum class Style {
    kCompact,   // One line, no spaces: protocol responses.
    kIndented,  // One element per line, two spaces per level, a final newline: files for people.
  };

  explicit JsonWriter(Style style = Style::kCompact) : indented_(style == Style::kIndented) {}

  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }
  void Key(std::string_view key);
  void String(std::string_view value);
  void Uint(uint64_t value);
  void Int(int64_t value);
  // Up to 10 significant digits; NaN and infinities become null.
  void Double(double value);
  void Bool(bool value);
  void Null();

  // A value of the matching kind: string, bool, integer, floating point, or std::optional of
  // one (nullopt is null).
  template <typename T>
  void Value(const T& value) {
    if constexpr (std::is_same_v<T, bool>) {
      Bool(value);
    } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
      Int(value);
    } else if constexpr (std::is_integral_v<T>) {
      Uint(value);
    } else if constexpr (std::is_floating_point_v<T>) {
      Double(value);
    } else if constexpr (IsOptional<T>::value) {
      if (value.has_value()) {
        Value(*value);
      } else {
        Null();
      }
    } else {
      String(value);
    }
  }

  // Key(key) then Value(value).
  template <typename T>
  void Field(std::string_view key, const T& value) {
    Key(key);
    Value(value);
  }

  std::string Take() { return std::move(out_); }

 private:
  template <typename T>
  struct IsOptional : std::false_type {};
  template <typename T>
  struct IsOptional<std::optional<T>> : std::true_type {};

  void BeforeValue();
  void Open(char bracket);
  void Close(char bracket);
  void Newline();

  const bool indented_;
  std::string out_;
  // One entry per open container: whether it already holds an element.
  std::vector<bool> has_element_;
  bool after_key_ = false;
};

}  // namespace asidekv::util

#endif  // ASIDEKV_UTIL_JSON_WRITER_H_
