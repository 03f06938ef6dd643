// Helpers of the remote/ tests: a config for a private server, one-key lease calls, waiting for
// a condition with a generous deadline.

#ifndef ASIDEKV_TESTS_REMOTE_TEST_UTIL_H_
#define ASIDEKV_TESTS_REMOTE_TEST_UTIL_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "remote/redis_config.h"
#include "remote/redis_tier.h"
#include "tests/testing/redis_server.h"

namespace asidekv::remote {

// A config for `server` over TCP, with a timeout that a loaded machine meets.
inline RedisConfig ConfigFor(const testing::RedisServer& server) {
  RedisConfig config;
  config.address = server.address();
  config.timeout = absl::Seconds(2);
  return config;
}

// One key's GetOrLease.
inline absl::StatusOr<LeaseResult> LeaseOne(RedisTier& tier, std::string_view key,
                                            absl::Duration ttl = absl::Seconds(10)) {
  absl::StatusOr<std::vector<LeaseResult>> r = tier.GetOrLease({key}, ttl);
  if (!r.ok()) return r.status();
  return r->front();
}

// One key's Fill (a nullopt value only releases the lease).
inline absl::StatusOr<bool> FillOne(RedisTier& tier, std::string_view key, uint64_t token,
                                    std::optional<std::string_view> value) {
  FillRequest fill;
  fill.key = key;
  fill.token = token;
  fill.value = value;
  fill.ttl = absl::Seconds(60);
  absl::StatusOr<std::vector<bool>> r = tier.Fill({fill});
  if (!r.ok()) return r.status();
  return r->front();
}

// Polls `condition` every few milliseconds until it holds (true) or `timeout` passes (false).
// The deadline is generous on purpose: the tests assert what happens, not how fast.
inline bool Eventually(const std::function<bool()>& condition,
                       absl::Duration timeout = absl::Seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout);
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace asidekv::remote

#endif  // ASIDEKV_TESTS_REMOTE_TEST_UTIL_H_
