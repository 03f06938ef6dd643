// RedisNode: the data connections to one Redis server (a plain server, or one cluster master),
// with the tier's scripts loaded on each and a breaker in front. RedisTier uses one; over a
// cluster, remote/cluster_router.h keeps one per master.
//
// Pool: up to `connections` connections, each used by one call at a time, opened on demand (a
// call beyond them waits for one, at most the endpoint's timeout). Each new connection notes the
// server's run_id (INFO server) and loads the scripts (SCRIPT LOAD); a command that meets
// NOSCRIPT (a restart or SCRIPT FLUSH emptied the script cache) is run again after loading them.
//
// Breaker: a call that cannot reach the server, or gets no answer within the timeout, closes
// the connection it used, drops the idle ones and opens the breaker: for the next backoff (100 ms,
// doubling to 2 s while failures go on) every call fails at once with Unavailable, without
// touching the network, except one probe call per backoff period. A call that succeeds closes it.
//
// Failure: Unavailable / DeadlineExceeded / PermissionDenied naming the server (never the
// password); error replies are returned as replies (RedisTier and the router decide).
//
// Thread safety: every method may be called concurrently. Lock order: mu_ and breaker_mu_ are
//   never held together.

#ifndef ASIDEKV_REMOTE_REDIS_NODE_H_
#define ASIDEKV_REMOTE_REDIS_NODE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "remote/redis_connection.h"

namespace asidekv::remote {

class RedisNode {
 public:
  // `scripts`: the Lua texts every connection loads (they outlive the node: string literals).
  RedisNode(RedisEndpoint endpoint, int connections, std::vector<std::string_view> scripts);
  ~RedisNode();
  RedisNode(const RedisNode&) = delete;
  RedisNode& operator=(const RedisNode&) = delete;

  // Opens the first connection and checks the server: FailedPrecondition when it persists to
  // disk (CONFIG GET save / appendonly: a restart would bring back values invalidated since the
  // snapshot; skipped when the ACL forbids CONFIG). Returns the scripts' SHA1 digests, in order
  // (the same on every server: they name the texts).
  absl::StatusOr<std::vector<std::string>> Start();

  // `commands` in one round trip on a pooled connection, behind the breaker. Error replies come
  // back as replies.
  absl::StatusOr<std::vector<RedisReply>> Call(const std::vector<RedisCommand>& commands);

  // The breaker is closed.
  bool available() const { return available_.load(std::memory_order_relaxed); }
  // The server's run_id as of the last connection opened.
  std::string run_id() const;
  // Connections opened after the first.
  uint64_t reconnects() const { return reconnects_.load(std::memory_order_relaxed); }
  const RedisEndpoint& endpoint() const { return endpoint_; }

 private:
  absl::Status Admit(bool* probe);
  void Trip(bool probe);
  void Close();
  absl::StatusOr<std::vector<RedisReply>> RoundTrip(const std::vector<RedisCommand>& commands,
                                                    bool* connection_failed);
  absl::Status RetryNoScript(RedisConnection& conn, const std::vector<RedisCommand>& commands,
                             int64_t deadline, std::vector<RedisReply>* replies);
  absl::StatusOr<std::unique_ptr<RedisConnection>> Acquire(bool* connection_failed);
  absl::StatusOr<std::unique_ptr<RedisConnection>> Open();
  absl::StatusOr<std::vector<std::string>> SetUp(RedisConnection& conn, int64_t deadline);
  void Release(std::unique_ptr<RedisConnection> conn);
  void FreeSlot();
  void DropIdle();

  const RedisEndpoint endpoint_;
  const int connections_;
  const std::vector<std::string_view> scripts_;
  std::atomic<uint64_t> reconnects_{0};
  std::atomic<bool> available_{true};

  mutable absl::Mutex mu_;
  absl::CondVar slot_freed_;  // Signalled when a connection becomes idle or a slot frees.
  std::vector<std::unique_ptr<RedisConnection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
  std::string run_id_ ABSL_GUARDED_BY(mu_);

  absl::Mutex breaker_mu_;
  bool breaker_open_ ABSL_GUARDED_BY(breaker_mu_) = false;
  int64_t backoff_ ABSL_GUARDED_BY(breaker_mu_);
  int64_t probe_at_ ABSL_GUARDED_BY(breaker_mu_) = 0;
};

}  // namespace asidekv::remote

#endif  // ASIDEKV_REMOTE_REDIS_NODE_H_
