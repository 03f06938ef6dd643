// End to end with the real tools: a real Prometheus server (Debian package prometheus) scrapes a
// running Store's metrics endpoint every second; the test then asks Prometheus's HTTP API what it
// scraped, and evaluates every query of the Grafana dashboard (tools/grafana/asidekv.json).
//
// Only 127.0.0.1 is used. Prometheus runs in its own temporary folder on a free port and is
// stopped by its PID. Waits poll Prometheus's API against a deadline. A missing prometheus binary
// fails the test: install it with tools/run.sh deps.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "asidekv/asidekv.h"
#include "asidekv/metrics.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/http_client.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tools/admin/json_reader.h"
#include "util/string_view.h"

namespace asidekv {
namespace {

using ::asidekv::admin::JsonValue;
using ::asidekv::testing::HttpGet;
using ::asidekv::testing::HttpResponse;
using ::asidekv::testing::IsOk;

constexpr absl::Duration kDeadline = absl::Seconds(90);
constexpr absl::Duration kPollEvery = absl::Milliseconds(200);

// A prometheus server process; the destructor stops it (SIGTERM, then SIGKILL) and reaps it.
class PrometheusProcess {
 public:
  // Starts `binary` with `args`, its output to `log_path`. pid() is 0 if fork failed.
  PrometheusProcess(const std::string& binary, const std::vector<std::string>& args,
                    const std::string& log_path) {
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(binary.c_str()));
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const pid_t pid = fork();
    if (pid == 0) {  // Child: only async-signal-safe calls until exec.
      if (log_fd >= 0) {
        dup2(log_fd, 1);
        dup2(log_fd, 2);
      }
      execv(binary.c_str(), argv.data());
      _exit(127);
    }
    if (log_fd >= 0) close(log_fd);
    pid_ = pid > 0 ? pid : 0;
  }
  ~PrometheusProcess() {
    if (pid_ == 0) return;
    kill(pid_, SIGTERM);
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (absl::Now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
  }
  pid_t pid() const { return pid_; }
  // True while the process has not exited.
  bool Running() const { return pid_ != 0 && kill(pid_, 0) == 0; }

 private:
  pid_t pid_ = 0;
};

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// The full path of `name` on PATH, or "".
std::string FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = dir + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

class PrometheusScrapeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EnableMetricsEndpoint();
    options_.path = dir_.Sub("db");
    options_.metrics_address = "127.0.0.1:0";
    options_.cache_capacity_bytes = 64 << 10;  // Small: the traffic below evicts.
    options_.cache_shards = 2;
    options_.log = [this](LogSeverity, std::string_view message) {
      absl::MutexLock lock(&mu_);
      constexpr std::string_view kPrefix = "metrics endpoint listening on http://127.0.0.1:";
      if (message.substr(0, kPrefix.size()) == kPrefix) {
        const std::string_view rest = message.substr(kPrefix.size());
        uint32_t port = 0;
        if (absl::SimpleAtoi(util::ToAbsl(rest.substr(0, rest.find('/'))), &port)) {
          store_port_ = static_cast<uint16_t>(port);
        }
      }
    };
    ASSERT_OK_AND_ASSIGN(store_, Store::Open(options_));
    absl::MutexLock lock(&mu_);
    ASSERT_NE(store_port_, 0);
  }

  // Starts Prometheus scraping the Store every second. Fails loudly without the binary.
  void StartPrometheus() {
    const std::string binary = FindOnPath("prometheus");
    ASSERT_NE(binary, "")
        << "the prometheus binary is not on PATH: install the Debian package prometheus "
           "(tools/run.sh deps); this test never skips";
    uint16_t store_port;
    {
      absl::MutexLock lock(&mu_);
      store_port = store_port_;
    }
    const std::string config = dir_.Sub("prometheus.yml");
    std::ofstream(config) << "global:\n"
                             "  scrape_interval: 1s\n"
                             "  evaluation_interval: 1s\n"
                             "scrape_configs:\n"
                             "  - job_name: asidekv\n"
                             "    scrape_interval: 1s\n"
                             "    static_configs:\n"
                             "      - targets: ['127.0.0.1:"
                          << store_port << "']\n";
    prometheus_port_ = testing::FreeTcpPort();
    ASSERT_NE(prometheus_port_, 0);
    log_path_ = dir_.Sub("prometheus.log");
    prometheus_ = std::make_unique<PrometheusProcess>(
        binary,
        std::vector<std::string>{absl::StrCat("--config.file=", config),
                                 absl::StrCat("--storage.tsdb.path=", dir_.Sub("prometheus-data")),
                                 absl::StrCat("--web.listen-address=127.0.0.1:", prometheus_port_),
                                 "--log.level=warn"},
        log_path_);
    ASSERT_NE(prometheus_->pid(), 0) << "fork failed";
  }

  // Prometheus's answer to the instant query `promql`: the parsed JSON, or a failure.
  absl::StatusOr<JsonValue> Query(const std::string& promql) {
    absl::StatusOr<HttpResponse> r =
        HttpGet(prometheus_port_, absl::StrCat("/api/v1/query?query=", testing::UrlEncode(promql)));
    if (!r.ok()) return r.status();
    absl::StatusOr<JsonValue> v = admin::ParseJson(r->body);
    if (!v.ok()) return v.status();
    const JsonValue* status = v->Find("status");
    if (r->status != 200 || status == nullptr || status->text != "success") {
      return absl::InternalError(absl::StrCat("HTTP ", r->status, ": ", r->body));
    }
    return v;
  }

  // The result vector of a successful query (empty if none).
  static std::vector<JsonValue> Result(const JsonValue& answer) {
    const JsonValue* data = answer.Find("data");
    const JsonValue* result = data != nullptr ? data->Find("result") : nullptr;
    return result != nullptr ? result->items : std::vector<JsonValue>();
  }

  // The value of the first sample of `promql`, once Prometheus has one, polling until the
  // deadline; nullopt on timeout.
  std::optional<double> WaitForValue(const std::string& promql,
                                     const std::function<bool(double)>& done) {
    const absl::Time deadline = absl::Now() + kDeadline;
    while (absl::Now() < deadline) {
      if (!prometheus_->Running()) {
        ADD_FAILURE() << "prometheus exited:\n" << ReadFile(log_path_);
        return std::nullopt;
      }
      absl::StatusOr<JsonValue> answer = Query(promql);
      if (answer.ok()) {
        std::vector<JsonValue> result = Result(*answer);
        const JsonValue* value = result.empty() ? nullptr : result[0].Find("value");
        double v = 0;
        if (value != nullptr && value->items.size() == 2 &&
            absl::SimpleAtod(value->items[1].text, &v) && done(v)) {
          return v;
        }
      }
      absl::SleepFor(kPollEvery);  // Prometheus is not up or has not scraped yet.
    }
    ADD_FAILURE() << "no value for " << promql << " within " << kDeadline << "; prometheus log:\n"
                  << ReadFile(log_path_);
    return std::nullopt;
  }

  // Traffic that moves every dashboard panel: hits, misses, evictions, writes.
  void Traffic() {
    const std::string value(512, 'v');
    for (int i = 0; i < 400; ++i) ASSERT_OK(store_->Put(absl::StrCat("key", i), value));
    for (int round = 0; round < 2; ++round) {
      for (int i = 0; i < 400; ++i) ASSERT_OK(store_->Get(absl::StrCat("key", i)).status());
    }
    for (int i = 0; i < 20; ++i) ASSERT_OK(store_->Delete(absl::StrCat("key", i)));
  }

  testing::TempDir dir_;
  Options options_;
  absl::Mutex mu_;
  uint16_t store_port_ ABSL_GUARDED_BY(mu_) = 0;
  std::unique_ptr<Store> store_;
  uint16_t prometheus_port_ = 0;
  std::string log_path_;
  std::unique_ptr<PrometheusProcess> prometheus_;
};

TEST_F(PrometheusScrapeTest, ScrapedCountersMatchGetStatsAndEveryPanelQueryWorks) {
  Traffic();
  const Stats s = store_->GetStats();  // The Store stays idle from here on: the values hold.
  ASSERT_GT(s.evictions, 0u);
  ASSERT_NO_FATAL_FAILURE(StartPrometheus());

  // Up, and the counters as scraped are exactly the Store's.
  ASSERT_EQ(WaitForValue("up{job=\"asidekv\"}", [](double v) { return v == 1; }), 1.0);
  const std::pair<std::string, uint64_t> counters[] = {
      {"asidekv_cache_hits_total", s.cache_hits},
      {"asidekv_cache_misses_total", s.cache_misses},
      {"asidekv_puts_total", s.puts},
      {"asidekv_evictions_total", s.evictions},
      {"asidekv_op_duration_seconds_count{op=\"get\"}", s.get_latency.count},
  };
  for (const auto& [series, want] : counters) {
    const std::optional<double> got = WaitForValue(series, [](double) { return true; });
    ASSERT_TRUE(got.has_value()) << series;
    EXPECT_EQ(*got, static_cast<double>(want)) << series;
  }

  // rate() needs two samples in its window: wait for three scrapes.
  ASSERT_TRUE(WaitForValue("count_over_time(asidekv_build_info[1m])", [](double n) {
                return n >= 3;
              }).has_value());

  // Every panel's query, with the dashboard's variables as Grafana would fill them.
  const std::string dashboard_text = ReadFile(ASIDEKV_DASHBOARD);
  ASSERT_OK_AND_ASSIGN(JsonValue dashboard, admin::ParseJson(dashboard_text));
  const JsonValue* panels = dashboard.Find("panels");
  ASSERT_NE(panels, nullptr);
  int queries = 0;
  for (const JsonValue& panel : panels->items) {
    const JsonValue* title = panel.Find("title");
    const JsonValue* targets = panel.Find("targets");
    ASSERT_TRUE(title != nullptr && targets != nullptr && !targets->items.empty());
    for (const JsonValue& target : targets->items) {
      const JsonValue* expr = target.Find("expr");
      ASSERT_NE(expr, nullptr) << title->text;
      const std::string promql =
          absl::StrReplaceAll(expr->text, {{"$__rate_interval", "1m"}, {"$instance", ".+"}});
      absl::StatusOr<JsonValue> answer = Query(promql);
      EXPECT_THAT(answer, IsOk()) << title->text << ": " << promql;
      if (answer.ok()) {
        EXPECT_FALSE(Result(*answer).empty()) << title->text << ": " << promql;
      }
      ++queries;
    }
  }
  EXPECT_GE(queries, 10);
}

}  // namespace
}  // namespace asidekv
