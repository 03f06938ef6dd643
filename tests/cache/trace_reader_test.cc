#include "tools/trace/trace_reader.h"

#include <zlib.h>

#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace asidekv::trace {
namespace {

using ::asidekv::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class TraceReaderTest : public ::testing::Test {
 protected:
  std::string WritePlain(const std::string& name, const std::string& text) {
    const std::string path = dir_.Sub(name);
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  std::string WriteGzip(const std::string& name, const std::string& text) {
    const std::string path = dir_.Sub(name);
    gzFile f = gzopen(path.c_str(), "wb");
    EXPECT_NE(f, nullptr);
    EXPECT_EQ(gzwrite(f, text.data(), static_cast<unsigned>(text.size())),
              static_cast<int>(text.size()));
    EXPECT_EQ(gzclose(f), Z_OK);
    return path;
  }

  asidekv::testing::TempDir dir_;
};

TEST_F(TraceReaderTest, ReadsPlainKeys) {
  ASSERT_OK_AND_ASSIGN(Trace t, ReadTrace(WritePlain("a.keys", "10\n20\n10\n30\n20\n")));
  EXPECT_THAT(t.requests, ElementsAre(0, 1, 0, 2, 1));
  EXPECT_THAT(t.keys, ElementsAre("10", "20", "30"));
  EXPECT_THAT(t.sizes, IsEmpty());
  EXPECT_EQ(t.unique_keys(), 3u);
}

TEST_F(TraceReaderTest, ReadsSizesCarriageReturnsAndAMissingFinalNewline) {
  ASSERT_OK_AND_ASSIGN(Trace t, ReadTrace(WritePlain("s.keys", "7 4096\r\n8 512\n7 4096\n8 1")));
  EXPECT_THAT(t.requests, ElementsAre(0, 1, 0, 1));
  EXPECT_THAT(t.sizes, ElementsAre(4096, 512));  // First-seen size per key.
}

TEST_F(TraceReaderTest, ReadsGzip) {
  std::string text;
  for (int i = 0; i < 200000; ++i) text += std::to_string(i % 1000) + "\n";  // Several chunks.
  ASSERT_OK_AND_ASSIGN(Trace t, ReadTrace(WriteGzip("big.keys.gz", text)));
  EXPECT_EQ(t.requests.size(), 200000u);
  EXPECT_EQ(t.unique_keys(), 1000u);
  EXPECT_EQ(t.keys[t.requests[123457]], "457");
}

TEST_F(TraceReaderTest, MissingFileIsNotFound) {
  EXPECT_THAT(ReadTrace(dir_.Sub("nope.keys")), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(TraceReaderTest, EmptyFileIsInvalid) {
  EXPECT_THAT(ReadTrace(WritePlain("empty.keys", "")),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(TraceReaderTest, BadLinesNameTheLine) {
  struct Case {
    const char* text;
    const char* message;
  };
  for (const Case& c :
       {Case{"1\n\n2\n", ":2: empty line"}, Case{"1\n2 100\n", ":2: expected 1 column(s)"},
        Case{"1 100\n2\n", ":2: expected 2 column(s)"},
        Case{"1 100\n2 x\n", ":2: size is not an unsigned integer"},
        Case{"1 100\n2 1 2\n", ":2: size is not an unsigned integer"},
        Case{" 1\n", ":1: line starts with a space"}}) {
    absl::StatusOr<Trace> t = ReadTrace(WritePlain("bad.keys", c.text));
    EXPECT_THAT(t, StatusIs(absl::StatusCode::kInvalidArgument)) << c.text;
    EXPECT_THAT(std::string(t.status().message()), HasSubstr(c.message)) << c.text;
  }
}

TEST_F(TraceReaderTest, TruncatedGzipIsDataLoss) {
  const std::string path = WriteGzip("t.keys.gz", std::string(100000, '1') + "\n");
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_GT(bytes.size(), 20u);
  bytes.resize(bytes.size() - 10);
  EXPECT_THAT(ReadTrace(WritePlain("t2.keys.gz", bytes)), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(TraceBuilderTest, BuildsFromLines) {
  TraceBuilder builder("mem");
  ASSERT_OK(builder.AddLine("a"));
  ASSERT_OK(builder.AddLine("b"));
  ASSERT_OK(builder.AddLine("a"));
  ASSERT_OK_AND_ASSIGN(Trace t, builder.Finish());
  EXPECT_THAT(t.requests, ElementsAre(0, 1, 0));
  EXPECT_THAT(t.keys, ElementsAre("a", "b"));
}

}  // namespace
}  // namespace asidekv::trace
