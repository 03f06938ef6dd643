#include "core/value_format.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace asidekv::core {
namespace {

using ::asidekv::testing::StatusIs;

TEST(ValueFormatTest, RoundTripsPlainAndTtlValues) {
  for (const std::string& value : {std::string(), std::string("v"), std::string("\0\x01", 2)}) {
    for (auto ttl :
         {std::optional<absl::Duration>(), std::optional(absl::Milliseconds(1)),
          std::optional(absl::Hours(24 * 365)), std::optional(absl::InfiniteDuration())}) {
      std::string stored;
      EncodeValue(value, ttl, &stored);
      ASSERT_OK_AND_ASSIGN(DecodedValue d, DecodeValue(stored));
      EXPECT_EQ(d.value, value);
      EXPECT_EQ(d.ttl, ttl);
      ASSERT_OK_AND_ASSIGN(auto stripped_ttl, StripHeader(&stored));
      EXPECT_EQ(stored, value);
      EXPECT_EQ(stripped_ttl, ttl);
    }
  }
}

TEST(ValueFormatTest, RejectsCorruptHeaders) {
  EXPECT_THAT(DecodeValue(""), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DecodeValue("\x07rest"), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DecodeValue(std::string("\x01", 1)), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DecodeValue(std::string("\x01\x80\x80", 3)), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DecodeValue(std::string("\x01\x00v", 3)), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DecodeValue(std::string("\x01") + std::string(11, '\xff')),
              StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace asidekv::core
