#include "db/postgres/connection_pool.h"

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "db/postgres/pg_connection.h"
#include "util/monotonic_clock.h"
#include "util/mutex.h"

namespace asidekv::db {

ConnectionPool::Lease::Lease(ConnectionPool* pool, std::unique_ptr<PgConnection> conn)
    : pool_(pool), conn_(std::move(conn)) {}

ConnectionPool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_), conn_(std::move(other.conn_)) {}

ConnectionPool::Lease::~Lease() {
  if (conn_ != nullptr) pool_->Return(std::move(conn_));
}

ConnectionPool::ConnectionPool(Options options) : options_(std::move(options)) {}

ConnectionPool::~ConnectionPool() { DropIdle(); }

absl::StatusOr<ConnectionPool::Lease> ConnectionPool::Acquire(int64_t deadline_nanos, Idle idle) {
  std::unique_ptr<PgConnection> conn;
  {
    util::MutexLock lock(&mu_);
    while (idle_.empty() && open_ >= options_.size) {
      const int64_t left = deadline_nanos - util::MonotonicNanos();
      if (left <= 0 || slot_freed_.WaitWithTimeout(&mu_, absl::Nanoseconds(left))) {
        if (!idle_.empty() || open_ < options_.size) break;
        return absl::DeadlineExceededError(
            absl::StrCat(options_.server, ": no free connection in time (all ", options_.size,
                         " in use; see Options::postgres_connections)"));
      }
    }
    if (!idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
    } else {
      ++open_;  // A slot for a new connection.
    }
  }
  if (conn != nullptr &&
      (idle == Idle::kUnchecked || (idle == Idle::kChecked && conn->StillAlive()))) {
    return Lease(this, std::move(conn));
  }
  // No idle connection, or a stale or unwanted one: close it and connect anew in its slot.
  conn.reset();
  absl::StatusOr<std::unique_ptr<PgConnection>> made = ConnectInSlot(deadline_nanos);
  if (!made.ok()) return made.status();
  return Lease(this, *std::move(made));
}

absl::StatusOr<std::unique_ptr<PgConnection>> ConnectionPool::ConnectInSlot(
    int64_t deadline_nanos) {
  absl::StatusOr<std::unique_ptr<PgConnection>> conn =
      PgConnection::Connect(options_.conninfo, options_.server, options_.password, deadline_nanos);
  if (conn.ok() && options_.setup) {
    absl::Status s = options_.setup(**conn, deadline_nanos);
    if (!s.ok()) conn = s;
  }
  if (!conn.ok()) FreeSlot();
  return conn;
}

void ConnectionPool::FreeSlot() {
  util::MutexLock lock(&mu_);
  --open_;
  slot_freed_.Signal();
}

void ConnectionPool::Return(std::unique_ptr<PgConnection> conn) {
  if (!conn->Reusable()) {
    conn.reset();  // Closed outside the lock.
    FreeSlot();
    return;
  }
  util::MutexLock lock(&mu_);
  idle_.push_back(std::move(conn));
  slot_freed_.Signal();
}

void ConnectionPool::Add(std::unique_ptr<PgConnection> conn) {
  {
    util::MutexLock lock(&mu_);
    if (open_ < options_.size) {
      ++open_;
      idle_.push_back(std::move(conn));
      slot_freed_.Signal();
      return;
    }
  }
  conn.reset();
}

void ConnectionPool::DropIdle() {
  std::vector<std::unique_ptr<PgConnection>> dropped;
  {
    util::MutexLock lock(&mu_);
    dropped.swap(idle_);
    open_ -= static_cast<int>(dropped.size());
    if (!dropped.empty()) slot_freed_.SignalAll();
  }
  dropped.clear();  // Closed outside the lock.
}

int ConnectionPool::open() const {
  util::MutexLock lock(&mu_);
  return open_;
}

}  // namespace asidekv::db
