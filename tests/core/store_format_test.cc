// Tests of how a Store treats its folder's format: a folder written by another RocksDB program
// is refused unless opened with Options::raw_values, which then reads and writes values as they
// are, on every path that reads or writes values.
#include <memory>
#include <string>
#include <vector>

#include "asidekv/asidekv.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/plain_rocksdb.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace asidekv {
namespace {

using ::asidekv::testing::IsOk;
using ::asidekv::testing::MakePlainRocksDb;
using ::asidekv::testing::PlainRocksDbGet;
using ::asidekv::testing::Snapshot;
using ::asidekv::testing::StatusIs;
using ::testing::HasSubstr;

const std::string kNulAbc("\0abc", 4);

TEST(StoreFormatTest, FolderOfAnotherProgramIsRefusedAndLeftUntouched) {
  testing::TempDir dir;
  Options o;
  o.path = dir.Sub("db");
  MakePlainRocksDb(o.path, {{"greeting", "hello"}, {"nul", kNulAbc}});
  const auto before = Snapshot(o.path);
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(o);
  EXPECT_THAT(store.status(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("raw_values"));
  EXPECT_EQ(Snapshot(o.path), before);
}

TEST(StoreFormatTest, RawValuesRoundTripOverAFolderOfAnotherProgram) {
  testing::TempDir dir;
  Options o;
  o.path = dir.Sub("db");
  o.raw_values = true;
  MakePlainRocksDb(o.path, {{"greeting", "hello"}, {"nul", kNulAbc}});
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(o));
    EXPECT_EQ(*store->Get("greeting"), "hello");  // From the DB, then from the cache.
    EXPECT_EQ(*store->Get("greeting"), "hello");
    ASSERT_OK_AND_ASSIGN(PinnedValue pinned, store->GetPinned("nul"));
    EXPECT_EQ(pinned.ToString(), kNulAbc);
    store->ClearCache();
    const std::vector<std::string> keys = {"greeting", "nul"};
    std::vector<absl::StatusOr<std::string>> got = store->MultiGet(keys);
    ASSERT_OK(got[0].status());
    ASSERT_OK(got[1].status());
    EXPECT_EQ(*got[0], "hello");
    EXPECT_EQ(*got[1], kNulAbc);
    ASSERT_OK_AND_ASSIGN(std::vector<KeyValue> all, store->Scan(ScanOptions()));
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].value, "hello");
    EXPECT_EQ(all[1].value, kNulAbc);
    store->ClearCache();
    EXPECT_EQ(*store->Warm(keys), 2u);
    const uint64_t hits = store->GetStats().cache_hits;
    EXPECT_EQ(*store->Get("nul"), kNulAbc);
    EXPECT_EQ(store->GetStats().cache_hits, hits + 1);

    ASSERT_OK(store->Put("written", "by asidekv"));
    WriteBatch batch;
    batch.Put("batched", kNulAbc);
    ASSERT_OK(store->Write(batch));
    EXPECT_THAT(store->Put("ttl", "v", absl::Minutes(1)),
                StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_THAT(store->Get("ttl").status(), StatusIs(absl::StatusCode::kNotFound));
  }
  // The other program reads asidekv's writes as they were given.
  EXPECT_EQ(PlainRocksDbGet(o.path, "written"), "by asidekv");
  EXPECT_EQ(PlainRocksDbGet(o.path, "batched"), kNulAbc);
  // Reopened raw: fine; without raw_values: refused, untouched.
  { ASSERT_OK(Store::Open(o).status()); }
  const auto before = Snapshot(o.path);
  o.raw_values = false;
  EXPECT_THAT(Store::Open(o).status(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(Snapshot(o.path), before);
}

TEST(StoreFormatTest, AStoreOfHeadedValuesIsNotOpenedRaw) {
  testing::TempDir dir;
  Options o;
  o.path = dir.Sub("db");
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(o));
    ASSERT_OK(store->Put("k", "v", absl::Minutes(1)));
  }
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(o));  // The marker it wrote lets it reopen.
    EXPECT_EQ(*store->Get("k"), "v");
  }
  const auto before = Snapshot(o.path);
  o.raw_values = true;
  absl::StatusOr<std::unique_ptr<Store>> raw = Store::Open(o);
  EXPECT_THAT(raw.status(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(raw.status().message()), HasSubstr("raw_values"));
  EXPECT_EQ(Snapshot(o.path), before);
}

}  // namespace
}  // namespace asidekv
