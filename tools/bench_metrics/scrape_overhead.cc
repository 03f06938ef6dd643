// metrics_scrape_overhead: Get throughput of a Store with and without a 1 Hz scraper of its HTTP
// metrics endpoint, measured in interleaved pairs so the machine's noise falls on both sides.
//
//   metrics_scrape_overhead [STORE_DIR] [PAIRS]   (defaults: a temporary folder, 6 pairs)
//
// Two reader threads Get uniformly random keys of 200,000 (a 16 MiB cache holds part of them:
// hits and misses). Each pair runs 5 s without and 5 s with a scraper that fetches /metrics once
// a second (the order alternates between pairs); the last line is the mean ratio with/without.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "asidekv/asidekv.h"
#include "asidekv/metrics.h"

namespace {

// One HTTP/1.0 GET of /metrics from 127.0.0.1:port; true on a 200 answer.
bool Scrape(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string answer;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string_view request = "GET /metrics HTTP/1.0\r\n\r\n";
    if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buf[65536];
      ssize_t n;
      while ((n = read(fd, buf, sizeof(buf))) > 0) answer.append(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
  return answer.rfind("HTTP/1.0 200", 0) == 0 || answer.rfind("HTTP/1.1 200", 0) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  char tmpl[] = "/tmp/asidekv-scrape-XXXXXX";
  const std::string dir =
      argc > 1 && argv[1][0] != 0 ? std::string(argv[1]) : std::string(mkdtemp(tmpl)) + "/db";
  const int pairs = argc > 2 ? std::atoi(argv[2]) : 6;
  asidekv::EnableMetricsEndpoint();
  asidekv::Options o;
  o.path = dir;
  o.metrics_address = "127.0.0.1:0";  // A free port, logged at kInfo.
  o.cache_capacity_bytes = 16 << 20;
  std::atomic<int> port{0};
  o.log = [&port](asidekv::LogSeverity, std::string_view m) {
    const size_t colon = m.rfind(':');
    int v = 0;
    if (colon != std::string_view::npos &&
        absl::SimpleAtoi(std::string(m.substr(colon + 1, m.find('/', colon) - colon - 1)), &v)) {
      port = v;
    }
  };
  auto store = asidekv::Store::Open(o);
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", store.status().ToString().c_str());
    return 1;
  }
  constexpr int kKeys = 200000;
  const std::string value(100, 'v');
  for (int i = 0; i < kKeys; ++i) (void)(*store)->Put(absl::StrCat("key", i), value);
  auto run = [&](bool scrape, absl::Duration d) {
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> ops{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&, t] {
        std::mt19937_64 rng(t + 7);
        std::uniform_int_distribution<int> key(0, kKeys - 1);
        uint64_t n = 0;
        while (!stop.load(std::memory_order_relaxed)) {
          for (int i = 0; i < 256; ++i) (void)(*store)->Get(absl::StrCat("key", key(rng)));
          n += 256;
        }
        ops += n;
      });
    }
    int scrapes = 0;
    for (absl::Duration left = d; left > absl::ZeroDuration(); left -= absl::Seconds(1)) {
      if (scrape && Scrape(port.load())) ++scrapes;
      absl::SleepFor(std::min(absl::Seconds(1), left));
    }
    stop = true;
    for (std::thread& t : threads) t.join();
    return std::pair<double, int>(static_cast<double>(ops) / absl::ToDoubleSeconds(d), scrapes);
  };
  run(false, absl::Seconds(3));  // Warm-up.
  double sum_off = 0;
  double sum_on = 0;
  for (int i = 0; i < pairs; ++i) {
    const bool on_first = i % 2 == 1;
    const auto a = run(on_first, absl::Seconds(5));
    const auto b = run(!on_first, absl::Seconds(5));
    const auto& on = on_first ? a : b;
    const auto& off = on_first ? b : a;
    std::printf("pair %d: off %.0f ops/s, on %.0f ops/s (%d scrapes), on/off %.4f\n", i, off.first,
                on.first, on.second, on.first / off.first);
    sum_off += off.first;
    sum_on += on.first;
  }
  std::printf("mean on/off %.4f\n", sum_on / sum_off);
  return 0;
}
