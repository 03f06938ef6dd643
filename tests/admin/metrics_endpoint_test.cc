// Tests of the HTTP metrics endpoint (admin/metrics_http_server.h) through real sockets, and of
// its exposition (admin/prometheus.h) with Prometheus's own checker, promtool.
#include <sys/wait.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "admin/listen_address.h"
#include "admin/metrics_http_server.h"
#include "admin/prometheus.h"
#include "asidekv/asidekv.h"
#include "asidekv/metrics.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/http_client.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "util/string_view.h"

namespace asidekv {
namespace {

using ::asidekv::testing::HttpGet;
using ::asidekv::testing::HttpResponse;
using ::asidekv::testing::IsOk;
using ::asidekv::testing::RawHttp;
using ::asidekv::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

// The value of the sample `series` (name and labels, exactly as exposed) in `text`, or -1.
double SampleValue(std::string_view text, std::string_view series) {
  for (absl::string_view line : absl::StrSplit(util::ToAbsl(text), '\n')) {
    if (line.size() > series.size() && util::FromAbsl(line.substr(0, series.size())) == series &&
        line[series.size()] == ' ') {
      double v = 0;
      if (absl::SimpleAtod(line.substr(series.size() + 1), &v)) return v;
    }
  }
  return -1;
}

// Runs `promtool check metrics` on `text`; returns its exit status, and its output in *out.
int PromtoolCheck(const testing::TempDir& dir, const std::string& text, std::string* out) {
  const std::string in_path = dir.Sub("metrics.txt");
  const std::string out_path = dir.Sub("promtool.out");
  std::ofstream(in_path, std::ios::binary) << text;
  const int rc = std::system(
      absl::StrCat("promtool check metrics < ", in_path, " > ", out_path, " 2>&1").c_str());
  std::ifstream f(out_path);
  out->assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

class MetricsEndpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EnableMetricsEndpoint();
    admin::MetricsHttpServerOptions server;
    server.idle_timeout = absl::Seconds(1);
    admin::SetMetricsServerOptionsForTesting(server);
    options_.path = dir_.Sub("db");
    options_.metrics_address = "127.0.0.1:0";
    options_.cache_capacity_bytes = 4 << 20;
    options_.cache_shards = 4;
    options_.log = [this](LogSeverity severity, std::string_view message) {
      absl::MutexLock lock(&mu_);
      log_.push_back(absl::StrCat(static_cast<int>(severity), " ", util::ToAbsl(message)));
    };
    ASSERT_OK_AND_ASSIGN(store_, Store::Open(options_));
    port_ = PortFromLog();
    ASSERT_NE(port_, 0);
  }
  void TearDown() override {
    store_.reset();
    admin::SetMetricsServerOptionsForTesting(admin::MetricsHttpServerOptions());
  }

  // The port of the "listening on http://127.0.0.1:PORT/metrics" line Open logged.
  uint16_t PortFromLog() {
    absl::MutexLock lock(&mu_);
    constexpr std::string_view kPrefix = "0 metrics endpoint listening on http://127.0.0.1:";
    for (const std::string& line : log_) {
      if (line.compare(0, kPrefix.size(), kPrefix) != 0) continue;
      const std::string_view rest = std::string_view(line).substr(kPrefix.size());
      uint32_t port = 0;
      if (absl::SimpleAtoi(util::ToAbsl(rest.substr(0, rest.find('/'))), &port)) return port;
    }
    return 0;
  }

  std::vector<std::string> Log() {
    absl::MutexLock lock(&mu_);
    return log_;
  }

  // Some traffic: hits, misses, puts and deletes, so that every family has samples.
  void Traffic() {
    for (int i = 0; i < 50; ++i) ASSERT_OK(store_->Put(absl::StrCat("k", i), "value"));
    for (int i = 0; i < 100; ++i) store_->Get(absl::StrCat("k", i)).status().IgnoreError();
    for (int i = 0; i < 50; ++i) store_->Get(absl::StrCat("k", i)).status().IgnoreError();
    ASSERT_OK(store_->Delete("k1"));
  }

  HttpResponse Get(std::string_view target) {
    absl::StatusOr<HttpResponse> r = HttpGet(port_, target);
    EXPECT_THAT(r, IsOk());
    return r.ok() ? *std::move(r) : HttpResponse();
  }

  testing::TempDir dir_;
  Options options_;
  absl::Mutex mu_;
  std::vector<std::string> log_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<Store> store_;
  uint16_t port_ = 0;
};

TEST_F(MetricsEndpointTest, ServesEveryStatAsPrometheusText) {
  Traffic();
  const Stats s = store_->GetStats();  // The Store is idle from here on.
  const HttpResponse r = Get("/metrics");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.headers, HasSubstr("Content-Type: text/plain; version=0.0.4; charset=utf-8"));
  for (const StatField& f : StatFields()) {
    const std::string name = absl::StrCat("asidekv_", f.name, f.counter ? "_total" : "");
    EXPECT_THAT(r.body,
                HasSubstr(absl::StrCat("# TYPE ", name, f.counter ? " counter\n" : " gauge\n")));
    EXPECT_EQ(SampleValue(r.body, name), static_cast<double>(s.*f.member)) << name;
  }
  // Misses fill k0..k49 (k50..k99 are absent), then the second pass hits.
  EXPECT_EQ(SampleValue(r.body, "asidekv_cache_hits_total"), 50);
  EXPECT_EQ(SampleValue(r.body, "asidekv_cache_misses_total"), 100);
  EXPECT_EQ(SampleValue(r.body, "asidekv_shard_cache_entries{shard=\"3\"}") >= 0, true);
  EXPECT_GT(SampleValue(r.body, "asidekv_db_estimated_keys"), 0);
  EXPECT_EQ(SampleValue(r.body, "asidekv_build_info{version=\"" ASIDEKV_VERSION_STRING "\"}"), 1);
}

// Real histograms: cumulative buckets at the documented bounds, +Inf equal to _count, and
// _count equal to the Store's own count of timed operations.
TEST_F(MetricsEndpointTest, LatenciesAreCumulativeHistograms) {
  Traffic();
  const Stats s = store_->GetStats();
  const HttpResponse r = Get("/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr("# TYPE asidekv_op_duration_seconds histogram\n"));
  for (const LatencyField& f : LatencyFields()) {
    const std::string op = absl::StrCat("{op=\"", f.op, "\"");
    double previous = 0;
    for (uint64_t bound : admin::LatencyBoundsNs()) {
      char le[32];
      std::snprintf(le, sizeof(le), "%.12g", static_cast<double>(bound) / 1e9);
      const double v = SampleValue(
          r.body, absl::StrCat("asidekv_op_duration_seconds_bucket", op, ",le=\"", le, "\"}"));
      ASSERT_GE(v, previous) << f.op << " le=" << le;
      previous = v;
    }
    const double inf = SampleValue(
        r.body, absl::StrCat("asidekv_op_duration_seconds_bucket", op, ",le=\"+Inf\"}"));
    EXPECT_GE(inf, previous);
    EXPECT_EQ(inf, static_cast<double>((s.*f.member).count)) << f.op;
    EXPECT_EQ(SampleValue(r.body, absl::StrCat("asidekv_op_duration_seconds_count", op, "}")), inf);
    // relay_lag has samples only on a Store running the commit-log relay (not this one).
    if ((s.*f.member).count > 0) {
      EXPECT_GT(SampleValue(r.body, absl::StrCat("asidekv_op_duration_seconds_sum", op, "}")), 0)
          << f.op;
    }
  }
  EXPECT_EQ(s.get_latency.count, 150u);
  EXPECT_GT(s.put_latency.count, 0u);
}

// promtool (Debian package prometheus) accepts the exposition: syntax and naming lint. A missing
// promtool fails the test: install it with tools/run.sh deps.
TEST_F(MetricsEndpointTest, PromtoolAcceptsTheExposition) {
  Traffic();
  const HttpResponse r = Get("/metrics");
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(std::system("command -v promtool > /dev/null"), 0)
      << "promtool not found: install the Debian package prometheus (tools/run.sh deps)";
  std::string out;
  EXPECT_EQ(PromtoolCheck(dir_, r.body, &out), 0) << out;
  EXPECT_EQ(out, "");
  // And the checker does catch a broken exposition, so its silence above means something.
  EXPECT_NE(PromtoolCheck(dir_, "# TYPE asidekv_x counter\nasidekv_x 1\n", &out), 0);
}

TEST_F(MetricsEndpointTest, OtherPathsAndMethodsAreRefused) {
  EXPECT_EQ(Get("/").status, 404);
  EXPECT_EQ(Get("/metrics/x").status, 404);
  EXPECT_EQ(Get("/metric").status, 404);
  EXPECT_EQ(Get("/metrics?x=1").status, 200);  // A query string does not change the path.
  for (std::string_view method : {"POST", "PUT", "DELETE", "OPTIONS"}) {
    ASSERT_OK_AND_ASSIGN(
        HttpResponse r,
        RawHttp(port_, absl::StrCat(util::ToAbsl(method),
                                    " /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: "
                                    "3\r\nConnection: close\r\n\r\nabc")));
    EXPECT_EQ(r.status, 405) << method;
    EXPECT_THAT(r.headers, HasSubstr("Allow: GET, HEAD")) << method;
  }
  ASSERT_OK_AND_ASSIGN(
      HttpResponse head,
      RawHttp(port_, "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
  ASSERT_OK_AND_ASSIGN(HttpResponse junk, RawHttp(port_, "NOT HTTP AT ALL\r\n\r\n"));
  EXPECT_EQ(junk.status, 400);
  EXPECT_EQ(Get("/metrics").status, 200);
}

TEST_F(MetricsEndpointTest, OversizedHeadersAreRefused) {
  const std::string big(64 << 10, 'a');
  ASSERT_OK_AND_ASSIGN(HttpResponse r,
                       RawHttp(port_, absl::StrCat("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ",
                                                   big, "\r\nConnection: close\r\n\r\n")));
  EXPECT_THAT(r.status, ::testing::AnyOf(431, 400)) << r.headers;
  ASSERT_OK_AND_ASSIGN(HttpResponse long_url,
                       RawHttp(port_, absl::StrCat("GET /", big, " HTTP/1.1\r\nHost: x\r\n\r\n")));
  EXPECT_THAT(long_url.status, ::testing::AnyOf(414, 431, 400));
  // The endpoint and the Store carry on.
  EXPECT_EQ(Get("/metrics").status, 200);
  ASSERT_OK(store_->Put("k", "v"));
  EXPECT_EQ(*store_->Get("k"), "v");
}

// A client that sends half a request and waits is cut off after the idle timeout (1 s here);
// meanwhile other scrapes and the Store are served as usual.
TEST_F(MetricsEndpointTest, SlowClientsTimeOutWithoutDisturbingOthers) {
  absl::StatusOr<HttpResponse> slow;
  std::thread t([&] { slow = RawHttp(port_, "GET /metrics HTTP/1.1\r\nHost: x\r\n"); });
  EXPECT_EQ(Get("/metrics").status, 200);
  ASSERT_OK(store_->Put("k", "v"));
  EXPECT_EQ(*store_->Get("k"), "v");
  t.join();  // Returns when the server closes the slow connection (the client waits up to 30 s).
  // Closed without an answer: nothing came back to parse (not a DeadlineExceeded).
  EXPECT_THAT(slow.status(), StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(MetricsEndpointTest, LogsItsAddressThroughTheLogFunction) {
  EXPECT_THAT(Log(),
              ::testing::Contains(HasSubstr("metrics endpoint listening on http://127.0.0.1:")));
}

TEST_F(MetricsEndpointTest, BadOrBusyAddressFailsOpen) {
  Options o = options_;
  o.path = dir_.Sub("db2");
  o.metrics_address = "example.com:80";
  EXPECT_THAT(Store::Open(o).status(), StatusIs(absl::StatusCode::kInvalidArgument));
  o.metrics_address = absl::StrCat("127.0.0.1:", port_);  // The first Store's.
  EXPECT_THAT(Store::Open(o).status(), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(ListenAddressTest, Forms) {
  struct Case {
    std::string_view in;
    std::string_view host;
    uint16_t port;
    bool ipv6;
  };
  for (const Case& c :
       {Case{"9464", "127.0.0.1", 9464, false}, Case{":0", "127.0.0.1", 0, false},
        Case{"localhost:80", "127.0.0.1", 80, false},
        Case{"0.0.0.0:65535", "0.0.0.0", 65535, false}, Case{"[::1]:9464", "::1", 9464, true}}) {
    absl::StatusOr<admin::ListenAddress> a = admin::ParseListenAddress(c.in);
    ASSERT_THAT(a, IsOk()) << c.in;
    EXPECT_EQ(a->host, c.host) << c.in;
    EXPECT_EQ(a->port, c.port) << c.in;
    EXPECT_EQ(a->ipv6, c.ipv6) << c.in;
  }
  for (std::string_view bad : {"", ":", "65536", "127.0.0.1:", "host:80", "::1:80", "[::1]",
                               "[127.0.0.1]:80", "1.2.3.4:x", "1.2.3.4:-1", "1.2.3.4:000080"}) {
    EXPECT_THAT(admin::ParseListenAddress(bad).status(),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << bad;
  }
}

}  // namespace
}  // namespace asidekv
