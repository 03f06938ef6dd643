// Tests of CheckHistory on hand-made histories: each check passes a legal history and flags the
// bad one next to it. Times are in milliseconds from 0.
#include "tests/distributed/history_checker.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/distributed/history.h"

namespace asidekv::distributed {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kMs = 1000000;
constexpr absl::Duration kBound = absl::Milliseconds(100);

Operation Op(OpKind kind, int process, std::vector<KeyValueOp> keys, int64_t from_ms, int64_t to_ms,
             absl::Status status = absl::OkStatus()) {
  Operation op;
  op.process = process;
  op.kind = kind;
  op.keys = std::move(keys);
  op.invoke_nanos = from_ms * kMs;
  op.complete_nanos = to_ms * kMs;
  op.status = std::move(status);
  return op;
}
Operation Put(int p, std::string v, int64_t from, int64_t to,
              absl::Status status = absl::OkStatus()) {
  return Op(OpKind::kPut, p, {{"k", std::move(v)}}, from, to, std::move(status));
}
Operation Del(int p, int64_t from, int64_t to, absl::Status status = absl::OkStatus()) {
  return Op(OpKind::kDelete, p, {{"k", std::nullopt}}, from, to, std::move(status));
}
Operation Get(int p, std::optional<std::string> v, int64_t from, int64_t to) {
  return Op(OpKind::kGet, p, {{"k", std::move(v)}}, from, to);
}
Operation Final(int p, std::optional<std::string> v, int64_t from, int64_t to) {
  return Op(OpKind::kFinalRead, p, {{"k", std::move(v)}}, from, to);
}

// Processes 0..2 read other processes' writes with kBound of slack.
CheckOptions Bounded() {
  CheckOptions o;
  o.bound = {kBound, kBound, kBound};
  o.seed = 42;
  return o;
}

CheckResult Check(const std::vector<Operation>& h, const CheckOptions& o = Bounded()) {
  return CheckHistory(h, o);
}

TEST(HistoryCheckerTest, ALegalHistoryPasses) {
  CheckOptions o = Bounded();
  o.database = std::map<std::string, std::string>{{"k", "c"}, {"j", "y"}};
  std::vector<Operation> h = {
      Get(1, std::nullopt, 0, 5),  // The initial state.
      Put(0, "a", 10, 20),
      Get(0, "a", 21, 25),           // Read-your-writes.
      Get(1, std::nullopt, 30, 40),  // Within the bound of the put.
      Get(1, "a", 50, 60),
      Del(1, 70, 80),
      Get(1, std::nullopt, 81, 85),
      Get(0, "a", 90, 95),  // Process 0 may still serve "a" within the bound of the delete.
      Op(OpKind::kBatch, 2, {{"k", "b"}, {"j", "x"}, {"k", "c"}, {"j", "y"}}, 100, 110),
      Get(2, "c", 111, 112),
      Op(OpKind::kGet, 2, {{"j", "y"}}, 111, 112),
      Get(0, "c", 300, 301),
  };
  for (int p = 0; p < 3; ++p) {
    h.push_back(Final(p, "c", 400, 401));
    h.push_back(Op(OpKind::kFinalRead, p, {{"j", "y"}}, 400, 401));
  }
  const CheckResult r = Check(h, o);
  EXPECT_TRUE(r.ok()) << r.Report();
  EXPECT_EQ(r.writes, 4u);  // Put, delete, and the batch's last entry for each of its two keys.
  EXPECT_EQ(r.reads, 9u + 6u + 2u);
}

TEST(HistoryCheckerTest, AStaleReadBeyondTheBoundIsFlagged) {
  const CheckResult r = Check({Put(0, "a", 0, 10), Put(0, "b", 20, 30), Get(1, "a", 130, 140)});
  ASSERT_TRUE(r.Has(ViolationKind::kStaleRead)) << r.Report();
  ASSERT_EQ(r.violations.size(), 1u);
  // The report names the key, the read, the write it missed and the seed.
  EXPECT_THAT(r.violations[0].message, HasSubstr("key k"));
  EXPECT_THAT(r.violations[0].message, HasSubstr("process 1 thread 0 get k = \"a\" [130.000 ms"));
  EXPECT_THAT(r.violations[0].message, HasSubstr("process 0 thread 0 put k = \"b\" [20.000 ms"));
  EXPECT_THAT(r.violations[0].message, HasSubstr("seed 42"));
}

TEST(HistoryCheckerTest, TheSameReadWithinTheBoundPasses) {
  const CheckResult r = Check({Put(0, "a", 0, 10), Put(0, "b", 20, 30), Get(1, "a", 129, 140)});
  EXPECT_TRUE(r.ok()) << r.Report();
  // With the cache off (bound 0 for everyone) the same read is stale.
  EXPECT_TRUE(
      Check({Put(0, "a", 0, 10), Put(0, "b", 20, 30), Get(1, "a", 129, 140)}, CheckOptions{})
          .Has(ViolationKind::kStaleRead));
}

TEST(HistoryCheckerTest, AnAbsentReadIsStaleOnceAPutCertainlyFollowsEveryDelete) {
  EXPECT_TRUE(Check({Put(0, "a", 0, 10), Get(1, std::nullopt, 109, 120)}).ok());
  EXPECT_TRUE(
      Check({Put(0, "a", 0, 10), Get(1, std::nullopt, 110, 120)}).Has(ViolationKind::kStaleRead));
  // A delete overlapping the put may have come last.
  EXPECT_TRUE(Check({Put(0, "a", 0, 10), Del(2, 5, 15), Get(1, std::nullopt, 500, 510)}).ok());
  EXPECT_TRUE(Check({Del(2, 0, 5), Put(0, "a", 10, 20), Get(1, std::nullopt, 500, 510)})
                  .Has(ViolationKind::kStaleRead));
}

TEST(HistoryCheckerTest, AReadOfANeverWrittenValueIsFlagged) {
  EXPECT_TRUE(Check({Put(0, "a", 0, 10), Get(1, "z", 20, 30)}).Has(ViolationKind::kUnwrittenValue));
  // A value written for another key does not count.
  EXPECT_TRUE(Check({Op(OpKind::kPut, 0, {{"j", "a"}}, 0, 10), Get(1, "a", 20, 30)})
                  .Has(ViolationKind::kUnwrittenValue));
  // Nor does one its own batch overwrote.
  EXPECT_TRUE(Check({Op(OpKind::kBatch, 0, {{"k", "a"}, {"k", "b"}}, 0, 10), Get(1, "a", 20, 30)})
                  .Has(ViolationKind::kUnwrittenValue));
  // Nor one written after the read returned.
  EXPECT_TRUE(Check({Get(1, "a", 0, 5), Put(0, "a", 6, 10)}).Has(ViolationKind::kFutureValue));
  EXPECT_TRUE(Check({Get(1, "a", 0, 6), Put(0, "a", 6, 10)}).ok());
}

TEST(HistoryCheckerTest, OverlappingWritesAreNotFlaggedEitherWay) {
  const CheckOptions strict;  // Bound 0 for everyone.
  for (const char* first : {"a", "b"}) {
    for (const char* second : {"a", "b"}) {
      const CheckResult r = Check({Put(0, "a", 0, 50), Put(1, "b", 10, 60), Get(2, first, 100, 110),
                                   Get(2, second, 120, 130)},
                                  strict);
      EXPECT_TRUE(r.ok()) << first << " then " << second << ": " << r.Report();
    }
  }
}

TEST(HistoryCheckerTest, AfterAFailedWriteAReadMayReturnEitherValue) {
  const absl::Status unknown = absl::UnknownError("commit outcome unknown");
  const CheckOptions strict;
  EXPECT_TRUE(
      Check({Put(0, "a", 0, 10), Put(0, "b", 20, 30, unknown), Get(1, "a", 100, 110)}, strict)
          .ok());
  EXPECT_TRUE(
      Check({Put(0, "a", 0, 10), Put(0, "b", 20, 30, unknown), Get(1, "b", 100, 110)}, strict)
          .ok());
  // A failed write may take effect late: a later OK write does not certainly follow it.
  EXPECT_TRUE(
      Check({Put(0, "a", 0, 10, unknown), Put(0, "b", 20, 30), Get(1, "a", 100, 110)}, strict)
          .ok());
  // A failed delete may have happened too.
  EXPECT_TRUE(
      Check({Put(0, "a", 0, 10), Del(0, 20, 30, unknown), Get(1, std::nullopt, 100, 110)}, strict)
          .ok());
  // But it never certainly happened: it does not hide an earlier OK write.
  const CheckResult r = Check({Put(0, "a", 0, 10), Put(0, "b", 20, 30),
                               Put(0, "c", 40, 50, unknown), Get(1, "a", 100, 110)},
                              strict);
  EXPECT_TRUE(r.Has(ViolationKind::kStaleRead)) << r.Report();
  EXPECT_THAT(r.Report(), HasSubstr("put k = \"b\""));
}

TEST(HistoryCheckerTest, TheWritersOwnProcessHasNoSlack) {
  const std::vector<Operation> h = {Put(0, "a", 0, 10), Put(0, "b", 20, 30), Get(0, "a", 31, 40)};
  const CheckResult r = Check(h);
  EXPECT_TRUE(r.Has(ViolationKind::kStaleRead)) << "read-your-writes violation not flagged";
  EXPECT_THAT(r.Report(), HasSubstr("bound 0.000 ms"));
  // The same read by another process is within its bound.
  std::vector<Operation> other = h;
  other[2].process = 1;
  EXPECT_TRUE(Check(other).ok());
}

TEST(HistoryCheckerTest, FinalDisagreementIsFlagged) {
  // Both values are legal reads (the puts overlap), but the processes must agree.
  const std::vector<Operation> h = {Put(0, "a", 0, 50), Put(1, "b", 10, 60),
                                    Final(0, "a", 500, 510), Final(1, "b", 500, 510)};
  const CheckResult r = Check(h);
  EXPECT_TRUE(r.Has(ViolationKind::kFinalDisagreement)) << r.Report();
  EXPECT_FALSE(r.Has(ViolationKind::kStaleRead));

  std::vector<Operation> agree = h;
  agree[3].keys[0].value = "a";
  CheckOptions o = Bounded();
  o.database = std::map<std::string, std::string>{{"k", "a"}};
  EXPECT_TRUE(Check(agree, o).ok());
  // The database must agree too.
  o.database = std::map<std::string, std::string>{{"k", "b"}};
  EXPECT_TRUE(Check(agree, o).Has(ViolationKind::kFinalDisagreement));
  // A database that lost the key is stale.
  o.database = std::map<std::string, std::string>{};
  EXPECT_TRUE(Check(agree, o).Has(ViolationKind::kStaleRead));
}

TEST(HistoryCheckerTest, FinalReadsMustCoverEveryProcessAndSucceed) {
  std::vector<Operation> h = {Put(0, "a", 0, 10), Get(2, "a", 20, 30), Final(0, "a", 500, 510),
                              Final(1, "a", 500, 510)};
  CheckResult r = Check(h);
  EXPECT_TRUE(r.Has(ViolationKind::kMissingFinalRead)) << r.Report();
  EXPECT_THAT(r.Report(), HasSubstr("process 2 made no final read"));
  h.push_back(Final(2, std::nullopt, 500, 510));
  h.back().status = absl::UnavailableError("down");
  r = Check(h);
  EXPECT_TRUE(r.Has(ViolationKind::kFinalReadFailed)) << r.Report();
  EXPECT_FALSE(r.Has(ViolationKind::kMissingFinalRead));
  h.back() = Final(2, "a", 500, 510);
  EXPECT_TRUE(Check(h).ok());
}

TEST(HistoryCheckerTest, DuplicateValuesAreFlagged) {
  EXPECT_TRUE(Check({Put(0, "a", 0, 10), Put(1, "a", 20, 30)}).Has(ViolationKind::kDuplicateValue));
}

// Staleness: how long before a read began the state it returned was certainly superseded.
TEST(HistoryCheckerTest, StalenessMeasuresHowLongAReadLaggedBehindACertainWrite) {
  const std::vector<Operation> h = {
      Put(0, "a", 0, 10),
      Put(0, "b", 20, 30),
      Get(1, "a", 25, 26),               // "b" had not returned yet: 0.
      Get(1, "a", 50, 51),               // "b" returned at 30: 20 ms.
      Get(1, "b", 60, 61),               // The newest: 0.
      Get(2, std::nullopt, 5, 6),        // Absent, "a" not yet returned: 0.
      Get(2, std::nullopt, 1010, 1011),  // Absent, "a" returned at 10: 1000 ms.
  };
  const CheckResult r = Check(h);
  ASSERT_EQ(r.staleness_nanos.size(), 5u);
  EXPECT_EQ(r.staleness_nanos[0], 0);
  EXPECT_EQ(r.staleness_nanos[2], 0);
  EXPECT_EQ(r.staleness_nanos[3], 20 * kMs);
  EXPECT_EQ(r.staleness_nanos[4], 1000 * kMs);
  EXPECT_EQ(r.delta, kBound);
  EXPECT_DOUBLE_EQ(r.ConsistentWithin(absl::ZeroDuration()), 3.0 / 5);
  EXPECT_DOUBLE_EQ(r.ConsistentWithin(absl::Milliseconds(20)), 4.0 / 5);
  EXPECT_DOUBLE_EQ(r.ConsistentWithin(absl::Seconds(1)), 1.0);
  const std::string report = r.ConsistencyReport();
  EXPECT_THAT(report, HasSubstr("within 0: 2 not (0.40 nines)"));
  EXPECT_THAT(report, HasSubstr("within 1s: all"));
  EXPECT_THAT(report, HasSubstr("0:3 <=1ms:0 <=10ms:0 <=100ms:1 <=1s:1 >1s:0"));
  EXPECT_THAT(r.Report(), HasSubstr("consistency of 5 reads"));
}

// A write that failed may never have happened, so it supersedes nothing; the database's content
// is checked but not counted among the reads measured.
TEST(HistoryCheckerTest, StalenessIgnoresFailedWritesAndTheDatabase) {
  CheckOptions o = Bounded();
  o.database = std::map<std::string, std::string>{{"k", "a"}};
  const std::vector<Operation> h = {
      Put(0, "a", 0, 10),
      Put(0, "b", 20, 30, absl::UnavailableError("lost")),
      Get(1, "a", 500, 501),
  };
  const CheckResult r = Check(h, o);
  ASSERT_EQ(r.staleness_nanos.size(), 1u);
  EXPECT_EQ(r.staleness_nanos[0], 0);
}

// A writer given slack (its invalidations may be owed) lets other processes miss its writes for
// that long; their own writes keep the readers' bound.
TEST(HistoryCheckerTest, WriterSlackAppliesToThatWritersWritesOnly) {
  CheckOptions o = Bounded();
  o.writer_slack = {absl::ZeroDuration(), absl::ZeroDuration(), absl::Seconds(1)};
  const std::vector<Operation> from_slack = {
      Put(2, "a", 0, 10), Put(2, "b", 20, 30),
      Get(1, "a", 500, 501),  // 470 ms behind the slack writer: within its 1 s.
  };
  EXPECT_TRUE(Check(from_slack, o).ok()) << Check(from_slack, o).Report();
  const std::vector<Operation> from_other = {
      Put(0, "a", 0, 10), Put(0, "b", 20, 30),
      Get(2, "a", 500, 501),  // The slack writer reads: the reader's 100 ms bound applies.
  };
  EXPECT_TRUE(Check(from_other, o).Has(ViolationKind::kStaleRead));
}

// An indeterminate write (failed, or its writer killed) that some read returned has happened: a
// read that begins the bound after that read returned may not go back to an older state, on any
// process, the writer's own included.
TEST(HistoryCheckerTest, OnceAReadSawAnIndeterminateWriteLaterReadsMayNotGoBack) {
  const absl::Status killed = absl::AbortedError("writer killed");
  const CheckResult back = Check({Put(0, "a", 0, 10), Put(3, "b", 20, 30, killed),
                                  Get(1, "b", 40, 50), Get(2, "a", 200, 210)});
  EXPECT_TRUE(back.Has(ViolationKind::kStaleRead)) << back.Report();
  EXPECT_THAT(back.Report(), HasSubstr("was first read 150.000 ms before"));
  // Within the bound of that read: legal.
  EXPECT_TRUE(Check({Put(0, "a", 0, 10), Put(3, "b", 20, 30, killed), Get(1, "b", 40, 50),
                     Get(2, "a", 120, 130)})
                  .ok());
  // Never read: it may not have happened, so the old state stays legal.
  EXPECT_TRUE(Check({Put(0, "a", 0, 10), Put(3, "b", 20, 30, killed), Get(2, "a", 500, 510)}).ok());
  // The writer's own process gets the bound too (its Store may not know the outcome either).
  EXPECT_TRUE(Check({Put(0, "a", 0, 10), Put(1, "b", 20, 30, killed), Get(2, "b", 40, 50),
                     Get(1, "a", 120, 130)})
                  .ok());
  // Once read, it certainly precedes a write invoked after that read: a read of it after that
  // write returned (beyond the bound) is stale.
  const CheckResult superseded = Check({Put(3, "b", 20, 30, killed), Get(1, "b", 40, 50),
                                        Put(0, "c", 60, 70), Get(2, "b", 300, 310)});
  EXPECT_TRUE(superseded.Has(ViolationKind::kStaleRead)) << superseded.Report();
  ASSERT_EQ(superseded.staleness_nanos.size(), 2u);
  EXPECT_EQ(superseded.staleness_nanos[1], 230 * kMs);
  // The writer's slack applies to it as to its returned writes.
  CheckOptions slack = Bounded();
  slack.writer_slack = {absl::ZeroDuration(), absl::ZeroDuration(), absl::ZeroDuration(),
                        absl::Seconds(1)};
  EXPECT_TRUE(Check({Put(0, "a", 0, 10), Put(3, "b", 20, 30, killed), Get(1, "b", 40, 50),
                     Get(2, "a", 200, 210)},
                    slack)
                  .ok());
  // So does its indeterminate slack, to its failed writes only.
  CheckOptions failed = Bounded();
  failed.indeterminate_slack = {absl::Seconds(1)};
  EXPECT_TRUE(Check({Put(1, "a", 0, 10), Put(0, "b", 20, 30, killed), Get(1, "b", 40, 50),
                     Get(2, "a", 200, 210)},
                    failed)
                  .ok());
  EXPECT_TRUE(Check({Put(1, "a", 0, 10), Put(0, "b", 20, 30), Get(2, "a", 200, 210)}, failed)
                  .Has(ViolationKind::kStaleRead));
}

// A crashed process makes no final reads; its writes are checked as indeterminate.
TEST(HistoryCheckerTest, CrashedProcessesOweNoFinalReads) {
  CheckOptions o = Bounded();
  const std::vector<Operation> h = {Put(3, "a", 0, 10, absl::AbortedError("writer killed")),
                                    Final(0, "a", 500, 510), Final(1, "a", 500, 510),
                                    Final(2, "a", 500, 510)};
  EXPECT_TRUE(Check(h, o).Has(ViolationKind::kMissingFinalRead));
  o.crashed = {3};
  EXPECT_TRUE(Check(h, o).ok()) << Check(h, o).Report();
}

}  // namespace
}  // namespace asidekv::distributed
