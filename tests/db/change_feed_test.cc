// Tests of db::ChangeFeed against private PostgreSQL servers started with logical decoding: the
// server check, the advisory-lock leadership, committed keys streamed in commit order, resuming
// after the confirmed position (and replaying what was not confirmed), a dropped slot made
// again, TRUNCATE.

#include "db/postgres/change_feed.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "asidekv/database.h"
#include "db/postgres/postgres_db.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/status_matchers.h"
#include "util/monotonic_clock.h"

namespace asidekv::db {
namespace {

using ::asidekv::testing::PostgresServer;
using ::asidekv::testing::PostgresServerOptions;
using ::asidekv::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ChangeFeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PostgresServerOptions o;
    o.logical_decoding = true;
    ASSERT_OK(server_.Init(o));
    PostgresOptions db_options;
    db_options.conninfo = server_.conninfo();
    db_options.table = "kv";
    absl::StatusOr<std::unique_ptr<PostgresDb>> db = PostgresDb::Open(db_options);
    ASSERT_OK(db.status());
    db_ = *std::move(db);
  }

  ChangeFeedOptions FeedOptions() const {
    ChangeFeedOptions o;
    o.conninfo = server_.conninfo();
    o.table = "kv";
    o.slot = "feed_test";
    o.timeout = absl::Seconds(5);
    return o;
  }

  std::unique_ptr<ChangeFeed> NewFeed() {
    absl::StatusOr<std::unique_ptr<ChangeFeed>> feed = ChangeFeed::Create(FeedOptions());
    EXPECT_OK(feed.status());
    return feed.ok() ? *std::move(feed) : nullptr;
  }

  // ChangeFeed::Open, counting the calls of its before_create.
  absl::StatusOr<ChangeFeed::SlotState> Open(ChangeFeed& feed) {
    return feed.Open([this] {
      ++before_create_calls_;
      return absl::OkStatus();
    });
  }

  // Reads until `n` transactions came, or 10 s passed.
  static std::vector<FeedTransaction> ReadN(ChangeFeed& feed, size_t n) {
    std::vector<FeedTransaction> out;
    const int64_t deadline = util::MonotonicNanos() + 10'000'000'000;
    while (out.size() < n && util::MonotonicNanos() < deadline) {
      absl::StatusOr<std::vector<FeedTransaction>> batch = feed.Read(deadline, n - out.size());
      EXPECT_OK(batch.status());
      if (!batch.ok()) break;
      for (FeedTransaction& t : *batch) out.push_back(std::move(t));
    }
    return out;
  }

  static std::vector<std::string> Keys(const std::vector<FeedTransaction>& txns) {
    std::vector<std::string> keys;
    for (const FeedTransaction& t : txns) keys.insert(keys.end(), t.keys.begin(), t.keys.end());
    return keys;
  }

  PostgresServer server_;
  std::unique_ptr<PostgresDb> db_;
  int before_create_calls_ = 0;
};

TEST(ChangeFeedServerTest, CheckServerNamesWalLevel) {
  PostgresServer server;
  ASSERT_OK(server.Init());  // wal_level = replica, the default.
  ChangeFeedOptions o;
  o.conninfo = server.conninfo();
  EXPECT_THAT(ChangeFeed::CheckServer(o),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("wal_level = logical")));
}

TEST(ChangeFeedServerTest, SlotNames) {
  EXPECT_EQ(ChangeFeed::DefaultSlotName("asidekv"), "asidekv_relay_asidekv");
  EXPECT_OK(ChangeFeed::ValidateSlotName(ChangeFeed::DefaultSlotName(std::string(48, 'a'))));
  EXPECT_THAT(ChangeFeed::ValidateSlotName("Bad-Name"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ChangeFeed::ValidateSlotName(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ChangeFeed::ValidateSlotName(std::string(64, 'a')),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(ChangeFeedTest, CheckServerAcceptsLogical) {
  EXPECT_OK(ChangeFeed::CheckServer(FeedOptions()));
}

TEST_F(ChangeFeedTest, OneLeaderAtATimeAndTheLockMovesWhenItsSessionEnds) {
  auto a = NewFeed();
  auto b = NewFeed();
  ASSERT_THAT(a->TryLead(), ::asidekv::testing::IsOkAndHolds(true));
  EXPECT_THAT(a->TryLead(), ::asidekv::testing::IsOkAndHolds(true));
  EXPECT_THAT(b->TryLead(), ::asidekv::testing::IsOkAndHolds(false));
  EXPECT_TRUE(a->CheckLeadership());
  // The leader's session dies (as when its process does): the lock is free for b.
  ASSERT_OK(server_
                .Psql("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                      "AND granted")
                .status());
  bool b_leads = false;
  for (int i = 0; i < 500 && !b_leads; ++i) {
    absl::StatusOr<bool> led = b->TryLead();
    ASSERT_OK(led.status());
    b_leads = *led;
    if (!b_leads) absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_TRUE(b_leads);
  EXPECT_FALSE(a->CheckLeadership());
  EXPECT_FALSE(a->leading());
  EXPECT_THAT(a->TryLead(), ::asidekv::testing::IsOkAndHolds(false));
}

TEST_F(ChangeFeedTest, CommittedKeysInCommitOrderThenResumeAfterTheConfirmedOne) {
  auto feed = NewFeed();
  ASSERT_THAT(feed->TryLead(), ::asidekv::testing::IsOkAndHolds(true));
  ASSERT_THAT(Open(*feed), ::asidekv::testing::IsOkAndHolds(ChangeFeed::SlotState::kCreated));
  ASSERT_OK(db_->Put("k1", "v"));
  ASSERT_OK(db_->Put(std::string("\x00\xff", 2), "v"));
  // In key order, the order PostgresDb runs a batch's statements in.
  const DatabaseOp batch[] = {{DatabaseOp::kDelete, "k1", ""}, {DatabaseOp::kPut, "k3", "v"}};
  ASSERT_OK(db_->Write(batch));
  std::vector<FeedTransaction> txns = ReadN(*feed, 3);
  ASSERT_EQ(txns.size(), 3u);
  EXPECT_THAT(Keys(txns), ElementsAre("k1", std::string("\x00\xff", 2), "k1", "k3"));
  EXPECT_LT(txns[0].end_lsn, txns[1].end_lsn);
  EXPECT_LT(txns[1].end_lsn, txns[2].end_lsn);
  for (const FeedTransaction& t : txns) {
    EXPECT_FALSE(t.all_keys);
    ASSERT_TRUE(t.server_delay_micros.has_value());
    EXPECT_LT(*t.server_delay_micros, 10'000'000);
  }
  ASSERT_OK(feed->Confirm(txns[1].end_lsn));  // The third is not confirmed.
  feed->CloseStream();
  ASSERT_THAT(Open(*feed), ::asidekv::testing::IsOkAndHolds(ChangeFeed::SlotState::kKept));
  EXPECT_EQ(before_create_calls_, 1);  // Only before the slot was made.
  ASSERT_OK(db_->Put("k4", "v"));
  txns = ReadN(*feed, 2);
  // At least once: the unconfirmed transaction again, then the new one.
  EXPECT_THAT(Keys(txns), ElementsAre("k1", "k3", "k4"));
}

TEST_F(ChangeFeedTest, ADroppedSlotIsMadeAgainAndSaysSo) {
  auto feed = NewFeed();
  ASSERT_THAT(feed->TryLead(), ::asidekv::testing::IsOkAndHolds(true));
  ASSERT_THAT(Open(*feed), ::asidekv::testing::IsOkAndHolds(ChangeFeed::SlotState::kCreated));
  feed->CloseStream();
  // The walsender may take a moment to let go of the slot.
  absl::StatusOr<std::string> dropped;
  for (int i = 0; i < 500; ++i) {
    dropped = server_.Psql("SELECT pg_drop_replication_slot('feed_test')");
    if (dropped.ok()) break;
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_OK(dropped.status());
  EXPECT_THAT(Open(*feed), ::asidekv::testing::IsOkAndHolds(ChangeFeed::SlotState::kCreated));
}

TEST_F(ChangeFeedTest, NoSlotIsMadeWhenBeforeCreateFails) {
  auto feed = NewFeed();
  ASSERT_THAT(feed->TryLead(), ::asidekv::testing::IsOkAndHolds(true));
  EXPECT_THAT(feed->Open([] { return absl::UnavailableError("redis down"); }),
              StatusIs(absl::StatusCode::kUnavailable));
  absl::StatusOr<std::string> slots = server_.Psql("SELECT count(*) FROM pg_replication_slots");
  ASSERT_OK(slots.status());
  EXPECT_EQ(slots->substr(0, 1), "0");
}

TEST_F(ChangeFeedTest, TruncateIsEveryKey) {
  auto feed = NewFeed();
  ASSERT_THAT(feed->TryLead(), ::asidekv::testing::IsOkAndHolds(true));
  ASSERT_OK(Open(*feed).status());
  ASSERT_OK(db_->Put("k1", "v"));
  ASSERT_OK(server_.Psql("TRUNCATE kv").status());
  std::vector<FeedTransaction> txns = ReadN(*feed, 2);
  ASSERT_EQ(txns.size(), 2u);
  EXPECT_FALSE(txns[0].all_keys);
  EXPECT_TRUE(txns[1].all_keys);
  EXPECT_TRUE(txns[1].keys.empty());
}

TEST_F(ChangeFeedTest, ASlotOfAnotherKindIsRefused) {
  ASSERT_OK(
      server_.Psql("SELECT 1 FROM pg_create_physical_replication_slot('feed_test')").status());
  auto feed = NewFeed();
  ASSERT_THAT(feed->TryLead(), ::asidekv::testing::IsOkAndHolds(true));
  EXPECT_THAT(Open(*feed),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("relay_slot")));
}

}  // namespace
}  // namespace asidekv::db
