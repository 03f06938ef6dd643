// Tests of the admin protocol's parser and formatter (admin/protocol.h), no sockets.
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "admin/protocol.h"
#include "gmock/gmock.h"
#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"
#include "tests/testing/json_test_util.h"
#include "tests/testing/status_matchers.h"
#include "tools/admin/json_reader.h"

namespace asidekv::admin {
namespace {

using ::asidekv::testing::Field;
using ::asidekv::testing::IsOk;
using ::asidekv::testing::StatusIs;

TEST(AdminProtocolTest, ParsesEveryCommand) {
  struct Case {
    std::string_view line;
    AdminCommand command;
    std::string key;
    uint64_t count;
  };
  const Case cases[] = {
      {"ping", AdminCommand::kPing, "", 0},
      {"stats\n", AdminCommand::kStats, "", 0},
      {"get user:1\r\n", AdminCommand::kGet, "user:1", 0},
      {"peek a%20b", AdminCommand::kPeek, "a b", 0},
      {"invalidate %00%FF", AdminCommand::kInvalidate, std::string("\0\xff", 2), 0},
      {"clear-cache", AdminCommand::kClearCache, "", 0},
      {"warm user: 100", AdminCommand::kWarm, "user:", 100},
      {"warm 7", AdminCommand::kWarm, "", 7},
      {"hot 10", AdminCommand::kHot, "", 10},
      {"  config  ", AdminCommand::kConfig, "", 0},
      {"metrics", AdminCommand::kMetrics, "", 0},
  };
  for (const Case& c : cases) {
    absl::StatusOr<AdminRequest> r = ParseAdminRequest(c.line);
    ASSERT_THAT(r, IsOk()) << c.line;
    EXPECT_EQ(r->command, c.command) << c.line;
    EXPECT_EQ(r->key, c.key) << c.line;
    EXPECT_EQ(r->count, c.count) << c.line;
  }
}

TEST(AdminProtocolTest, RejectsMalformedRequests) {
  const std::string_view bad[] = {
      "",           "\n",           "   ",
      "frobnicate", "GET k",        "get",
      "get a b",    "get %",        "get %4",
      "get %zz",    "peek %00%",    "stats now",
      "hot",        "hot 0",        "hot -1",
      "hot 1e3",    "hot 10001",    "hot 99999999999999999999999",
      "warm",       "warm p q",     "warm a b c",
      "warm 0",     "warm 1000001", "get \x01",
      "get \xff",   "get %2",       "invalidate",
      "hot 1 2",
  };
  for (std::string_view line : bad) {
    EXPECT_THAT(ParseAdminRequest(line), StatusIs(absl::StatusCode::kInvalidArgument))
        << "line: " << PercentEncode(line);
  }
  EXPECT_THAT(ParseAdminRequest(std::string(kMaxRequestBytes + 1, 'a')),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // An empty key (a lone "%" cannot express it, and "get" alone is an arity error).
  EXPECT_THAT(ParseAdminRequest("get  "), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(AdminProtocolTest, FormatThenParseRoundTripsBinaryKeys) {
  std::mt19937 rng(42);
  for (int i = 0; i < 500; ++i) {
    AdminRequest r;
    r.command = i % 3 == 0 ? AdminCommand::kGet : AdminCommand::kWarm;
    const size_t n = 1 + rng() % 40;
    for (size_t j = 0; j < n; ++j) r.key.push_back(static_cast<char>(rng() % 256));
    r.count = r.command == AdminCommand::kWarm ? 1 + rng() % 1000 : 0;
    const std::string line = FormatAdminRequest(r);
    ASSERT_EQ(line.back(), '\n');
    ASSERT_EQ(line.find('\n'), line.size() - 1);
    absl::StatusOr<AdminRequest> back = ParseAdminRequest(line);
    ASSERT_THAT(back, IsOk()) << line;
    EXPECT_EQ(back->command, r.command);
    EXPECT_EQ(back->key, r.key);
    EXPECT_EQ(back->count, r.count);
  }
}

TEST(AdminProtocolTest, JsonStringsCarryEveryByte) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  util::JsonWriter json;
  json.BeginObject();
  json.Field("k", all);
  json.Field("n", uint64_t{18446744073709551615u});
  json.Key("list");
  json.BeginArray();
  json.Bool(false);
  json.Null();
  json.Int(-3);
  json.Double(0.5);
  json.EndArray();
  json.EndObject();
  const std::string text = json.Take();
  EXPECT_EQ(text.find('\n'), std::string::npos);
  absl::StatusOr<JsonValue> v = ParseJson(text);
  ASSERT_THAT(v, IsOk()) << text;
  ASSERT_NE(v->Find("k"), nullptr);
  EXPECT_EQ(Field(*v, "k").text, all);
  EXPECT_EQ(Field(*v, "n").text, "18446744073709551615");
  ASSERT_EQ(Field(*v, "list").items.size(), 4u);
  EXPECT_EQ(Field(*v, "list").items[2].text, "-3");
  EXPECT_EQ(v->Find("missing"), nullptr);
}

// The tests' Field() helper: a missing field fails the test with its name, without a crash.
TEST(AdminProtocolTest, FieldHelperReportsAMissingField) {
  absl::StatusOr<JsonValue> v = ParseJson(R"({"a":{"b":"x"}})");
  ASSERT_THAT(v, IsOk());
  EXPECT_EQ(Field(*v, "a/b").text, "x");
  EXPECT_NONFATAL_FAILURE(EXPECT_EQ(Field(*v, "a/c").type, JsonValue::Type::kNull),
                          "no JSON field \"c\" (path \"a/c\")");
}

TEST(AdminProtocolTest, JsonParserRejectsMalformedText) {
  const std::string_view bad[] = {
      "",      "{",       "{\"a\"}",   "{\"a\":}",    "[1,]",       "[1 2]",
      "\"abc", "\"\\x\"", "\"\\u12\"", "tru",         "-",          "1.",
      "1e",    "{} {}",   "\"\x01\"",  "\"\\ud800\"", "{\"a\":1,}", "nul"};
  for (std::string_view text : bad) {
    EXPECT_THAT(ParseJson(text), StatusIs(absl::StatusCode::kInvalidArgument)) << text;
  }
  EXPECT_THAT(ParseJson(std::string(100, '[') + std::string(100, ']')),
              StatusIs(absl::StatusCode::kInvalidArgument));
  absl::StatusOr<JsonValue> emoji = ParseJson("\"\\ud83d\\ude00\"");
  ASSERT_THAT(emoji, IsOk());
  EXPECT_EQ(emoji->text, "\xF0\x9F\x98\x80");
}

TEST(AdminProtocolTest, ErrorResponsesCarryTheStatus) {
  const std::string line = AdminErrorResponse(absl::NotFoundError("no \"such\" key"));
  absl::StatusOr<JsonValue> v = ParseJson(line);
  ASSERT_THAT(v, IsOk());
  const absl::Status s = AdminResponseStatus(*v);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(s.message(), "no \"such\" key");
  absl::StatusOr<JsonValue> ok = ParseJson("{\"ok\":true}");
  ASSERT_THAT(ok, IsOk());
  EXPECT_THAT(AdminResponseStatus(*ok), IsOk());
}

}  // namespace
}  // namespace asidekv::admin
