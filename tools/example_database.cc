// asidekv-example-database: a Store in front of a database the application already has.
//
//   asidekv-example-database
//
// The "database" here is a std::map behind a mutex, standing in for MySQL or a service behind
// HTTP: implementing asidekv::Database (asidekv/database.h) is all a Store needs. The README shows
// this file as the example of the interface; it exits non-zero if anything does not behave.
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "asidekv/asidekv.h"
#include "asidekv/database.h"

namespace {

class MapDatabase final : public asidekv::Database {
 public:
  absl::Status Get(std::string_view key, std::string* value) const override {
    absl::MutexLock l(&mu_);
    auto it = map_.find(std::string(key));
    if (it == map_.end()) return absl::NotFoundError("no such key");
    *value = it->second;
    return absl::OkStatus();
  }

  // Atomic: one lock around the whole batch.
  absl::Status Write(absl::Span<const asidekv::DatabaseOp> ops) override {
    absl::MutexLock l(&mu_);
    for (const asidekv::DatabaseOp& op : ops) {
      if (op.type == asidekv::DatabaseOp::kPut) {
        map_[std::string(op.key)] = std::string(op.value);
      } else {
        map_.erase(std::string(op.key));
      }
    }
    return absl::OkStatus();
  }

  // std::map<std::string, ...> orders keys as unsigned bytes, as the interface asks.
  absl::Status Scan(const asidekv::ScanOptions& options,
                    absl::FunctionRef<bool(std::string_view, std::string_view)> fn) const override {
    absl::MutexLock l(&mu_);
    size_t n = 0;
    for (auto it = map_.lower_bound(std::max(options.start, options.prefix)); it != map_.end();
         ++it) {
      const std::string& key = it->first;
      if (!options.end.empty() && key >= options.end) break;
      if (key.compare(0, options.prefix.size(), options.prefix) != 0) break;
      if (options.limit != 0 && n++ == options.limit) break;
      if (!fn(key, it->second)) break;
    }
    return absl::OkStatus();
  }

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, std::string> map_ ABSL_GUARDED_BY(mu_);
};

int Fail(const char* what, const absl::Status& s) {
  std::fprintf(stderr, "asidekv-example-database: %s: %s\n", what, s.ToString().c_str());
  return 1;
}

}  // namespace

int main() {
  asidekv::Options options;  // No path: the database is passed in.
  options.cache_capacity_bytes = 1 << 20;
  options.raw_values = true;  // Values in the application's database stay as they are.
  auto opened = asidekv::Store::Open(options, std::make_unique<MapDatabase>());
  if (!opened.ok()) return Fail("open", opened.status());
  asidekv::Store& store = **opened;

  absl::Status s = store.Put("user:1", "alice");
  if (!s.ok()) return Fail("put", s);
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<std::string> v = store.Get("user:1");
    if (!v.ok()) return Fail("get", v.status());
    std::printf("get user:1 -> %s (%s)\n", v->c_str(), i == 0 ? "miss" : "hit");
  }
  s = store.Put("user:1", "alice b.");
  if (!s.ok()) return Fail("put", s);
  absl::StatusOr<std::string> v = store.Get("user:1");
  if (!v.ok() || *v != "alice b.") return Fail("get after put", v.status());
  std::printf("after a write: get user:1 -> %s\n", v->c_str());
  const asidekv::Stats stats = store.GetStats();
  std::printf("hits=%llu misses=%llu db_reads=%llu\n",
              static_cast<unsigned long long>(stats.cache_hits),
              static_cast<unsigned long long>(stats.cache_misses),
              static_cast<unsigned long long>(stats.db_reads));
  return stats.cache_hits == 1 && stats.db_reads == 2 ? 0 : 1;
}
