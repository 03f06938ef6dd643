// Tests of the sync point registry: callbacks and their arguments, enabling and disabling,
// dependencies that order two threads, and clearing a callback while it runs.
#include "util/sync_point.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace asidekv::util {
namespace {

class SyncPointTest : public ::testing::Test {
 protected:
  void TearDown() override {
    sp_->DisableProcessing();
    sp_->ClearAllCallBacks();
    sp_->LoadDependency({});
  }
  SyncPoint* const sp_ = SyncPoint::Get();
};

TEST_F(SyncPointTest, CallbackRunsOnlyWhileProcessingIsEnabled) {
  int calls = 0;
  int seen = 0;
  sp_->SetCallBack("Test::Point", [&](void* arg) {
    ++calls;
    if (arg != nullptr) seen = *static_cast<int*>(arg);
  });
  EXPECT_FALSE(SyncPoint::Active());
  int value = 7;
  ASIDEKV_SYNC_POINT_CALLBACK("Test::Point", &value);
  EXPECT_EQ(calls, 0);

  sp_->EnableProcessing();
  EXPECT_TRUE(SyncPoint::Active());
  ASIDEKV_SYNC_POINT_CALLBACK("Test::Point", &value);
  ASIDEKV_SYNC_POINT("Test::Point");
  ASIDEKV_SYNC_POINT("Test::Other");  // No callback: nothing happens.
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(seen, 7);

  sp_->DisableProcessing();
  ASIDEKV_SYNC_POINT("Test::Point");
  EXPECT_EQ(calls, 2);
}

TEST_F(SyncPointTest, ClearedCallbacksAreNotCalled) {
  int a = 0;
  int b = 0;
  sp_->SetCallBack("Test::A", [&](void*) { ++a; });
  sp_->SetCallBack("Test::B", [&](void*) { ++b; });
  sp_->EnableProcessing();
  sp_->ClearCallBack("Test::A");
  ASIDEKV_SYNC_POINT("Test::A");
  ASIDEKV_SYNC_POINT("Test::B");
  EXPECT_EQ(a, 0);
  EXPECT_EQ(b, 1);
  sp_->ClearAllCallBacks();
  EXPECT_FALSE(SyncPoint::Active());  // Enabled, but nothing to do: one load per point.
  ASIDEKV_SYNC_POINT("Test::B");
  EXPECT_EQ(b, 1);
}

// "Second" waits until another thread has passed "First", whatever the scheduling.
TEST_F(SyncPointTest, DependencyOrdersTwoThreads) {
  sp_->LoadDependency({{"Test::First", "Test::Second"}});
  sp_->EnableProcessing();
  std::atomic<bool> second_done{false};
  std::thread waiter([&] {
    ASIDEKV_SYNC_POINT("Test::Second");
    second_done.store(true);
  });
  // The waiter cannot get past "Second" until "First" is passed below.
  EXPECT_FALSE(second_done.load());
  ASIDEKV_SYNC_POINT("Test::First");
  waiter.join();
  EXPECT_TRUE(second_done.load());

  // Passed points are remembered until the trace is cleared.
  ASIDEKV_SYNC_POINT("Test::Second");  // Does not block.
  sp_->ClearTrace();
  std::thread again([&] { ASIDEKV_SYNC_POINT("Test::Second"); });
  ASIDEKV_SYNC_POINT("Test::First");
  again.join();
}

// Disabling processing releases a thread that waits on a predecessor nobody will pass.
TEST_F(SyncPointTest, DisableReleasesWaiters) {
  sp_->LoadDependency({{"Test::Never", "Test::Blocked"}});
  sp_->EnableProcessing();
  absl::Notification entered;
  sp_->SetCallBack("Test::Entered", [&](void*) { entered.Notify(); });
  std::thread t([&] {
    ASIDEKV_SYNC_POINT("Test::Entered");
    ASIDEKV_SYNC_POINT("Test::Blocked");
  });
  entered.WaitForNotification();
  sp_->DisableProcessing();
  t.join();
}

// ClearAllCallBacks() returns only after a running callback has returned.
TEST_F(SyncPointTest, ClearWaitsForRunningCallbacks) {
  absl::Notification in_callback;
  absl::Notification release;
  std::atomic<bool> finished{false};
  sp_->SetCallBack("Test::Slow", [&](void*) {
    in_callback.Notify();
    release.WaitForNotification();
    finished.store(true);
  });
  sp_->EnableProcessing();
  std::thread t([] { ASIDEKV_SYNC_POINT("Test::Slow"); });
  in_callback.WaitForNotification();
  std::thread clearer([&] {
    sp_->ClearAllCallBacks();
    EXPECT_TRUE(finished.load());
  });
  release.Notify();
  clearer.join();
  t.join();
}

TEST_F(SyncPointTest, CallbacksRunConcurrentlyOnManyThreads) {
  std::atomic<int> calls{0};
  sp_->SetCallBack("Test::Many", [&](void*) { calls.fetch_add(1); });
  sp_->EnableProcessing();
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([] {
      for (int j = 0; j < 1000; ++j) ASIDEKV_SYNC_POINT("Test::Many");
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(calls.load(), 4000);
}

}  // namespace
}  // namespace asidekv::util
