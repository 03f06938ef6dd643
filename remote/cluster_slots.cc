#include "remote/cluster_slots.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "remote/redis_config.h"
#include "remote/redis_connection.h"
#include "util/monotonic_clock.h"
#include "util/string_view.h"

namespace asidekv::remote {
namespace {

// CRC16-XMODEM (polynomial 0x1021, initial value 0), byte-wise through a table.
constexpr std::array<uint16_t, 256> MakeCrc16Table() {
  std::array<uint16_t, 256> table{};
  for (int i = 0; i < 256; ++i) {
    uint16_t crc = static_cast<uint16_t>(i << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = static_cast<uint16_t>((crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1);
    }
    table[i] = crc;
  }
  return table;
}
constexpr std::array<uint16_t, 256> kCrc16Table = MakeCrc16Table();

uint16_t Crc16(std::string_view bytes) {
  uint16_t crc = 0;
  for (unsigned char c : bytes) {
    crc = static_cast<uint16_t>((crc << 8) ^ kCrc16Table[((crc >> 8) ^ c) & 0xff]);
  }
  return crc;
}

// One tag per slot: the shortest strings over [0-9a-z], in order, until every slot has one.
std::vector<std::string> MakeSlotTags() {
  std::vector<std::string> tags(kClusterSlots);
  size_t left = kClusterSlots;
  constexpr char kAlphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  constexpr int kBase = sizeof(kAlphabet) - 1;
  for (int length = 1; left > 0; ++length) {
    std::string tag(length, kAlphabet[0]);
    std::vector<int> digits(length, 0);
    while (true) {
      for (int i = 0; i < length; ++i) tag[i] = kAlphabet[digits[i]];
      std::string& slot_tag = tags[Crc16(tag) % kClusterSlots];
      if (slot_tag.empty()) {
        slot_tag = tag;
        if (--left == 0) break;
      }
      int i = length - 1;
      while (i >= 0 && ++digits[i] == kBase) digits[i--] = 0;
      if (i < 0) break;
    }
  }
  return tags;
}

bool IsInteger(const RedisReply& r) { return r.type == RedisReply::Type::kInteger; }

}  // namespace

uint16_t KeySlot(std::string_view redis_key) {
  const size_t open = redis_key.find('{');
  if (open != std::string_view::npos) {
    const size_t close = redis_key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) {
      redis_key = redis_key.substr(open + 1, close - open - 1);
    }
  }
  return Crc16(redis_key) % kClusterSlots;
}

const std::string& TagForSlot(uint16_t slot) {
  static const std::vector<std::string>* const tags = new std::vector<std::string>(MakeSlotTags());
  return (*tags)[slot % kClusterSlots];
}

const RedisAddress* ClusterTopology::MasterOf(uint16_t slot) const {
  if (slot >= owner.size() || owner[slot] == kUnassigned) return nullptr;
  return &masters[owner[slot]];
}

uint16_t ClusterTopology::FirstSlotOf(size_t master) const {
  for (size_t slot = 0; slot < owner.size(); ++slot) {
    if (owner[slot] == master) return static_cast<uint16_t>(slot);
  }
  return kUnassigned;
}

bool ClusterTopology::operator==(const ClusterTopology& other) const {
  if (owner.size() != other.owner.size()) return false;
  for (size_t slot = 0; slot < owner.size(); ++slot) {
    const RedisAddress* a = MasterOf(static_cast<uint16_t>(slot));
    const RedisAddress* b = other.MasterOf(static_cast<uint16_t>(slot));
    if ((a == nullptr) != (b == nullptr)) return false;
    if (a != nullptr && (a->host != b->host || a->port != b->port)) return false;
  }
  return true;
}

absl::StatusOr<ClusterTopology> ParseClusterSlots(const RedisReply& reply, std::string_view server,
                                                  const RedisAddress& seed) {
  const auto malformed = [server] {
    return absl::InternalError(
        absl::StrCat(util::ToAbsl(server), ": unexpected reply to CLUSTER SLOTS"));
  };
  if (reply.type != RedisReply::Type::kArray) return malformed();
  // Ranges by master, then the masters sorted by name.
  std::map<std::string, std::pair<RedisAddress, std::vector<std::pair<int64_t, int64_t>>>> by_name;
  for (const RedisReply& range : reply.elements) {
    if (range.elements.size() < 3 || !IsInteger(range.elements[0]) ||
        !IsInteger(range.elements[1])) {
      return malformed();
    }
    const int64_t first = range.elements[0].integer;
    const int64_t last = range.elements[1].integer;
    if (first < 0 || last < first || last >= kClusterSlots) return malformed();
    if (range.elements.size() > 3) {
      return absl::FailedPreconditionError(absl::StrCat(
          util::ToAbsl(server), ": the cluster has replicas (slots ", first, "-", last,
          "): a failover loses the invalidations not yet replicated; use a cluster of masters "
          "only (cluster-replicas 0)"));
    }
    const RedisReply& node = range.elements[2];
    if (node.elements.size() < 2 || !IsInteger(node.elements[1])) return malformed();
    RedisAddress address;
    address.host = node.elements[0].str;
    if (address.host.empty() || address.host == "?") address.host = seed.host;
    address.port = static_cast<int>(node.elements[1].integer);
    auto& entry = by_name[address.ToString()];
    entry.first = address;
    entry.second.emplace_back(first, last);
  }
  ClusterTopology topology;
  topology.owner.assign(kClusterSlots, ClusterTopology::kUnassigned);
  for (auto& [name, entry] : by_name) {
    const auto index = static_cast<uint16_t>(topology.masters.size());
    topology.masters.push_back(entry.first);
    for (const auto& [first, last] : entry.second) {
      std::fill(topology.owner.begin() + first, topology.owner.begin() + last + 1, index);
    }
  }
  return topology;
}

absl::StatusOr<ClusterTopology> FetchClusterTopology(const RedisEndpoint& endpoint,
                                                     absl::Span<const RedisAddress> seeds) {
  absl::Status last = absl::InvalidArgumentError("no Redis Cluster seed");
  for (const RedisAddress& seed : seeds) {
    const RedisEndpoint at = EndpointAt(endpoint, seed);
    const int64_t deadline = util::MonotonicNanos() + at.timeout_nanos;
    absl::StatusOr<std::unique_ptr<RedisConnection>> conn = RedisConnection::Connect(at, deadline);
    if (!conn.ok()) {
      last = conn.status();
      if (last.code() == absl::StatusCode::kPermissionDenied) return last;
      continue;
    }
    absl::StatusOr<RedisReply> reply = (*conn)->Run({"CLUSTER", "SLOTS"}, deadline);
    if (!reply.ok()) {
      last = reply.status();
      continue;
    }
    if (reply->IsError()) {
      if (absl::StrContains(reply->str, "cluster support disabled")) {
        return absl::FailedPreconditionError(
            absl::StrCat(at.server,
                         ": not a Redis Cluster node (cluster support disabled): "
                         "give its plain address \"host:port\" instead"));
      }
      last = (*conn)->ReplyStatus(*reply);
      if (last.code() == absl::StatusCode::kPermissionDenied) return last;
      continue;
    }
    absl::StatusOr<ClusterTopology> topology = ParseClusterSlots(*reply, at.server, seed);
    if (!topology.ok()) return topology.status();
    const size_t unassigned = static_cast<size_t>(
        std::count(topology->owner.begin(), topology->owner.end(), ClusterTopology::kUnassigned));
    if (unassigned > 0) {
      return absl::UnavailableError(absl::StrCat(at.server, ": ", unassigned,
                                                 " hash slots have no master (is the cluster "
                                                 "set up? CLUSTER INFO should say "
                                                 "cluster_state:ok)"));
    }
    return topology;
  }
  return last;
}

}  // namespace asidekv::remote
