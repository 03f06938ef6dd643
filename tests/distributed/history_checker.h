// CheckHistory: checks a multi-process history (history.h) against what Stores sharing one
// database promise (store.h, options.h max_staleness): per key, every read returns a value that
// was written, no read is older than the bound allows, and after quiescence everyone agrees.
//
// Model. Each key is a register whose states are the writes of that key: a put's value, a delete
// (absent), and the initial state (absent: every key starts absent). A batch is one write of each
// of its keys (its last entry for a key; earlier entries for the same key are never visible).
// Values are unique (UniqueValue()), so a read returning a value names its write; a read of
// "absent" may come from the initial state or from any delete of the key.
//
// Time. A write W happened at some instant in [W.invoke, W.complete] if it returned OK. A write
// that failed (or whose writer was killed before it returned: CheckOptions::crashed) has an
// unknown outcome, it is indeterminate: it may never happen, or happen at any instant after
// W.invoke (a server may commit after the client gave up), so its end is +infinity. Once a read
// R returned its value, though, it certainly happened before R.complete: from then on it counts
// as a write that returned at R.complete (the earliest such R), whose bound is bound(R2, W)
// raised to CheckOptions::indeterminate_slack[W.process], with the writer's own process not
// exempt (its Store may not know the outcome either). W2 certainly follows W when W.end < W2.invoke
// (real-time order); writes that overlap may have happened in either order and are never ordered
// here.
//
// Checks, for each read R (a Get, a final read, and the database's final content read as a final
// read at the end of time with bound 0) of a key:
//   1. kUnwrittenValue: R returned a value that no write of the key wrote.
//   2. kFutureValue: R returned the value of a write invoked after R returned.
//   3. kStaleRead: R returned the state of write W (or "absent", for which every delete and the
//      initial state are candidates, and one fitting candidate suffices) while some write W2 of
//      the key returned OK at least bound(R, W2) before R was invoked, and W2 certainly follows
//      W. bound(R, W2) is 0 when R and W2 come from the same process (a Store sees its own
//      writes at once) and max(CheckOptions::bound[R.process],
//      CheckOptions::writer_slack[W2.process]) otherwise.
//   4. kFinalReadFailed, kMissingFinalRead, kFinalDisagreement: after quiescence every process
//      (but the crashed ones) read every key once, successfully, and all of them (and the
//      database, when given) read the same state.
//   5. kDuplicateValue: two writes of one key wrote the same value (a broken workload: the
//      checks above would be unsound).
// The checks are exact where they flag: a history a correct system could produce (for the given
// bounds) is never flagged; a read that overlaps the write it missed is never flagged.
//
// Staleness (Polaris-style "N nines of reads consistent within T"). Every successful Get and
// final read by a process (not the database's content) also gets a staleness: how long before
// it began the state it returned was already certainly superseded, i.e. R.invoke minus the
// earliest end (its completion, or for an indeterminate write its first read) of a write that
// certainly follows that state (for "absent", of the
// candidate superseded last), or 0 when no such write returned before R began. A read is
// consistent within T when its staleness is <= T; kStaleRead above is "staleness > bound" with
// the reader's own process's writes held to 0. The report gives the fraction of reads consistent
// within T for T in {0, delta, 10 delta, 1 s} (delta: CheckOptions::delta, else the largest bound)
// as "N nines" (-log10 of the inconsistent fraction), and a histogram of the staleness.
//
// Cost: O((W + R) log W) per key, for W writes and R reads of it, times the number of processes.
//
// Thread safety: a pure function.

#ifndef ASIDEKV_TESTS_DISTRIBUTED_HISTORY_CHECKER_H_
#define ASIDEKV_TESTS_DISTRIBUTED_HISTORY_CHECKER_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "absl/types/span.h"
#include "tests/distributed/history.h"

namespace asidekv::distributed {

struct CheckOptions {
  // bound[p]: how long after a write by another process returned a read by process p may still
  // miss it: max_staleness with the cache on and a shared database, zero with the cache off.
  // Processes past the end of the vector: zero. Reads of the reader's own writes: always zero.
  std::vector<absl::Duration> bound;
  // writer_slack[w]: reads (by other processes) of process w's writes may miss them for up to
  // max(bound[reader], writer_slack[w]): a writer whose invalidations are owed (a writer cut off
  // from the shared cache) is the exception, not its readers. Past the end: zero.
  std::vector<absl::Duration> writer_slack;
  // The database's content after the run, read with the cache off (key -> value; a key not in
  // the map is absent). Unset: not checked.
  std::optional<std::map<std::string, std::string>> database;
  // indeterminate_slack[w]: once a read returned a failed write of process w, reads by any
  // process may still miss it for up to this long (at least the bound above): a write that
  // returned "committed, but not invalidated" is seen by the others within max_staleness.
  // Past the end: zero.
  std::vector<absl::Duration> indeterminate_slack;
  // Processes killed during the run: they make no final reads, and what they wrote is in the
  // history as failed writes (indeterminate: see the file comment).
  std::vector<int> crashed;
  // The report's delta (the consistency report's T = delta, 10 delta); zero: the largest bound.
  absl::Duration delta;
  // The run's seed, printed in every violation so the run can be replayed.
  uint64_t seed = 0;
};

enum class ViolationKind {
  kUnwrittenValue,
  kFutureValue,
  kStaleRead,
  kFinalReadFailed,
  kMissingFinalRead,
  kFinalDisagreement,
  kDuplicateValue,
};

struct Violation {
  ViolationKind kind;
  std::string key;
  // Names the key, the read (process, thread, times, value) and the write it missed, and the seed.
  std::string message;
};

struct CheckResult {
  std::vector<Violation> violations;
  // The staleness of every checked read (see the file comment), ascending.
  std::vector<int64_t> staleness_nanos;
  // CheckOptions::delta, else the largest bound (the T called delta in the report).
  absl::Duration delta;
  uint64_t reads = 0;         // Gets and final reads, the database's included.
  uint64_t writes = 0;        // Write events: one per key of each put, delete or batch.
  uint64_t failed_reads = 0;  // Reads that returned an error (not checked, but for final reads).
  uint64_t failed_writes = 0;
  // A failed call's kind, process and status (the first in the history's order), for the
  // report; empty when none failed.
  std::string first_failure;

  bool ok() const { return violations.empty(); }
  // Whether some violation is of `kind`.
  bool Has(ViolationKind kind) const;
  // The fraction of the checked reads whose staleness is <= t (1 when none was checked).
  double ConsistentWithin(absl::Duration t) const;
  // One line: the fraction consistent within 0, delta, 10 delta and 1 s, as nines, then the
  // staleness histogram (0, <= 1 ms, <= 10 ms, <= 100 ms, <= 1 s, more).
  std::string ConsistencyReport() const;
  // The counts, the consistency report and the first `max` violations, one per line.
  std::string Report(size_t max = 10) const;
};

CheckResult CheckHistory(absl::Span<const Operation> history, const CheckOptions& options);

}  // namespace asidekv::distributed

#endif  // ASIDEKV_TESTS_DISTRIBUTED_HISTORY_CHECKER_H_
