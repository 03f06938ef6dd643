#include "remote/redis_config.h"

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "remote/redis_tier.h"
#include "tests/testing/status_matchers.h"

namespace asidekv::remote {
namespace {

using ::asidekv::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ParseRedisAddressTest, HostPort) {
  absl::StatusOr<RedisAddress> a = ParseRedisAddress("127.0.0.1:6380");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_FALSE(a->unix_socket);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 6380);
  EXPECT_EQ(a->ToString(), "127.0.0.1:6380");

  a = ParseRedisAddress("cache.example:1");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->host, "cache.example");
  EXPECT_EQ(a->port, 1);
}

TEST(ParseRedisAddressTest, Ipv6AndUnix) {
  absl::StatusOr<RedisAddress> a = ParseRedisAddress("[::1]:65535");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->port, 65535);
  EXPECT_EQ(a->ToString(), "[::1]:65535");

  a = ParseRedisAddress("unix:/tmp/r.sock");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(a->unix_socket);
  EXPECT_EQ(a->host, "/tmp/r.sock");
  EXPECT_EQ(a->ToString(), "unix:/tmp/r.sock");
}

TEST(ParseRedisAddressTest, BadInput) {
  for (const char* bad :
       {"", "host", "host:", ":6380", "host:0", "host:65536", "host:12x", "host:-1",
        "host:99999999999", "unix:", "[::1]", "[::1]6380", "::1:6380", "[]:1", "[::1:6380"}) {
    absl::StatusOr<RedisAddress> a = ParseRedisAddress(bad);
    EXPECT_THAT(a, StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
    if (*bad != '\0') {
      EXPECT_THAT(std::string(a.status().message()), HasSubstr(bad));
    }
  }
  EXPECT_THAT(ParseRedisAddress(std::string("h\0st:1", 6)),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ValidateRedisConfigTest, NamesTheBadField) {
  RedisConfig config;
  config.address = "127.0.0.1:6380";
  EXPECT_TRUE(ValidateRedisConfig(config).ok());
  for (const char* prefix : {"", "a{b", "a}"}) {
    RedisConfig c = config;
    c.prefix = prefix;
    EXPECT_THAT(ValidateRedisConfig(c), StatusIs(absl::StatusCode::kInvalidArgument)) << prefix;
  }
  for (int connections : {0, 257, -1}) {
    RedisConfig c = config;
    c.connections = connections;
    EXPECT_THAT(ValidateRedisConfig(c), StatusIs(absl::StatusCode::kInvalidArgument));
  }
  RedisConfig c = config;
  c.timeout = absl::ZeroDuration();
  EXPECT_THAT(ValidateRedisConfig(c), StatusIs(absl::StatusCode::kInvalidArgument));
  c = config;
  c.address = "nowhere";
  EXPECT_THAT(RedisTier::Connect(c), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(RedisKeysTest, ValueLeaseAndMarkerKeysShareTheHashTag) {
  EXPECT_EQ(ValueKey("akv", "user:1"), "akv:v:{user:1}");
  EXPECT_EQ(LeaseKey("akv", "user:1"), "akv:l:{user:1}");
  EXPECT_EQ(MarkerKey("akv", "user:1"), "akv:w:{user:1}");
  EXPECT_EQ(FlushMarkerKey("akv"), "akv:w:*");
  const std::string binary("a{b}\0c", 6);
  const std::string marker = MarkerKey("p", binary);
  EXPECT_EQ(marker, std::string("p:w:{a{b}\0c}", 12));
  ASSERT_TRUE(KeyOfMarkerKey("p", marker).has_value());
  EXPECT_EQ(*KeyOfMarkerKey("p", marker), binary);
  EXPECT_EQ(*KeyOfMarkerKey("p", "p:w:{}"), "");
  EXPECT_FALSE(KeyOfMarkerKey("p", "p:v:{x}").has_value());
  EXPECT_FALSE(KeyOfMarkerKey("p", "p:l:{x}").has_value());
  EXPECT_FALSE(KeyOfMarkerKey("p", "q:w:{x}").has_value());
  EXPECT_FALSE(KeyOfMarkerKey("p", "p:w:{x").has_value());
  EXPECT_FALSE(KeyOfMarkerKey("p", "p:w:x}").has_value());
  EXPECT_FALSE(KeyOfMarkerKey("pp", "p:w:{x}").has_value());
  EXPECT_FALSE(KeyOfMarkerKey("p", FlushMarkerKey("p")).has_value());
}

}  // namespace
}  // namespace asidekv::remote
