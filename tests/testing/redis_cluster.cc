#include "tests/testing/redis_cluster.h"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/testing/redis_server.h"

namespace asidekv::testing {
namespace {

constexpr int kSlots = 16384;

}  // namespace

RedisCluster::RedisCluster() = default;
RedisCluster::~RedisCluster() = default;

absl::Status RedisCluster::Init(int masters, RedisServerOptions options) {
  if (masters < 1) return absl::InvalidArgumentError("a cluster needs a master");
  options.cluster = true;
  for (int i = 0; i < masters; ++i) {
    nodes_.push_back(std::make_unique<RedisServer>());
    absl::Status s = nodes_.back()->Init(options);
    if (!s.ok()) return s;
  }
  for (int i = 0; i < masters; ++i) {
    const int first = kSlots * i / masters;
    const int last = kSlots * (i + 1) / masters - 1;
    absl::StatusOr<std::string> r =
        nodes_[i]->Call({"CLUSTER", "ADDSLOTSRANGE", std::to_string(first), std::to_string(last)});
    if (!r.ok()) return r.status();
  }
  // Distinct config epochs before the nodes meet (as redis-cli --cluster create does): else
  // they settle their collisions while the first tests run, and a slot given away by
  // SETSLOT NODE can bounce back to a node whose epoch came out higher.
  for (int i = 0; i < masters; ++i) {
    absl::StatusOr<std::string> r =
        nodes_[i]->Call({"CLUSTER", "SET-CONFIG-EPOCH", std::to_string(i + 1)});
    if (!r.ok()) return r.status();
  }
  for (int i = 1; i < masters; ++i) {
    absl::StatusOr<std::string> r =
        nodes_[0]->Call({"CLUSTER", "MEET", "127.0.0.1", std::to_string(nodes_[i]->port()),
                         std::to_string(nodes_[i]->cluster_port())});
    if (!r.ok()) return r.status();
  }
  return WaitHealthy();
}

std::string RedisCluster::address() const {
  std::vector<std::string> seeds;
  for (const auto& node : nodes_) seeds.push_back(node->address());
  return absl::StrCat("redis-cluster://", absl::StrJoin(seeds, ","));
}

absl::Status RedisCluster::WaitHealthy(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string last;
  while (absl::Now() < deadline) {
    bool healthy = true;
    for (const auto& node : nodes_) {
      if (!node->running()) continue;
      absl::StatusOr<std::string> info = node->Call({"CLUSTER", "INFO"});
      if (!info.ok() || !absl::StrContains(*info, "cluster_state:ok") ||
          !absl::StrContains(*info, absl::StrCat("cluster_size:", nodes_.size()))) {
        healthy = false;
        last = info.ok() ? *info : std::string(info.status().message());
        break;
      }
    }
    if (healthy) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError(absl::StrCat("the cluster is not healthy: ", last));
}

absl::StatusOr<std::string> RedisCluster::NodeId(int i) {
  return nodes_[i]->Call({"CLUSTER", "MYID"});
}

absl::StatusOr<int> RedisCluster::SlotOf(std::string_view redis_key) {
  absl::StatusOr<std::string> r = nodes_[0]->Call({"CLUSTER", "KEYSLOT", std::string(redis_key)});
  if (!r.ok()) return r.status();
  int slot = 0;
  if (!absl::SimpleAtoi(*r, &slot)) return absl::InternalError(*r);
  return slot;
}

absl::StatusOr<int> RedisCluster::NodeOf(int slot, int ask) {
  // CLUSTER SLOTS flattened: per range "first\nlast\nhost\nport\nid" (plus metadata lines).
  absl::StatusOr<std::string> r = nodes_[ask]->Call({"CLUSTER", "SLOTS"});
  if (!r.ok()) return r.status();
  std::vector<std::string> lines = absl::StrSplit(*r, '\n');
  for (size_t i = 0; i + 3 < lines.size(); ++i) {
    int first = 0, last = 0, port = 0;
    if (!absl::SimpleAtoi(lines[i], &first) || !absl::SimpleAtoi(lines[i + 1], &last) ||
        lines[i + 2] != "127.0.0.1" || !absl::SimpleAtoi(lines[i + 3], &port)) {
      continue;
    }
    if (slot < first || slot > last) continue;
    for (size_t n = 0; n < nodes_.size(); ++n) {
      if (nodes_[n]->port() == port) return static_cast<int>(n);
    }
  }
  return absl::NotFoundError(absl::StrCat("no node serves slot ", slot));
}

absl::Status RedisCluster::BeginMigration(int slot, int to) {
  absl::StatusOr<int> from = NodeOf(slot);
  if (!from.ok()) return from.status();
  if (*from == to) return absl::InvalidArgumentError("the slot is already there");
  absl::StatusOr<std::string> from_id = NodeId(*from);
  absl::StatusOr<std::string> to_id = NodeId(to);
  if (!from_id.ok()) return from_id.status();
  if (!to_id.ok()) return to_id.status();
  const std::string s = std::to_string(slot);
  absl::StatusOr<std::string> r =
      nodes_[to]->Call({"CLUSTER", "SETSLOT", s, "IMPORTING", *from_id});
  if (!r.ok()) return r.status();
  r = nodes_[*from]->Call({"CLUSTER", "SETSLOT", s, "MIGRATING", *to_id});
  if (!r.ok()) return r.status();
  migrating_slot_ = slot;
  from_ = *from;
  to_ = to;
  return absl::OkStatus();
}

absl::Status RedisCluster::MigrateKeys(int slot) {
  if (slot != migrating_slot_) return absl::FailedPreconditionError("no such migration begun");
  while (true) {
    absl::StatusOr<std::string> keys =
        nodes_[from_]->Call({"CLUSTER", "GETKEYSINSLOT", std::to_string(slot), "100"});
    if (!keys.ok()) return keys.status();
    if (keys->empty()) return absl::OkStatus();
    std::vector<std::string> command = {"MIGRATE", "127.0.0.1", std::to_string(nodes_[to_]->port()),
                                        "",        "0",         "5000",
                                        "REPLACE", "KEYS"};
    for (absl::string_view key : absl::StrSplit(*keys, '\n')) command.emplace_back(key);
    absl::StatusOr<std::string> r = nodes_[from_]->Call(command);
    if (!r.ok()) return r.status();
  }
}

absl::Status RedisCluster::FinishMigration(int slot) {
  if (slot != migrating_slot_) return absl::FailedPreconditionError("no such migration begun");
  absl::StatusOr<std::string> to_id = NodeId(to_);
  if (!to_id.ok()) return to_id.status();
  // The target first, then the source, then the others (Redis's order).
  std::vector<int> order = {to_, from_};
  for (int i = 0; i < size(); ++i) {
    if (i != to_ && i != from_) order.push_back(i);
  }
  for (int i : order) {
    absl::StatusOr<std::string> r =
        nodes_[i]->Call({"CLUSTER", "SETSLOT", std::to_string(slot), "NODE", *to_id});
    if (!r.ok()) return r.status();
  }
  migrating_slot_ = -1;
  // Until every running node names the target.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  for (int i = 0; i < size(); ++i) {
    while (nodes_[i]->running()) {
      absl::StatusOr<int> at = NodeOf(slot, i);
      if (at.ok() && *at == to_) break;
      if (absl::Now() > deadline) {
        return absl::DeadlineExceededError(
            absl::StrCat("node ", i, " does not see slot ", slot, " on node ", to_));
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
  }
  return absl::OkStatus();
}

absl::Status RedisCluster::Move(int slot, int to) {
  absl::Status s = BeginMigration(slot, to);
  if (s.ok()) s = MigrateKeys(slot);
  if (s.ok()) s = FinishMigration(slot);
  return s;
}

}  // namespace asidekv::testing
