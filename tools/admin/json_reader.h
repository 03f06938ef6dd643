// JsonValue and ParseJson: the JSON reader of the admin command-line client (the server only
// writes JSON, with util/json_writer.h). It reads what JsonWriter writes, byte strings included:
// \uXXXX escapes below 0x100 give that byte (see admin/protocol.h).
//
// Thread safety: pure functions; JsonValue is a plain value.

#ifndef ASIDEKV_TOOLS_ADMIN_JSON_READER_H_
#define ASIDEKV_TOOLS_ADMIN_JSON_READER_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace asidekv::admin {

// A parsed JSON value. Numbers keep their text (so 64-bit integers print exactly).
struct JsonValue {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  Type type = Type::kNull;
  bool boolean = false;
  std::string text;  // kString: the bytes; kNumber: the number as written.
  // kArray: the elements. kObject: the field values, named by `keys` (same order and size).
  std::vector<JsonValue> items;
  std::vector<std::string> keys;

  // The first field named `key` of an object, or null.
  const JsonValue* Find(std::string_view key) const;
};

// Parses one JSON text (surrounding whitespace allowed). InvalidArgument on any syntax error,
// trailing bytes, or nesting deeper than 64. \uXXXX escapes below 0x100 give that byte; others
// are UTF-8 encoded (surrogate pairs combined).
absl::StatusOr<JsonValue> ParseJson(std::string_view text);

// The absl::Status an admin response stands for: OK for "ok":true; otherwise the code named by
// "code" (Unknown if absent or unknown) with "error" as its message.
absl::Status AdminResponseStatus(const JsonValue& response);

}  // namespace asidekv::admin

#endif  // ASIDEKV_TOOLS_ADMIN_JSON_READER_H_
