#include "remote/cluster_router.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "remote/cluster_slots.h"
#include "remote/redis_connection.h"
#include "remote/redis_node.h"
#include "util/monotonic_clock.h"
#include "util/string_view.h"

namespace asidekv::remote {
namespace {

constexpr absl::Duration kFirstTryAgain = absl::Milliseconds(1);
constexpr absl::Duration kMaxTryAgain = absl::Milliseconds(50);

// "MOVED 3999 127.0.0.1:6381" / "ASK ...": the target, or nullopt if `reply` is not `kind`.
std::optional<RedisAddress> Redirect(const RedisReply& reply, std::string_view kind) {
  if (!reply.IsError(kind)) return std::nullopt;
  const std::string& text = reply.str;
  const size_t space = text.rfind(' ');
  const size_t colon = text.rfind(':');
  if (space == std::string::npos || colon == std::string::npos || colon < space) {
    return std::nullopt;
  }
  RedisAddress address;
  address.host = text.substr(space + 1, colon - space - 1);
  if (!absl::SimpleAtoi(util::ToAbsl(std::string_view(text).substr(colon + 1)), &address.port) ||
      address.host.empty()) {
    return std::nullopt;
  }
  return address;
}

// Where one command goes next.
struct Pending {
  size_t index;
  std::shared_ptr<RedisNode> node;
  bool asking = false;
  int redirects = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ClusterRouter>> ClusterRouter::Connect(
    const RedisEndpoint& endpoint, std::vector<RedisAddress> seeds, int connections,
    std::vector<std::string_view> scripts, std::vector<std::string>* shas) {
  absl::StatusOr<ClusterTopology> topology = FetchClusterTopology(endpoint, seeds);
  if (!topology.ok()) return topology.status();
  std::vector<RedisAddress> masters = topology->masters;
  std::unique_ptr<ClusterRouter> router(new ClusterRouter(
      endpoint, std::move(seeds), connections, std::move(scripts), *std::move(topology)));
  for (const RedisAddress& master : masters) {
    absl::StatusOr<std::vector<std::string>> started = router->NodeAt(master)->Start();
    if (!started.ok()) return started.status();
    *shas = *std::move(started);
  }
  return router;
}

ClusterRouter::ClusterRouter(RedisEndpoint endpoint, std::vector<RedisAddress> seeds,
                             int connections, std::vector<std::string_view> scripts,
                             ClusterTopology topology)
    : endpoint_(std::move(endpoint)),
      seeds_(std::move(seeds)),
      connections_(connections),
      scripts_(std::move(scripts)),
      topology_(std::move(topology)) {}

std::shared_ptr<RedisNode> ClusterRouter::NodeAt(const RedisAddress& address) {
  const std::string name = address.ToString();
  absl::MutexLock lock(&mu_);
  std::shared_ptr<RedisNode>& node = nodes_[name];
  if (node == nullptr) {
    node = std::make_shared<RedisNode>(EndpointAt(endpoint_, address), connections_, scripts_);
  }
  return node;
}

std::shared_ptr<RedisNode> ClusterRouter::NodeOf(uint16_t slot) {
  std::optional<RedisAddress> master;
  {
    absl::MutexLock lock(&mu_);
    const RedisAddress* at = topology_.MasterOf(slot);
    if (at != nullptr) master = *at;
  }
  if (!master.has_value()) return nullptr;
  return NodeAt(*master);
}

void ClusterRouter::Moved(uint16_t slot, const RedisAddress& address) {
  absl::MutexLock lock(&mu_);
  const RedisAddress* now = topology_.MasterOf(slot);
  if (now != nullptr && now->host == address.host && now->port == address.port) return;
  auto it = std::find_if(
      topology_.masters.begin(), topology_.masters.end(),
      [&](const RedisAddress& m) { return m.host == address.host && m.port == address.port; });
  if (it == topology_.masters.end()) {
    topology_.masters.push_back(address);
    it = topology_.masters.end() - 1;
  }
  topology_.owner[slot] = static_cast<uint16_t>(it - topology_.masters.begin());
  epoch_.fetch_add(1, std::memory_order_acq_rel);
}

std::vector<absl::StatusOr<RedisReply>> ClusterRouter::Call(
    const std::vector<RedisCommand>& commands, absl::Span<const uint16_t> slots) {
  std::vector<absl::StatusOr<RedisReply>> results(
      commands.size(), absl::UnavailableError(absl::StrCat(endpoint_.server, ": not sent")));
  std::vector<Pending> pending;
  pending.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    std::shared_ptr<RedisNode> node = NodeOf(slots[i]);
    if (node == nullptr) {
      results[i] = absl::UnavailableError(
          absl::StrCat(endpoint_.server, ": no master serves hash slot ", slots[i]));
      continue;
    }
    pending.push_back({i, std::move(node)});
  }
  const int64_t deadline = util::MonotonicNanos() + endpoint_.timeout_nanos;
  absl::Duration try_again = kFirstTryAgain;
  while (!pending.empty()) {
    // Stable grouping by node, so each master gets one pipeline with the commands in order.
    std::stable_sort(pending.begin(), pending.end(), [](const Pending& a, const Pending& b) {
      return a.node.get() < b.node.get();
    });
    std::vector<Pending> next;
    bool again = false;
    for (size_t begin = 0; begin < pending.size();) {
      size_t end = begin;
      std::vector<RedisCommand> pipeline;
      std::vector<size_t> reply_of;  // Index in `pending` of each reply that answers a command.
      while (end < pending.size() && pending[end].node == pending[begin].node) {
        if (pending[end].asking) pipeline.push_back({"ASKING"});
        pipeline.push_back(commands[pending[end].index]);
        reply_of.push_back(pipeline.size() - 1);
        ++end;
      }
      RedisNode& node = *pending[begin].node;
      absl::StatusOr<std::vector<RedisReply>> replies = node.Call(pipeline);
      for (size_t p = begin; p < end; ++p) {
        Pending& cmd = pending[p];
        if (!replies.ok()) {
          results[cmd.index] = replies.status();
          continue;
        }
        RedisReply& reply = (*replies)[reply_of[p - begin]];
        std::optional<RedisAddress> moved = Redirect(reply, "MOVED");
        std::optional<RedisAddress> ask = moved ? std::nullopt : Redirect(reply, "ASK");
        const bool retry = reply.IsError("TRYAGAIN");
        if ((moved || ask || retry) && cmd.redirects < kMaxRedirects) {
          if (moved) Moved(slots[cmd.index], *moved);
          Pending follow{cmd.index, cmd.node, ask.has_value(), cmd.redirects + 1};
          if (moved || ask) follow.node = NodeAt(moved ? *moved : *ask);
          if (retry) {
            again = true;
            follow.redirects = cmd.redirects;  // TRYAGAIN is bounded by the deadline instead.
            follow.asking = cmd.asking;
          }
          next.push_back(std::move(follow));
          continue;
        }
        results[cmd.index] = std::move(reply);
      }
      begin = end;
    }
    pending = std::move(next);
    if (pending.empty()) break;
    if (util::MonotonicNanos() >= deadline) {
      for (const Pending& cmd : pending) {
        results[cmd.index] = absl::UnavailableError(absl::StrCat(
            endpoint_.server, ": hash slot ", slots[cmd.index],
            " is being migrated (TRYAGAIN) or redirected for longer than the timeout"));
      }
      break;
    }
    if (again) {
      absl::SleepFor(try_again);
      try_again = std::min(2 * try_again, kMaxTryAgain);
    }
  }
  return results;
}

absl::StatusOr<std::vector<RedisReply>> ClusterRouter::CallOn(
    const RedisAddress& master, const std::vector<RedisCommand>& commands) {
  return NodeAt(master)->Call(commands);
}

absl::StatusOr<bool> ClusterRouter::Refresh() {
  std::vector<RedisAddress> masters;
  {
    absl::MutexLock lock(&mu_);
    masters = topology_.masters;
  }
  // The masters' pooled connections first (no new connection each time; a master that is
  // down fails at once behind its breaker), then the seeds on fresh ones.
  absl::StatusOr<ClusterTopology> fresh = absl::UnavailableError("no master answered");
  for (const RedisAddress& master : masters) {
    std::shared_ptr<RedisNode> node = NodeAt(master);
    absl::StatusOr<std::vector<RedisReply>> reply = node->Call({{"CLUSTER", "SLOTS"}});
    if (!reply.ok() || reply->front().IsError()) continue;
    fresh = ParseClusterSlots(reply->front(), node->endpoint().server, master);
    if (fresh.ok()) break;
  }
  if (!fresh.ok()) fresh = FetchClusterTopology(endpoint_, seeds_);
  if (!fresh.ok()) return fresh.status();
  absl::MutexLock lock(&mu_);
  if (*fresh == topology_) return false;
  topology_ = *std::move(fresh);
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  return true;
}

ClusterTopology ClusterRouter::topology() const {
  absl::MutexLock lock(&mu_);
  return topology_;
}

bool ClusterRouter::available() const {
  absl::MutexLock lock(&mu_);
  for (const RedisAddress& master : topology_.masters) {
    auto it = nodes_.find(master.ToString());
    if (it != nodes_.end() && !it->second->available()) return false;
  }
  return true;
}

uint64_t ClusterRouter::reconnects() const {
  absl::MutexLock lock(&mu_);
  uint64_t sum = 0;
  for (const auto& [name, node] : nodes_) sum += node->reconnects();
  return sum;
}

}  // namespace asidekv::remote
