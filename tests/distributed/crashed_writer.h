// KillWriterAfterCommit: a writer process killed between its database commit and its Redis
// invalidation, for the fault campaign (fault_campaign_test.cc). Issue 17's first fault: the
// write is committed, its UNLINK never sent, so only the commit-log relay (core/relay.h) can
// tell the other Stores.
//
// Protocol: this process forks a child, which opens a Store with `options`, sets callbacks on
// the sync points StoreImpl::WriteOne:CommitStatus and :Committed (compiled only into test
// builds) and calls Put(key, value). The second runs after the database call returned and
// before the invalidation: it sends this process the Put's invoke time and whether the database
// said OK, and blocks. This process then SIGKILLs the child and reaps it.
//
// The result is the Put as the history checker sees it: an Operation in `process` and `thread`
// from its invoke time to the kill, with an Aborted status (its writer never returned, so it is
// indeterminate: history_checker.h), plus what the test knows besides: whether it certainly
// committed, and a time by which it had.
//
// REQUIRES: the calling process runs no other thread (it forks). Thread safety: none.

#ifndef ASIDEKV_TESTS_DISTRIBUTED_CRASHED_WRITER_H_
#define ASIDEKV_TESTS_DISTRIBUTED_CRASHED_WRITER_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "asidekv/options.h"
#include "tests/distributed/history.h"

namespace asidekv::distributed {

struct CrashedWrite {
  Operation op;                    // As logged by a writer that never returned (above).
  bool committed = false;          // The database answered OK before the kill.
  int64_t committed_by_nanos = 0;  // When committed: a time after the commit, before the kill.
};

// The child's Put (above); also when the child reached no commit within `timeout` (it is killed
// all the same, and its Put may have committed). Unavailable when the child could not open its
// Store (nothing was written).
absl::StatusOr<CrashedWrite> KillWriterAfterCommit(const Options& options, int process, int thread,
                                                   const std::string& key, const std::string& value,
                                                   absl::Duration timeout = absl::Seconds(20));

}  // namespace asidekv::distributed

#endif  // ASIDEKV_TESTS_DISTRIBUTED_CRASHED_WRITER_H_
