// Tests of db::ToAbslStatus: every row of the mapping table in db/status_conversion.h.

#include "db/status_conversion.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/status.h"

namespace asidekv::db {
namespace {

using rocksdb::Status;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

struct Row {
  Status in;
  absl::StatusCode want;
};

TEST(StatusConversionTest, MapsEveryCodeAndSubcode) {
  const std::vector<Row> rows = {
      {Status::NotFound("k"), absl::StatusCode::kNotFound},
      {Status::Corruption("bad block"), absl::StatusCode::kDataLoss},
      {Status::NotSupported("op"), absl::StatusCode::kUnimplemented},
      {Status::InvalidArgument("arg"), absl::StatusCode::kInvalidArgument},
      {Status::IOError("read"), absl::StatusCode::kUnavailable},
      {Status::MergeInProgress(), absl::StatusCode::kInternal},
      {Status::Incomplete("cache only"), absl::StatusCode::kUnavailable},
      {Status::ShutdownInProgress(), absl::StatusCode::kUnavailable},
      {Status::TimedOut(), absl::StatusCode::kDeadlineExceeded},
      {Status::Aborted(), absl::StatusCode::kAborted},
      {Status::Busy(), absl::StatusCode::kUnavailable},
      {Status::TryAgain(), absl::StatusCode::kUnavailable},
      {Status::Expired(), absl::StatusCode::kDeadlineExceeded},
      {Status::CompactionTooLarge(), absl::StatusCode::kResourceExhausted},
      {Status::ColumnFamilyDropped(), absl::StatusCode::kFailedPrecondition},
      // Subcodes win over codes.
      {Status::NoSpace("disk full"), absl::StatusCode::kResourceExhausted},
      {Status::SpaceLimit("max size"), absl::StatusCode::kResourceExhausted},
      {Status::MemoryLimit(), absl::StatusCode::kResourceExhausted},
      {Status::Aborted(Status::kLockLimit), absl::StatusCode::kResourceExhausted},
      {Status::PathNotFound("no dir"), absl::StatusCode::kNotFound},
      {Status::IOError(Status::kPathNotFound), absl::StatusCode::kNotFound},
      {Status(Status::kIOError, Status::kIOFenced, Status::kNoError, "fenced"),
       absl::StatusCode::kFailedPrecondition},
      {Status::TimedOut(Status::kLockTimeout), absl::StatusCode::kDeadlineExceeded},
      {Status::TimedOut(Status::kMutexTimeout), absl::StatusCode::kDeadlineExceeded},
      {Status::Busy(Status::kDeadlock), absl::StatusCode::kAborted},
      // The two texts of a held LOCK file (another process / this process).
      {Status::IOError("While lock file", "/x/LOCK: Resource temporarily unavailable"),
       absl::StatusCode::kFailedPrecondition},
      {Status::IOError("lock hold by current process, acquire time 1 acquiring thread 2",
                       "/x/LOCK: No locks available"),
       absl::StatusCode::kFailedPrecondition},
  };
  for (const Row& row : rows) {
    const absl::Status got = ToAbslStatus(row.in);
    EXPECT_EQ(got.code(), row.want) << row.in.ToString() << " -> " << got;
    EXPECT_THAT(std::string(got.message()), EndsWith(row.in.ToString()));  // RocksDB's text.
  }
}

TEST(StatusConversionTest, OkIsOk) {
  EXPECT_TRUE(ToAbslStatus(Status::OK()).ok());
  EXPECT_TRUE(ToAbslStatus(Status::OK(), "context").ok());
  EXPECT_TRUE(ToAbslStatus(Status::OkOverwritten()).ok());
}

TEST(StatusConversionTest, MessageHasContextThenRocksDbText) {
  const absl::Status got = ToAbslStatus(Status::Corruption("block checksum mismatch"), "Get");
  EXPECT_EQ(got.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(std::string(got.message()), "Get: Corruption: block checksum mismatch");
}

TEST(StatusConversionTest, LockErrorSaysTheStoreIsInUse) {
  const absl::Status got =
      ToAbslStatus(Status::IOError("While lock file", "/x/LOCK: Resource temporarily unavailable"),
                   "cannot open store at '/x'");
  EXPECT_EQ(got.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(got.message()), StartsWith("cannot open store at '/x': store is in use"));
  EXPECT_THAT(std::string(got.message()), HasSubstr("/x/LOCK: Resource temporarily unavailable"));
}

TEST(StatusConversionTest, OtherIoErrorsAboutTheLockFileStayUnavailable) {
  // Failing to create the LOCK file is an I/O problem, not a held lock.
  EXPECT_EQ(
      ToAbslStatus(Status::IOError("While open a file for lock", "/x/LOCK: Input/output error"))
          .code(),
      absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace asidekv::db
