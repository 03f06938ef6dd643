// GoogleTest matchers for absl::Status and absl::StatusOr (our Abseil has none).
//
//   EXPECT_THAT(store->Put("k", "v"), IsOk());
//   EXPECT_THAT(store->Get("missing"), StatusIs(absl::StatusCode::kNotFound));
//   ASSERT_OK(s);  ASSERT_OK_AND_ASSIGN(auto v, store->Get("k"));

#ifndef ASIDEKV_TESTS_TESTING_STATUS_MATCHERS_H_
#define ASIDEKV_TESTS_TESTING_STATUS_MATCHERS_H_

#include <ostream>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace asidekv::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = GetStatus(arg);
  if (!s.ok()) *result_listener << "status is " << s;
  return s.ok();
}

MATCHER_P(StatusIs, code, "has status code " + ::testing::PrintToString(code)) {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code;
}

// The status has `code` and its message matches `message_matcher`.
MATCHER_P2(StatusIs, code, message_matcher,
           "has status code " + ::testing::PrintToString(code) + " and a matching message") {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code && ::testing::Matches(message_matcher)(std::string(s.message()));
}

// A StatusOr that is OK and holds a value equal to `expected`.
MATCHER_P(IsOkAndHolds, expected, "is OK and holds " + ::testing::PrintToString(expected)) {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  *result_listener << "holds " << ::testing::PrintToString(*arg);
  return *arg == expected;
}

}  // namespace asidekv::testing

#define ASIDEKV_CONCAT_INNER_(a, b) a##b
#define ASIDEKV_CONCAT_(a, b) ASIDEKV_CONCAT_INNER_(a, b)

#define ASSERT_OK(expr) ASSERT_THAT((expr), ::asidekv::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::asidekv::testing::IsOk())

#define ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(ASIDEKV_CONCAT_(statusor_, __LINE__), lhs, rexpr)
#define ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                               \
  ASSERT_TRUE(statusor.ok()) << statusor.status();       \
  lhs = std::move(*statusor)

#endif  // ASIDEKV_TESTS_TESTING_STATUS_MATCHERS_H_
