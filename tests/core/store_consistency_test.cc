// History checker: many writers and readers on few keys, with a tiny cache and millisecond TTLs,
// checking per-key linearizability: a Get that starts after a write returned never returns an
// older value. Ends with a sweep asserting that every key reads as the DB holds it.
//
// Each key has one writer thread (so the order of its writes is known), which writes versions
// 1, 2, 3, ... (some as deletes) and publishes the last completed version after each write
// returns. A reader records that floor before its Get and checks the result is at least as new.
// A second test lets several writers race on each key (kUpdate's overlapping-writer case) and
// checks the final sweep only.
//
// ASIDEKV_STRESS_SECONDS (default 1.5) sets how long each configuration runs.
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "asidekv/asidekv.h"
#include "core/store_opener.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace asidekv {
namespace {

using ::asidekv::testing::FakeClock;
using ::asidekv::testing::TempDir;

constexpr int kKeys = 8;

absl::Duration StressDuration() {
  const char* s = std::getenv("ASIDEKV_STRESS_SECONDS");
  double secs = 1.5;
  if (s != nullptr) secs = std::atof(s);
  return absl::Seconds(secs > 0 ? secs : 1.5);
}

std::string KeyName(int k) { return absl::StrCat("key", k); }

// Values are "<version>:" plus padding, so some are large enough to crowd the tiny cache.
std::string ValueFor(uint64_t version) {
  return absl::StrCat(version, ":", std::string(version % 7 * 40, 'p'));
}

uint64_t VersionOf(const std::string& value) {
  uint64_t v = 0;
  const size_t colon = value.find(':');
  if (colon == std::string::npos || !absl::SimpleAtoi(absl::string_view(value.data(), colon), &v)) {
    return UINT64_MAX;  // Garbage: fails every check.
  }
  return v;
}

struct KeyHistory {
  std::atomic<uint64_t> completed{0};       // Last version whose write returned.
  std::atomic<uint64_t> delete_started{0};  // Last version that is a delete and has begun.
};

struct Config {
  const char* name;
  WritePolicy policy;
  absl::Duration negative_ttl;
  size_t capacity;
};

class StoreConsistencyTest : public ::testing::TestWithParam<Config> {
 protected:
  std::unique_ptr<Store> Open(FakeClock* clock) {
    Options o;
    o.path = dir_.Sub("db");
    o.write_policy = GetParam().policy;
    o.negative_ttl = GetParam().negative_ttl;
    o.cache_capacity_bytes = GetParam().capacity;
    o.cache_shards = GetParam().capacity == 0 ? 0 : 2;
    o.default_ttl = absl::Milliseconds(3);
    o.ttl_jitter = 0.5;
    core::StoreHooks hooks;
    hooks.clock = clock;
    auto s = core::StoreOpener::Open(o, hooks);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : nullptr;
  }

  // After all writers stopped: every key's Get must equal the DB's value.
  void SweepMatchesDb(Store& store) {
    auto all = store.Scan(ScanOptions());
    ASSERT_TRUE(all.ok()) << all.status();
    std::map<std::string, std::string> db;
    for (auto& kv : *all) db[kv.key] = kv.value;
    for (int k = 0; k < kKeys; ++k) {
      for (int round = 0; round < 2; ++round) {  // Possibly a hit, then surely a hit or miss.
        auto v = store.Get(KeyName(k));
        auto it = db.find(KeyName(k));
        if (it == db.end()) {
          EXPECT_TRUE(absl::IsNotFound(v.status())) << KeyName(k) << ": " << v.status();
        } else {
          ASSERT_TRUE(v.ok()) << v.status();
          EXPECT_EQ(*v, it->second) << KeyName(k);
        }
      }
    }
  }

  TempDir dir_;
};

TEST_P(StoreConsistencyTest, NoReadIsOlderThanACompletedWrite) {
  FakeClock clock;
  auto store = Open(&clock);
  ASSERT_NE(store, nullptr);
  std::vector<KeyHistory> history(kKeys);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> reads{0}, violations{0}, errors{0};
  std::vector<std::thread> threads;

  // One writer per pair of keys; every 5th version is a delete.
  for (int w = 0; w < kKeys / 2; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937_64 rng(w);
      std::vector<uint64_t> next(kKeys, 1);
      while (!stop.load(std::memory_order_relaxed)) {
        const int k = 2 * w + static_cast<int>(rng() % 2);
        const uint64_t v = next[k]++;
        absl::Status s;
        if (v % 5 == 0) {
          history[k].delete_started.store(v);
          s = store->Delete(KeyName(k));
        } else if (rng() % 4 == 0) {
          WriteBatch b;
          b.Put(KeyName(k), ValueFor(v));
          s = store->Write(b);
        } else {
          s = store->Put(KeyName(k), ValueFor(v));
        }
        if (!s.ok()) errors.fetch_add(1);
        history[k].completed.store(v);
      }
    });
  }
  // Readers: Get, GetPinned and MultiGet, checking against the floor taken before each call.
  const auto check = [&](int k, uint64_t floor, const absl::StatusOr<std::string>& r) {
    reads.fetch_add(1, std::memory_order_relaxed);
    if (r.ok()) {
      if (VersionOf(*r) < floor) violations.fetch_add(1);
    } else if (absl::IsNotFound(r.status())) {
      // Absent is right only if the floor is "never written", a delete, or a later delete began.
      const bool ok = floor == 0 || floor % 5 == 0 || history[k].delete_started.load() > floor;
      if (!ok) violations.fetch_add(1);
    } else {
      errors.fetch_add(1);
    }
  };
  for (int r = 0; r < 4; ++r) {
    threads.emplace_back([&, r] {
      std::mt19937_64 rng(100 + r);
      while (!stop.load(std::memory_order_relaxed)) {
        const int k = static_cast<int>(rng() % kKeys);
        const uint64_t floor = history[k].completed.load();
        switch (rng() % 8) {
          case 0: {
            std::vector<std::string> keys = {KeyName(k), KeyName(k)};
            auto rs = store->MultiGet(keys);
            check(k, floor, rs[0]);
            check(k, floor, rs[1]);
            break;
          }
          case 1: {
            auto p = store->GetPinned(KeyName(k));
            check(k, floor,
                  p.ok() ? absl::StatusOr<std::string>(p->ToString())
                         : absl::StatusOr<std::string>(p.status()));
            break;
          }
          default:
            check(k, floor, store->Get(KeyName(k)));
        }
      }
    });
  }
  // Chaos: time moves (entries expire), the cache is cleared, keys are invalidated.
  threads.emplace_back([&] {
    std::mt19937_64 rng(7);
    while (!stop.load(std::memory_order_relaxed)) {
      clock.Advance(absl::Microseconds(200));
      if (rng() % 500 == 0) store->ClearCache();
      if (rng() % 50 == 0) store->Invalidate(KeyName(static_cast<int>(rng() % kKeys)));
      std::this_thread::yield();
    }
  });

  absl::SleepFor(StressDuration());
  // On a starved machine (sanitizers, two cores, parallel tests) keep going until the readers
  // have done enough work for the run to mean something; a hard cap keeps a hang visible.
  const absl::Time cap = absl::Now() + absl::Seconds(60);
  while (reads.load() <= 1000 && absl::Now() < cap) absl::SleepFor(absl::Milliseconds(10));
  stop = true;
  for (auto& t : threads) t.join();

  EXPECT_EQ(violations.load(), 0u);
  EXPECT_EQ(errors.load(), 0u);
  EXPECT_GT(reads.load(), 1000u);
  SweepMatchesDb(*store);
  const Stats s = store->GetStats();
  std::printf(
      "[ stats    ] reads=%llu hits=%llu misses=%llu db_reads=%llu waits=%llu "
      "stale_rejected=%llu evictions=%llu expirations=%llu\n",
      static_cast<unsigned long long>(reads.load()), static_cast<unsigned long long>(s.cache_hits),
      static_cast<unsigned long long>(s.cache_misses), static_cast<unsigned long long>(s.db_reads),
      static_cast<unsigned long long>(s.coalesced_waits),
      static_cast<unsigned long long>(s.stale_fills_rejected),
      static_cast<unsigned long long>(s.evictions), static_cast<unsigned long long>(s.expirations));
}

// Several writers per key: only the final state can be checked, but it must match the DB.
TEST_P(StoreConsistencyTest, RacingWritersLeaveTheCacheEqualToTheDb) {
  FakeClock clock;
  auto store = Open(&clock);
  ASSERT_NE(store, nullptr);
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937_64 rng(w);
      uint64_t n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        const int k = static_cast<int>(rng() % 2);  // Two hot keys, every writer on both.
        if (rng() % 6 == 0) {
          (void)store->Delete(KeyName(k));
        } else {
          (void)store->Put(KeyName(k), ValueFor(++n * 4 + w));
        }
      }
    });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        (void)store->Get(KeyName(0));
        (void)store->Get(KeyName(1));
      }
    });
  }
  absl::SleepFor(StressDuration() / 2);
  stop = true;
  for (auto& t : threads) t.join();
  SweepMatchesDb(*store);
}

INSTANTIATE_TEST_SUITE_P(
    Configs, StoreConsistencyTest,
    ::testing::Values(Config{"Invalidate", WritePolicy::kInvalidate, absl::ZeroDuration(), 2048},
                      Config{"Update", WritePolicy::kUpdate, absl::ZeroDuration(), 2048},
                      Config{"InvalidateNegative", WritePolicy::kInvalidate, absl::Milliseconds(2),
                             2048},
                      Config{"UpdateNegative", WritePolicy::kUpdate, absl::Milliseconds(2), 2048},
                      Config{"CacheOff", WritePolicy::kInvalidate, absl::ZeroDuration(), 0}),
    [](const ::testing::TestParamInfo<Config>& info) { return info.param.name; });

}  // namespace
}  // namespace asidekv
