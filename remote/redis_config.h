// RedisConfig: where the Redis tier lives and how to talk to it (the remote module's view of
// Options::redis*; core/ fills it in).
//
// Address forms: "host:port" (a name or an IPv4 address), "[v6-address]:port", "unix:/path", or a
// Redis Cluster: "redis-cluster://host:port,host:port,..." (seed nodes over TCP; any one that
// answers gives the cluster's masters: remote/cluster_slots.h).
// The password is a secret: no error message, log line or stats text of this module contains it
// (every text that might echo it goes through util::ScrubSecret()).

#ifndef ASIDEKV_REMOTE_REDIS_CONFIG_H_
#define ASIDEKV_REMOTE_REDIS_CONFIG_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace asidekv::remote {

struct RedisConfig {
  std::string address;
  // AUTH: with a password and no user, `AUTH <password>` (requirepass); with both, the ACL form
  // `AUTH <user> <password>`. No password: no AUTH.
  std::string user;
  std::string password;
  // Namespace of the keys: a key k's value lives at "<prefix>:v:{k}", its lease at
  // "<prefix>:l:{k}", its write marker at "<prefix>:w:{k}" (one hash slot for the three).
  // Non-empty, no '{' or '}'.
  std::string prefix = "akv";
  // Data connections kept open (each used by one call at a time). [1, 256].
  int connections = 4;
  // Bound of a connect and of each round trip; a call that passes it fails with
  // DeadlineExceeded and its connection is closed.
  absl::Duration timeout = absl::Seconds(1);
};

// The scheme of a Redis Cluster address.
inline constexpr std::string_view kClusterScheme = "redis-cluster://";

// Whether `address` names a Redis Cluster (starts with kClusterScheme).
bool IsClusterAddress(std::string_view address);

// A parsed address.
struct RedisAddress {
  bool unix_socket = false;
  std::string host;  // Or the socket's path.
  int port = 0;
  // "127.0.0.1:6380", "[::1]:6380" or "unix:/tmp/r.sock": for messages.
  std::string ToString() const;
};

// InvalidArgument naming what is wrong (empty, no port, port out of range, empty path).
absl::StatusOr<RedisAddress> ParseRedisAddress(std::string_view address);

// The seeds of a cluster address: at least one "host:port" or "[v6]:port" after the scheme,
// comma-separated (spaces around entries are ignored). InvalidArgument naming the entry that is
// wrong (a unix socket is refused: cluster nodes announce TCP addresses).
absl::StatusOr<std::vector<RedisAddress>> ParseClusterSeeds(std::string_view address);

// ParseRedisAddress or, for a cluster address, ParseClusterSeeds: the addresses to try, in order.
absl::StatusOr<std::vector<RedisAddress>> ParseRedisAddresses(std::string_view address);

// The parsed address (a cluster's first seed) of a valid `config`, else InvalidArgument naming the
// field that is wrong (address, prefix, connections, timeout >= 1 ms). RedisTier::Connect and
// InvalidationChannel::Start call it first.
absl::StatusOr<RedisAddress> ValidateRedisConfig(const RedisConfig& config);

}  // namespace asidekv::remote

#endif  // ASIDEKV_REMOTE_REDIS_CONFIG_H_
