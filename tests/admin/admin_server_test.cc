// Tests of the Store's admin endpoint (admin/server.h) through real sockets.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "admin/protocol.h"
#include "admin/server.h"
#include "asidekv/admin.h"
#include "asidekv/asidekv.h"
#include "core/introspection.h"
#include "core/options_fields.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/json_test_util.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/sync_point_counter.h"
#include "tests/testing/temp_dir.h"
#include "tools/admin/client.h"
#include "tools/admin/json_reader.h"

namespace asidekv {
namespace {

using ::asidekv::admin::AdminClient;
using ::asidekv::testing::Field;
using ::asidekv::testing::IsOk;
using ::asidekv::testing::StatusIs;
using ::testing::HasSubstr;

class AdminServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EnableAdminEndpoint();
    options_.path = dir_.Sub("db");
    options_.admin_socket = dir_.Sub("admin.sock");
    options_.cache_capacity_bytes = 4 << 20;
    options_.cache_shards = 4;
    ASSERT_OK_AND_ASSIGN(store_, Store::Open(options_));
  }
  void TearDown() override {
    store_.reset();
    admin::SetAdminServerOptionsForTesting(admin::AdminServerOptions());
  }

  std::unique_ptr<AdminClient> Connect() {
    absl::StatusOr<std::unique_ptr<AdminClient>> c =
        AdminClient::Connect(options_.admin_socket, absl::Seconds(20));
    EXPECT_THAT(c, IsOk());
    return c.ok() ? *std::move(c) : nullptr;
  }

  admin::JsonValue Call(AdminClient& c, std::string_view line) {
    absl::StatusOr<std::string> raw = c.CallRaw(line);
    EXPECT_THAT(raw, IsOk()) << line;
    if (!raw.ok()) return {};
    absl::StatusOr<admin::JsonValue> v = admin::ParseJson(*raw);
    EXPECT_THAT(v, IsOk()) << *raw;
    return v.ok() ? *std::move(v) : admin::JsonValue();
  }

  static bool Ok(const admin::JsonValue& v) { return admin::AdminResponseStatus(v).ok(); }

  testing::TempDir dir_;
  Options options_;
  // The admin server's clock where a test substitutes it (outlives store_ and its server).
  std::atomic<int64_t> fake_nanos_{0};
  std::unique_ptr<Store> store_;
};

TEST_F(AdminServerTest, SocketIsOwnerOnlyAndRemovedOnClose) {
  struct stat st {};
  ASSERT_EQ(lstat(options_.admin_socket.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  store_.reset();
  EXPECT_NE(lstat(options_.admin_socket.c_str(), &st), 0);
}

// Every listing walks the one table of its struct: stats and metrics name every Stats field,
// config every Options field (durations as NAME_s), with the values in force.
TEST_F(AdminServerTest, StatsMetricsAndConfigListEveryField) {
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  const admin::JsonValue stats = Call(*c, "stats");
  ASSERT_NE(stats.Find("stats"), nullptr);
  for (const StatField& f : StatFields()) {
    EXPECT_NE(Field(stats, "stats").Find(f.name), nullptr) << f.name;
  }
  ASSERT_NE(stats.Find("latency"), nullptr);
  for (const LatencyField& f : LatencyFields()) {
    EXPECT_NE(Field(stats, "latency").Find(f.op), nullptr) << f.op;
  }
  const admin::JsonValue metrics = Call(*c, "metrics");
  ASSERT_NE(metrics.Find("text"), nullptr);
  for (const StatField& f : StatFields()) {
    const std::string name = std::string("asidekv_") + f.name + (f.counter ? "_total" : "");
    EXPECT_THAT(Field(metrics, "text").text, HasSubstr("\n" + name + " ")) << name;
  }
  const admin::JsonValue config = Call(*c, "config");
  const admin::JsonValue* fields = config.Find("config");
  ASSERT_NE(fields, nullptr);
  for (const core::OptionField& f : core::OptionFields()) {
    const std::string name(f.name);
    EXPECT_TRUE(fields->Find(name) != nullptr || fields->Find(name + "_s") != nullptr) << name;
  }
  EXPECT_EQ(fields->keys.size(), core::OptionFields().size());
  EXPECT_EQ(Field(*fields, "cache_shards").text, "4");
  EXPECT_EQ(Field(*fields, "eviction_policy").text, "adaptive");  // kDefault, resolved.
}

// An admin `get` that misses is one cache miss, as a Get is (it used to count two).
TEST_F(AdminServerTest, GetThatMissesCountsOneMiss) {
  ASSERT_OK(store_->Put("k", "v"));
  store_->ClearCache();
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  const Stats before = store_->GetStats();
  const admin::JsonValue got = Call(*c, "get k");
  EXPECT_TRUE(Ok(got));
  EXPECT_EQ(Field(got, "from_cache").boolean, false);
  const Stats after = store_->GetStats();
  EXPECT_EQ(after.cache_misses - before.cache_misses, 1u);
  EXPECT_EQ(after.db_reads - before.db_reads, 1u);
  EXPECT_EQ(after.cache_hits, before.cache_hits);
}

// Store::options() reports the values in force: automatic choices are resolved.
TEST_F(AdminServerTest, OptionsAreResolved) {
  store_.reset();
  Options o = options_;
  o.cache_shards = 0;
  o.eviction_policy = EvictionPolicy::kDefault;
  ASSERT_OK_AND_ASSIGN(store_, Store::Open(o));
  EXPECT_GT(store_->options().cache_shards, 0);
  EXPECT_EQ(store_->options().eviction_policy, EvictionPolicy::kAdaptiveS3Fifo);
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  const admin::JsonValue config = Call(*c, "config");
  EXPECT_EQ(Field(config, "config/cache_shards").text,
            std::to_string(store_->options().cache_shards));
}

// Without EnableAdminEndpoint() (asidekv::admin not in use), an admin socket is refused with a
// message that says what to do, and nothing is created.
TEST_F(AdminServerTest, AdminSocketNeedsTheAdminModule) {
  store_.reset();
  core::SetAdminStarter(nullptr);
  absl::StatusOr<std::unique_ptr<Store>> s = Store::Open(options_);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(s.status().message(), HasSubstr("EnableAdminEndpoint"));
  struct stat st {};
  EXPECT_NE(lstat(options_.admin_socket.c_str(), &st), 0);
  EnableAdminEndpoint();
  ASSERT_OK_AND_ASSIGN(store_, Store::Open(options_));
}

TEST_F(AdminServerTest, RefusesToReplaceAFileOrALiveSocket) {
  Options other = options_;
  other.path = dir_.Sub("db2");
  // A live server holds the socket.
  EXPECT_THAT(Store::Open(other), StatusIs(absl::StatusCode::kFailedPrecondition));
  // A regular file is never replaced.
  other.admin_socket = dir_.Sub("file");
  std::ofstream(other.admin_socket) << "keep me";
  EXPECT_THAT(Store::Open(other), StatusIs(absl::StatusCode::kFailedPrecondition));
  std::ifstream in(other.admin_socket);
  std::string content;
  std::getline(in, content);
  EXPECT_EQ(content, "keep me");
  // Too long for sockaddr_un.
  other.admin_socket = std::string(200, 'x');
  EXPECT_THAT(Store::Open(other), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(AdminServerTest, AnswersEveryCommand) {
  ASSERT_OK(store_->Put("user:1", "alice"));
  ASSERT_OK(store_->Put(std::string("bin\0\xff", 5), std::string("v\0\n", 3)));
  ASSERT_OK(store_->Put("user:2", "bob", absl::Minutes(5)));
  auto c = Connect();
  ASSERT_NE(c, nullptr);

  EXPECT_TRUE(Ok(Call(*c, "ping")));
  admin::JsonValue get = Call(*c, "get user:1");
  ASSERT_TRUE(Ok(get));
  EXPECT_EQ(Field(get, "value").text, "alice");
  EXPECT_FALSE(Field(get, "from_cache").boolean);
  get = Call(*c, "get user:1");
  EXPECT_TRUE(Field(get, "from_cache").boolean);
  EXPECT_EQ(Field(get, "ttl_left_ms").type, admin::JsonValue::Type::kNull);

  get =
      Call(*c, admin::FormatAdminRequest({admin::AdminCommand::kGet, std::string("bin\0\xff", 5)}));
  ASSERT_TRUE(Ok(get));
  EXPECT_EQ(Field(get, "value").text, std::string("v\0\n", 3));
  EXPECT_FALSE(Field(Call(*c, "get nope"), "found").boolean);

  admin::JsonValue peek = Call(*c, "peek user:2");
  EXPECT_FALSE(Field(peek, "cached").boolean);
  ASSERT_TRUE(Ok(Call(*c, "warm user: 10")));
  peek = Call(*c, "peek user:2");
  ASSERT_TRUE(Field(peek, "cached").boolean);
  EXPECT_EQ(Field(peek, "value").text, "bob");
  EXPECT_GT(std::stoll(Field(peek, "ttl_left_ms").text), 60000);

  ASSERT_TRUE(Ok(Call(*c, "invalidate user:2")));
  EXPECT_FALSE(Field(Call(*c, "peek user:2"), "cached").boolean);

  admin::JsonValue hot = Call(*c, "hot 5");
  ASSERT_TRUE(Ok(hot));
  EXPECT_FALSE(Field(hot, "keys").items.empty());

  admin::JsonValue stats = Call(*c, "stats");
  ASSERT_TRUE(Ok(stats));
  EXPECT_EQ(Field(stats, "shards").items.size(), 4u);
  EXPECT_NE(Field(stats, "stats").Find("cache_hits"), nullptr);
  EXPECT_NE(Field(stats, "latency/get").Find("p99_ns"), nullptr);
  EXPECT_NE(Field(stats, "db").Find("rocksdb.estimate-num-keys"), nullptr);

  admin::JsonValue config = Call(*c, "config");
  EXPECT_EQ(Field(config, "config/admin_socket").text, options_.admin_socket);

  admin::JsonValue metrics = Call(*c, "metrics");
  ASSERT_TRUE(Ok(metrics));
  EXPECT_THAT(Field(metrics, "text").text, HasSubstr("# TYPE asidekv_cache_hits_total counter\n"
                                                     "asidekv_cache_hits_total "));
  EXPECT_THAT(Field(metrics, "text").text,
              HasSubstr("asidekv_op_duration_seconds_bucket{op=\"get\","));

  ASSERT_TRUE(Ok(Call(*c, "clear-cache")));
  EXPECT_EQ(store_->GetStats().cache_entries, 0u);
}

TEST_F(AdminServerTest, MalformedRequestsGetErrorsAndTheConnectionSurvives) {
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  for (std::string_view bad : {"", "nope", "get", "get %zz", "hot 0", "warm x y z", "\x01\x02"}) {
    admin::JsonValue v = Call(*c, bad);
    EXPECT_THAT(admin::AdminResponseStatus(v), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
  EXPECT_TRUE(Ok(Call(*c, "ping")));
}

TEST_F(AdminServerTest, OversizedRequestIsRefusedAndClosed) {
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  absl::StatusOr<std::string> r = c->CallRaw(std::string(admin::kMaxRequestBytes + 10, 'a'));
  ASSERT_THAT(r, IsOk());
  EXPECT_THAT(*r, HasSubstr("too large"));
  EXPECT_FALSE(c->CallRaw("ping").ok());  // Closed.
  auto again = Connect();                 // The server still serves others.
  ASSERT_NE(again, nullptr);
  EXPECT_TRUE(Ok(Call(*again, "ping")));
}

TEST_F(AdminServerTest, TooManyConnectionsAreTurnedAway) {
  std::vector<std::unique_ptr<AdminClient>> clients;
  for (int i = 0; i < 8; ++i) {
    clients.push_back(Connect());
    ASSERT_TRUE(Ok(Call(*clients.back(), "ping")));
  }
  auto extra = Connect();
  ASSERT_NE(extra, nullptr);
  absl::StatusOr<std::string> r = extra->CallRaw("ping");
  if (r.ok()) {
    EXPECT_THAT(*r, HasSubstr("too many"));
  }
  testing::SyncPointCounter closed("AdminServer::Run:Closed");
  clients.pop_back();
  // A slot frees up once the server sees the close.
  ASSERT_TRUE(closed.WaitFor(1));
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  absl::StatusOr<std::string> p = c->CallRaw("ping");
  const bool served = p.ok() && p->find("\"ok\":true") != std::string::npos;
  EXPECT_TRUE(served);
}

// The idle timeout follows the server's clock, here the test's: the 5 s pass when the test says.
TEST_F(AdminServerTest, SlowRequestIsClosedAndDestructionIsPrompt) {
  store_.reset();
  admin::AdminServerOptions server_options;
  server_options.now_nanos = [this] { return fake_nanos_.load(); };
  admin::SetAdminServerOptionsForTesting(server_options);
  ASSERT_OK_AND_ASSIGN(store_, Store::Open(options_));

  // Half a request, never finished: the server closes the connection after its 5 s timeout.
  testing::SyncPointCounter read("AdminServer::Run:Read");
  const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, options_.admin_socket.data(), options_.admin_socket.size());
  ASSERT_EQ(connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(send(fd, "pi", 2, MSG_NOSIGNAL), 2);
  ASSERT_TRUE(read.WaitFor(1));  // The server holds "pi", read at time 0.
  fake_nanos_.store(absl::ToInt64Nanoseconds(admin::AdminServerOptions().idle_timeout) + 1);
  // A new connection wakes the server, which then sees the time and closes the slow one.
  auto slow = Connect();
  ASSERT_NE(slow, nullptr);
  const timeval tv{60, 0};  // Only if the server never closes it.
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char buf[16];
  EXPECT_EQ(recv(fd, buf, sizeof(buf), 0), 0);  // EOF: closed by the server.
  close(fd);
  EXPECT_TRUE(Ok(Call(*slow, "ping")));  // Connected at the new time: not idle.

  // Destroying the Store with a client connected stops the server at once: the destructor's
  // wake-up ends the server's loop, not a poll timeout.
  testing::SyncPointCounter stopped("AdminServer::Run:Stopped");
  store_.reset();
  EXPECT_EQ(stopped.count(), 1);
  EXPECT_FALSE(slow->CallRaw("ping").ok());
}

TEST_F(AdminServerTest, AnswersWhileTheStoreIsUnderLoad) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < 3; ++t) {
    workers.emplace_back([&, t] {
      uint64_t i = 0;
      while (!stop.load()) {
        const std::string key = "k" + std::to_string((i * 7 + t) % 200);
        if (i % 4 == 0) {
          EXPECT_OK(store_->Put(key, "v" + std::to_string(i)));
        } else {
          absl::StatusOr<std::string> v = store_->Get(key);
          EXPECT_TRUE(v.ok() || absl::IsNotFound(v.status()));
        }
        ++i;
      }
    });
  }
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  for (int i = 0; i < 30; ++i) {
    for (std::string_view line :
         {"stats", "get k1", "peek k2", "warm k 50", "hot 10", "invalidate k3", "metrics"}) {
      EXPECT_TRUE(Ok(Call(*c, line))) << line;
    }
  }
  stop.store(true);
  for (std::thread& w : workers) w.join();
  // Warm filled through the fill protocol: the cache agrees with the DB for every key.
  for (int k = 0; k < 200; ++k) {
    const std::string key = "k" + std::to_string(k);
    ASSERT_OK_AND_ASSIGN(std::vector<KeyValue> rows, store_->Scan({key, key, "", 1}));
    absl::StatusOr<std::string> v = store_->Get(key);
    if (rows.empty() || rows[0].key != key) {
      EXPECT_THAT(v, StatusIs(absl::StatusCode::kNotFound));
    } else {
      ASSERT_THAT(v, IsOk());
      EXPECT_EQ(*v, rows[0].value);
    }
  }
}

// The admin `warm` is the Store's warming: its reads and fills are counted in Stats, and it stops
// once the cache budget is filled.
TEST_F(AdminServerTest, WarmIsCountedAndStopsAtTheCacheBudget) {
  store_.reset();
  options_.cache_shards = 1;
  // About 20 entries of 100-byte values (22 at the default charge of 62 bytes beyond key + value).
  options_.cache_capacity_bytes = 20 * (100 + 8 + 80);
  ASSERT_OK_AND_ASSIGN(store_, Store::Open(options_));
  for (int i = 0; i < 200; ++i) {
    ASSERT_OK(store_->Put(absl::StrCat("k", 1000 + i), std::string(100, 'x')));
  }
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  admin::JsonValue warm = Call(*c, "warm k 200");
  ASSERT_TRUE(Ok(warm));
  const Stats s = store_->GetStats();
  EXPECT_GT(s.warm_reads, 0u);
  EXPECT_LE(s.warm_reads, 200u);
  EXPECT_GE(s.warmed_keys, 10u);
  EXPECT_LE(s.warmed_keys, 23u);
  EXPECT_EQ(s.warmed_keys, s.cache_entries);
  EXPECT_EQ(std::to_string(s.warmed_keys), Field(warm, "filled").text);
  EXPECT_EQ(s.evictions, 0u);  // Warming did not push out its own first keys.
  EXPECT_LE(s.cache_bytes, s.cache_capacity_bytes);
}

}  // namespace
}  // namespace asidekv
