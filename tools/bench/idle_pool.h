// IdlePool: the idle members of a fixed set of connections, of which a benchmark thread takes
// one for each call (as the Store's connection pools do). The baselines over PostgreSQL and
// Redis (postgres_backend.h, redis_aside_backend.h) keep their connections in one.
//
// Thread safety: Acquire and Release may be called from every thread at once; Add only before.
// Ownership: the pool borrows its members; their owner outlives it and every Lease.
//
// Example:
//   IdlePool<PGconn> pool;
//   pool.Add(conn);                      // each connection, before any Acquire
//   IdlePool<PGconn>::Lease lease(pool); // waits for an idle one
//   PQexec(lease.get(), ...);

#ifndef ASIDEKV_TOOLS_BENCH_IDLE_POOL_H_
#define ASIDEKV_TOOLS_BENCH_IDLE_POOL_H_

#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace asidekv::bench {

template <typename T>
class IdlePool {
 public:
  // An idle member, held from construction to destruction.
  class Lease {
   public:
    explicit Lease(IdlePool& pool) : pool_(pool), item_(pool.Acquire()) {}
    ~Lease() { pool_.Release(item_); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    T* get() const { return item_; }

   private:
    IdlePool& pool_;
    T* const item_;
  };

  void Add(T* item) {
    absl::MutexLock lock(&mu_);
    idle_.push_back(item);
  }

  // Waits until a member is idle and takes it. REQUIRES: at least one member was added.
  T* Acquire() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](std::vector<T*>* idle) { return !idle->empty(); }, &idle_));
    T* item = idle_.back();
    idle_.pop_back();
    return item;
  }

  void Release(T* item) {
    absl::MutexLock lock(&mu_);
    idle_.push_back(item);
  }

 private:
  absl::Mutex mu_;
  std::vector<T*> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace asidekv::bench

#endif  // ASIDEKV_TOOLS_BENCH_IDLE_POOL_H_
