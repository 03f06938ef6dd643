// AsideBackend: the system under test, an asidekv::Store driven through its public API only.
//
// Thread safety and method contracts: see backend.h. Owns the Store; destroying the backend
// closes it.

#ifndef ASIDEKV_TOOLS_BENCH_ASIDE_BACKEND_H_
#define ASIDEKV_TOOLS_BENCH_ASIDE_BACKEND_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "asidekv/asidekv.h"
#include "tools/bench/backend.h"

namespace asidekv::bench {

class AsideBackend {
 public:
  static constexpr std::string_view kName = "aside";

  static absl::StatusOr<std::unique_ptr<AsideBackend>> Open(const BackendOptions& options);

  bool SupportsScan() const { return true; }

  absl::Status Read(std::string_view key, std::string* value) {
    absl::StatusOr<std::string> got = store_->Get(key);
    if (!got.ok()) return got.status();
    *value = *std::move(got);
    return absl::OkStatus();
  }

  absl::Status Write(std::string_view key, std::string_view value) {
    return store_->Put(key, value);
  }

  absl::StatusOr<size_t> Scan(std::string_view start, size_t count);

  absl::Status LoadBatch(absl::Span<const std::string> keys, absl::Span<const std::string> values);
  absl::Status AfterLoad(bool compact);
  CacheCounters Counters() const;
  std::vector<std::pair<std::string, std::string>> Describe() const;

  // The Store's own counters (for the JSON output).
  Stats GetStats() const { return store_->GetStats(); }

 private:
  explicit AsideBackend(std::unique_ptr<Store> store) : store_(std::move(store)) {}

  std::unique_ptr<Store> store_;
};

}  // namespace asidekv::bench

#endif  // ASIDEKV_TOOLS_BENCH_ASIDE_BACKEND_H_
