#include "util/epoch.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace asidekv::util {
namespace {

// Counts releases of a retired object.
struct Tracked {
  int released = 0;
  static void Release(void* p) { ++static_cast<Tracked*>(p)->released; }
};

std::vector<Retired> CollectAll(RetireList* list) {
  std::vector<Retired> ready;
  list->Collect(&ready);
  for (const Retired& r : ready) r.Release();
  return ready;
}

TEST(EpochTest, NoReaderMeansImmediateRelease) {
  RetireList list;
  Tracked t;
  list.Retire(&t, &Tracked::Release);
  EXPECT_EQ(CollectAll(&list).size(), 1u);
  EXPECT_EQ(t.released, 1);
  EXPECT_TRUE(list.empty());
}

TEST(EpochTest, NothingRetiredWhileAGuardIsHeldIsReleased) {
  RetireList list;
  Tracked t;
  {
    EpochGuard guard;
    ASSERT_TRUE(guard.active());
    list.Retire(&t, &Tracked::Release);
    EXPECT_TRUE(CollectAll(&list).empty());
    {
      EpochGuard nested;  // Does not end the outer guard when it ends.
    }
    EXPECT_TRUE(CollectAll(&list).empty());
    EXPECT_EQ(t.released, 0);
  }
  CollectAll(&list);
  EXPECT_EQ(t.released, 1);
}

TEST(EpochTest, AnotherThreadsGuardHoldsBackOnlyWhatWasRetiredBeforeItEntered) {
  RetireList list;
  Tracked before, after;
  list.Retire(&before, &Tracked::Release);
  absl::Notification entered, leave;
  std::thread reader([&] {
    EpochGuard guard;
    entered.Notify();
    leave.WaitForNotification();
  });
  entered.WaitForNotification();
  // Retired after the reader entered: but the reader entered before the tag was read, so it may
  // hold it too; both wait.
  list.Retire(&after, &Tracked::Release);
  CollectAll(&list);
  EXPECT_EQ(before.released, 0);
  EXPECT_EQ(after.released, 0);
  leave.Notify();
  reader.join();
  CollectAll(&list);
  EXPECT_EQ(before.released, 1);
  EXPECT_EQ(after.released, 1);
}

TEST(EpochTest, GuardEnteredAfterCollectDoesNotHoldBackOlderObjects) {
  RetireList list;
  Tracked t;
  list.Retire(&t, &Tracked::Release);
  std::vector<Retired> ready;
  {
    // The collect advances the epoch; a guard that enters later cannot reach `t`.
    list.Collect(&ready);
  }
  for (const Retired& r : ready) r.Release();
  EXPECT_EQ(t.released, 1);
  Tracked u;
  {
    EpochGuard guard;
    list.Retire(&u, &Tracked::Release);
  }
  CollectAll(&list);
  EXPECT_EQ(u.released, 1);
}

TEST(EpochTest, DestructorReleasesWhatIsLeft) {
  Tracked t;
  {
    RetireList list;
    EpochGuard guard;
    list.Retire(&t, &Tracked::Release);
  }
  EXPECT_EQ(t.released, 1);
}

// Many threads come and go: each takes a record and gives it back, so records never run out.
TEST(EpochTest, ExitingThreadsGiveTheirRecordsBack) {
  for (int i = 0; i < 3 * 512; ++i) {
    std::thread([] {
      EpochGuard guard;
      EXPECT_TRUE(guard.active());
    }).join();
  }
}

}  // namespace
}  // namespace asidekv::util
