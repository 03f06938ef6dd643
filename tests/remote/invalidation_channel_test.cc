// InvalidationChannel against a private redis-server: invalidations from other clients reach the
// sink, FLUSHALL flushes it, every loss (CLIENT KILL of the channel, a stalled server, a killed
// server) flushes and closes the gate until the channel is back, a killed data connection
// changes nothing (redis#11767), and the gate's promise: once Serving() holds for a PING sent
// after a write was acknowledged, the sink has seen the write's key.

#include "remote/invalidation_channel.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "remote/redis_tier.h"
#include "tests/remote/test_util.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/status_matchers.h"
#include "util/monotonic_clock.h"

namespace asidekv::remote {
namespace {

using ::asidekv::testing::RedisServer;
using ::asidekv::testing::RedisServerOptions;
using ::asidekv::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

// Records what the channel hands it. Optionally holds the next OnInvalidateAll() until released,
// so a test can look at the channel while its thread is inside the flush.
class RecordingSink : public InvalidationSink {
 public:
  void OnInvalidate(absl::Span<const std::string_view> keys) override {
    absl::MutexLock lock(&mu_);
    for (std::string_view key : keys) ++keys_[std::string(key)];
  }
  void OnServingUntil(int64_t nanos) override {
    absl::MutexLock lock(&mu_);
    serving_until_ = nanos;
  }
  void OnInvalidateAll() override {
    absl::MutexLock lock(&mu_);
    ++flushes_;
    if (hold_next_flush_) {
      hold_next_flush_ = false;
      in_held_flush_ = true;
      while (in_held_flush_) held_.Wait(&mu_);
    }
  }

  bool Has(const std::string& key) const { return Count(key) > 0; }
  // How many times OnInvalidate() named `key`.
  int Count(const std::string& key) const {
    absl::MutexLock lock(&mu_);
    auto it = keys_.find(key);
    return it == keys_.end() ? 0 : it->second;
  }
  int flushes() const {
    absl::MutexLock lock(&mu_);
    return flushes_;
  }
  // The last OnServingUntil() deadline (0 before any).
  int64_t serving_until() const {
    absl::MutexLock lock(&mu_);
    return serving_until_;
  }
  void HoldNextFlush() {
    absl::MutexLock lock(&mu_);
    hold_next_flush_ = true;
  }
  bool InHeldFlush() const {
    absl::MutexLock lock(&mu_);
    return in_held_flush_;
  }
  void ReleaseFlush() {
    absl::MutexLock lock(&mu_);
    in_held_flush_ = false;
    held_.SignalAll();
  }

 private:
  mutable absl::Mutex mu_;
  absl::CondVar held_;
  std::map<std::string, int> keys_ ABSL_GUARDED_BY(mu_);
  int flushes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t serving_until_ ABSL_GUARDED_BY(mu_) = 0;
  bool hold_next_flush_ ABSL_GUARDED_BY(mu_) = false;
  bool in_held_flush_ ABSL_GUARDED_BY(mu_) = false;
};

constexpr absl::Duration kBound = absl::Milliseconds(200);

class InvalidationChannelTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(server_.Init()); }

  RedisConfig Config() const { return ConfigFor(server_); }

  std::unique_ptr<InvalidationChannel> StartChannel(const RedisConfig& config,
                                                    absl::Duration bound = kBound) {
    absl::StatusOr<std::unique_ptr<InvalidationChannel>> channel =
        InvalidationChannel::Start(config, bound, &sink_);
    EXPECT_TRUE(channel.ok()) << channel.status();
    return channel.ok() ? *std::move(channel) : nullptr;
  }

  std::unique_ptr<RedisTier> Writer() {
    absl::StatusOr<std::unique_ptr<RedisTier>> tier = RedisTier::Connect(Config());
    EXPECT_TRUE(tier.ok()) << tier.status();
    return tier.ok() ? *std::move(tier) : nullptr;
  }

  // Caches `value` for `key` through the lease protocol (which broadcasts nothing).
  static void Store(RedisTier& tier, const std::string& key, std::string_view value) {
    absl::StatusOr<LeaseResult> lease = LeaseOne(tier, key);
    ASSERT_TRUE(lease.ok()) << lease.status();
    ASSERT_EQ(lease->kind, LeaseResult::Kind::kWon);
    absl::StatusOr<bool> stored = FillOne(tier, key, lease->token, value);
    ASSERT_TRUE(stored.ok()) << stored.status();
    ASSERT_TRUE(*stored);
  }

  RedisServer server_;
  RecordingSink sink_;  // Outlives the channels (declared before them in each test).
};

TEST_F(InvalidationChannelTest, WritesOfOtherClientsReachTheSink) {
  std::unique_ptr<InvalidationChannel> channel = StartChannel(Config());
  ASSERT_NE(channel, nullptr);
  EXPECT_EQ(sink_.flushes(), 1);  // The flush after the first SUBSCRIBE.
  EXPECT_NE(channel->client_id(), 0);
  ASSERT_TRUE(channel->WaitServing(absl::Seconds(10)));

  std::unique_ptr<RedisTier> writer = Writer();
  ASSERT_NE(writer, nullptr);
  // Only writes broadcast: a fill (a change of the value key) says nothing, an Invalidate says
  // the key once, whether or not Redis held its value. Messages arrive in order, so once a later
  // key's arrives, an earlier one would have been there.
  const std::string binary("bin\0{}", 6);
  for (const std::string& key : {std::string("k1"), binary}) {
    Store(*writer, key, "v");
    ASSERT_OK(writer->Invalidate({key + "-probe"}));
    ASSERT_TRUE(Eventually([&] { return sink_.Has(key + "-probe"); }));
    EXPECT_EQ(sink_.Count(key), 0) << "a fill broadcast";
    ASSERT_OK(writer->Invalidate({key}));
    EXPECT_TRUE(Eventually([&] { return sink_.Count(key) == 1; }));
    ASSERT_OK(writer->Invalidate({key}));  // Nothing in Redis now: still heard.
    EXPECT_TRUE(Eventually([&] { return sink_.Count(key) == 2; }));
  }
  // A lease key is outside the tracked prefix: taking a lease broadcasts nothing.
  ASSERT_OK_AND_ASSIGN(std::vector<LeaseResult> lease,
                       writer->GetOrLease({"k2"}, absl::Seconds(10)));
  ASSERT_EQ(lease.front().kind, LeaseResult::Kind::kWon);
  // Keys outside the marker prefix are not tracked (values included); a marker set by anyone is,
  // and the marker is never left in Redis.
  ASSERT_OK(server_.Cli({"SET", "other:w:{k3}", "x"}).status());
  ASSERT_OK(server_.Cli({"SET", "akv:v:{k5}", "x"}).status());
  ASSERT_OK(server_.Cli({"SET", "akv:w:{k4}", "x"}).status());
  EXPECT_TRUE(Eventually([&] { return sink_.Has("k4"); }));
  EXPECT_FALSE(sink_.Has("k3"));
  EXPECT_FALSE(sink_.Has("k5"));
  EXPECT_FALSE(sink_.Has("k2"));  // Arrival order: k2's lease would have come before k4.
  ASSERT_OK_AND_ASSIGN(std::string markers, server_.Cli({"KEYS", "akv:w:{k1}"}));
  EXPECT_EQ(markers, "");
  // The flush marker flushes.
  const int flushes = sink_.flushes();
  ASSERT_OK(server_.Cli({"SET", FlushMarkerKey("akv"), "x"}).status());
  EXPECT_TRUE(Eventually([&] { return sink_.flushes() == flushes + 1; }));
  const InvalidationChannelStats stats = channel->GetStats();
  EXPECT_GE(stats.keys, 7u);
  EXPECT_GE(stats.pongs, 1u);
  EXPECT_EQ(stats.reconnects, 0u);
  EXPECT_EQ(stats.flushes, 2u);
  EXPECT_EQ(sink_.flushes(), 2);
}

TEST_F(InvalidationChannelTest, UnixSocketWorksToo) {
  RedisConfig config = Config();
  config.address = server_.unix_address();
  std::unique_ptr<InvalidationChannel> channel = StartChannel(config);
  ASSERT_NE(channel, nullptr);
  ASSERT_TRUE(channel->WaitServing(absl::Seconds(10)));
  ASSERT_OK(server_.Cli({"DEL", "akv:w:{u}"}).status());
  ASSERT_OK(server_.Cli({"SET", "akv:w:{u}", "x"}).status());
  EXPECT_TRUE(Eventually([&] { return sink_.Has("u"); }));
}

TEST_F(InvalidationChannelTest, FlushAllFlushesTheSink) {
  std::unique_ptr<InvalidationChannel> channel = StartChannel(Config());
  ASSERT_NE(channel, nullptr);
  ASSERT_TRUE(channel->WaitServing(absl::Seconds(10)));
  const int before = sink_.flushes();
  ASSERT_OK(server_.Cli({"FLUSHALL"}).status());
  EXPECT_TRUE(Eventually([&] { return sink_.flushes() > before; }));
  EXPECT_EQ(channel->GetStats().reconnects, 0u);
  EXPECT_TRUE(channel->WaitServing(absl::Seconds(10)));  // The gate stays as it is.
}

TEST_F(InvalidationChannelTest, KilledChannelConnectionFlushesClosesTheGateAndComesBack) {
  std::unique_ptr<InvalidationChannel> channel = StartChannel(Config());
  ASSERT_NE(channel, nullptr);
  ASSERT_TRUE(channel->WaitServing(absl::Seconds(10)));
  // The sink was told the open gate's deadline (a sink's copy of the gate follows it).
  EXPECT_GT(sink_.serving_until(), util::MonotonicNanos());
  const int64_t id = channel->client_id();
  ASSERT_NE(id, 0);
  sink_.HoldNextFlush();
  ASSERT_OK(server_.Cli({"CLIENT", "KILL", "ID", std::to_string(id)}).status());
  // The channel's thread is inside the loss's flush: the gate is already closed, and the sink
  // was told before the flush.
  ASSERT_TRUE(Eventually([&] { return sink_.InHeldFlush(); }));
  EXPECT_FALSE(channel->Serving());
  EXPECT_EQ(sink_.serving_until(), 0);
  EXPECT_EQ(channel->client_id(), 0);
  sink_.ReleaseFlush();
  // It reconnects (a new id), flushes again after the new SUBSCRIBE, and the gate reopens.
  ASSERT_TRUE(Eventually([&] { return channel->client_id() != 0; }));
  EXPECT_NE(channel->client_id(), id);
  EXPECT_TRUE(channel->WaitServing(absl::Seconds(10)));
  EXPECT_GE(sink_.flushes(), 3);
  EXPECT_EQ(channel->GetStats().reconnects, 1u);
  ASSERT_OK(server_.Cli({"SET", "akv:w:{after}", "x"}).status());
  EXPECT_TRUE(Eventually([&] { return sink_.Has("after"); }));
}

TEST_F(InvalidationChannelTest, KilledDataConnectionsDoNotStopInvalidations) {
  std::unique_ptr<InvalidationChannel> channel = StartChannel(Config());
  ASSERT_NE(channel, nullptr);
  std::unique_ptr<RedisTier> writer = Writer();
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(channel->WaitServing(absl::Seconds(10)));
  Store(*writer, "before", "v");
  ASSERT_OK(writer->Invalidate({"before"}));
  ASSERT_TRUE(Eventually([&] { return sink_.Has("before"); }));
  const int flushes = sink_.flushes();
  // Every normal (data) connection dies; the channel's is in Pub/Sub mode and stays.
  ASSERT_OK(server_.Cli({"CLIENT", "KILL", "TYPE", "normal"}).status());
  ASSERT_OK(server_.Cli({"SET", "akv:w:{after}", "x"}).status());
  EXPECT_TRUE(Eventually([&] { return sink_.Has("after"); }));
  // The writer recovers (its breaker lets a probe through) and its writes still arrive.
  ASSERT_TRUE(Eventually([&] { return writer->Invalidate({"before"}).ok(); }));
  EXPECT_TRUE(Eventually([&] { return sink_.Count("before") == 2; }));
  EXPECT_EQ(sink_.flushes(), flushes);
  EXPECT_EQ(channel->GetStats().reconnects, 0u);
}

TEST_F(InvalidationChannelTest, StalledServerClosesTheGateAndFlushes) {
  RedisConfig config = Config();
  config.timeout = absl::Seconds(30);  // The connection outlives the stall: a lapse, not a loss.
  std::unique_ptr<InvalidationChannel> channel = StartChannel(config);
  ASSERT_NE(channel, nullptr);
  ASSERT_TRUE(channel->WaitServing(absl::Seconds(10)));
  const int flushes = sink_.flushes();
  ASSERT_OK(server_.Pause());
  const bool closed = Eventually([&] { return !channel->Serving(); });
  const bool flushed = Eventually([&] { return sink_.flushes() > flushes; });
  ASSERT_OK(server_.Unpause());
  EXPECT_TRUE(closed);
  EXPECT_TRUE(flushed);
  EXPECT_GE(channel->GetStats().lapses, 1u);
  EXPECT_TRUE(channel->WaitServing(absl::Seconds(10)));
  EXPECT_EQ(channel->GetStats().reconnects, 0u);
  ASSERT_OK(server_.Cli({"SET", "akv:w:{after}", "x"}).status());
  EXPECT_TRUE(Eventually([&] { return sink_.Has("after"); }));
}

TEST_F(InvalidationChannelTest, StallBeyondTheTimeoutReconnects) {
  RedisConfig config = Config();
  config.timeout = absl::Milliseconds(300);
  std::unique_ptr<InvalidationChannel> channel = StartChannel(config);
  ASSERT_NE(channel, nullptr);
  ASSERT_TRUE(channel->WaitServing(absl::Seconds(10)));
  const int64_t id = channel->client_id();
  ASSERT_OK(server_.Pause());
  const bool lost = Eventually([&] { return channel->client_id() == 0; });
  ASSERT_OK(server_.Unpause());
  EXPECT_TRUE(lost);
  EXPECT_TRUE(channel->WaitServing(absl::Seconds(10)));
  EXPECT_NE(channel->client_id(), id);
  EXPECT_GE(channel->GetStats().reconnects, 1u);
}

TEST_F(InvalidationChannelTest, KilledServerFlushesAndTheChannelComesBack) {
  std::unique_ptr<InvalidationChannel> channel = StartChannel(Config());
  ASSERT_NE(channel, nullptr);
  ASSERT_TRUE(channel->WaitServing(absl::Seconds(10)));
  const int flushes = sink_.flushes();
  ASSERT_OK(server_.Kill());
  EXPECT_TRUE(Eventually([&] { return sink_.flushes() > flushes; }));
  EXPECT_TRUE(Eventually([&] { return !channel->Serving(); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // A few failed reconnects.
  ASSERT_OK(server_.Start());
  EXPECT_TRUE(channel->WaitServing(absl::Seconds(10)));
  EXPECT_GE(channel->GetStats().reconnects, 1u);
  EXPECT_GE(sink_.flushes(), flushes + 2);  // The loss, and after the new SUBSCRIBE.
  ASSERT_OK(server_.Cli({"SET", "akv:w:{after}", "x"}).status());
  EXPECT_TRUE(Eventually([&] { return sink_.Has("after"); }));
}

// The gate's promise (invalidation_channel.h): when Serving() holds at a time more than `bound`
// after a write was acknowledged, the PONG behind it answers a PING sent after the write, and
// Redis queued the write's invalidation ahead of that PONG: the sink has the key.
TEST_F(InvalidationChannelTest, ServingAfterTheBoundMeansTheSinkHasTheWrite) {
  std::unique_ptr<InvalidationChannel> channel = StartChannel(Config());
  ASSERT_NE(channel, nullptr);
  std::unique_ptr<RedisTier> writer = Writer();
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(channel->WaitServing(absl::Seconds(10)));
  const int64_t bound = absl::ToInt64Nanoseconds(kBound);
  for (int i = 0; i < 30; ++i) {
    const std::string key = "ordered" + std::to_string(i);
    Store(*writer, key, "v");
    ASSERT_OK(writer->Invalidate({key}));
    const int64_t acknowledged = util::MonotonicNanos();
    bool checked = false;
    ASSERT_TRUE(Eventually([&] {
      const int64_t before = util::MonotonicNanos();
      if (before <= acknowledged + bound || !channel->Serving()) return false;
      checked = true;
      return true;
    }));
    ASSERT_TRUE(checked);
    EXPECT_EQ(sink_.Count(key), 1) << key;
  }
}

TEST(InvalidationChannelStartTest, Errors) {
  RecordingSink sink;
  RedisConfig config;
  config.address = "nowhere";
  EXPECT_THAT(InvalidationChannel::Start(config, kBound, &sink),
              StatusIs(absl::StatusCode::kInvalidArgument));
  RedisServer server;
  RedisServerOptions options;
  options.password = "chan-secret";
  ASSERT_OK(server.Init(options));
  config.address = server.address();
  EXPECT_THAT(InvalidationChannel::Start(config, absl::ZeroDuration(), &sink),
              StatusIs(absl::StatusCode::kInvalidArgument));
  config.password = "chan-secret-wrong";
  absl::StatusOr<std::unique_ptr<InvalidationChannel>> channel =
      InvalidationChannel::Start(config, kBound, &sink);
  EXPECT_THAT(channel, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(std::string(channel.status().message()), Not(HasSubstr("chan-secret")));
  config.password = "chan-secret";
  channel = InvalidationChannel::Start(config, kBound, &sink);
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_TRUE((*channel)->WaitServing(absl::Seconds(10)));
  channel->reset();
  ASSERT_OK(server.Kill());
  channel = InvalidationChannel::Start(config, kBound, &sink);
  EXPECT_THAT(channel, StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace asidekv::remote
