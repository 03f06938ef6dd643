// RedisCluster: a private Redis Cluster of masters only, on localhost, for one test.
//
// Init(n) starts n RedisServer nodes with cluster support (RedisServerOptions::cluster: each in
// its own folder, on free ports, never the default ones), gives each an even share of the 16384
// slots (CLUSTER ADDSLOTSRANGE), joins them (CLUSTER MEET from node 0) and waits until every
// node says cluster_state:ok and knows every master. No replicas: the tier refuses them. About
// 1 s on this machine class.
//
// Faults: node(i).Kill() / Start() (SIGKILL, restart: it comes back empty and rejoins with its
// slots, from its nodes.conf) and Pause() / Unpause(). Slot migration in the steps Redis takes
// (CLUSTER SETSLOT IMPORTING / MIGRATING, MIGRATE, SETSLOT NODE), so a test can run traffic
// between them. Every command goes through RedisServer::Call (no child process: safe while the
// test's threads run).
//
// Example:
//   RedisCluster cluster;
//   ASSERT_OK(cluster.Init(3));
//   options.redis = cluster.address();   // "redis-cluster://127.0.0.1:p0,127.0.0.1:p1,..."
//
// Thread safety: none; one test thread drives it.
// Ownership: owns the nodes; the destructor kills them by PID and removes their folders.

#ifndef ASIDEKV_TESTS_TESTING_REDIS_CLUSTER_H_
#define ASIDEKV_TESTS_TESTING_REDIS_CLUSTER_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/testing/redis_server.h"

namespace asidekv::testing {

class RedisCluster {
 public:
  RedisCluster();
  ~RedisCluster();
  RedisCluster(const RedisCluster&) = delete;
  RedisCluster& operator=(const RedisCluster&) = delete;

  // Starts `masters` nodes and forms the cluster (see the file comment). `options.cluster` is
  // set by Init.
  absl::Status Init(int masters = 3, RedisServerOptions options = {});

  // "redis-cluster://127.0.0.1:<port>,..." of every node, as Options::redis takes it.
  std::string address() const;
  int size() const { return static_cast<int>(nodes_.size()); }
  RedisServer& node(int i) { return *nodes_[i]; }

  // The slot of a Redis key (CLUSTER KEYSLOT), and the node whose master serves it now
  // (CLUSTER SLOTS as node `ask` sees it).
  absl::StatusOr<int> SlotOf(std::string_view redis_key);
  absl::StatusOr<int> NodeOf(int slot, int ask = 0);

  // Moving `slot` to node `to`, in Redis's steps: Begin marks it importing on `to` and
  // migrating on its owner; MigrateKeys moves every key of the slot (MIGRATE, batches of 100);
  // Finish gives the slot to `to` on every node (SETSLOT NODE). Move does all three.
  absl::Status BeginMigration(int slot, int to);
  absl::Status MigrateKeys(int slot);
  absl::Status FinishMigration(int slot);
  absl::Status Move(int slot, int to);

  // Waits until every running node says cluster_state:ok and knows `size()` masters with
  // slots, up to `timeout`.
  absl::Status WaitHealthy(absl::Duration timeout = absl::Seconds(30));

 private:
  absl::StatusOr<std::string> NodeId(int i);

  std::vector<std::unique_ptr<RedisServer>> nodes_;
  // A migration in progress: its slot, source and target.
  int migrating_slot_ = -1;
  int from_ = -1;
  int to_ = -1;
};

}  // namespace asidekv::testing

#endif  // ASIDEKV_TESTS_TESTING_REDIS_CLUSTER_H_
