#include "tools/bench/flags.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace asidekv::bench {
namespace {

struct Fixture {
  std::string name = "x";
  bool on = false;
  int64_t count = 5;
  double ratio = 0.5;
  absl::Duration duration = absl::Seconds(1);
  FlagParser flags;

  Fixture() {
    flags.AddString("name", &name, "a name");
    flags.AddBool("on", &on, "a switch");
    flags.AddInt("count", &count, 1, 100, "a count");
    flags.AddDouble("ratio", &ratio, 0, 1, "a ratio");
    flags.AddDuration("duration", &duration, "a duration");
  }

  absl::Status Parse(std::vector<const char*> args) {
    args.insert(args.begin(), "prog");
    return flags.Parse(static_cast<int>(args.size()), args.data(), 1);
  }
};

TEST(FlagParserTest, ParsesEveryKindAndBothSpellings) {
  Fixture f;
  ASSERT_TRUE(
      f.Parse({"--name=abc", "--on", "--count", "42", "--ratio=0.25", "--duration=250ms"}).ok());
  EXPECT_EQ(f.name, "abc");
  EXPECT_TRUE(f.on);
  EXPECT_EQ(f.count, 42);
  EXPECT_DOUBLE_EQ(f.ratio, 0.25);
  EXPECT_EQ(f.duration, absl::Milliseconds(250));
  EXPECT_TRUE(f.flags.WasSet("count"));
  ASSERT_TRUE(f.Parse({"--noon", "--duration=3"}).ok());
  EXPECT_FALSE(f.on);
  EXPECT_EQ(f.duration, absl::Seconds(3));
}

TEST(FlagParserTest, BadInputIsAnErrorNamingTheFlag) {
  using ::testing::HasSubstr;
  const std::vector<std::pair<std::vector<const char*>, std::string>> cases = {
      {{"--count=0"}, "--count: 0 is out of range [1, 100]"},
      {{"--count=abc"}, "--count: expected an integer"},
      {{"--ratio=nan"}, "--ratio: expected a number"},
      {{"--ratio=2"}, "--ratio: 2 is out of range"},
      {{"--duration=-1s"}, "--duration: must be finite"},
      {{"--duration=soon"}, "--duration: expected a duration"},
      {{"--on=maybe"}, "--on: expected true or false"},
      {{"--bogus=1"}, "unknown flag --bogus"},
      {{"--count"}, "--count needs a value"},
      {{"stray"}, "unexpected argument 'stray'"},
  };
  for (const auto& [args, message] : cases) {
    Fixture f;
    const absl::Status s = f.Parse(args);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << message;
    EXPECT_THAT(std::string(s.message()), HasSubstr(message));
  }
}

TEST(FlagParserTest, HelpStopsParsing) {
  Fixture f;
  ASSERT_TRUE(f.Parse({"--help", "--bogus"}).ok());
  EXPECT_TRUE(f.flags.help_requested());
  EXPECT_THAT(f.flags.Usage(), ::testing::HasSubstr("--count=... "));
}

}  // namespace
}  // namespace asidekv::bench
