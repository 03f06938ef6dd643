// InvalidationChannel: push invalidation of an in-process cache through Redis, with a heartbeat
// lease that makes a lost invalidation impossible to miss.
//
// One dedicated connection per process (never a data connection: redis#11767 / #13082, a dead
// tracked data connection silently ends its invalidations), driven by one thread:
//   CLIENT ID -> id;  CLIENT TRACKING on REDIRECT <id> BCAST PREFIX <prefix>:w:
//   SUBSCRIBE __redis__:invalidate
// Redis then sends, on this connection, the keys of every change under <prefix>:w: made by any
// client: the write markers RedisTier::Invalidate sets and deletes for each write (never a Fill,
// an expiry or an eviction, which touch values only: remote/redis_tier.h), the flush marker
// (every key), and nil for FLUSHALL / FLUSHDB. The thread hands them to the sink in arrival
// order: OnInvalidate(user keys), OnInvalidateAll() (the flush marker and nil).
//
// Heartbeat lease (the serving gate). The thread sends PING every `bound`/4. Serving() is true
// iff a PONG has arrived for a PING sent at or after now - `bound`, on the current subscription,
// after its OnInvalidateAll(). Redis queues a change's invalidation for every tracking client
// before it answers the command that made the change, and answers one connection in order, so
// an invalidation for a write acknowledged before a PING was sent reaches the sink before that
// PING's PONG. Hence: while Serving(), every write acknowledged by Redis more than `bound` ago
// has been handed to the sink. Serving() costs one clock read and one atomic load.
//
// Loss is never silent. Each of these calls OnInvalidateAll() (flush, and reject every fill in
// flight) and closes the gate:
//   - the connection fails (EOF, error, Redis restart, CLIENT KILL, output-buffer limit), or no
//     PONG arrives within RedisConfig::timeout: the connection is closed and reopened (backoff
//     from 10 ms doubling to 1 s); after the new SUBSCRIBE is acknowledged the sink is flushed
//     again (entries filled while nothing was tracked), then the next PONG reopens the gate;
//   - a heartbeat lapse: no PONG for a PING sent within the last `bound` (a stalled server) —
//     one flush per lapse, the connection is kept while within the timeout;
//   - a nil message (FLUSHALL), or the flush marker: flush; the gate stays as it is.
//
// Thread safety: Serving() and the accessors may be called from any thread. The sink is called
//   on the channel's thread only, one call at a time; it must not call back into the channel.
//   (Several channels may share a sink, e.g. one per cluster master: it is then called from
//   each one's thread concurrently.)
// Ownership: borrows the sink, which must outlive the channel; the destructor stops the thread.

#ifndef ASIDEKV_REMOTE_INVALIDATION_CHANNEL_H_
#define ASIDEKV_REMOTE_INVALIDATION_CHANNEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "remote/redis_config.h"

namespace asidekv::remote {

class InvalidationSink {
 public:
  virtual ~InvalidationSink() = default;
  // These keys (user keys, the prefix and braces removed) may have changed.
  virtual void OnInvalidate(absl::Span<const std::string_view> keys) = 0;
  // Any key may have changed: drop everything and reject every fill in flight.
  virtual void OnInvalidateAll() = 0;
  // The gate's deadline moved: Serving() is now true iff util::MonotonicNanos() < `nanos` (a
  // PONG extended it; 0 when the connection was lost). Called after the channel's own gate
  // moved, so a sink that keeps a copy never opens before the channel does; a copy closes a
  // little later than the channel's gate on a loss, which is safe: the deadline it held was
  // still a valid one (every write acknowledged `bound` before it had been handed over).
  virtual void OnServingUntil(int64_t nanos) = 0;
};

struct InvalidationChannelStats {
  uint64_t messages = 0;    // Invalidation messages received (nil included).
  uint64_t keys = 0;        // Keys handed to OnInvalidate().
  uint64_t flushes = 0;     // OnInvalidateAll() calls.
  uint64_t lapses = 0;      // Heartbeat lapses seen (the gate closed with the connection up).
  uint64_t reconnects = 0;  // Connections opened after the first.
  uint64_t pings = 0;
  uint64_t pongs = 0;
};

class InvalidationChannel {
 public:
  // Connects and subscribes (synchronously: errors as RedisTier::Connect), flushes the sink once,
  // then starts the thread. `bound` (Δ) >= 1 ms. The gate opens at the first PONG.
  static absl::StatusOr<std::unique_ptr<InvalidationChannel>> Start(const RedisConfig& config,
                                                                    absl::Duration bound,
                                                                    InvalidationSink* sink);
  ~InvalidationChannel();
  InvalidationChannel(const InvalidationChannel&) = delete;
  InvalidationChannel& operator=(const InvalidationChannel&) = delete;

  // See the file comment.
  bool Serving() const;
  // Serving() holds on a PONG for a PING sent after `since_nanos` (a util::MonotonicNanos()
  // instant), read against `now_nanos`: the cluster's gate asks each master's channel.
  bool ServingSince(int64_t since_nanos, int64_t now_nanos) const;
  // The gate's deadline: Serving() iff util::MonotonicNanos() < it (0 while closed).
  int64_t ServingUntil() const;
  // Waits until Serving() or `timeout` passes; returns Serving(). For Open and tests.
  bool WaitServing(absl::Duration timeout) const;

  // The CLIENT ID of the current connection (0 while disconnected): tests kill it.
  int64_t client_id() const;
  InvalidationChannelStats GetStats() const;

 private:
  class Impl;
  explicit InvalidationChannel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace asidekv::remote

#endif  // ASIDEKV_REMOTE_INVALIDATION_CHANNEL_H_
