// The write path of Store::Impl: Put, Delete, Write(batch). See store_impl.h.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "cache/string_hash.h"
#include "core/store_impl.h"
#include "core/value_format.h"

namespace asidekv {

absl::Status Store::Impl::WriteOne(std::string_view key, std::optional<std::string_view> value,
                                   std::optional<absl::Duration> ttl) {
  absl::Status s = CheckKey(key);
  if (!s.ok()) return s;
  if (value.has_value()) {
    s = CheckValue(*value);
    if (!s.ok()) return s;
  }
  std::string stored;
  if (value.has_value()) core::EncodeValue(*value, ttl, encoding_, &stored);

  const bool update = options_.write_policy == WritePolicy::kUpdate;
  cache::WriteToken token;
  if (update) token = cache_->BeginWrite(key);
  s = value.has_value() ? db_->Put(key, stored, write_options_) : db_->Delete(key, write_options_);
  if (!s.ok()) write_errors_.fetch_add(1, std::memory_order_relaxed);
  if (update) {
    const std::string_view v = value.value_or(std::string_view());
    cache_->EndWrite(token, s.ok(), value.has_value() ? &v : nullptr, EntryOptionsFor(ttl));
  } else if (s.ok()) {
    cache_->Invalidate(key);
  }
  return s;
}

absl::Status Store::Impl::Put(std::string_view key, std::string_view value,
                              std::optional<absl::Duration> ttl) {
  const int64_t start = StartTimer();
  puts_.fetch_add(1, std::memory_order_relaxed);
  absl::Status s = WriteOne(key, value, ttl);
  RecordLatency(put_latency_, start);
  return s;
}

absl::Status Store::Impl::Delete(std::string_view key) {
  const int64_t start = StartTimer();
  deletes_.fetch_add(1, std::memory_order_relaxed);
  absl::Status s = WriteOne(key, std::nullopt, std::nullopt);
  RecordLatency(delete_latency_, start);
  return s;
}

absl::Status Store::Impl::Write(const WriteBatch& batch) {
  batches_.fetch_add(1, std::memory_order_relaxed);
  const std::vector<WriteBatch::Op>& ops = batch.ops();
  for (const WriteBatch::Op& op : ops) {
    absl::Status s = CheckKey(op.key);
    if (s.ok() && op.type == WriteBatch::OpType::kPut) s = CheckValue(op.value);
    if (!s.ok()) return s;
  }
  if (ops.empty()) return absl::OkStatus();

  std::vector<std::string> stored(ops.size());
  std::vector<db::WriteOp> db_ops(ops.size());
  // The last op of each key decides what the cache sees.
  absl::flat_hash_map<std::string_view, size_t, cache::StringViewHash, cache::StringViewEq> last;
  last.reserve(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    const WriteBatch::Op& op = ops[i];
    db_ops[i].key = op.key;
    if (op.type == WriteBatch::OpType::kPut) {
      core::EncodeValue(op.value, std::nullopt, encoding_, &stored[i]);
      db_ops[i].type = db::WriteOp::kPut;
      db_ops[i].value = stored[i];
    } else {
      db_ops[i].type = db::WriteOp::kDelete;
    }
    last[op.key] = i;
  }

  const bool update = options_.write_policy == WritePolicy::kUpdate;
  std::vector<std::pair<size_t, cache::WriteToken>> tokens;
  if (update) {
    tokens.reserve(last.size());
    for (const auto& [key, i] : last) tokens.emplace_back(i, cache_->BeginWrite(key));
  }
  absl::Status s = db_->Write(db_ops, write_options_);
  if (!s.ok()) write_errors_.fetch_add(1, std::memory_order_relaxed);
  if (update) {
    for (const auto& [i, token] : tokens) {
      const bool is_put = ops[i].type == WriteBatch::OpType::kPut;
      const std::string_view v = ops[i].value;
      cache_->EndWrite(token, s.ok(), is_put ? &v : nullptr, EntryOptionsFor(std::nullopt));
    }
  } else if (s.ok()) {
    for (const auto& [key, i] : last) cache_->Invalidate(key);
  }
  return s;
}

}  // namespace asidekv
