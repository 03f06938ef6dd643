// The consistency audit (Options::audit_fraction, core/auditor.h): sampled hits are read again
// from the database after audit_delay; a value the database no longer holds is a mismatch. Two
// Stores over one shared in-memory database stand for two processes: B writes behind A's cache.

#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "asidekv/asidekv.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/map_database.h"
#include "tests/testing/status_matchers.h"

namespace asidekv {
namespace {

using ::asidekv::testing::IsOkAndHolds;
using ::asidekv::testing::MapDatabase;
using ::asidekv::testing::StatusIs;

Options Audited(double fraction) {
  Options o;
  o.cache_capacity_bytes = 1 << 20;
  o.max_staleness = absl::Hours(1);  // A's cache keeps B's overwritten values: the audit's prey.
  o.negative_ttl = absl::Hours(1);
  o.audit_fraction = fraction;
  o.audit_delay = absl::Milliseconds(20);
  return o;
}

Options CacheOff() {
  Options o;
  o.cache_capacity_bytes = 0;
  return o;
}

// Polls until `store` has audited at least `n` hits (10 s at most).
Stats AwaitAudits(Store& store, uint64_t n) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (store.GetStats().audits < n && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  return store.GetStats();
}

class AuditTest : public ::testing::Test {
 protected:
  void Open(double fraction) {
    auto db = std::make_unique<MapDatabase>(/*shared=*/true);
    std::unique_ptr<MapDatabase> other = db->Share();
    ASSERT_OK_AND_ASSIGN(a_, Store::Open(Audited(fraction), std::move(db)));
    ASSERT_OK_AND_ASSIGN(b_, Store::Open(CacheOff(), std::move(other)));
  }

  std::unique_ptr<Store> a_;
  std::unique_ptr<Store> b_;
};

TEST_F(AuditTest, AHitOfAValueOverwrittenElsewhereIsAMismatch) {
  Open(1.0);
  ASSERT_OK(a_->Put("k", "v1"));
  ASSERT_THAT(a_->Get("k"), IsOkAndHolds("v1"));  // A miss: cached, not audited.
  ASSERT_OK(b_->Put("k", "v2"));                  // Behind A's cache.
  ASSERT_THAT(a_->Get("k"), IsOkAndHolds("v1"));  // A stale hit, sampled.
  const Stats s = AwaitAudits(*a_, 1);
  EXPECT_EQ(s.audits, 1u);
  EXPECT_EQ(s.audit_mismatches, 1u);
  EXPECT_EQ(s.audits_dropped, 0u);
}

TEST_F(AuditTest, ConsistentHitsAreNoMismatch) {
  Open(1.0);
  ASSERT_OK(a_->Put("k", "v"));
  ASSERT_OK(a_->Put("gone", "x"));
  ASSERT_OK(a_->Delete("gone"));
  ASSERT_THAT(a_->Get("k"), IsOkAndHolds("v"));
  EXPECT_THAT(a_->Get("gone"), StatusIs(absl::StatusCode::kNotFound));  // A negative entry.
  for (int i = 0; i < 10; ++i) {
    ASSERT_THAT(a_->Get("k"), IsOkAndHolds("v"));
    EXPECT_THAT(a_->Get("gone"), StatusIs(absl::StatusCode::kNotFound));
  }
  ASSERT_OK_AND_ASSIGN(PinnedValue pinned, a_->GetPinned("k"));
  EXPECT_EQ(pinned.value(), "v");
  const std::vector<std::string> keys = {"k", "gone"};
  (void)a_->MultiGet(keys);
  const Stats s = AwaitAudits(*a_, 23);  // Every hit: 20 Gets, one GetPinned, two in MultiGet.
  EXPECT_EQ(s.audits, 23u);
  EXPECT_EQ(s.audit_mismatches, 0u);
}

TEST_F(AuditTest, ACachedAbsenceThatIsNoLongerTrueIsAMismatch) {
  Open(1.0);
  EXPECT_THAT(a_->Get("k"), StatusIs(absl::StatusCode::kNotFound));  // Cached as absent.
  ASSERT_OK(b_->Put("k", "now here"));
  EXPECT_THAT(a_->Get("k"), StatusIs(absl::StatusCode::kNotFound));  // Stale, sampled.
  const Stats s = AwaitAudits(*a_, 1);
  EXPECT_EQ(s.audits, 1u);
  EXPECT_EQ(s.audit_mismatches, 1u);
}

TEST_F(AuditTest, AFractionSamplesAboutThatShare) {
  Open(0.25);
  ASSERT_OK(a_->Put("k", "v"));
  ASSERT_THAT(a_->Get("k"), IsOkAndHolds("v"));
  constexpr int kHits = 4000;
  for (int i = 0; i < kHits; ++i) ASSERT_OK(a_->Get("k").status());
  AwaitAudits(*a_, 800);
  absl::SleepFor(absl::Milliseconds(200));  // Past the delay of the last sample.
  const Stats s = a_->GetStats();
  // Binomial(4000, 0.25): mean 1000, standard deviation 27; 800..1200 is over 7 deviations.
  EXPECT_GT(s.audits, 800u);
  EXPECT_LT(s.audits, 1200u);
  EXPECT_EQ(s.audit_mismatches, 0u);
}

TEST(AuditOptionsTest, OffByDefaultAndBadValuesAreRefused) {
  Options o;
  o.cache_capacity_bytes = 1 << 20;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store,
                       Store::Open(o, std::make_unique<MapDatabase>()));
  ASSERT_OK(store->Put("k", "v"));
  for (int i = 0; i < 3; ++i) ASSERT_OK(store->Get("k").status());
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(store->GetStats().audits, 0u);
  for (double bad : {-0.1, 1.5, std::nan("")}) {
    o.audit_fraction = bad;
    EXPECT_THAT(Store::Open(o, std::make_unique<MapDatabase>()),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
  o.audit_fraction = 0.5;
  for (absl::Duration bad : {absl::ZeroDuration(), absl::Milliseconds(-1), absl::Hours(2)}) {
    o.audit_delay = bad;
    EXPECT_THAT(Store::Open(o, std::make_unique<MapDatabase>()),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

}  // namespace
}  // namespace asidekv
