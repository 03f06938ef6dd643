#include "tests/distributed/client_process.h"

#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "util/monotonic_clock.h"

namespace asidekv::distributed {
namespace {

// SplitMix64: independent-looking seeds for each (process, thread) from one master seed.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Times the call `fn` makes and records it as `op`'s invoke, complete and status.
template <typename Fn>
void Timed(Operation& op, Fn fn) {
  op.invoke_nanos = util::MonotonicNanos();
  op.status = fn();
  op.complete_nanos = util::MonotonicNanos();
}

// A Get as a read record: a value, absent (NotFound is OK), or the error.
void Read(Store& store, Operation& op) {
  Timed(op, [&]() -> absl::Status {
    absl::StatusOr<std::string> v = store.Get(op.keys[0].key);
    if (v.ok()) op.keys[0].value = *std::move(v);
    return v.ok() || absl::IsNotFound(v.status()) ? absl::OkStatus() : v.status();
  });
}

}  // namespace

std::string ClientProcess::Key(const WorkloadOptions& options, int i) {
  return absl::StrCat(options.key_prefix, i);
}

absl::Status ClientProcess::Open(const OpenStore& open) {
  absl::StatusOr<std::unique_ptr<Store>> store = open(process_);
  if (!store.ok()) return store.status();
  store_ = *std::move(store);
  return absl::OkStatus();
}

void ClientProcess::Start(int64_t stop_nanos) {
  records_.resize(options_.threads);
  for (int t = 0; t < options_.threads; ++t) {
    threads_.emplace_back([this, t, stop_nanos] { Run(t, stop_nanos); });
  }
}

void ClientProcess::Join() {
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

void ClientProcess::Run(int thread, int64_t stop_nanos) {
  std::mt19937_64 rng(Mix(seed_ ^ Mix(static_cast<uint64_t>(process_) * 1000 + thread)));
  std::vector<Operation>& log = records_[thread];
  uint64_t counter = 0;
  auto key = [&] { return Key(options_, static_cast<int>(rng() % options_.keys)); };
  const int readable = options_.keys + options_.read_only_keys;
  auto read_key = [&] { return Key(options_, static_cast<int>(rng() % readable)); };
  auto value = [&](const std::string& k) {
    return UniqueValue(k, process_, thread, ++counter, options_.value_size);
  };
  const int64_t start = util::MonotonicNanos();
  for (int64_t n = 0;; ++n) {
    const int64_t now = util::MonotonicNanos();
    if (now >= stop_nanos) break;
    if (options_.max_ops_per_second > 0) {
      const int64_t due = start + n * 1000000000 / options_.max_ops_per_second;
      if (due > now) absl::SleepFor(absl::Nanoseconds(due - now));
    }
    Operation op;
    op.process = process_;
    op.thread = thread;
    const int dice = static_cast<int>(rng() % 100);
    if (dice < options_.get_percent) {
      op.kind = OpKind::kGet;
      op.keys.push_back({read_key(), std::nullopt});
      Read(*store_, op);
    } else if (dice < options_.get_percent + options_.put_percent) {
      op.kind = OpKind::kPut;
      const std::string k = key();
      op.keys.push_back({k, value(k)});
      Timed(op, [&] { return store_->Put(k, *op.keys[0].value); });
    } else if (dice < options_.get_percent + options_.put_percent + options_.delete_percent) {
      op.kind = OpKind::kDelete;
      op.keys.push_back({key(), std::nullopt});
      Timed(op, [&] { return store_->Delete(op.keys[0].key); });
    } else {
      op.kind = OpKind::kBatch;
      const int size = std::min(options_.keys, 2 + static_cast<int>(rng() % 2));
      const int first = static_cast<int>(rng() % options_.keys);
      WriteBatch batch;
      for (int i = 0; i < size; ++i) {
        const std::string k = Key(options_, (first + i) % options_.keys);
        if (rng() % 4 != 0) {
          op.keys.push_back({k, value(k)});
          batch.Put(k, *op.keys.back().value);
        } else {
          op.keys.push_back({k, std::nullopt});
          batch.Delete(k);
        }
      }
      Timed(op, [&] { return store_->Write(batch); });
    }
    log.push_back(std::move(op));
  }
}

void ClientProcess::FinalReads() {
  records_.emplace_back();
  for (int i = 0; i < options_.keys + options_.read_only_keys; ++i) {
    Operation op;
    op.process = process_;
    op.kind = OpKind::kFinalRead;
    op.keys.push_back({Key(options_, i), std::nullopt});
    Read(*store_, op);
    records_.back().push_back(std::move(op));
  }
}

absl::Status ClientProcess::Finish(const std::string& log_path) {
  store_.reset();
  std::vector<Operation> all;
  for (std::vector<Operation>& list : records_) {
    for (Operation& op : list) all.push_back(std::move(op));
  }
  records_.clear();
  return WriteHistory(log_path, all);
}

}  // namespace asidekv::distributed
