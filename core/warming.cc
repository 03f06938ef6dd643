#include "core/warming.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "cache/sharded_cache.h"
#include "core/log.h"
#include "db/formats.h"
#include "util/coding.h"
#include "util/crc32c.h"
#include "util/sync_point.h"

namespace asidekv::core {
namespace {

// Keys per BeginFill/MultiGet round, and per DB scan of WarmPrefix.
constexpr size_t kBatch = 256;
constexpr std::string_view kMagic = db::kHotSetMagic;
// A hot-set key longer than this marks the file as corrupt (keys are at most 2 GiB, but a hot
// key that large would not be cached anyway).
constexpr uint32_t kMaxHotKeySize = 64 << 20;

}  // namespace

Warmer::Warmer(cache::Cache* cache, Database* db, Filler* filler, uint64_t capacity)
    : cache_(cache), db_(db), capacity_(capacity), filler_(filler) {}

uint64_t Warmer::Budget() const {
  const uint64_t bookkeeping = cache_->GetStats().bookkeeping;
  return capacity_ - std::min(capacity_, bookkeeping);
}

absl::StatusOr<size_t> Warmer::Warm(absl::Span<const std::string> keys) {
  uint64_t budget = Budget();
  return WarmWithin(keys, &budget);
}

absl::StatusOr<size_t> Warmer::WarmWithin(absl::Span<const std::string> keys, uint64_t* budget) {
  size_t warmed = 0;
  if (capacity_ == 0) return warmed;
  for (size_t begin = 0; begin < keys.size() && *budget > 0; begin += kBatch) {
    const absl::Span<const std::string> batch = keys.subspan(begin, kBatch);
    std::vector<cache::FillTicket> tickets;
    std::vector<std::string_view> to_read;
    for (const std::string& key : batch) {
      cache::FillTicket t = cache_->BeginFill(key);
      if (t.role() == cache::FillTicket::Role::kBypass) return warmed;  // Cache takes no fills.
      if (t.role() != cache::FillTicket::Role::kLeader) continue;       // Cached or loading.
      to_read.push_back(key);
      tickets.push_back(std::move(t));
    }
    if (to_read.empty()) continue;
    // Read only after every ticket is taken: a write that ends after this point rejects the fill.
    // The call fails with the first read error; a value that does not decode (DataLoss) only
    // fails its own key's readers, as on a miss.
    absl::Status error;
    std::vector<Filler::Loaded> loaded;
    std::vector<bool> cacheable;
    if (load_many_) {
      load_many_(to_read, &loaded, &cacheable);
      for (const Filler::Loaded& l : loaded) {
        const absl::Status& s = l.value.status();
        if (!s.ok() && !absl::IsNotFound(s) && !absl::IsDataLoss(s) && error.ok()) error = s;
      }
    } else {
      const int64_t read_start = filler_->ReadStart();
      std::vector<absl::StatusOr<std::string>> raw = db_->MultiGet(to_read);
      loaded.reserve(raw.size());
      for (auto& r : raw) {
        if (!r.ok() && !absl::IsNotFound(r.status()) && error.ok()) error = r.status();
        loaded.push_back(filler_->Decode(std::move(r), read_start));
      }
      cacheable.assign(raw.size(), true);
    }
    reads_.fetch_add(to_read.size(), std::memory_order_relaxed);
    for (size_t i = 0; i < tickets.size(); ++i) {
      const bool found = loaded[i].value.ok();
      const uint64_t charge =
          to_read[i].size() + (found ? loaded[i].value->size() : 0) + cache::kEntryOverhead;
      // Once the budget is spent, the remaining tickets still complete (publishing to any
      // waiter) but cache nothing beyond it.
      if (*budget == 0 || (found && charge > *budget)) {
        *budget = 0;
        filler_->Complete(&tickets[i], loaded[i], /*cache_it=*/false);
        continue;
      }
      if (filler_->Complete(&tickets[i], loaded[i], cacheable[i]) == cache::FillResult::kInserted &&
          found) {
        ++warmed;
        *budget -= std::min(*budget, charge);
      }
    }
    ASIDEKV_SYNC_POINT_CALLBACK("Warmer::WarmWithin:BatchDone", &to_read);
    if (!error.ok()) {
      warmed_.fetch_add(warmed, std::memory_order_relaxed);
      return error;
    }
  }
  warmed_.fetch_add(warmed, std::memory_order_relaxed);
  return warmed;
}

absl::StatusOr<size_t> Warmer::WarmPrefix(std::string_view prefix, size_t limit) {
  size_t warmed = 0;
  size_t listed = 0;
  uint64_t budget = Budget();
  ScanOptions spec;
  spec.prefix = std::string(prefix);
  while (budget > 0 && (limit == 0 || listed < limit)) {
    spec.limit = limit == 0 ? kBatch : std::min(kBatch, limit - listed);
    // Keys only: each value is read after its fill token is taken (see Warm).
    std::vector<std::string> keys;
    absl::Status s = db_->Scan(spec, [&keys](std::string_view k, std::string_view) {
      keys.emplace_back(k);
      return true;
    });
    if (!s.ok()) return s;
    if (keys.empty()) break;
    listed += keys.size();
    absl::StatusOr<size_t> n = WarmWithin(keys, &budget);
    if (!n.ok()) return n.status();
    warmed += *n;
    if (keys.size() < spec.limit) break;
    spec.start = keys.back();
    spec.start.push_back('\0');  // The next key after the last one listed.
  }
  return warmed;
}

absl::Status WriteHotSetFile(const std::string& path, absl::Span<const std::string> keys) {
  std::string data(kMagic);
  util::PutFixed32(&data, static_cast<uint32_t>(keys.size()));
  for (const std::string& k : keys) {
    util::PutFixed32(&data, static_cast<uint32_t>(k.size()));
    data += k;
  }
  util::PutFixed32(&data, util::Crc32c(data));
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.flush();
    if (!out) return absl::UnavailableError(absl::StrCat("cannot write hot set file ", tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot rename ", tmp, " to ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ReadHotSetFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("no hot set file at ", path));
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return absl::UnavailableError(absl::StrCat("cannot read hot set file ", path));
  auto corrupt = [&path](std::string_view why) {
    return absl::DataLossError(
        absl::StrCat("hot set file ", path, " is corrupt: ", std::string(why)));
  };
  if (data.size() < kMagic.size() + 8) return corrupt("too short");
  std::string_view body(data.data(), data.size() - 4);
  std::string_view trailer(data.data() + body.size(), 4);
  uint32_t crc = 0;
  util::GetFixed32(&trailer, &crc);
  if (util::Crc32c(body) != crc) return corrupt("checksum mismatch");
  if (body.substr(0, kMagic.size()) != kMagic) return corrupt("bad magic");
  body.remove_prefix(kMagic.size());
  uint32_t count = 0;
  util::GetFixed32(&body, &count);
  std::vector<std::string> keys;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t len = 0;
    if (!util::GetFixed32(&body, &len) || len > kMaxHotKeySize || body.size() < len) {
      return corrupt("truncated key list");
    }
    keys.emplace_back(body.substr(0, len));
    body.remove_prefix(len);
  }
  if (!body.empty()) return corrupt("trailing bytes");
  return keys;
}

HotSetKeeper::HotSetKeeper(std::string path, size_t max_keys, absl::Duration interval,
                           cache::Cache* cache, Warmer* warmer, LogFunction log)
    : path_(std::move(path)),
      max_keys_(max_keys),
      interval_(interval),
      cache_(cache),
      warmer_(warmer),
      log_(std::move(log)),
      thread_([this] { Run(); }) {}

HotSetKeeper::~HotSetKeeper() { Stop(); }

void HotSetKeeper::RequestStop() {
  absl::MutexLock lock(&mu_);
  stopping_ = true;
}

void HotSetKeeper::Stop() {
  if (!thread_.joinable()) return;
  RequestStop();
  thread_.join();
  Record();
}

void HotSetKeeper::WaitWarmed() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(&warmed_));
}

bool HotSetKeeper::stopping() const {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

void HotSetKeeper::Run() {
  WarmFromFile();
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), interval_)) break;
    mu_.Unlock();
    Record();
    mu_.Lock();
  }
}

void HotSetKeeper::WarmFromFile() {
  absl::StatusOr<std::vector<std::string>> keys = ReadHotSetFile(path_);
  if (!keys.ok() && !absl::IsNotFound(keys.status())) {
    Log(log_, LogSeverity::kWarning, absl::StrCat("ignoring hot set: ", keys.status().message()));
  }
  if (keys.ok()) {
    {
      absl::MutexLock lock(&mu_);
      unwarmed_ = *keys;  // Until warming finishes, a record keeps every key of the file.
    }
    const absl::Span<const std::string> all(*keys);
    uint64_t budget = warmer_->Budget();
    size_t begin = 0;
    for (; begin < all.size() && budget > 0 && !stopping(); begin += kBatch) {
      absl::StatusOr<size_t> n = warmer_->WarmWithin(all.subspan(begin, kBatch), &budget);
      if (!n.ok()) {
        Log(log_, LogSeverity::kWarning,
            absl::StrCat("warming from the hot set stopped: ", n.status().message()));
        break;
      }
    }
    // Finished: every key was tried or the cache budget is spent. Cut short (Stop() or an
    // error): the file's keys stay listed for Record().
    if (begin >= all.size() || budget == 0) {
      absl::MutexLock lock(&mu_);
      unwarmed_.clear();
    }
  }
  absl::MutexLock lock(&mu_);
  warmed_ = true;
}

void HotSetKeeper::Record() const {
  std::vector<std::string> keys = cache_->HottestKeys(max_keys_);
  {
    absl::MutexLock lock(&mu_);
    if (!unwarmed_.empty() && keys.size() < max_keys_) {
      absl::flat_hash_set<std::string_view> listed(keys.begin(), keys.end());
      std::vector<std::string> rest;
      for (const std::string& k : unwarmed_) {
        if (keys.size() + rest.size() >= max_keys_) break;
        if (listed.insert(k).second) rest.push_back(k);
      }
      keys.insert(keys.end(), rest.begin(), rest.end());
    }
  }
  absl::Status s = WriteHotSetFile(path_, keys);
  if (!s.ok()) {
    Log(log_, LogSeverity::kWarning, absl::StrCat("cannot record the hot set: ", s.message()));
  }
}

}  // namespace asidekv::core
