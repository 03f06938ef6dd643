#include "util/crc32c.h"

#include <string>

#include "gtest/gtest.h"

namespace asidekv::util {
namespace {

TEST(Crc32cTest, KnownVectors) {
  EXPECT_EQ(Crc32c(""), 0u);
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);            // The standard check value.
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);  // RFC 3720 B.4.
  EXPECT_EQ(Crc32c(std::string(32, '\xFF')), 0x62A8AB43u);
}

TEST(Crc32cTest, ExtendEqualsWhole) {
  const std::string s = "hello, cache-aside world";
  for (size_t cut = 0; cut <= s.size(); ++cut) {
    EXPECT_EQ(Crc32cExtend(Crc32c(s.substr(0, cut)), s.substr(cut)), Crc32c(s)) << cut;
  }
}

}  // namespace
}  // namespace asidekv::util
