// Soak: YCSB-A-like traffic (50% reads, 50% updates, skewed keys) from 2 threads for
// ASIDEKV_SOAK_SECONDS (default 10), with a history checker, reporting RSS once a second.
//
// History checker: each key's writes are serialised by a striped lock and carry an increasing
// version; after a write returns, its version is published. A read notes the published version
// before it starts and must return that version or a newer one (no stale read), and only a value
// written for that key. No call may fail. At the end every key reads as the DB holds it.
//
// Memory: RSS must plateau within the cache capacity plus RocksDB's budget (two 32 MiB memtables,
// the 8 MiB block cache, table readers) over the RSS before the load, with slack. Sanitizer builds
// only report RSS (their allocators keep freed memory in quarantine).
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "asidekv/asidekv.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ASIDEKV_SOAK_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define ASIDEKV_SOAK_SANITIZED 1
#endif
#endif

namespace asidekv {
namespace {

constexpr int kKeys = 20000;
constexpr int kStripes = 256;
constexpr size_t kValueBytes = 200;
constexpr uint64_t kMiB = uint64_t{1} << 20;

uint64_t RssBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

std::string KeyName(int k) { return absl::StrCat("user", k); }

// "<key>#<version>#" padded to kValueBytes.
std::string MakeValue(int k, uint64_t version) {
  std::string v = absl::StrCat(KeyName(k), "#", version, "#");
  v.resize(kValueBytes, 'p');
  return v;
}

// The version in `value` if it was written for key k, else -1.
int64_t ParseVersion(int k, const std::string& value) {
  const std::string prefix = absl::StrCat(KeyName(k), "#");
  if (value.size() != kValueBytes || value.compare(0, prefix.size(), prefix) != 0) return -1;
  const size_t end = value.find('#', prefix.size());
  if (end == std::string::npos) return -1;
  uint64_t v = 0;
  if (!absl::SimpleAtoi(absl::string_view(value).substr(prefix.size(), end - prefix.size()), &v)) {
    return -1;
  }
  return static_cast<int64_t>(v);
}

// Zipfian-like skew without a table: the square of a uniform draw favours low keys.
int PickKey(std::mt19937_64& rng) {
  const double u = std::uniform_real_distribution<double>(0, 1)(rng);
  return static_cast<int>(u * u * u * kKeys) % kKeys;
}

TEST(SoakTest, MixedTrafficKeepsMemoryFlatAndReadsFresh) {
  int seconds = 10;
  if (const char* v = std::getenv("ASIDEKV_SOAK_SECONDS"); v != nullptr) {
    (void)absl::SimpleAtoi(v, &seconds);
  }
  testing::TempDir dir;
  Options o;
  o.path = dir.Sub("db");
  o.cache_capacity_bytes = 4 * kMiB;
  o.write_policy = WritePolicy::kUpdate;  // The path with the most cache traffic.
  auto opened = Store::Open(o);
  ASSERT_OK(opened.status());
  Store& store = **opened;
  for (int k = 0; k < kKeys; k += 1000) {
    WriteBatch batch;
    for (int i = k; i < k + 1000 && i < kKeys; ++i) batch.Put(KeyName(i), MakeValue(i, 0));
    ASSERT_OK(store.Write(batch));
  }

  std::vector<std::atomic<uint64_t>> published(kKeys);
  for (auto& p : published) p.store(0);
  std::vector<uint64_t> next_version(kKeys, 1);  // Guarded by the key's stripe.
  std::vector<absl::Mutex> stripes(kStripes);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> reads{0}, writes{0}, stale{0}, errors{0}, garbled{0};

  auto worker = [&](uint64_t seed) {
    std::mt19937_64 rng(seed);
    while (!stop.load(std::memory_order_relaxed)) {
      const int k = PickKey(rng);
      if (rng() % 2 == 0) {
        const uint64_t floor = published[k].load(std::memory_order_acquire);
        absl::StatusOr<std::string> v = store.Get(KeyName(k));
        reads.fetch_add(1, std::memory_order_relaxed);
        if (!v.ok()) {
          errors.fetch_add(1);
          continue;
        }
        const int64_t version = ParseVersion(k, *v);
        if (version < 0) {
          garbled.fetch_add(1);
        } else if (static_cast<uint64_t>(version) < floor) {
          stale.fetch_add(1);
        }
      } else {
        absl::MutexLock lock(&stripes[k % kStripes]);
        const uint64_t version = next_version[k]++;
        if (!store.Put(KeyName(k), MakeValue(k, version)).ok()) {
          errors.fetch_add(1);
          continue;
        }
        published[k].store(version, std::memory_order_release);
        writes.fetch_add(1, std::memory_order_relaxed);
      }
    }
  };

  const uint64_t rss_before = RssBytes();
  std::vector<std::thread> threads;
  for (uint64_t t = 0; t < 2; ++t) threads.emplace_back(worker, 1000 + t);
  std::vector<uint64_t> rss;
  for (int s = 0; s < seconds; ++s) {
    absl::SleepFor(absl::Seconds(1));
    rss.push_back(RssBytes());
    const Stats st = store.GetStats();
    std::cout << "  t=" << s + 1 << "s rss=" << rss.back() / kMiB
              << " MiB cache=" << st.cache_bytes / kMiB << " MiB reads=" << reads.load()
              << " writes=" << writes.load() << " hit_rate="
              << (st.cache_hits * 100 / std::max<uint64_t>(1, st.cache_hits + st.cache_misses))
              << "%\n";
  }
  stop = true;
  for (std::thread& t : threads) t.join();

  EXPECT_EQ(errors.load(), 0u);
  EXPECT_EQ(stale.load(), 0u);
  EXPECT_EQ(garbled.load(), 0u);
  EXPECT_GT(reads.load(), 0u);
  EXPECT_GT(writes.load(), 0u);
  // Writers stopped: every key reads its last published version.
  for (int k = 0; k < kKeys; ++k) {
    absl::StatusOr<std::string> v = store.Get(KeyName(k));
    ASSERT_OK(v.status());
    ASSERT_EQ(ParseVersion(k, *v), static_cast<int64_t>(published[k].load())) << KeyName(k);
  }
  const Stats st = store.GetStats();
  EXPECT_LE(st.cache_bytes, st.cache_capacity_bytes);

  uint64_t peak = 0;
  for (uint64_t r : rss) peak = std::max(peak, r);
  // Budget: the cache, two memtables, the block cache, and slack for table readers, arenas and
  // allocator fragmentation.
  const uint64_t budget =
      o.cache_capacity_bytes + 2 * (32 * kMiB) + o.db_block_cache_bytes + 48 * kMiB;
  std::cout << "soak: " << seconds << " s, " << reads.load() << " reads, " << writes.load()
            << " writes, 0 errors expected (" << errors.load() << "), stale " << stale.load()
            << "; RSS before " << rss_before / kMiB << " MiB, peak " << peak / kMiB << " MiB, last "
            << (rss.empty() ? 0 : rss.back() / kMiB) << " MiB, budget " << budget / kMiB
            << " MiB over the start\n";
#ifndef ASIDEKV_SOAK_SANITIZED
  EXPECT_LE(peak, rss_before + budget);
  // Plateau: the second half grows by less than one memtable over the first half's peak.
  if (rss.size() >= 6) {
    uint64_t first = 0, second = 0;
    for (size_t i = 0; i < rss.size(); ++i) {
      (i < rss.size() / 2 ? first : second) = std::max(i < rss.size() / 2 ? first : second, rss[i]);
    }
    EXPECT_LE(second, first + 32 * kMiB) << "RSS still growing";
  }
#endif
}

}  // namespace
}  // namespace asidekv
