// Faults injected under RocksDB (db/fault_injection.h): write errors, fsync errors, a full disk
// and read errors. Writes return the error and leave the cache as it was; reads that fail in the
// DB return the error and cache nothing (no negative entry); the store recovers with Resume()
// when the fault clears, or Resume() says why it cannot and a reopen recovers.
#include "db/fault_injection.h"

#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "asidekv/asidekv.h"
#include "core/store_opener.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace asidekv {
namespace {

using ::asidekv::testing::StatusIs;
using ::asidekv::testing::TempDir;

class FaultInjectionTest : public ::testing::TestWithParam<WritePolicy> {
 protected:
  Options MakeOptions() const {
    Options o;
    o.path = dir_.Sub("db");
    o.cache_capacity_bytes = 1 << 20;
    o.cache_shards = 1;
    o.write_policy = GetParam();
    o.negative_ttl = absl::Hours(1);  // A failed read must not leave a "not found" behind.
    o.db_block_cache_bytes = 0;       // Every SST read reaches the (faulty) file system.
    return o;
  }

  void Open(const Options& o) {
    store_.reset();
    core::StoreHooks hooks;
    hooks.fault_injector = faults_;
    auto opened = core::StoreOpener::Open(o, hooks);
    ASSERT_OK(opened.status());
    store_ = *std::move(opened);
  }

  // Every key of "k0".."k{n-1}" reads as "v{i}" + suffix.
  void ExpectValues(int n, const std::string& suffix) {
    for (int i = 0; i < n; ++i) {
      auto v = store_->Get(absl::StrCat("k", i));
      ASSERT_OK(v.status()) << "k" << i;
      EXPECT_EQ(*v, absl::StrCat("v", i, suffix)) << "k" << i;
    }
  }

  // Writes that must all fail with `code` and change nothing a reader sees.
  void ExpectWritesFail(absl::StatusCode code) {
    const uint64_t errors_before = store_->GetStats().write_errors;
    absl::Status put = store_->Put("k0", "changed");
    EXPECT_THAT(put, StatusIs(code));
    EXPECT_FALSE(put.message().empty());
    EXPECT_THAT(store_->Delete("k1"), StatusIs(code));
    WriteBatch batch;
    batch.Put("k2", "changed");
    batch.Delete("k3");
    EXPECT_THAT(store_->Write(batch), StatusIs(code));
    EXPECT_THAT(store_->Put("new", "x"), StatusIs(code));
    EXPECT_EQ(store_->GetStats().write_errors, errors_before + 4);
    // Cached and uncached keys alike still read their old values; "new" is absent.
    ExpectValues(kKeys, "");
    EXPECT_THAT(store_->Get("new"), StatusIs(absl::StatusCode::kNotFound));
  }

  static constexpr int kKeys = 8;
  TempDir dir_;
  std::shared_ptr<db::FaultInjector> faults_ = std::make_shared<db::FaultInjector>();
  std::unique_ptr<Store> store_;
};

// Fills k0..k7 with v0..v7, caches half of them.
void Fill(Store& store) {
  for (int i = 0; i < 8; ++i) ASSERT_OK(store.Put(absl::StrCat("k", i), absl::StrCat("v", i)));
  for (int i = 0; i < 8; i += 2) ASSERT_OK(store.Get(absl::StrCat("k", i)).status());
}

TEST_P(FaultInjectionTest, FullDiskFailsWritesThenResumeRecovers) {
  ASSERT_NO_FATAL_FAILURE(Open(MakeOptions()));
  ASSERT_NO_FATAL_FAILURE(Fill(*store_));

  faults_->SetNoSpace(true);
  ASSERT_NO_FATAL_FAILURE(ExpectWritesFail(absl::StatusCode::kResourceExhausted));
  EXPECT_GT(faults_->failed_writes(), 0u);
  // The disk is still full: Resume() says so and writes stay stopped.
  absl::Status resumed = store_->Resume();
  EXPECT_FALSE(resumed.ok());
  std::cout << "Resume() while the disk is full: " << resumed << "\n";
  ASSERT_NO_FATAL_FAILURE(ExpectWritesFail(absl::StatusCode::kResourceExhausted));

  faults_->SetNoSpace(false);
  ASSERT_OK(store_->Resume());
  ASSERT_OK(store_->Put("k0", "v0.after"));
  ASSERT_OK(store_->Delete("k1"));
  EXPECT_EQ(*store_->Get("k0"), "v0.after");
  EXPECT_THAT(store_->Get("k1"), StatusIs(absl::StatusCode::kNotFound));

  // Everything acknowledged survives a reopen; nothing refused appears.
  ASSERT_NO_FATAL_FAILURE(Open(MakeOptions()));
  EXPECT_EQ(*store_->Get("k0"), "v0.after");
  EXPECT_THAT(store_->Get("k1"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(*store_->Get("k2"), "v2");
  EXPECT_EQ(*store_->Get("k3"), "v3");
  EXPECT_THAT(store_->Get("new"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(FaultInjectionTest, FullDiskDuringFlushThenResumeRecovers) {
  ASSERT_NO_FATAL_FAILURE(Open(MakeOptions()));
  ASSERT_NO_FATAL_FAILURE(Fill(*store_));
  faults_->SetNoSpace(true);
  EXPECT_THAT(store_->Flush(), StatusIs(absl::StatusCode::kResourceExhausted));
  ASSERT_NO_FATAL_FAILURE(ExpectWritesFail(absl::StatusCode::kResourceExhausted));
  faults_->SetNoSpace(false);
  ASSERT_OK(store_->Resume());
  ASSERT_OK(store_->Flush());
  ASSERT_OK(store_->Put("k5", "v5.after"));
  store_->ClearCache();
  EXPECT_EQ(*store_->Get("k5"), "v5.after");
  EXPECT_EQ(*store_->Get("k4"), "v4");
}

// A plain I/O error writing the log is fatal to RocksDB: Resume() reports it, reads keep
// working, and a reopen recovers every acknowledged write.
TEST_P(FaultInjectionTest, WriteErrorIsReportedAndReopenRecovers) {
  ASSERT_NO_FATAL_FAILURE(Open(MakeOptions()));
  ASSERT_NO_FATAL_FAILURE(Fill(*store_));
  faults_->SetFailWrites(true);
  ASSERT_NO_FATAL_FAILURE(ExpectWritesFail(absl::StatusCode::kUnavailable));
  faults_->SetFailWrites(false);
  absl::Status resumed = store_->Resume();
  std::cout << "Resume() after a log write error: " << resumed << "\n";
  if (!resumed.ok()) {
    EXPECT_FALSE(resumed.message().empty());
    ASSERT_NO_FATAL_FAILURE(ExpectValues(kKeys, ""));
    ASSERT_NO_FATAL_FAILURE(Open(MakeOptions()));
  }
  ASSERT_NO_FATAL_FAILURE(ExpectValues(kKeys, ""));
  ASSERT_OK(store_->Put("k0", "v0.after"));
  EXPECT_EQ(*store_->Get("k0"), "v0.after");
}

TEST_P(FaultInjectionTest, SyncErrorFailsSyncedWrites) {
  Options o = MakeOptions();
  o.sync_writes = true;
  ASSERT_NO_FATAL_FAILURE(Open(o));
  ASSERT_NO_FATAL_FAILURE(Fill(*store_));
  faults_->SetFailSyncs(true);
  ASSERT_NO_FATAL_FAILURE(ExpectWritesFail(absl::StatusCode::kUnavailable));
  EXPECT_GT(faults_->failed_syncs(), 0u);
  faults_->SetFailSyncs(false);
  absl::Status resumed = store_->Resume();
  std::cout << "Resume() after an fsync error: " << resumed << "\n";
  if (!resumed.ok()) {
    ASSERT_NO_FATAL_FAILURE(Open(o));
  }
  // A write whose fsync failed has an unknown outcome after a reopen (its bytes may have
  // reached the log); the acknowledged ones are all there, and new writes work.
  for (int i = 4; i < kKeys; ++i)
    EXPECT_EQ(*store_->Get(absl::StrCat("k", i)), absl::StrCat("v", i));
  ASSERT_OK(store_->Put("k0", "v0.after"));
  EXPECT_EQ(*store_->Get("k0"), "v0.after");
}

TEST_P(FaultInjectionTest, ReadErrorsAreReturnedAndNeverCached) {
  ASSERT_NO_FATAL_FAILURE(Open(MakeOptions()));
  ASSERT_NO_FATAL_FAILURE(Fill(*store_));
  ASSERT_OK(store_->Flush());  // Reads now go to an SST file.
  store_->ClearCache();

  faults_->SetFailReads(true);
  for (int i = 0; i < kKeys; ++i) {
    EXPECT_THAT(store_->Get(absl::StrCat("k", i)), StatusIs(absl::StatusCode::kUnavailable));
  }
  EXPECT_THAT(store_->GetPinned("k0"), StatusIs(absl::StatusCode::kUnavailable));
  std::vector<std::string> keys = {"k1", "k2", "k3"};
  for (const auto& r : store_->MultiGet(keys)) {
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kUnavailable));
  }
  EXPECT_THAT(store_->Scan(ScanOptions()), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_GT(faults_->failed_reads(), 0u);
  EXPECT_EQ(store_->GetStats().cache_entries, 0u);  // No value, no "not found".
  // Reads failing does not stop writes.
  ASSERT_OK(store_->Put("k7", "v7.after"));
  EXPECT_EQ(*store_->Get("k7"), "v7.after");  // From the memtable.

  faults_->SetFailReads(false);
  for (int i = 0; i < kKeys - 1; ++i) {
    auto v = store_->Get(absl::StrCat("k", i));
    ASSERT_OK(v.status());
    EXPECT_EQ(*v, absl::StrCat("v", i));
  }
  EXPECT_EQ(*store_->Get("k7"), "v7.after");
  ASSERT_OK(store_->Resume());  // Nothing to recover from: OK.
}

INSTANTIATE_TEST_SUITE_P(Policies, FaultInjectionTest,
                         ::testing::Values(WritePolicy::kInvalidate, WritePolicy::kUpdate),
                         [](const ::testing::TestParamInfo<WritePolicy>& info) {
                           return info.param == WritePolicy::kInvalidate ? "Invalidate" : "Update";
                         });

}  // namespace
}  // namespace asidekv
