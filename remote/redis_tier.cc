#include "remote/redis_tier.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "remote/cluster_router.h"
#include "remote/cluster_slots.h"
#include "remote/redis_config.h"
#include "remote/redis_connection.h"
#include "remote/redis_node.h"
#include "util/monotonic_clock.h"
#include "util/string_view.h"

namespace asidekv::remote {
namespace {

// GETL(v, l; token, lease_ms): {1, value, value pttl} hit, {2} lease won, {3, lease pttl} held.
constexpr char kGetLeaseScript[] = R"lua(
local v = redis.call('GET', KEYS[1])
if v then return {1, v, redis.call('PTTL', KEYS[1])} end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {2} end
return {3, redis.call('PTTL', KEYS[2])}
)lua";

// FILL(v, l; token[, value, ttl_ms]): 1 when the lease held the token (the value, if any, is
// stored and the lease dropped), else 0.
constexpr char kFillScript[] = R"lua(
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
if #ARGV >= 3 then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
redis.call('DEL', KEYS[2])
return 1
)lua";

// INVALIDATE(v, l, w): drops the value and the lease, then writes and deletes the write marker,
// the one key the invalidation channels track: every Store hears of the write exactly once
// (Redis folds the marker's two changes in one event loop turn into one message), whether or not
// Redis held the value. The marker is never left behind.
constexpr char kInvalidateScript[] = R"lua(
redis.call('UNLINK', KEYS[1], KEYS[2])
redis.call('SET', KEYS[3], '1')
redis.call('DEL', KEYS[3])
return 1
)lua";

// Whole milliseconds, rounded up.
int64_t CeilMillis(absl::Duration d) {
  return absl::ToInt64Milliseconds(absl::Ceil(d, absl::Milliseconds(1)));
}

// A key whose braces would hold an empty hash tag (it starts with '}') hashes as a whole, so its
// value, lease and marker would land on three slots: on a cluster it takes the fixed tag instead.
constexpr std::string_view kFixedTag = "#{#}";

std::string KeyUnder(std::string_view prefix, std::string_view kind, std::string_view key,
                     bool cluster) {
  std::string out;
  out.reserve(prefix.size() + kind.size() + key.size() + 4);
  out.append(prefix).append(kind);
  if (cluster && (key.empty() || key.front() == '}')) return out.append(kFixedTag).append(key);
  out.append("{").append(key).append("}");
  return out;
}

// The flush-owed marker (RedisTier::OweFlush).
std::string FlushOwedKey(std::string_view prefix) {
  return absl::StrCat(util::ToAbsl(prefix), ":flush_owed");
}

}  // namespace

std::string ValueKey(std::string_view prefix, std::string_view key, bool cluster) {
  return KeyUnder(prefix, ":v:", key, cluster);
}

std::string LeaseKey(std::string_view prefix, std::string_view key, bool cluster) {
  return KeyUnder(prefix, ":l:", key, cluster);
}

std::string MarkerKey(std::string_view prefix, std::string_view key, bool cluster) {
  return KeyUnder(prefix, ":w:", key, cluster);
}

bool IsFlushMarkerKey(std::string_view prefix, std::string_view redis_key) {
  return redis_key.size() >= prefix.size() + 4 && redis_key.substr(0, prefix.size()) == prefix &&
         redis_key.substr(prefix.size(), 4) == ":w:*";
}

std::string FlushMarkerKey(std::string_view prefix) { return std::string(prefix) + ":w:*"; }

std::optional<std::string_view> KeyOfMarkerKey(std::string_view prefix,
                                               std::string_view redis_key) {
  const size_t fixed = prefix.size() + 3;  // Where the fixed tag would start.
  if (redis_key.size() >= fixed + kFixedTag.size() &&
      redis_key.substr(0, prefix.size()) == prefix && redis_key.substr(prefix.size(), 3) == ":w:" &&
      redis_key.substr(fixed, kFixedTag.size()) == kFixedTag) {
    return redis_key.substr(fixed + kFixedTag.size());
  }
  if (redis_key.size() < prefix.size() + 5 || redis_key.substr(0, prefix.size()) != prefix ||
      redis_key.substr(prefix.size(), 4) != ":w:{" || redis_key.back() != '}') {
    return std::nullopt;
  }
  return redis_key.substr(prefix.size() + 4, redis_key.size() - prefix.size() - 5);
}

// One node (a plain server) or a router over a cluster's masters, and the counters.
class RedisTier::Impl {
 public:
  explicit Impl(RedisEndpoint endpoint) : endpoint_(std::move(endpoint)) {
    std::random_device random;
    token_base_ = (uint64_t{random()} << 32) ^ random();
  }

  static std::vector<std::string_view> Scripts() {
    return {kGetLeaseScript, kFillScript, kInvalidateScript};
  }

  absl::Status Start(const RedisConfig& config) {
    absl::StatusOr<std::vector<RedisAddress>> addresses = ParseRedisAddresses(config.address);
    if (!addresses.ok()) return addresses.status();
    std::vector<std::string> shas;
    if (IsClusterAddress(config.address)) {
      absl::StatusOr<std::unique_ptr<ClusterRouter>> router = ClusterRouter::Connect(
          endpoint_, *std::move(addresses), config.connections, Scripts(), &shas);
      if (!router.ok()) return router.status();
      router_ = *std::move(router);
    } else {
      node_ = std::make_unique<RedisNode>(endpoint_, config.connections, Scripts());
      absl::StatusOr<std::vector<std::string>> started = node_->Start();
      if (!started.ok()) return started.status();
      shas = *std::move(started);
      // A cluster node named as a plain server would answer MOVED for most keys.
      absl::StatusOr<std::vector<RedisReply>> info = node_->Call({{"INFO", "cluster"}});
      if (!info.ok()) return info.status();
      if (info->front().str.find("cluster_enabled:1") != std::string::npos) {
        return absl::FailedPreconditionError(absl::StrCat(
            endpoint_.server, ": is a Redis Cluster node: give the cluster as \"",
            util::ToAbsl(kClusterScheme), "host:port,...\" (this node serves only its slots)"));
      }
    }
    get_lease_sha_ = shas[0];
    fill_sha_ = shas[1];
    invalidate_sha_ = shas[2];
    return absl::OkStatus();
  }

  bool cluster() const { return router_ != nullptr; }

  // The Redis key of `key`'s value / lease / marker.
  std::string Value(std::string_view key) const {
    return ValueKey(endpoint_.prefix, key, cluster());
  }
  std::string Lease(std::string_view key) const {
    return LeaseKey(endpoint_.prefix, key, cluster());
  }
  std::string Marker(std::string_view key) const {
    return MarkerKey(endpoint_.prefix, key, cluster());
  }

  // Runs `commands` in one round trip (on a cluster: one per master, each command on the master
  // of the slot of its first key). Any error reply or failure fails the call.
  absl::StatusOr<std::vector<RedisReply>> Call(const std::vector<RedisCommand>& commands) {
    if (!cluster()) {
      absl::StatusOr<std::vector<RedisReply>> replies = node_->Call(commands);
      if (!replies.ok()) return Failed(replies.status());
      for (const RedisReply& reply : *replies) {
        if (reply.IsError())
          return Failed(ReplyErrorStatus(reply, endpoint_.server, endpoint_.password));
      }
      return replies;
    }
    std::vector<absl::StatusOr<RedisReply>> each = CallEach(commands);
    std::vector<RedisReply> replies;
    replies.reserve(each.size());
    for (absl::StatusOr<RedisReply>& reply : each) {
      if (!reply.ok()) return Failed(reply.status());
      if (reply->IsError()) {
        return Failed(ReplyErrorStatus(*reply, endpoint_.server, endpoint_.password));
      }
      replies.push_back(*std::move(reply));
    }
    return replies;
  }

  // One result per command; on a plain server a failure is every command's.
  std::vector<absl::StatusOr<RedisReply>> CallEach(const std::vector<RedisCommand>& commands) {
    if (!cluster()) {
      absl::StatusOr<std::vector<RedisReply>> replies = node_->Call(commands);
      if (!replies.ok()) {
        return std::vector<absl::StatusOr<RedisReply>>(commands.size(), replies.status());
      }
      return std::vector<absl::StatusOr<RedisReply>>(std::make_move_iterator(replies->begin()),
                                                     std::make_move_iterator(replies->end()));
    }
    std::vector<uint16_t> slots;
    slots.reserve(commands.size());
    for (const RedisCommand& command : commands) slots.push_back(KeySlot(FirstKey(command)));
    return router_->Call(commands, slots);
  }

  absl::Status Failed(absl::Status s) {
    errors_.fetch_add(1, std::memory_order_relaxed);
    return s;
  }

  uint64_t NextToken() {
    while (true) {
      const uint64_t token = token_base_ + next_token_.fetch_add(1, std::memory_order_relaxed);
      if (token != 0) return token;
    }
  }

  const RedisEndpoint endpoint_;
  // Set by Start(), before the tier is shared; constant afterwards. Exactly one is non-null.
  std::unique_ptr<RedisNode> node_;
  std::unique_ptr<ClusterRouter> router_;
  std::string get_lease_sha_;
  std::string fill_sha_;
  std::string invalidate_sha_;
  uint64_t token_base_ = 0;
  std::atomic<uint64_t> next_token_{1};

  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> leases_won_{0};
  std::atomic<uint64_t> leases_held_{0};
  std::atomic<uint64_t> fills_{0};
  std::atomic<uint64_t> fills_rejected_{0};
  std::atomic<uint64_t> invalidations_{0};
  std::atomic<uint64_t> errors_{0};

 private:
  // The key a command routes by: EVALSHA's first key, else the first argument.
  static std::string_view FirstKey(const RedisCommand& command) {
    if (command.size() > 3 && command[0] == "EVALSHA") return command[3];
    return command.size() > 1 ? std::string_view(command[1]) : std::string_view();
  }
};

absl::StatusOr<std::unique_ptr<RedisTier>> RedisTier::Connect(const RedisConfig& config) {
  absl::StatusOr<RedisEndpoint> endpoint = MakeRedisEndpoint(config);
  if (!endpoint.ok()) return endpoint.status();
  auto impl = std::make_unique<Impl>(*std::move(endpoint));
  absl::Status s = impl->Start(config);
  if (!s.ok()) return s;
  return std::unique_ptr<RedisTier>(new RedisTier(std::move(impl)));
}

RedisTier::RedisTier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RedisTier::~RedisTier() = default;

absl::StatusOr<std::vector<LeaseResult>> RedisTier::GetOrLease(
    absl::Span<const std::string_view> keys, absl::Duration lease_ttl) {
  if (lease_ttl < absl::Milliseconds(1)) {
    return impl_->Failed(absl::InvalidArgumentError("lease_ttl must be at least 1 ms"));
  }
  if (keys.empty()) return std::vector<LeaseResult>();
  std::vector<LeaseResult> results(keys.size());
  // First round trip: plain GET and PTTL of every value key, so that a hit costs Redis what a
  // GET costs (a script call costs it about five times more).
  std::vector<RedisCommand> commands;
  commands.reserve(2 * keys.size());
  for (std::string_view key : keys) {
    std::string value_key = impl_->Value(key);
    commands.push_back({"GET", value_key});
    commands.push_back({"PTTL", std::move(value_key)});
  }
  absl::StatusOr<std::vector<RedisReply>> replies = impl_->Call(commands);
  if (!replies.ok()) return replies.status();
  std::vector<size_t> missed;
  for (size_t i = 0; i < keys.size(); ++i) {
    RedisReply& value = (*replies)[2 * i];
    const int64_t pttl = (*replies)[2 * i + 1].integer;
    // Absent, or gone between the two commands (PTTL -2): the lease script decides.
    if (value.type != RedisReply::Type::kString || pttl == -2) {
      missed.push_back(i);
      continue;
    }
    results[i].kind = LeaseResult::Kind::kHit;
    results[i].value = std::move(value.str);
    if (pttl > 0) results[i].ttl = absl::Milliseconds(pttl);
    impl_->hits_.fetch_add(1, std::memory_order_relaxed);
  }
  if (missed.empty()) return results;
  // Second round trip, for the misses only: the lease script, which looks again and takes the
  // lease atomically.
  const std::string lease_ms = absl::StrCat(CeilMillis(lease_ttl));
  std::vector<uint64_t> tokens;
  commands.clear();
  tokens.reserve(missed.size());
  for (size_t i : missed) {
    tokens.push_back(impl_->NextToken());
    commands.push_back({"EVALSHA", impl_->get_lease_sha_, "2", impl_->Value(keys[i]),
                        impl_->Lease(keys[i]), absl::StrCat(tokens.back()), lease_ms});
  }
  replies = impl_->Call(commands);
  if (!replies.ok()) return replies.status();
  for (size_t m = 0; m < missed.size(); ++m) {
    const size_t i = missed[m];
    const RedisReply& reply = (*replies)[m];
    if (reply.elements.empty() || reply.elements[0].type != RedisReply::Type::kInteger) {
      return impl_->Failed(absl::InternalError(
          absl::StrCat(impl_->endpoint_.server, ": unexpected reply of the lease script")));
    }
    LeaseResult& result = results[i];
    switch (reply.elements[0].integer) {
      case 1:
        result.kind = LeaseResult::Kind::kHit;
        if (reply.elements.size() > 1) result.value = reply.elements[1].str;
        if (reply.elements.size() > 2 && reply.elements[2].integer > 0) {
          result.ttl = absl::Milliseconds(reply.elements[2].integer);
        }
        impl_->hits_.fetch_add(1, std::memory_order_relaxed);
        break;
      case 2:
        result.kind = LeaseResult::Kind::kWon;
        result.token = tokens[m];
        impl_->leases_won_.fetch_add(1, std::memory_order_relaxed);
        break;
      default:
        result.kind = LeaseResult::Kind::kHeld;
        if (reply.elements.size() > 1 && reply.elements[1].integer > 0) {
          result.held_for = absl::Milliseconds(reply.elements[1].integer);
        }
        impl_->leases_held_.fetch_add(1, std::memory_order_relaxed);
        break;
    }
  }
  return results;
}

absl::StatusOr<std::vector<bool>> RedisTier::Fill(absl::Span<const FillRequest> fills) {
  std::vector<RedisCommand> commands;
  commands.reserve(fills.size());
  for (const FillRequest& fill : fills) {
    RedisCommand command = {"EVALSHA",
                            impl_->fill_sha_,
                            "2",
                            impl_->Value(fill.key),
                            impl_->Lease(fill.key),
                            absl::StrCat(fill.token)};
    if (fill.value.has_value()) {
      if (fill.ttl <= absl::ZeroDuration()) {
        return impl_->Failed(absl::InvalidArgumentError("a Fill's ttl must be positive"));
      }
      command.emplace_back(*fill.value);
      command.push_back(absl::StrCat(CeilMillis(fill.ttl)));
    }
    commands.push_back(std::move(command));
  }
  if (commands.empty()) return std::vector<bool>();
  absl::StatusOr<std::vector<RedisReply>> replies = impl_->Call(commands);
  if (!replies.ok()) return replies.status();
  std::vector<bool> stored(fills.size());
  for (size_t i = 0; i < fills.size(); ++i) {
    const RedisReply& reply = (*replies)[i];
    stored[i] = reply.integer == 1;
    if (!stored[i]) {
      impl_->fills_rejected_.fetch_add(1, std::memory_order_relaxed);
    } else if (fills[i].value.has_value()) {
      impl_->fills_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  return stored;
}

absl::Status RedisTier::Invalidate(absl::Span<const std::string_view> keys,
                                   std::vector<bool>* landed) {
  if (landed != nullptr) landed->assign(keys.size(), false);
  if (keys.empty()) return absl::OkStatus();
  std::vector<RedisCommand> commands;
  commands.reserve(keys.size());
  for (std::string_view key : keys) {
    commands.push_back({"EVALSHA", impl_->invalidate_sha_, "3", impl_->Value(key),
                        impl_->Lease(key), impl_->Marker(key)});
  }
  std::vector<absl::StatusOr<RedisReply>> replies = impl_->CallEach(commands);
  absl::Status first;
  uint64_t done = 0;
  for (size_t i = 0; i < replies.size(); ++i) {
    const absl::StatusOr<RedisReply>& reply = replies[i];
    absl::Status s = reply.status();
    // E.g. OOM under maxmemory-policy noeviction: the marker was not written, so no Store heard
    // of the write; the caller keeps the key owed and tries again.
    if (s.ok() && reply->IsError()) {
      s = absl::UnavailableError(
          absl::StrCat(impl_->endpoint_.server, ": invalidation refused: ", reply->str));
    }
    if (!s.ok()) {
      if (first.ok()) first = s;
      continue;
    }
    ++done;
    if (landed != nullptr) (*landed)[i] = true;
  }
  impl_->invalidations_.fetch_add(done, std::memory_order_relaxed);
  if (!first.ok()) return impl_->Failed(first);
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> RedisTier::FlushAll() {
  // The prefix as a glob pattern: its own glob characters escaped.
  std::string pattern;
  for (char c : impl_->endpoint_.prefix) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') pattern.push_back('\\');
    pattern.push_back(c);
  }
  // Every server holds its own keys: a plain server, or each master of the cluster.
  std::vector<std::optional<RedisAddress>> servers = {std::nullopt};
  ClusterTopology topology;
  if (impl_->cluster()) {
    topology = impl_->router_->topology();
    servers.assign(topology.masters.begin(), topology.masters.end());
  }
  uint64_t removed = 0;
  for (const char* kind : {":l:*", ":v:*"}) {
    const std::string match = pattern + kind;
    for (const std::optional<RedisAddress>& server : servers) {
      std::string cursor = "0";
      do {
        const std::vector<RedisCommand> scan = {{"SCAN", cursor, "MATCH", match, "COUNT", "1000"}};
        // (Call counts its failures; CallOn, which skips the routing, does not.)
        absl::StatusOr<std::vector<RedisReply>> page =
            server.has_value() ? impl_->router_->CallOn(*server, scan) : impl_->Call(scan);
        if (!page.ok()) return server.has_value() ? impl_->Failed(page.status()) : page.status();
        if (server.has_value() && page->front().IsError()) {
          return impl_->Failed(
              ReplyErrorStatus(page->front(), impl_->endpoint_.server, impl_->endpoint_.password));
        }
        const RedisReply& reply = page->front();
        if (reply.elements.size() != 2) {
          return impl_->Failed(absl::InternalError(
              absl::StrCat(impl_->endpoint_.server, ": unexpected reply to SCAN")));
        }
        cursor = reply.elements[0].str;
        // One UNLINK for the page; on a cluster one per key (the keys span slots).
        std::vector<RedisCommand> unlink = {{"UNLINK"}};
        for (const RedisReply& key : reply.elements[1].elements) {
          if (impl_->cluster()) {
            unlink.push_back({"UNLINK", key.str});
          } else {
            unlink.front().push_back(key.str);
          }
        }
        if (impl_->cluster()) unlink.erase(unlink.begin());
        if (unlink.empty() || unlink.front().size() == 1) continue;
        absl::StatusOr<std::vector<RedisReply>> done = impl_->Call(unlink);
        if (!done.ok()) return done.status();
        for (const RedisReply& r : *done) removed += static_cast<uint64_t>(r.integer);
      } while (cursor != "0");
    }
  }
  // Values are not tracked: the flush marker tells every Store to flush its near cache (and
  // reject the fills in flight), after the values are gone. On a cluster each master tracks its
  // own slots: one marker per master, tagged onto one of its slots.
  std::vector<RedisCommand> told;
  const std::string flush = FlushMarkerKey(impl_->endpoint_.prefix);
  if (!impl_->cluster()) {
    told = {{"SET", flush, "1"}, {"DEL", flush}};
  }
  for (size_t m = 0; m < topology.masters.size(); ++m) {
    const uint16_t slot = topology.FirstSlotOf(m);
    if (slot == ClusterTopology::kUnassigned) continue;
    const std::string marker = absl::StrCat(flush, "{", TagForSlot(slot), "}");
    told.push_back({"SET", marker, "1"});
    told.push_back({"DEL", marker});
  }
  std::vector<absl::StatusOr<RedisReply>> answers = impl_->CallEach(told);
  for (const absl::StatusOr<RedisReply>& reply : answers) {
    if (!reply.ok()) return impl_->Failed(reply.status());
    if (reply->IsError()) {
      return impl_->Failed(absl::UnavailableError(
          absl::StrCat(impl_->endpoint_.server, ": flush marker refused: ", reply->str)));
    }
  }
  absl::StatusOr<std::vector<RedisReply>> cleared =
      impl_->Call({{"DEL", FlushOwedKey(impl_->endpoint_.prefix)}});
  if (!cleared.ok()) return cleared.status();
  return removed;
}

absl::Status RedisTier::OweFlush() {
  return impl_->Call({{"SET", FlushOwedKey(impl_->endpoint_.prefix), "1"}}).status();
}

absl::StatusOr<bool> RedisTier::FlushOwed() {
  absl::StatusOr<std::vector<RedisReply>> r =
      impl_->Call({{"EXISTS", FlushOwedKey(impl_->endpoint_.prefix)}});
  if (!r.ok()) return r.status();
  return r->front().integer > 0;
}

absl::StatusOr<std::string> RedisTier::GetValue(std::string_view key) {
  absl::StatusOr<std::vector<RedisReply>> replies = impl_->Call({{"GET", impl_->Value(key)}});
  if (!replies.ok()) return replies.status();
  const RedisReply& reply = replies->front();
  if (reply.type == RedisReply::Type::kNil) {
    return absl::NotFoundError(absl::StrCat(impl_->endpoint_.server, ": no cached value"));
  }
  return reply.str;
}

bool RedisTier::available() const {
  return impl_->cluster() ? impl_->router_->available() : impl_->node_->available();
}

std::string RedisTier::run_id() const {
  return impl_->cluster() ? std::string() : impl_->node_->run_id();
}

bool RedisTier::cluster() const { return impl_->cluster(); }

uint64_t RedisTier::topology_epoch() const {
  return impl_->cluster() ? impl_->router_->epoch() : 0;
}

absl::StatusOr<bool> RedisTier::RefreshTopology() {
  if (!impl_->cluster()) return false;
  return impl_->router_->Refresh();
}

std::vector<RedisAddress> RedisTier::masters() const {
  if (!impl_->cluster()) return {impl_->endpoint_.address};
  return impl_->router_->topology().masters;
}

RedisTierStats RedisTier::GetStats() const {
  RedisTierStats s;
  s.hits = impl_->hits_.load(std::memory_order_relaxed);
  s.leases_won = impl_->leases_won_.load(std::memory_order_relaxed);
  s.leases_held = impl_->leases_held_.load(std::memory_order_relaxed);
  s.fills = impl_->fills_.load(std::memory_order_relaxed);
  s.fills_rejected = impl_->fills_rejected_.load(std::memory_order_relaxed);
  s.invalidations = impl_->invalidations_.load(std::memory_order_relaxed);
  s.errors = impl_->errors_.load(std::memory_order_relaxed);
  s.reconnects = impl_->cluster() ? impl_->router_->reconnects() : impl_->node_->reconnects();
  return s;
}

const std::string& RedisTier::server() const { return impl_->endpoint_.server; }

}  // namespace asidekv::remote
