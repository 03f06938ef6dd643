#include "db/value_format.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace asidekv::db {
namespace {

using ::asidekv::testing::StatusIs;
constexpr db::ValueEncoding kHeader = db::ValueEncoding::kHeader;

TEST(ValueFormatTest, RoundTripsPlainAndTtlValues) {
  for (const std::string& value : {std::string(), std::string("v"), std::string("\0\x01", 2)}) {
    for (auto ttl :
         {std::optional<absl::Duration>(), std::optional(absl::Milliseconds(1)),
          std::optional(absl::Hours(24 * 365)), std::optional(absl::InfiniteDuration())}) {
      std::string stored;
      EncodeValue(value, ttl, kHeader, &stored);
      ASSERT_OK_AND_ASSIGN(DecodedValue d, DecodeValue(stored, kHeader));
      EXPECT_EQ(d.value, value);
      EXPECT_EQ(d.ttl, ttl);
      ASSERT_OK_AND_ASSIGN(auto stripped_ttl, StripHeader(&stored, kHeader));
      EXPECT_EQ(stored, value);
      EXPECT_EQ(stripped_ttl, ttl);
    }
  }
}

TEST(ValueFormatTest, RejectsCorruptHeaders) {
  EXPECT_THAT(DecodeValue("", kHeader), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DecodeValue("\x07rest", kHeader), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DecodeValue(std::string("\x01", 1), kHeader), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DecodeValue(std::string("\x01\x80\x80", 3), kHeader),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DecodeValue(std::string("\x01\x00v", 3), kHeader),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DecodeValue(std::string("\x01") + std::string(11, '\xff'), kHeader),
              StatusIs(absl::StatusCode::kDataLoss));
}

// A folder of raw values stores each value as it is: every byte string decodes to itself.
TEST(ValueFormatTest, RawValuesAreStoredAsTheyAre) {
  for (const std::string& value :
       {std::string(), std::string("hello"), std::string("\0abc", 4), std::string("\x07rest")}) {
    std::string stored;
    EncodeValue(value, std::nullopt, db::ValueEncoding::kRaw, &stored);
    EXPECT_EQ(stored, value);
    ASSERT_OK_AND_ASSIGN(DecodedValue d, DecodeValue(stored, db::ValueEncoding::kRaw));
    EXPECT_EQ(d.value, value);
    EXPECT_EQ(d.ttl, std::nullopt);
    EXPECT_EQ(d.header_size, 0u);
    ASSERT_OK_AND_ASSIGN(auto ttl, StripHeader(&stored, db::ValueEncoding::kRaw));
    EXPECT_EQ(stored, value);
    EXPECT_EQ(ttl, std::nullopt);
  }
}

}  // namespace
}  // namespace asidekv::db
