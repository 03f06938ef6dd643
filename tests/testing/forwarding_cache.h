// ForwardingCache: a cache::Cache that passes every call to another cache. Test doubles derive
// from it and override the calls they want to fail, drop or delay.
//
// Thread safety: as the wrapped cache.

#ifndef ASIDEKV_TESTS_TESTING_FORWARDING_CACHE_H_
#define ASIDEKV_TESTS_TESTING_FORWARDING_CACHE_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cache/cache.h"

namespace asidekv::testing {

class ForwardingCache : public cache::Cache {
 public:
  explicit ForwardingCache(std::unique_ptr<cache::Cache> inner) : inner_(std::move(inner)) {}

  cache::ValueRef Lookup(std::string_view key) override { return inner_->Lookup(key); }
  cache::FillTicket BeginFill(std::string_view key) override { return inner_->BeginFill(key); }
  cache::FillTicket BeginRefresh(const cache::ValueRef& seen) override {
    return inner_->BeginRefresh(seen);
  }
  cache::FillResult CompleteFill(cache::FillTicket* ticket, const std::string_view* value,
                                 const cache::EntryOptions& options,
                                 const absl::StatusOr<std::string>& result) override {
    return inner_->CompleteFill(ticket, value, options, result);
  }
  void AbandonFill(const cache::FillTicket& ticket) override { inner_->AbandonFill(ticket); }
  bool Insert(std::string_view key, std::string_view value,
              const cache::EntryOptions& options) override {
    return inner_->Insert(key, value, options);
  }
  void Invalidate(std::string_view key) override { inner_->Invalidate(key); }
  cache::WriteToken BeginWrite(std::string_view key) override { return inner_->BeginWrite(key); }
  void EndWrite(const cache::WriteToken& token, bool db_ok, const std::string_view* value,
                const cache::EntryOptions& options) override {
    inner_->EndWrite(token, db_ok, value, options);
  }
  void Clear() override { inner_->Clear(); }
  void InvalidateAll() override { inner_->InvalidateAll(); }
  void SetServingHorizon(int64_t nanos) override { inner_->SetServingHorizon(nanos); }
  cache::CacheStats GetStats() const override { return inner_->GetStats(); }
  std::vector<cache::CacheStats> GetShardStats() const override { return inner_->GetShardStats(); }
  std::vector<std::string> HottestKeys(size_t n) const override { return inner_->HottestKeys(n); }

 protected:
  cache::Cache& inner() { return *inner_; }

 private:
  std::unique_ptr<cache::Cache> inner_;
};

}  // namespace asidekv::testing

#endif  // ASIDEKV_TESTS_TESTING_FORWARDING_CACHE_H_
