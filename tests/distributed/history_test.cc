// Tests of the history log: records round-trip byte for byte, and a truncated or corrupt log is
// an error rather than a shorter history.
#include "tests/distributed/history.h"

#include <fstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace asidekv::distributed {
namespace {

using ::asidekv::testing::StatusIs;
using ::testing::HasSubstr;

std::vector<Operation> Sample() {
  Operation put;
  put.process = 2;
  put.thread = 1;
  put.kind = OpKind::kPut;
  put.keys = {{"k 1", UniqueValue("k 1", 2, 1, 7, 32)}};
  put.invoke_nanos = 1000;
  put.complete_nanos = 2000;
  Operation batch = put;
  batch.kind = OpKind::kBatch;
  batch.keys = {{"a", std::string("x\0%\n=", 5)}, {"b", std::nullopt}, {"-", "-"}};
  batch.status = absl::UnknownError("commit outcome unknown: 100% lost");
  Operation get = put;
  get.kind = OpKind::kGet;
  get.keys = {{"k 1", std::nullopt}};
  Operation final_read = get;
  final_read.kind = OpKind::kFinalRead;
  final_read.keys = {{"k 1", ""}};
  return {put, batch, get, final_read};
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void Spit(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(HistoryTest, UniqueValuesNameTheirWrite) {
  EXPECT_EQ(UniqueValue("k3", 2, 1, 40), "k3=2.1.40");
  EXPECT_EQ(UniqueValue("k3", 2, 1, 40, 12), "k3=2.1.40...");
}

TEST(HistoryTest, RecordsRoundTrip) {
  testing::TempDir dir;
  const std::vector<Operation> ops = Sample();
  ASSERT_OK(WriteHistory(dir.Sub("log"), ops));
  auto read = ReadHistory(dir.Sub("log"));
  ASSERT_OK(read.status());
  EXPECT_EQ(*read, ops);
  // One line per record between the header and the end line.
  const std::string text = Slurp(dir.Sub("log"));
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2 + static_cast<int>(ops.size()));
  EXPECT_THAT(text, HasSubstr("\nend 4\n"));
  // An empty history is a header and an end line.
  ASSERT_OK(WriteHistory(dir.Sub("empty"), {}));
  ASSERT_OK_AND_ASSIGN(auto none, ReadHistory(dir.Sub("empty")));
  EXPECT_TRUE(none.empty());
}

TEST(HistoryTest, ATruncatedLogIsAnError) {
  testing::TempDir dir;
  ASSERT_OK(WriteHistory(dir.Sub("log"), Sample()));
  const std::string text = Slurp(dir.Sub("log"));
  // Cut anywhere short of the full file: never read as a shorter history.
  for (size_t cut : {size_t{0}, size_t{10}, text.find("\nop ", 20) + 1, text.rfind("end"),
                     text.size() - 3, text.size() - 1}) {
    Spit(dir.Sub("cut"), text.substr(0, cut));
    EXPECT_THAT(ReadHistory(dir.Sub("cut")), StatusIs(absl::StatusCode::kDataLoss))
        << "cut at " << cut;
  }
  // A process that died before its end line.
  absl::StatusOr<HistoryWriter> writer = HistoryWriter::Create(dir.Sub("died"));
  ASSERT_OK(writer.status());
  ASSERT_OK(writer->Append(Sample()[0]));
  { HistoryWriter dropped = *std::move(writer); }
  auto died = ReadHistory(dir.Sub("died"));
  EXPECT_THAT(died, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(died.status().message(), HasSubstr("truncated"));
  EXPECT_THAT(ReadHistory(dir.Sub("missing")), StatusIs(absl::StatusCode::kNotFound));
}

TEST(HistoryTest, ACorruptLogIsAnError) {
  testing::TempDir dir;
  ASSERT_OK(WriteHistory(dir.Sub("log"), Sample()));
  const std::string text = Slurp(dir.Sub("log"));
  // A changed digit of a time: the line's checksum no longer matches.
  std::string flipped = text;
  const size_t at = flipped.find(" 1000 ");
  ASSERT_NE(at, std::string::npos);
  flipped[at + 1] = '3';
  Spit(dir.Sub("bad"), flipped);
  auto bad = ReadHistory(dir.Sub("bad"));
  EXPECT_THAT(bad, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(bad.status().message(), HasSubstr(":2: history record: checksum mismatch"));
  // A record after the end line, a wrong count, another version.
  Spit(dir.Sub("bad"), text + text.substr(text.find("op ")));
  EXPECT_THAT(ReadHistory(dir.Sub("bad")), StatusIs(absl::StatusCode::kDataLoss));
  std::string miscounted = text;
  miscounted.replace(miscounted.rfind("end 4"), 5, "end 3");
  Spit(dir.Sub("bad"), miscounted);
  EXPECT_THAT(ReadHistory(dir.Sub("bad")), StatusIs(absl::StatusCode::kDataLoss));
  Spit(dir.Sub("bad"), "asidekv-history 2\nend 0\n");
  EXPECT_THAT(ReadHistory(dir.Sub("bad")), StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace asidekv::distributed
