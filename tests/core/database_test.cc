// The Store over a Database it is given (asidekv/database.h): the options that name the source
// of truth, writes of unknown outcome, and the staleness bound with a shared database.
#include "asidekv/database.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "asidekv/asidekv.h"
#include "core/store_opener.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/map_database.h"
#include "tests/testing/status_matchers.h"

namespace asidekv {
namespace {

using ::asidekv::testing::FakeClock;
using ::asidekv::testing::MapDatabase;
using ::asidekv::testing::StatusIs;
using ::testing::HasSubstr;

Options SmallCache() {
  Options o;
  o.cache_capacity_bytes = 1 << 20;
  o.cache_shards = 1;
  return o;
}

std::string ValueOf(Store& store, std::string_view key) {
  absl::StatusOr<std::string> v = store.Get(key);
  return v.ok() ? *v : v.status().ToString();
}

TEST(OwnDatabaseTest, CacheAsideOverAnApplicationDatabase) {
  auto db = std::make_unique<MapDatabase>();
  MapDatabase* raw = db.get();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, Store::Open(SmallCache(), std::move(db)));
  ASSERT_OK(store->Put("a", "1"));
  ASSERT_OK(store->Put("b", "2"));
  EXPECT_EQ(ValueOf(*store, "a"), "1");
  EXPECT_EQ(ValueOf(*store, "a"), "1");
  EXPECT_EQ(raw->gets(), 1);  // The second Get hit the cache.
  EXPECT_EQ(store->GetStats().cache_hits, 1u);
  WriteBatch batch;
  batch.Put("c", "3");
  batch.Delete("b");
  ASSERT_OK(store->Write(batch));
  const std::vector<std::string> keys = {"a", "b", "c"};
  std::vector<absl::StatusOr<std::string>> many = store->MultiGet(keys);
  ASSERT_EQ(many.size(), 3u);
  EXPECT_EQ(many[0].value_or("?"), "1");
  EXPECT_THAT(many[1], StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(many[2].value_or("?"), "3");
  ASSERT_OK(store->Delete("a"));
  EXPECT_THAT(store->Get("a"), StatusIs(absl::StatusCode::kNotFound));
  ScanOptions scan;
  ASSERT_OK_AND_ASSIGN(std::vector<KeyValue> rows, store->Scan(scan));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].key, "c");
  EXPECT_EQ(rows[0].value, "3");
  // What the engine has no notion of: the interface's defaults.
  EXPECT_THAT(store->GetProperty("rocksdb.stats"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_OK(store->Flush());
  EXPECT_OK(store->CompactAll());
  EXPECT_OK(store->Resume());
}

TEST(OwnDatabaseTest, OptionsNameExactlyOneSourceOfTruth) {
  EXPECT_THAT(Store::Open(SmallCache(), nullptr), StatusIs(absl::StatusCode::kInvalidArgument));
  Options o = SmallCache();
  o.path = "/tmp/somewhere";
  EXPECT_THAT(Store::Open(o, std::make_unique<MapDatabase>()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  o = SmallCache();
  o.postgres = "host=/tmp dbname=x";
  EXPECT_THAT(Store::Open(o, std::make_unique<MapDatabase>()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  o.path = "/tmp/somewhere";
  absl::StatusOr<std::unique_ptr<Store>> both = Store::Open(o);
  EXPECT_THAT(both, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(both.status().message(), HasSubstr("one source of truth"));
  EXPECT_THAT(Store::Open(SmallCache()), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(OwnDatabaseTest, SharedDatabaseNeedsAStalenessBoundWhileTheCacheIsOn) {
  absl::StatusOr<std::unique_ptr<Store>> opened =
      Store::Open(SmallCache(), std::make_unique<MapDatabase>(/*shared=*/true));
  EXPECT_THAT(opened, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(opened.status().message(), HasSubstr("max_staleness"));
  Options o = SmallCache();
  o.max_staleness = absl::InfiniteDuration();
  EXPECT_THAT(Store::Open(o, std::make_unique<MapDatabase>(true)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  o.max_staleness = absl::Nanoseconds(0.5);
  EXPECT_THAT(Store::Open(o, std::make_unique<MapDatabase>(true)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  o.max_staleness = absl::Milliseconds(100);
  EXPECT_OK(Store::Open(o, std::make_unique<MapDatabase>(true)));
  o = SmallCache();
  o.cache_capacity_bytes = 0;  // No cache, nothing to bound: every read is the database's.
  EXPECT_OK(Store::Open(o, std::make_unique<MapDatabase>(true)));
}

class WritePolicyTest : public ::testing::TestWithParam<WritePolicy> {
 protected:
  void SetUp() override {
    auto db = std::make_unique<MapDatabase>();
    db_ = db.get();
    Options o = SmallCache();
    o.write_policy = GetParam();
    ASSERT_OK_AND_ASSIGN(store_, Store::Open(o, std::move(db)));
    ASSERT_OK(store_->Put("k", "old"));
    ASSERT_EQ(ValueOf(*store_, "k"), "old");  // Cached now.
  }
  MapDatabase* db_ = nullptr;
  std::unique_ptr<Store> store_;
};

// A write whose commit outcome is unknown may have landed: the entry must go, or the old value
// would be served for as long as it stays cached.
TEST_P(WritePolicyTest, WriteOfUnknownOutcomeThatLandedIsNotHiddenByTheCache) {
  db_->FailWrites(absl::UnknownError("connection lost: commit outcome unknown"), /*apply=*/true);
  EXPECT_THAT(store_->Put("k", "new"), StatusIs(absl::StatusCode::kUnknown));
  db_->FailWrites(absl::OkStatus(), false);
  EXPECT_EQ(ValueOf(*store_, "k"), "new");

  db_->FailWrites(absl::UnknownError("commit outcome unknown"), /*apply=*/true);
  EXPECT_THAT(store_->Delete("k"), StatusIs(absl::StatusCode::kUnknown));
  db_->FailWrites(absl::OkStatus(), false);
  EXPECT_THAT(store_->Get("k"), StatusIs(absl::StatusCode::kNotFound));

  ASSERT_OK(store_->Put("k", "old"));
  ASSERT_EQ(ValueOf(*store_, "k"), "old");
  db_->FailWrites(absl::UnknownError("commit outcome unknown"), /*apply=*/true);
  WriteBatch batch;
  batch.Put("k", "batched");
  EXPECT_THAT(store_->Write(batch), StatusIs(absl::StatusCode::kUnknown));
  db_->FailWrites(absl::OkStatus(), false);
  EXPECT_EQ(ValueOf(*store_, "k"), "batched");
}

TEST_P(WritePolicyTest, FailedWriteLeavesTheEntryAlone) {
  db_->FailWrites(absl::UnavailableError("server down"), /*apply=*/false);
  EXPECT_THAT(store_->Put("k", "new"), StatusIs(absl::StatusCode::kUnavailable));
  const uint64_t hits = store_->GetStats().cache_hits;
  EXPECT_EQ(ValueOf(*store_, "k"), "old");
  EXPECT_EQ(store_->GetStats().cache_hits, hits + 1);
}

INSTANTIATE_TEST_SUITE_P(Policies, WritePolicyTest,
                         ::testing::Values(WritePolicy::kInvalidate, WritePolicy::kUpdate));

// Two Stores over one shared database, like two processes: each bounds how long its cache may
// serve a value the other overwrote.
class StalenessBoundTest : public ::testing::Test {
 protected:
  static constexpr absl::Duration kBound = absl::Milliseconds(100);

  void Open(WritePolicy policy = WritePolicy::kInvalidate,
            absl::Duration negative_ttl = absl::ZeroDuration()) {
    auto a = std::make_unique<MapDatabase>(/*shared=*/true);
    auto b = a->Share();
    a_db_ = a.get();
    a->set_on_get([this](std::string_view) {
      if (read_delay_ > absl::ZeroDuration()) clock_.Advance(read_delay_);
    });
    Options o = SmallCache();
    o.max_staleness = kBound;
    o.write_policy = policy;
    o.negative_ttl = negative_ttl;
    core::StoreHooks hooks;
    hooks.clock = &clock_;
    ASSERT_OK_AND_ASSIGN(a_, core::StoreOpener::Open(o, std::move(a), hooks));
    ASSERT_OK_AND_ASSIGN(b_, core::StoreOpener::Open(o, std::move(b), hooks));
  }

  FakeClock clock_;
  absl::Duration read_delay_ = absl::ZeroDuration();  // How long each read of a_ takes.
  MapDatabase* a_db_ = nullptr;
  std::unique_ptr<Store> a_;
  std::unique_ptr<Store> b_;
};

TEST_F(StalenessBoundTest, AnotherStoresWriteIsSeenOnceTheBoundHasPassed) {
  Open();
  ASSERT_OK(b_->Put("k", "v1"));
  EXPECT_EQ(ValueOf(*a_, "k"), "v1");  // Cached in a_.
  ASSERT_OK(b_->Put("k", "v2"));
  EXPECT_EQ(ValueOf(*b_, "k"), "v2");  // The writer sees its write at once.
  EXPECT_EQ(ValueOf(*a_, "k"), "v1");  // Within the bound, a_ may serve what it cached.
  clock_.Advance(kBound);
  EXPECT_EQ(ValueOf(*a_, "k"), "v2");
}

TEST_F(StalenessBoundTest, AnEntryAgesFromItsReadNotFromItsFill) {
  Open();
  ASSERT_OK(b_->Put("k", "v1"));
  read_delay_ = absl::Milliseconds(60);  // a_'s read takes 60 ms of the bound.
  EXPECT_EQ(ValueOf(*a_, "k"), "v1");
  read_delay_ = absl::ZeroDuration();
  const int gets = a_db_->gets();
  clock_.Advance(absl::Milliseconds(40));  // 100 ms since the read began.
  EXPECT_EQ(ValueOf(*a_, "k"), "v1");
  EXPECT_EQ(a_db_->gets(), gets + 1) << "the entry outlived the bound counted from its read";
}

TEST_F(StalenessBoundTest, ALoadSlowerThanTheBoundIsNotCached) {
  Open();
  ASSERT_OK(b_->Put("k", "v1"));
  read_delay_ = kBound + absl::Milliseconds(1);
  EXPECT_EQ(ValueOf(*a_, "k"), "v1");           // The reader gets what it read...
  EXPECT_EQ(a_->GetStats().cache_entries, 0u);  // ...but nothing was cached.
  read_delay_ = absl::ZeroDuration();
  const int gets = a_db_->gets();
  EXPECT_EQ(ValueOf(*a_, "k"), "v1");
  EXPECT_EQ(a_db_->gets(), gets + 1);
}

TEST_F(StalenessBoundTest, PerKeyTtlsNegativeEntriesAndUpdatesAreBoundedToo) {
  Open(WritePolicy::kUpdate, /*negative_ttl=*/absl::Hours(1));
  ASSERT_OK(a_->Put("ttl", "v1", absl::Hours(1)));  // kUpdate caches it in a_.
  EXPECT_THAT(a_->Get("absent"), StatusIs(absl::StatusCode::kNotFound));  // Negative entry.
  ASSERT_OK(b_->Put("ttl", "v2"));
  ASSERT_OK(b_->Put("absent", "here"));
  clock_.Advance(kBound);
  EXPECT_EQ(ValueOf(*a_, "ttl"), "v2");
  EXPECT_EQ(ValueOf(*a_, "absent"), "here");
  // A fill of a value Put with a long TTL is bounded as well.
  a_->ClearCache();
  EXPECT_EQ(ValueOf(*a_, "ttl"), "v2");
  ASSERT_OK(b_->Put("ttl", "v3", absl::Hours(1)));
  clock_.Advance(kBound);
  EXPECT_EQ(ValueOf(*a_, "ttl"), "v3");
}

}  // namespace
}  // namespace asidekv
