// FaultInjector: switches that make the file system under one RocksDb fail, for tests.
//
// A test creates a FaultInjector, hands it to RocksDb::Open() through DbOptions::fault_injector
// (or to a Store through core::StoreHooks::fault_injector), and flips its switches while the
// store runs. The store then sees its files misbehave the way a real disk does:
//
//   switch              affected file calls                        error RocksDB sees
//   ------------------  -----------------------------------------  ---------------------------
//   SetFailWrites       Append / PositionedAppend of any file       IOError
//                       (WAL, SST, MANIFEST); creating a file
//                       still works, as on a real full disk
//   SetFailSyncs        Sync / Fsync / RangeSync of any file        IOError
//   SetNoSpace          as SetFailWrites                            IOError, subcode kNoSpace,
//                                                                   retryable (as ENOSPC is)
//   SetFailReads        Read / MultiRead of SST files (random       IOError
//                       access); the WAL and MANIFEST are read
//                       only at open and are not affected
//
// Other errors are reported as not retryable. A failed WAL write or flush stops the DB: after a
// full disk until RocksDb::Resume() succeeds, after other I/O errors (which RocksDB treats as
// fatal) until a reopen. A store opened with an injector never recovers by itself (RocksDB's
// automatic recovery is off), so a test decides when Resume() runs. Counters tell how many
// calls each switch failed.
//
// The wrapper around RocksDB's FileSystem is defined in fault_injection.cc, so this header
// stays free of RocksDB (see db/rocks_db.h).
//
// Thread safety: every method may be called concurrently, also while RocksDB's background
//   threads consult the switches.
// Ownership: shared (std::shared_ptr) by the test and every store opened with it; it must live
//   until the last of them is closed, which the shared_ptr ensures.
//
// Example:
//   auto faults = std::make_shared<db::FaultInjector>();
//   db::DbOptions options;
//   options.fault_injector = faults;
//   auto db = db::RocksDb::Open(path, options);
//   faults->SetNoSpace(true);
//   absl::Status s = (*db)->Put("k", "v", {});  // ResourceExhausted
//   faults->SetNoSpace(false);
//   s = (*db)->Resume();                         // OK; writes work again

#ifndef ASIDEKV_DB_FAULT_INJECTION_H_
#define ASIDEKV_DB_FAULT_INJECTION_H_

#include <atomic>
#include <cstdint>
#include <memory>

namespace rocksdb {
class Env;
}  // namespace rocksdb

namespace asidekv::db {

class FaultInjector {
 public:
  // What a write should do now.
  enum class WriteFault { kNone, kIoError, kNoSpace };

  FaultInjector() = default;
  FaultInjector(const FaultInjector&) = delete;
  FaultInjector& operator=(const FaultInjector&) = delete;

  void SetFailWrites(bool on) { fail_writes_.store(on, std::memory_order_release); }
  void SetFailSyncs(bool on) { fail_syncs_.store(on, std::memory_order_release); }
  void SetNoSpace(bool on) { no_space_.store(on, std::memory_order_release); }
  void SetFailReads(bool on) { fail_reads_.store(on, std::memory_order_release); }
  // Turns every switch off (the counters keep counting).
  void ClearAll() {
    SetFailWrites(false);
    SetFailSyncs(false);
    SetNoSpace(false);
    SetFailReads(false);
  }

  // Calls failed so far by each kind of fault.
  uint64_t failed_writes() const { return failed_writes_.load(std::memory_order_relaxed); }
  uint64_t failed_syncs() const { return failed_syncs_.load(std::memory_order_relaxed); }
  uint64_t failed_reads() const { return failed_reads_.load(std::memory_order_relaxed); }

  // Consulted by the file system wrapper before each call; each counts a failure it reports.
  WriteFault OnWrite() {
    if (no_space_.load(std::memory_order_acquire)) {
      failed_writes_.fetch_add(1, std::memory_order_relaxed);
      return WriteFault::kNoSpace;
    }
    if (fail_writes_.load(std::memory_order_acquire)) {
      failed_writes_.fetch_add(1, std::memory_order_relaxed);
      return WriteFault::kIoError;
    }
    return WriteFault::kNone;
  }
  // True: fail this sync.
  bool OnSync() { return Trip(fail_syncs_, failed_syncs_); }
  // True: fail this read.
  bool OnRead() { return Trip(fail_reads_, failed_reads_); }

 private:
  static bool Trip(const std::atomic<bool>& on, std::atomic<uint64_t>& count) {
    if (!on.load(std::memory_order_acquire)) return false;
    count.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  std::atomic<bool> fail_writes_{false};
  std::atomic<bool> fail_syncs_{false};
  std::atomic<bool> no_space_{false};
  std::atomic<bool> fail_reads_{false};
  std::atomic<uint64_t> failed_writes_{0};
  std::atomic<uint64_t> failed_syncs_{0};
  std::atomic<uint64_t> failed_reads_{0};
};

// For db/rocks_db.cc only: an Env over the default one whose file system consults `injector`.
// The Env must outlive every DB opened with it. REQUIRES: injector != nullptr.
std::unique_ptr<rocksdb::Env> NewFaultInjectionEnv(std::shared_ptr<FaultInjector> injector);

}  // namespace asidekv::db

#endif  // ASIDEKV_DB_FAULT_INJECTION_H_
