// JsonWriter: builds a JSON text with proper commas and string escaping, nothing more.
//
// Thread safety: none. Misuse (a key outside an object, unbalanced End) is the caller's bug; the
// writer does not check it.
//
// Example:
//   JsonWriter json;
//   json.BeginObject();
//   json.Field("ops", uint64_t{42});
//   json.EndObject();
//   std::string text = json.Take();

#ifndef ASIDEKV_TOOLS_BENCH_JSON_WRITER_H_
#define ASIDEKV_TOOLS_BENCH_JSON_WRITER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/string_view.h"

namespace asidekv::bench {

class JsonWriter {
 public:
  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }
  void Key(absl::string_view key);
  void String(absl::string_view value);
  void Uint(uint64_t value);
  void Int(int64_t value);
  // NaN and infinities become null.
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
  void Field(absl::string_view key, const T& value) {
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
  void AppendQuoted(absl::string_view text);
  void Open(char bracket);
  void Close(char bracket);
  void Newline();

  std::string out_;
  // One entry per open container: whether it already holds an element.
  std::vector<bool> has_element_;
  bool after_key_ = false;
};

}  // namespace asidekv::bench

#endif  // ASIDEKV_TOOLS_BENCH_JSON_WRITER_H_
