// The RocksDB FileSystem behind FaultInjector: wraps the default file system and its files, and
// asks the injector before each write, sync and SST read. See db/fault_injection.h.
#include "db/fault_injection.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "rocksdb/io_status.h"
#include "rocksdb/slice.h"

namespace asidekv::db {
namespace {

using rocksdb::FileOptions;
using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

// A full disk is reported as RocksDB's PosixFileSystem reports ENOSPC: NoSpace, retryable.
IOStatus WriteError(FaultInjector::WriteFault fault) {
  if (fault == FaultInjector::WriteFault::kNoSpace) {
    IOStatus s = IOStatus::NoSpace("injected fault: no space left on device");
    s.SetRetryable(true);
    return s;
  }
  IOStatus s = IOStatus::IOError("injected fault: write failed");
  s.SetRetryable(false);
  return s;
}

IOStatus SyncError() {
  IOStatus s = IOStatus::IOError("injected fault: fsync failed");
  s.SetRetryable(false);
  return s;
}

IOStatus ReadError() {
  IOStatus s = IOStatus::IOError("injected fault: read failed");
  s.SetRetryable(false);
  return s;
}

class FaultyWritableFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultyWritableFile(std::unique_ptr<rocksdb::FSWritableFile> file, FaultInjector* injector)
      : FSWritableFileOwnerWrapper(std::move(file)), injector_(injector) {}

  IOStatus Append(const Slice& data, const IOOptions& options, IODebugContext* dbg) override {
    if (auto f = injector_->OnWrite(); f != FaultInjector::WriteFault::kNone) return WriteError(f);
    return FSWritableFileOwnerWrapper::Append(data, options, dbg);
  }
  IOStatus Append(const Slice& data, const IOOptions& options,
                  const rocksdb::DataVerificationInfo& info, IODebugContext* dbg) override {
    if (auto f = injector_->OnWrite(); f != FaultInjector::WriteFault::kNone) return WriteError(f);
    return FSWritableFileOwnerWrapper::Append(data, options, info, dbg);
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            IODebugContext* dbg) override {
    if (auto f = injector_->OnWrite(); f != FaultInjector::WriteFault::kNone) return WriteError(f);
    return FSWritableFileOwnerWrapper::PositionedAppend(data, offset, options, dbg);
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            const rocksdb::DataVerificationInfo& info,
                            IODebugContext* dbg) override {
    if (auto f = injector_->OnWrite(); f != FaultInjector::WriteFault::kNone) return WriteError(f);
    return FSWritableFileOwnerWrapper::PositionedAppend(data, offset, options, info, dbg);
  }
  IOStatus Sync(const IOOptions& options, IODebugContext* dbg) override {
    if (injector_->OnSync()) return SyncError();
    return FSWritableFileOwnerWrapper::Sync(options, dbg);
  }
  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    if (injector_->OnSync()) return SyncError();
    return FSWritableFileOwnerWrapper::Fsync(options, dbg);
  }
  IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const IOOptions& options,
                     IODebugContext* dbg) override {
    if (injector_->OnSync()) return SyncError();
    return FSWritableFileOwnerWrapper::RangeSync(offset, nbytes, options, dbg);
  }

 private:
  FaultInjector* const injector_;  // Owned by the file system, which outlives its files.
};

class FaultyRandomAccessFile final : public rocksdb::FSRandomAccessFileOwnerWrapper {
 public:
  FaultyRandomAccessFile(std::unique_ptr<rocksdb::FSRandomAccessFile> file, FaultInjector* injector)
      : FSRandomAccessFileOwnerWrapper(std::move(file)), injector_(injector) {}

  IOStatus Read(uint64_t offset, size_t n, const IOOptions& options, Slice* result, char* scratch,
                IODebugContext* dbg) const override {
    if (injector_->OnRead()) {
      *result = Slice();
      return ReadError();
    }
    return FSRandomAccessFileOwnerWrapper::Read(offset, n, options, result, scratch, dbg);
  }
  IOStatus MultiRead(rocksdb::FSReadRequest* reqs, size_t num_reqs, const IOOptions& options,
                     IODebugContext* dbg) override {
    if (injector_->OnRead()) {
      for (size_t i = 0; i < num_reqs; ++i) {
        reqs[i].result = Slice();
        reqs[i].status = ReadError();
      }
      return ReadError();
    }
    return FSRandomAccessFileOwnerWrapper::MultiRead(reqs, num_reqs, options, dbg);
  }

 private:
  FaultInjector* const injector_;  // As in FaultyWritableFile.
};

class FaultInjectionFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  FaultInjectionFileSystem(const std::shared_ptr<rocksdb::FileSystem>& base,
                           std::shared_ptr<FaultInjector> injector)
      : FileSystemWrapper(base), injector_(std::move(injector)) {}

  static const char* kClassName() { return "AsidekvFaultInjectionFileSystem"; }
  const char* Name() const override { return kClassName(); }

  IOStatus NewWritableFile(const std::string& fname, const FileOptions& file_opts,
                           std::unique_ptr<rocksdb::FSWritableFile>* result,
                           IODebugContext* dbg) override {
    return Wrap(FileSystemWrapper::NewWritableFile(fname, file_opts, result, dbg), result);
  }
  IOStatus ReopenWritableFile(const std::string& fname, const FileOptions& file_opts,
                              std::unique_ptr<rocksdb::FSWritableFile>* result,
                              IODebugContext* dbg) override {
    return Wrap(FileSystemWrapper::ReopenWritableFile(fname, file_opts, result, dbg), result);
  }
  IOStatus ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                             const FileOptions& file_opts,
                             std::unique_ptr<rocksdb::FSWritableFile>* result,
                             IODebugContext* dbg) override {
    return Wrap(FileSystemWrapper::ReuseWritableFile(fname, old_fname, file_opts, result, dbg),
                result);
  }
  IOStatus NewRandomAccessFile(const std::string& fname, const FileOptions& file_opts,
                               std::unique_ptr<rocksdb::FSRandomAccessFile>* result,
                               IODebugContext* dbg) override {
    IOStatus s = FileSystemWrapper::NewRandomAccessFile(fname, file_opts, result, dbg);
    if (s.ok()) *result = std::make_unique<FaultyRandomAccessFile>(std::move(*result), &*injector_);
    return s;
  }

 private:
  IOStatus Wrap(IOStatus s, std::unique_ptr<rocksdb::FSWritableFile>* result) {
    if (s.ok()) *result = std::make_unique<FaultyWritableFile>(std::move(*result), &*injector_);
    return s;
  }

  const std::shared_ptr<FaultInjector> injector_;
};

}  // namespace

std::unique_ptr<rocksdb::Env> NewFaultInjectionEnv(std::shared_ptr<FaultInjector> injector) {
  auto fs = std::make_shared<FaultInjectionFileSystem>(rocksdb::FileSystem::Default(),
                                                       std::move(injector));
  return rocksdb::NewCompositeEnv(fs);
}

}  // namespace asidekv::db
