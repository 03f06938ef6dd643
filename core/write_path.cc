// The write path of the engine (core::StoreImpl): Put, Delete, Write(batch). See store_impl.h.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "core/store_impl.h"
#include "db/value_format.h"
#include "util/hash.h"
#include "util/sync_point.h"

namespace asidekv::core {
namespace {

// The kUpdate writes one call has begun (Cache::BeginWrite) and not yet ended. If the call
// unwinds before ending them (an exception from the DB call or an allocation), the destructor
// ends each as a write of unknown outcome: "the DB changed, cache nothing", which drops the
// key's entry and rejects every older fill. Without it the key's in-flight write count would
// stay raised and the key would never be cached again.
class OpenWrites {
 public:
  OpenWrites(cache::Cache* cache, size_t n) : cache_(cache) { writes_.reserve(n); }
  OpenWrites(const OpenWrites&) = delete;
  OpenWrites& operator=(const OpenWrites&) = delete;
  ~OpenWrites() {
    for (const Write& w : writes_) {
      if (w.ended) continue;
      try {
        cache_->EndWrite(w.token, /*db_ok=*/true, nullptr, cache::EntryOptions());
      } catch (...) {  // Already unwinding; the write has ended all the same (see Cache).
      }
    }
  }

  // Begins a write of `key`; returns its index for End(). REQUIRES: fewer than n begun.
  size_t Begin(std::string_view key) {
    // Reserved, and the token moves without throwing: nothing can throw after BeginWrite.
    writes_.push_back(Write{cache_->BeginWrite(key), false});
    return writes_.size() - 1;
  }

  // Ends write `i` (Cache::EndWrite). It counts as ended even if EndWrite throws.
  void End(size_t i, bool db_ok, const std::string_view* value, const cache::EntryOptions& o) {
    writes_[i].ended = true;
    cache_->EndWrite(writes_[i].token, db_ok, value, o);
  }

 private:
  struct Write {
    cache::WriteToken token;
    bool ended;
  };
  cache::Cache* const cache_;  // Not owned.
  // Inline room for one: a single Put allocates nothing here.
  absl::InlinedVector<Write, 1> writes_;
};

}  // namespace

absl::Status StoreImpl::WriteOne(std::string_view key, std::optional<std::string_view> value,
                                 std::optional<absl::Duration> ttl) {
  absl::Status s = CheckKey(key);
  if (!s.ok()) return s;
  if (value.has_value()) {
    s = CheckValue(*value);
    if (!s.ok()) return s;
  }
  std::string stored;
  if (value.has_value()) db::EncodeValue(*value, ttl, encoding_, &stored);

  const bool update = options_.write_policy == WritePolicy::kUpdate;
  OpenWrites writes(cache_.get(), update ? 1 : 0);
  if (update) writes.Begin(key);
  s = value.has_value() ? db_->Put(key, stored) : db_->Delete(key);
  if (!s.ok()) write_errors_.fetch_add(1, std::memory_order_relaxed);
  // A write of unknown outcome (asidekv/database.h) may have landed: the DB may have changed, so
  // the entry goes as after an OK write, and nothing is cached in its place.
  const bool db_changed = s.ok() || absl::IsUnknown(s);
  // The Redis tier first: a local fill that read Redis before its UNLINK holds a token older
  // than the local invalidation below, which rejects it.
  const std::string_view keys[] = {key};
  // Tests: a writer that dies between its commit and its Redis invalidation (CommitStatus's
  // arg is the database's status, const absl::Status*; Committed's, whether to skip it).
  bool lose_invalidation = false;
  ASIDEKV_SYNC_POINT_CALLBACK("StoreImpl::WriteOne:CommitStatus", &s);
  ASIDEKV_SYNC_POINT_CALLBACK("StoreImpl::WriteOne:Committed", &lose_invalidation);
  const bool landed = db_changed && !lose_invalidation ? InvalidateRemote(keys) : true;
  if (update) {
    const std::string_view v = value.value_or(std::string_view());
    // With a Redis tier the cache keeps only values Redis holds (core/remote_tier.h): the write
    // ends as an invalidation.
    const bool install = s.ok() && value.has_value() && remote_ == nullptr;
    writes.End(0, db_changed, install ? &v : nullptr, EntryOptionsFor(ttl));
  } else if (db_changed) {
    cache_->Invalidate(key);
  }
  if (s.ok()) s = AwaitVisibility(keys, landed);
  return s;
}

bool StoreImpl::InvalidateRemote(absl::Span<const std::string_view> keys) {
  return remote_ == nullptr || remote_->InvalidateRemote(keys);
}

absl::Status StoreImpl::AwaitVisibility(absl::Span<const std::string_view> keys, bool landed) {
  if (remote_ == nullptr) return absl::OkStatus();
  return remote_->AwaitVisibility(keys, landed);
}

absl::Status StoreImpl::Put(std::string_view key, std::string_view value,
                            std::optional<absl::Duration> ttl) {
  const int64_t start = StartTimer();
  puts_.fetch_add(1, std::memory_order_relaxed);
  absl::Status s = WriteOne(key, value, ttl);
  RecordLatency(put_latency_, start);
  return s;
}

absl::Status StoreImpl::Delete(std::string_view key) {
  const int64_t start = StartTimer();
  deletes_.fetch_add(1, std::memory_order_relaxed);
  absl::Status s = WriteOne(key, std::nullopt, std::nullopt);
  RecordLatency(delete_latency_, start);
  return s;
}

absl::Status StoreImpl::Write(const WriteBatch& batch) {
  batches_.fetch_add(1, std::memory_order_relaxed);
  const std::vector<WriteBatch::Op>& ops = batch.ops();
  for (const WriteBatch::Op& op : ops) {
    absl::Status s = CheckKey(op.key);
    if (s.ok() && op.type == WriteBatch::OpType::kPut) s = CheckValue(op.value);
    if (!s.ok()) return s;
  }
  if (ops.empty()) return absl::OkStatus();

  std::vector<std::string> stored(ops.size());
  std::vector<DatabaseOp> db_ops(ops.size());
  // The last op of each key decides what the cache sees.
  absl::flat_hash_map<std::string_view, size_t, util::StringViewHash, util::StringViewEq> last;
  last.reserve(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    const WriteBatch::Op& op = ops[i];
    db_ops[i].key = op.key;
    if (op.type == WriteBatch::OpType::kPut) {
      db::EncodeValue(op.value, std::nullopt, encoding_, &stored[i]);
      db_ops[i].type = DatabaseOp::kPut;
      db_ops[i].value = stored[i];
    } else {
      db_ops[i].type = DatabaseOp::kDelete;
    }
    last[op.key] = i;
  }

  const bool update = options_.write_policy == WritePolicy::kUpdate;
  OpenWrites writes(cache_.get(), update ? last.size() : 0);
  std::vector<size_t> written;  // The op index of each begun write, in Begin() order.
  if (update) {
    written.reserve(last.size());
    for (const auto& [key, i] : last) {
      written.push_back(i);
      writes.Begin(key);
    }
  }
  absl::Status s = db_->Write(db_ops);
  if (!s.ok()) write_errors_.fetch_add(1, std::memory_order_relaxed);
  // As in WriteOne: a batch of unknown outcome drops its keys' entries too.
  const bool db_changed = s.ok() || absl::IsUnknown(s);
  std::vector<std::string_view> keys;
  bool landed = true;
  if (db_changed && remote_ != nullptr) {
    keys.reserve(last.size());
    for (const auto& [key, i] : last) keys.push_back(key);
    landed = InvalidateRemote(keys);
  }
  if (update) {
    for (size_t w = 0; w < written.size(); ++w) {
      const WriteBatch::Op& op = ops[written[w]];
      const std::string_view v = op.value;
      const bool install = s.ok() && op.type == WriteBatch::OpType::kPut && remote_ == nullptr;
      writes.End(w, db_changed, install ? &v : nullptr, EntryOptionsFor(std::nullopt));
    }
  } else if (db_changed) {
    for (const auto& [key, i] : last) cache_->Invalidate(key);
  }
  if (s.ok()) s = AwaitVisibility(keys, landed);
  return s;
}

}  // namespace asidekv::core
