// Slot arithmetic and the cluster's configuration, without a server: CRC16 keyslots against the
// cluster spec's examples, hash tags, the per-slot tags, CLUSTER SLOTS parsing (replicas
// refused), seed lists, and the key forms that keep a key's value, lease and marker in one slot.

#include "remote/cluster_slots.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "remote/redis_config.h"
#include "remote/redis_connection.h"
#include "remote/redis_tier.h"
#include "tests/testing/status_matchers.h"

namespace asidekv::remote {
namespace {

using ::asidekv::testing::StatusIs;
using ::testing::HasSubstr;

TEST(KeySlotTest, MatchesTheClusterSpec) {
  EXPECT_EQ(KeySlot("123456789"), 12739);  // CRC16-XMODEM("123456789") = 0x31C3.
  EXPECT_EQ(KeySlot("foo"), 12182);
  EXPECT_EQ(KeySlot("bar"), 5061);
  // Hash tags: the first '{' and the first '}' after it, if not empty.
  EXPECT_EQ(KeySlot("{user1000}.following"), KeySlot("user1000"));
  EXPECT_EQ(KeySlot("{user1000}.followers"), KeySlot("user1000"));
  EXPECT_EQ(KeySlot("foo{}{bar}"), KeySlot("foo{}{bar}"));  // Empty tag: the whole key.
  EXPECT_NE(KeySlot("foo{}{bar}"), KeySlot("bar"));
  EXPECT_EQ(KeySlot("foo{{bar}}zap"), KeySlot("{bar"));
  EXPECT_EQ(KeySlot("foo{bar}{zap}"), KeySlot("bar"));
}

TEST(KeySlotTest, EveryKeysValueLeaseAndMarkerShareASlot) {
  const std::vector<std::string> keys = {"user:1", "",    "}",   "}x",
                                         "{",      "a}b", "{a}", std::string("\0}", 2)};
  for (const std::string& key : keys) {
    const uint16_t slot = KeySlot(ValueKey("akv", key, /*cluster=*/true));
    EXPECT_EQ(KeySlot(LeaseKey("akv", key, true)), slot) << key;
    EXPECT_EQ(KeySlot(MarkerKey("akv", key, true)), slot) << key;
    const std::string marker = MarkerKey("akv", key, true);
    const std::optional<std::string_view> back = KeyOfMarkerKey("akv", marker);
    ASSERT_TRUE(back.has_value()) << key;
    EXPECT_EQ(*back, key);
  }
  // The plain-server form is unchanged.
  EXPECT_EQ(ValueKey("akv", "}x"), "akv:v:{}x}");
  EXPECT_EQ(ValueKey("akv", "}x", true), "akv:v:#{#}}x");
}

TEST(KeySlotTest, TagForSlotLandsOnItsSlot) {
  for (int slot = 0; slot < kClusterSlots; ++slot) {
    const std::string key = "akv:w:*{" + TagForSlot(static_cast<uint16_t>(slot)) + "}";
    ASSERT_EQ(KeySlot(key), slot);
    ASSERT_TRUE(IsFlushMarkerKey("akv", key));
    ASSERT_FALSE(KeyOfMarkerKey("akv", key).has_value());
  }
}

RedisReply Int(int64_t v) {
  RedisReply r;
  r.type = RedisReply::Type::kInteger;
  r.integer = v;
  return r;
}
RedisReply Str(std::string s) {
  RedisReply r;
  r.type = RedisReply::Type::kString;
  r.str = std::move(s);
  return r;
}
RedisReply Array(std::vector<RedisReply> elements) {
  RedisReply r;
  r.type = RedisReply::Type::kArray;
  r.elements = std::move(elements);
  return r;
}
RedisReply Node(std::string host, int port) {
  return Array({Str(std::move(host)), Int(port), Str("id"), Array({})});
}

TEST(ClusterSlotsTest, ParsesMastersAndTheirSlots) {
  RedisAddress seed;
  seed.host = "10.0.0.9";
  seed.port = 7000;
  const RedisReply reply = Array({Array({Int(0), Int(99), Node("127.0.0.1", 7001)}),
                                  Array({Int(100), Int(16383), Node("", 7002)}),
                                  Array({Int(50), Int(60), Node("127.0.0.1", 7001)})});
  absl::StatusOr<ClusterTopology> t = ParseClusterSlots(reply, "redis 10.0.0.9:7000", seed);
  ASSERT_OK(t.status());
  ASSERT_EQ(t->masters.size(), 2u);
  EXPECT_EQ(t->MasterOf(0)->ToString(), "127.0.0.1:7001");
  EXPECT_EQ(t->MasterOf(99)->ToString(), "127.0.0.1:7001");
  EXPECT_EQ(t->MasterOf(100)->ToString(), "10.0.0.9:7002");  // No host announced: the seed's.
  ClusterTopology other = *t;
  EXPECT_EQ(other, *t);
  other.owner[5] = other.owner[200];
  EXPECT_NE(other, *t);
}

TEST(ClusterSlotsTest, RefusesReplicas) {
  RedisAddress seed;
  seed.host = "127.0.0.1";
  seed.port = 7000;
  const RedisReply reply =
      Array({Array({Int(0), Int(16383), Node("127.0.0.1", 7001), Node("127.0.0.1", 7002)})});
  EXPECT_THAT(ParseClusterSlots(reply, "redis 127.0.0.1:7000", seed).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("replicas")));
}

TEST(ClusterConfigTest, SeedListsAreParsedAndBadOnesNamed) {
  absl::StatusOr<std::vector<RedisAddress>> seeds =
      ParseClusterSeeds("redis-cluster://127.0.0.1:7000, [::1]:7001,host:7002");
  ASSERT_OK(seeds.status());
  ASSERT_EQ(seeds->size(), 3u);
  EXPECT_EQ((*seeds)[1].ToString(), "[::1]:7001");
  EXPECT_THAT(ParseClusterSeeds("redis-cluster://").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
  EXPECT_THAT(ParseClusterSeeds("redis-cluster://a:1,,b:2").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
  EXPECT_THAT(ParseClusterSeeds("redis-cluster://a:1,b").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("seed \"b\"")));
  EXPECT_THAT(ParseClusterSeeds("redis-cluster://unix:/tmp/r.sock").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("TCP")));
  RedisConfig config;
  config.address = "redis-cluster://127.0.0.1:99999";
  EXPECT_THAT(ValidateRedisConfig(config).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("port out of range")));
}

}  // namespace
}  // namespace asidekv::remote
