// The Store over PostgreSQL (Options::postgres), against a private server
// (tests/testing/postgres_server.h): the cache-aside cycle, the options a shared store needs,
// two Stores sharing one table under the staleness bound, a restarted server, and passwords kept
// out of every error and of the options listing.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "asidekv/asidekv.h"
#include "core/options_fields.h"
#include "core/store_opener.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/status_matchers.h"

namespace asidekv {
namespace {

using ::asidekv::testing::FakeClock;
using ::asidekv::testing::PostgresServer;
using ::asidekv::testing::PostgresServerOptions;
using ::asidekv::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kPassword[] = "s3cr3t-store-pass";

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(server_.Init()); }

  Options PgOptions() const {
    Options o;
    o.postgres = server_.conninfo();
    o.cache_capacity_bytes = 1 << 20;
    o.cache_shards = 1;
    o.max_staleness = absl::Milliseconds(100);
    o.postgres_timeout = absl::Seconds(5);
    return o;
  }

  // Whether the table exists in the server's database.
  bool TableExists(const std::string& table) const {
    absl::StatusOr<std::string> out =
        server_.Psql(absl::StrCat("SELECT count(*) FROM pg_class WHERE relname = '", table, "'"));
    EXPECT_OK(out.status());
    return out.ok() && out->find('1') != std::string::npos;
  }

  PostgresServer server_;
};

std::string ValueOf(Store& store, std::string_view key) {
  absl::StatusOr<std::string> v = store.Get(key);
  return v.ok() ? *v : v.status().ToString();
}

TEST_F(PostgresStoreTest, CacheAsideOverPostgres) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, Store::Open(PgOptions()));
  const std::string binary_key("k\0\xff", 3);
  const std::string binary_value("\0v\xfe\0", 4);
  ASSERT_OK(store->Put(binary_key, binary_value));
  ASSERT_OK(store->Put("ttl", "t", absl::Hours(1)));
  EXPECT_EQ(ValueOf(*store, binary_key), binary_value);  // Miss: read from PostgreSQL.
  EXPECT_EQ(ValueOf(*store, binary_key), binary_value);  // Hit.
  EXPECT_EQ(ValueOf(*store, "ttl"), "t");
  Stats stats = store->GetStats();
  EXPECT_EQ(stats.cache_hits, 1u);
  EXPECT_EQ(stats.db_reads, 2u);
  WriteBatch batch;
  batch.Put("b1", "1");
  batch.Put("b2", "2");
  batch.Delete("ttl");
  ASSERT_OK(store->Write(batch));
  EXPECT_THAT(store->Get("ttl"), StatusIs(absl::StatusCode::kNotFound));
  const std::vector<std::string> keys = {"b1", "nope", "b2"};
  std::vector<absl::StatusOr<std::string>> many = store->MultiGet(keys);
  EXPECT_EQ(many[0].value_or("?"), "1");
  EXPECT_THAT(many[1], StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(many[2].value_or("?"), "2");
  ScanOptions scan;
  scan.prefix = "b";
  ASSERT_OK_AND_ASSIGN(std::vector<KeyValue> rows, store->Scan(scan));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].key, "b1");
  EXPECT_EQ(rows[1].key, "b2");
  ASSERT_OK_AND_ASSIGN(std::string version, store->GetProperty("postgres.server_version"));
  EXPECT_FALSE(version.empty());
  // Keys must fit a B-tree entry: max_key_size is lowered to 2048.
  EXPECT_EQ(store->options().max_key_size, 2048u);
  EXPECT_OK(store->Put(std::string(2048, 'k'), "big key"));
  EXPECT_EQ(ValueOf(*store, std::string(2048, 'k')), "big key");
  EXPECT_THAT(store->Put(std::string(2049, 'k'), "v"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(PostgresStoreTest, RefusedOptionsCreateNothing) {
  Options o = PgOptions();
  o.max_staleness = absl::ZeroDuration();
  o.postgres_table = "refused";
  absl::StatusOr<std::unique_ptr<Store>> opened = Store::Open(o);
  EXPECT_THAT(opened, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(opened.status().message(), HasSubstr("max_staleness"));
  o = PgOptions();
  o.postgres_table = "Bad-Name";
  EXPECT_THAT(Store::Open(o), StatusIs(absl::StatusCode::kInvalidArgument));
  o = PgOptions();
  o.postgres_connections = 0;
  EXPECT_THAT(Store::Open(o), StatusIs(absl::StatusCode::kInvalidArgument));
  o = PgOptions();
  o.postgres_timeout = absl::InfiniteDuration();
  EXPECT_THAT(Store::Open(o), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_FALSE(TableExists("refused"));
  // Without the cache nothing needs bounding.
  o = PgOptions();
  o.max_staleness = absl::ZeroDuration();
  o.cache_capacity_bytes = 0;
  o.postgres_table = "uncached";
  EXPECT_OK(Store::Open(o));
  EXPECT_TRUE(TableExists("uncached"));
}

TEST_F(PostgresStoreTest, ServerDownAtOpenIsUnavailableNamingIt) {
  ASSERT_OK(server_.Stop());
  absl::StatusOr<std::unique_ptr<Store>> opened = Store::Open(PgOptions());
  EXPECT_THAT(opened, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(opened.status().message(), HasSubstr(absl::StrCat(server_.port())));
}

// Two Stores over one table, as two instances of a service: the writer sees its write at once,
// the other once max_staleness has passed (on the cache clock, moved by the test).
TEST_F(PostgresStoreTest, TwoStoresShareOneTableUnderTheBound) {
  FakeClock clock;
  core::StoreHooks hooks;
  hooks.clock = &clock;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> a, core::StoreOpener::Open(PgOptions(), hooks));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> b, core::StoreOpener::Open(PgOptions(), hooks));
  ASSERT_OK(a->Put("k", "v1"));
  EXPECT_EQ(ValueOf(*b, "k"), "v1");
  ASSERT_OK(a->Put("k", "v2"));
  EXPECT_EQ(ValueOf(*a, "k"), "v2");
  EXPECT_EQ(ValueOf(*b, "k"), "v1");  // Cached in b, within the bound.
  clock.Advance(absl::Milliseconds(100));
  EXPECT_EQ(ValueOf(*b, "k"), "v2");
  ASSERT_OK(b->Delete("k"));
  EXPECT_THAT(b->Get("k"), StatusIs(absl::StatusCode::kNotFound));
  clock.Advance(absl::Milliseconds(100));
  EXPECT_THAT(a->Get("k"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(PostgresStoreTest, RestartedServerIsReconnectedAndTheCacheStaysRight) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, Store::Open(PgOptions()));
  ASSERT_OK(store->Put("k", "v1"));
  EXPECT_EQ(ValueOf(*store, "k"), "v1");
  ASSERT_OK(server_.Kill());
  // A write now fails; it either never reached the server (Unavailable) or its outcome is
  // unknown. Either way no later read may return a value the database does not hold.
  absl::Status s = store->Put("k", "v2");
  EXPECT_TRUE(absl::IsUnavailable(s) || absl::IsUnknown(s) || absl::IsDeadlineExceeded(s)) << s;
  EXPECT_FALSE(store->Get("uncached").ok());
  ASSERT_OK(server_.Start());
  EXPECT_EQ(ValueOf(*store, "k"), "v1");  // The failed write left the entry (and the DB) alone.
  ASSERT_OK(store->Put("k", "v3"));       // Reconnected.
  EXPECT_EQ(ValueOf(*store, "k"), "v3");
  EXPECT_THAT(store->Get("uncached"), StatusIs(absl::StatusCode::kNotFound));
}

TEST(PostgresStorePasswordTest, PasswordAppearsInNoErrorAndNoListing) {
  PostgresServer server;
  PostgresServerOptions server_options;
  server_options.password = kPassword;
  ASSERT_OK(server.Init(server_options));
  Options o;
  o.postgres = server.conninfo();
  ASSERT_THAT(o.postgres, HasSubstr(kPassword));
  o.max_staleness = absl::Milliseconds(100);
  o.postgres_timeout = absl::Seconds(5);
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, Store::Open(o));
    ASSERT_OK(store->Put("k", "v"));
    for (const core::OptionField& f : core::OptionFields()) {
      const core::OptionField::Value v = f.get(store->options());
      if (const std::string* text = std::get_if<std::string>(&v)) {
        EXPECT_THAT(*text, Not(HasSubstr(kPassword))) << f.name;
      }
    }
    ASSERT_OK_AND_ASSIGN(std::string shown, store->GetProperty("postgres.conninfo"));
    EXPECT_THAT(shown, Not(HasSubstr(kPassword)));
  }
  // Errors: a wrong database, a wrong user, a server that is down.
  std::vector<std::string> conninfos = {
      absl::StrCat(o.postgres, " dbname=nosuchdb"),
      absl::StrCat(o.postgres, " user=nosuchuser"),
  };
  for (const std::string& c : conninfos) {
    Options bad = o;
    bad.postgres = c;
    absl::StatusOr<std::unique_ptr<Store>> opened = Store::Open(bad);
    EXPECT_FALSE(opened.ok()) << c;
    EXPECT_THAT(opened.status().ToString(), Not(HasSubstr(kPassword)));
  }
  ASSERT_OK(server.Stop());
  absl::StatusOr<std::unique_ptr<Store>> down = Store::Open(o);
  EXPECT_THAT(down, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(down.status().ToString(), Not(HasSubstr(kPassword)));
}

}  // namespace
}  // namespace asidekv
