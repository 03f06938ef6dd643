// Translation of rocksdb::Status into absl::Status, in one function.
//
// Internal to db/: only db/*.cc include this header, because it names rocksdb::Status. Everything
// db/ hands to other modules is already an absl::Status.
//
// Thread safety: ToAbslStatus() is a pure function.

#ifndef ASIDEKV_DB_STATUS_CONVERSION_H_
#define ASIDEKV_DB_STATUS_CONVERSION_H_

#include <string_view>

#include "absl/status/status.h"
#include "rocksdb/status.h"

namespace asidekv::db {

// Returns the absl::Status for `s`. OK maps to OK; every error keeps RocksDB's own text
// (s.ToString(), e.g. "IO error: While lock file: /x/LOCK: Resource temporarily unavailable")
// after "<context>: " when `context` is not empty, so a log line tells both what we were doing
// and what RocksDB saw.
//
// Mapping, checked top to bottom (subcode and special cases before the code):
//
//   rocksdb::Status                            absl::StatusCode
//   ---------------------------------------    -----------------------------------------------
//   OK (any subcode)                           kOk
//   IOError from taking the LOCK file          kFailedPrecondition  message adds "store is in use"
//     ("While lock file" / "lock hold by         (another open handle in this process or another
//     current process")                          process holds the store)
//   any code, subcode kNoSpace/kSpaceLimit     kResourceExhausted   (disk full / SST size limit)
//   any code, subcode kMemoryLimit/kLockLimit  kResourceExhausted
//   any code, subcode kPathNotFound            kNotFound            (a file or folder is missing)
//   any code, subcode kIOFenced                kFailedPrecondition  (the file system fenced us)
//   any code, subcode kLockTimeout/            kDeadlineExceeded
//     kMutexTimeout
//   any code, subcode kDeadlock                kAborted
//   NotFound                                   kNotFound
//   Corruption                                 kDataLoss
//   NotSupported                               kUnimplemented
//   InvalidArgument                            kInvalidArgument
//   IOError                                    kUnavailable         (retry may succeed)
//   MergeInProgress                            kInternal            (db/ sets no merge operator)
//   Incomplete                                 kUnavailable         (e.g. a cache-only read that
//                                                                    needed I/O; retry with I/O)
//   ShutdownInProgress                         kUnavailable         (the DB is closing)
//   TimedOut                                   kDeadlineExceeded
//   Aborted                                    kAborted
//   Busy, TryAgain                             kUnavailable
//   Expired                                    kDeadlineExceeded
//   CompactionTooLarge                         kResourceExhausted
//   ColumnFamilyDropped                        kFailedPrecondition
//   anything else                              kUnknown
absl::Status ToAbslStatus(const rocksdb::Status& s, std::string_view context = {});

}  // namespace asidekv::db

#endif  // ASIDEKV_DB_STATUS_CONVERSION_H_
