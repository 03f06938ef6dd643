// ConnectionPool: at most `size` PgConnections to one server, handed to one caller at a time.
//
// States of a connection: idle (in idle_, counted in open_), leased (held by a Lease, counted in
// open_), closed. A slot is a unit of open_: Acquire takes an idle connection, or reserves a
// free slot and connects outside the lock (then runs `setup`, e.g. preparing statements), or
// waits on a CondVar until a Lease returns or the deadline passes (DeadlineExceeded: "no free
// connection"). A Lease going out of scope returns its connection to idle_ when it is
// Reusable() (idle, no transaction open) and closes it otherwise (broken, a deadline passed, a
// transaction left open by a failure), freeing the slot. Invariants: idle_.size() <= open_ <=
// size; a connection is in idle_ or held by exactly one Lease.
//
// Reconnection: an idle connection is checked with StillAlive() (no wait, one poll()) before it
// is handed out (Idle::kChecked), so one the server closed (a restart, pg_terminate_backend) is
// replaced without a statement being sent on it: a write then never has an unknown outcome for
// a connection that was already gone. A read, which its caller retries on a new connection when
// the first turns out lost, skips that system call (Idle::kUnchecked). DropIdle() closes every
// idle connection: callers do it after a connection loss, since the others to the same server
// are likely gone too, and Resume() does. Idle::kNever never hands out an idle connection: a
// retry after a loss gets a new one.
//
// Thread safety: every method may be called concurrently. No lock is held while connecting,
//   closing or running statements (mu_ guards only the bookkeeping).
// Ownership: the pool owns idle connections; a Lease owns its connection until it returns it.
//   REQUIRES: every Lease is destroyed before the pool.

#ifndef ASIDEKV_DB_POSTGRES_CONNECTION_POOL_H_
#define ASIDEKV_DB_POSTGRES_CONNECTION_POOL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "util/mutex.h"

namespace asidekv::db {

class PgConnection;  // db/postgres/pg_connection.h

class ConnectionPool {
 public:
  struct Options {
    // libpq connection string (holds the password, if any).
    std::string conninfo;
    // The server's description, for messages; the password to scrub from them.
    std::string server;
    std::string password;
    // Most connections open at once. REQUIRES: >= 1.
    int size = 4;
    // Run on each new connection before its first use (by its deadline); an error closes it.
    std::function<absl::Status(PgConnection&, int64_t deadline_nanos)> setup;
  };

  // One connection, held by one caller. Movable.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    ~Lease();
    PgConnection& operator*() const { return *conn_; }
    PgConnection* operator->() const { return conn_.get(); }

   private:
    friend class ConnectionPool;
    Lease(ConnectionPool* pool, std::unique_ptr<PgConnection> conn);
    ConnectionPool* pool_;
    std::unique_ptr<PgConnection> conn_;
  };

  explicit ConnectionPool(Options options);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Which idle connections Acquire may hand out (see the file comment).
  enum class Idle { kChecked, kUnchecked, kNever };

  // A connection by the deadline (util::MonotonicNanos()), see the file comment. Errors: those
  // of PgConnection::Connect and `setup`, or DeadlineExceeded when every slot stays leased.
  absl::StatusOr<Lease> Acquire(int64_t deadline_nanos, Idle idle = Idle::kChecked)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Adds an open connection (already set up) to the idle ones; closes it when the pool is full.
  void Add(std::unique_ptr<PgConnection> conn) ABSL_LOCKS_EXCLUDED(mu_);

  // Closes every idle connection.
  void DropIdle() ABSL_LOCKS_EXCLUDED(mu_);

  // Connections open now (idle or leased).
  int open() const ABSL_LOCKS_EXCLUDED(mu_);
  int size() const { return options_.size; }

 private:
  // Takes back a leased connection (see the file comment).
  void Return(std::unique_ptr<PgConnection> conn) ABSL_LOCKS_EXCLUDED(mu_);
  // Connects and sets up a connection in a slot already counted in open_; frees it on failure.
  absl::StatusOr<std::unique_ptr<PgConnection>> ConnectInSlot(int64_t deadline_nanos)
      ABSL_LOCKS_EXCLUDED(mu_);
  void FreeSlot() ABSL_LOCKS_EXCLUDED(mu_);

  // Constant after construction.
  const Options options_;

  mutable util::Mutex mu_;    // Taken twice per statement: no lock-graph tracking (util/mutex.h).
  util::CondVar slot_freed_;  // Signalled when a connection becomes idle or a slot frees.
  std::vector<std::unique_ptr<PgConnection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace asidekv::db

#endif  // ASIDEKV_DB_POSTGRES_CONNECTION_POOL_H_
