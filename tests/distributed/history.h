// History of a multi-process workload: one Operation per call a client made to its Store, with
// the times it was invoked and returned, and the per-process log files that carry them from the
// processes that made the calls to the one that checks them (history_checker.h).
//
// Times are CLOCK_MONOTONIC nanoseconds (util::MonotonicNanos()). On one host that clock is
// shared by every process, so the times of operations made in different processes compare: if
// A.complete_nanos < B.invoke_nanos, A returned before B began (real-time order), whichever
// processes made them.
//
// Unique values: every value a workload writes is UniqueValue(key, process, thread, counter), so
// each value read names the one write that wrote it (and the key it was written for).
//
// Log format, version 1: text, one line per record, so a failing run's logs can be read as they
// are. Keys, values and error messages are escaped (bytes outside '!'..'~', and '%', as %XX).
//   asidekv-history 1
//   op <crc32c of the rest of the line, 8 hex> <process> <thread> <kind> <invoke_nanos>
//      <complete_nanos> <status code> <escaped status message or .> <n> n x (<key> <value>)
//   end <number of op lines>
// where <kind> is put|delete|batch|get|final, and a <value> is '=' then the escaped bytes, or '-'
// for a delete (writes) or an absent key (reads). A file without its end line, with a line whose
// checksum or syntax is wrong, or with another version is an error (DataLoss): a process that
// died while writing its log must not pass for one that made fewer calls.
//
// Thread safety: HistoryWriter is not thread safe (one writer per process, after its threads
// joined); the free functions are.

#ifndef ASIDEKV_TESTS_DISTRIBUTED_HISTORY_H_
#define ASIDEKV_TESTS_DISTRIBUTED_HISTORY_H_

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace asidekv::distributed {

enum class OpKind {
  kPut,        // Store::Put of one key.
  kDelete,     // Store::Delete of one key.
  kBatch,      // Store::Write of a batch: puts and deletes of several keys, atomically.
  kGet,        // Store::Get of one key during the workload.
  kFinalRead,  // Store::Get of one key after every process stopped writing (quiescence).
};

// "put", "delete", "batch", "get", "final".
std::string_view OpKindName(OpKind kind);

inline bool IsWrite(OpKind kind) {
  return kind == OpKind::kPut || kind == OpKind::kDelete || kind == OpKind::kBatch;
}

// One key of an operation. Writes: the value written, or nullopt for a delete. Reads: the value
// read, or nullopt when the key was absent (NotFound).
struct KeyValueOp {
  std::string key;
  std::optional<std::string> value;

  bool operator==(const KeyValueOp&) const = default;
};

// One call to a Store.
struct Operation {
  int process = 0;
  int thread = 0;
  OpKind kind = OpKind::kGet;
  // Writes: one entry per key written (a batch has several; a later entry for the same key wins,
  // as in WriteBatch). Reads: exactly one entry.
  std::vector<KeyValueOp> keys;
  int64_t invoke_nanos = 0;    // Read just before the call.
  int64_t complete_nanos = 0;  // Read just after it returned.
  // The call's status. A read that found no key is OK with an absent value. A write that failed
  // may or may not have been applied (its outcome is unknown), and may take effect at any time
  // after it was invoked.
  absl::Status status;

  bool operator==(const Operation&) const = default;
};

// "<key>=<process>.<thread>.<counter>", padded with '.' up to `size` bytes: unique when no two
// writes share (process, thread, counter).
std::string UniqueValue(std::string_view key, int process, int thread, uint64_t counter,
                        size_t size = 0);

// "process 1 thread 0 get k3 = \"k3=2.1.40\" [12.345 ms, 12.401 ms]" with times relative to
// `origin_nanos`; for failure reports.
std::string Describe(const Operation& op, int64_t origin_nanos);

// Writes one process's history to a log file (format above).
class HistoryWriter {
 public:
  // Creates (or truncates) `path` and writes the header.
  static absl::StatusOr<HistoryWriter> Create(const std::string& path);
  HistoryWriter(HistoryWriter&& other) noexcept;
  HistoryWriter& operator=(HistoryWriter&&) = delete;
  HistoryWriter(const HistoryWriter&) = delete;
  ~HistoryWriter();  // Closes the file without the end line if Close() was not called.

  absl::Status Append(const Operation& op);
  // Writes the end line, flushes and closes. REQUIRES: called once.
  absl::Status Close();

 private:
  HistoryWriter(std::FILE* file, std::string path) : file_(file), path_(std::move(path)) {}
  std::FILE* file_;
  std::string path_;
  uint64_t count_ = 0;
};

// One record as a log line, without its newline, and back (DataLoss when malformed).
std::string EncodeOperation(const Operation& op);
absl::StatusOr<Operation> DecodeOperation(std::string_view line);

// Writes `ops` to `path` (HistoryWriter in one call).
absl::Status WriteHistory(const std::string& path, absl::Span<const Operation> ops);

// Every record of the log at `path`. NotFound when there is no such file; DataLoss, naming the
// file and line, when it is truncated or corrupt.
absl::StatusOr<std::vector<Operation>> ReadHistory(const std::string& path);

}  // namespace asidekv::distributed

#endif  // ASIDEKV_TESTS_DISTRIBUTED_HISTORY_H_
