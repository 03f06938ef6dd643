#include "db/status_conversion.h"

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "rocksdb/status.h"

namespace asidekv::db {
namespace {

using rocksdb::Status;

// RocksDB reports a held LOCK file as a plain IOError; these are the two texts of
// PosixFileSystem::LockFile (another process holds the fcntl lock / this process already does).
bool IsLockHeld(const Status& s) {
  if (!s.IsIOError()) return false;
  const char* state = s.getState();
  if (state == nullptr) return false;
  const std::string_view msg(state);
  return msg.find("While lock file") != std::string_view::npos ||
         msg.find("lock hold by current process") != std::string_view::npos;
}

absl::StatusCode CodeFor(const Status& s) {
  if (IsLockHeld(s)) return absl::StatusCode::kFailedPrecondition;
  switch (s.subcode()) {
    case Status::kNoSpace:
    case Status::kSpaceLimit:
    case Status::kMemoryLimit:
    case Status::kLockLimit:
      return absl::StatusCode::kResourceExhausted;
    case Status::kPathNotFound:
      return absl::StatusCode::kNotFound;
    case Status::kIOFenced:
      return absl::StatusCode::kFailedPrecondition;
    case Status::kLockTimeout:
    case Status::kMutexTimeout:
      return absl::StatusCode::kDeadlineExceeded;
    case Status::kDeadlock:
      return absl::StatusCode::kAborted;
    default:
      break;
  }
  switch (s.code()) {
    case Status::kOk:
      return absl::StatusCode::kOk;
    case Status::kNotFound:
      return absl::StatusCode::kNotFound;
    case Status::kCorruption:
      return absl::StatusCode::kDataLoss;
    case Status::kNotSupported:
      return absl::StatusCode::kUnimplemented;
    case Status::kInvalidArgument:
      return absl::StatusCode::kInvalidArgument;
    case Status::kIOError:
      return absl::StatusCode::kUnavailable;
    case Status::kMergeInProgress:
      return absl::StatusCode::kInternal;
    case Status::kIncomplete:
    case Status::kShutdownInProgress:
    case Status::kBusy:
    case Status::kTryAgain:
      return absl::StatusCode::kUnavailable;
    case Status::kTimedOut:
    case Status::kExpired:
      return absl::StatusCode::kDeadlineExceeded;
    case Status::kAborted:
      return absl::StatusCode::kAborted;
    case Status::kCompactionTooLarge:
      return absl::StatusCode::kResourceExhausted;
    case Status::kColumnFamilyDropped:
      return absl::StatusCode::kFailedPrecondition;
    default:
      return absl::StatusCode::kUnknown;
  }
}

}  // namespace

absl::Status ToAbslStatus(const rocksdb::Status& s, std::string_view context) {
  if (s.ok()) return absl::OkStatus();
  const absl::StatusCode code = CodeFor(s);
  std::string message(context);
  if (!message.empty()) message += ": ";
  if (IsLockHeld(s))
    message +=
        "store is in use (another open handle, in this process or another, holds its LOCK): ";
  message += s.ToString();
  return absl::Status(code, message);
}

}  // namespace asidekv::db
