// Tests of the folder's format marker (db/format_marker.h) as RocksDb::Open checks it, against
// folders written by plain RocksDB.
#include "db/format_marker.h"

#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "db/rocks_db.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/plain_rocksdb.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace asidekv::db {
namespace {

using ::asidekv::testing::IsOk;
using ::asidekv::testing::MakePlainRocksDb;
using ::asidekv::testing::Snapshot;
using ::asidekv::testing::StatusIs;
using ::testing::HasSubstr;

std::string Message(const absl::Status& s) { return std::string(s.message()); }

DbOptions WithEncoding(std::optional<ValueEncoding> e, bool read_only = false) {
  DbOptions o;
  o.value_encoding = e;
  o.read_only = read_only;
  return o;
}

TEST(FormatMarkerTest, FolderOfAnotherProgramIsRefusedAndLeftUntouched) {
  testing::TempDir dir;
  const std::string path = dir.Sub("db");
  MakePlainRocksDb(path, {{"k", "hello"}});
  const auto before = Snapshot(path);
  for (const bool read_only : {false, true}) {
    for (const std::optional<ValueEncoding> e :
         {std::optional(ValueEncoding::kHeader), std::optional<ValueEncoding>()}) {
      absl::StatusOr<std::unique_ptr<RocksDb>> db = RocksDb::Open(path, WithEncoding(e, read_only));
      EXPECT_THAT(db.status(), StatusIs(absl::StatusCode::kFailedPrecondition));
      EXPECT_THAT(Message(db.status()), HasSubstr("format marker"));
      EXPECT_THAT(Message(db.status()), HasSubstr("raw_values"));
    }
  }
  EXPECT_EQ(Snapshot(path), before);
}

TEST(FormatMarkerTest, NewStoreIsMarkedAndReopens) {
  testing::TempDir dir;
  const std::string path = dir.Sub("db");
  {
    ASSERT_OK_AND_ASSIGN(auto db, RocksDb::Open(path, DbOptions()));
    EXPECT_EQ(db->value_encoding(), ValueEncoding::kHeader);
    ASSERT_OK(db->Put("k", "v", WriteOptions()));
  }
  ASSERT_OK_AND_ASSIGN(FormatMarker m, ReadFormatMarker(path));
  EXPECT_EQ(m.version, kFormatVersion);
  EXPECT_EQ(m.encoding, ValueEncoding::kHeader);
  {
    ASSERT_OK_AND_ASSIGN(auto db, RocksDb::Open(path, DbOptions()));
    EXPECT_EQ(*db->Get("k"), "v");
  }
  ASSERT_OK_AND_ASSIGN(auto ro, RocksDb::Open(path, WithEncoding(std::nullopt, true)));
  EXPECT_EQ(ro->value_encoding(), ValueEncoding::kHeader);
}

TEST(FormatMarkerTest, NewerVersionIsRefusedNamingBothVersions) {
  testing::TempDir dir;
  const std::string path = dir.Sub("db");
  { ASSERT_OK(RocksDb::Open(path, DbOptions()).status()); }
  std::ofstream(path + "/" + kFormatMarkerFile, std::ios::trunc) << "asidekv-format 7 zstd\n";
  const auto before = Snapshot(path);
  for (const bool read_only : {false, true}) {
    absl::StatusOr<std::unique_ptr<RocksDb>> db =
        RocksDb::Open(path, WithEncoding(std::nullopt, read_only));
    EXPECT_THAT(db.status(), StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_THAT(Message(db.status()), HasSubstr("format version 7"));
    EXPECT_THAT(Message(db.status()), HasSubstr("(1)"));
  }
  EXPECT_EQ(Snapshot(path), before);
}

TEST(FormatMarkerTest, EncodingMismatchIsRefused) {
  testing::TempDir dir;
  for (const ValueEncoding made : {ValueEncoding::kHeader, ValueEncoding::kRaw}) {
    const std::string path = dir.Sub(made == ValueEncoding::kRaw ? "raw" : "header");
    { ASSERT_OK(RocksDb::Open(path, WithEncoding(made)).status()); }
    const auto before = Snapshot(path);
    const ValueEncoding other =
        made == ValueEncoding::kRaw ? ValueEncoding::kHeader : ValueEncoding::kRaw;
    for (const bool read_only : {false, true}) {
      EXPECT_THAT(RocksDb::Open(path, WithEncoding(other, read_only)).status(),
                  StatusIs(absl::StatusCode::kFailedPrecondition));
    }
    EXPECT_EQ(Snapshot(path), before);
    ASSERT_OK_AND_ASSIGN(auto db, RocksDb::Open(path, WithEncoding(std::nullopt, true)));
    EXPECT_EQ(db->value_encoding(), made);
  }
}

TEST(FormatMarkerTest, RawEncodingAdoptsAFolderOfAnotherProgram) {
  testing::TempDir dir;
  const std::string path = dir.Sub("db");
  MakePlainRocksDb(path, {{"k", "hello"}});
  {
    // Read-only: readable as raw, and nothing is written.
    const auto before = Snapshot(path);
    ASSERT_OK_AND_ASSIGN(auto db, RocksDb::Open(path, WithEncoding(ValueEncoding::kRaw, true)));
    EXPECT_EQ(*db->Get("k"), "hello");
    EXPECT_EQ(Snapshot(path), before);
  }
  {
    ASSERT_OK_AND_ASSIGN(auto db, RocksDb::Open(path, WithEncoding(ValueEncoding::kRaw)));
    EXPECT_EQ(db->value_encoding(), ValueEncoding::kRaw);
    EXPECT_EQ(*db->Get("k"), "hello");
  }
  ASSERT_OK_AND_ASSIGN(FormatMarker m, ReadFormatMarker(path));
  EXPECT_EQ(m.encoding, ValueEncoding::kRaw);
  EXPECT_THAT(RocksDb::Open(path, DbOptions()).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(FormatMarkerTest, CorruptMarkerIsDataLoss) {
  testing::TempDir dir;
  const std::string path = dir.Sub("db");
  { ASSERT_OK(RocksDb::Open(path, DbOptions()).status()); }
  for (const char* text : {"", "asidekv-format 1 header", "asidekv-format x header\n",
                           "asidekv-format 1 zstd\n", "leveldb 1 header\n"}) {
    std::ofstream(path + "/" + kFormatMarkerFile, std::ios::trunc) << text;
    EXPECT_THAT(RocksDb::Open(path, DbOptions()).status(), StatusIs(absl::StatusCode::kDataLoss))
        << text;
  }
}

}  // namespace
}  // namespace asidekv::db
