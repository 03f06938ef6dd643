#include "util/coding.h"

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "gtest/gtest.h"

namespace asidekv::util {
namespace {

TEST(CodingTest, FixedRoundTripLittleEndian) {
  std::string s;
  PutFixed32(&s, 0x04030201u);
  PutFixed64(&s, 0x0807060504030201ull);
  EXPECT_EQ(s, std::string("\x01\x02\x03\x04\x01\x02\x03\x04\x05\x06\x07\x08", 12));
  std::string_view in = s;
  uint32_t a = 0;
  uint64_t b = 0;
  ASSERT_TRUE(GetFixed32(&in, &a));
  ASSERT_TRUE(GetFixed64(&in, &b));
  EXPECT_EQ(a, 0x04030201u);
  EXPECT_EQ(b, 0x0807060504030201ull);
  EXPECT_TRUE(in.empty());
  std::string_view short_in("\x01\x02\x03", 3);
  EXPECT_FALSE(GetFixed32(&short_in, &a));
}

TEST(CodingTest, VarintRoundTripsAtEveryWidth) {
  for (uint64_t v :
       {uint64_t{0}, uint64_t{1}, uint64_t{127}, uint64_t{128}, uint64_t{300}, uint64_t{1} << 35,
        std::numeric_limits<uint64_t>::max() - 1, std::numeric_limits<uint64_t>::max()}) {
    std::string s;
    PutVarint64(&s, v);
    EXPECT_LE(s.size(), kMaxVarint64Bytes);
    std::string_view in = s;
    uint64_t got = 0;
    ASSERT_TRUE(GetVarint64(&in, &got)) << v;
    EXPECT_EQ(got, v);
    EXPECT_TRUE(in.empty());
    // Every proper prefix is truncated.
    for (size_t n = 0; n < s.size(); ++n) {
      std::string_view prefix(s.data(), n);
      EXPECT_FALSE(GetVarint64(&prefix, &got)) << v << " cut at " << n;
    }
  }
}

TEST(CodingTest, VarintRejectsOverlongAndOverflowing) {
  std::string eleven(10, '\x80');
  eleven.push_back('\x01');
  std::string_view in = eleven;
  uint64_t v = 0;
  EXPECT_FALSE(GetVarint64(&in, &v));
  std::string overflow(9, '\xFF');
  overflow.push_back('\x02');  // Bit 64 and above.
  in = overflow;
  EXPECT_FALSE(GetVarint64(&in, &v));
}

}  // namespace
}  // namespace asidekv::util
