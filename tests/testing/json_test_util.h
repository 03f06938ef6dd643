// Field(): a field of a parsed admin response (tools/admin/json_reader.h) by its path of names
// separated by '/' (as in a JSON Pointer; field names such as "rocksdb.estimate-num-keys" contain
// dots), for tests. A missing field records a GoogleTest failure that names it and yields a null
// value, so a test that expects a field fails with a message instead of dereferencing nullptr.
//
// Example:
//   EXPECT_EQ(Field(config, "config/cache_shards").text, "4");
//   EXPECT_EQ(Field(stats, "shards").items.size(), 4u);
//
// Thread safety: as GoogleTest's ADD_FAILURE (any thread). The null value returned for a missing
//   field is a constant that lives for the whole process.

#ifndef ASIDEKV_TESTS_TESTING_JSON_TEST_UTIL_H_
#define ASIDEKV_TESTS_TESTING_JSON_TEST_UTIL_H_

#include <cstddef>
#include <string_view>

#include "gtest/gtest.h"
#include "tools/admin/json_reader.h"

namespace asidekv::testing {

// The value at `path` (object field names separated by '/') below `v`, or a null value after a
// test failure naming the first missing field and the path.
inline const admin::JsonValue& Field(const admin::JsonValue& v, std::string_view path) {
  static const admin::JsonValue* const kNull = new admin::JsonValue();
  const admin::JsonValue* at = &v;
  std::string_view rest = path;
  while (true) {
    const size_t slash = rest.find('/');
    const std::string_view name = rest.substr(0, slash);
    at = at->Find(name);
    if (at == nullptr) {
      ADD_FAILURE() << "no JSON field \"" << name << "\" (path \"" << path << "\")";
      return *kNull;
    }
    if (slash == std::string_view::npos) return *at;
    rest.remove_prefix(slash + 1);
  }
}

}  // namespace asidekv::testing

#endif  // ASIDEKV_TESTS_TESTING_JSON_TEST_UTIL_H_
