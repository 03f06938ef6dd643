// ClientProcess: one client of a workload (workload.h), in whichever process runs it: its Store,
// its threads of random operations, its final reads and its log.
//
// Life: Open() -> Start() -> Join() -> FinalReads() -> Finish(). Thread safety: the methods are
// called from one thread, in that order; Start() runs `threads` threads until Join(), which each
// record their operations in their own list (no sharing but the Store).

#ifndef ASIDEKV_TESTS_DISTRIBUTED_CLIENT_PROCESS_H_
#define ASIDEKV_TESTS_DISTRIBUTED_CLIENT_PROCESS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "asidekv/store.h"
#include "tests/distributed/history.h"
#include "tests/distributed/workload.h"

namespace asidekv::distributed {

class ClientProcess {
 public:
  // `options` outlives this object.
  ClientProcess(const WorkloadOptions& options, uint64_t seed, int process)
      : options_(options), seed_(seed), process_(process) {}
  ClientProcess(const ClientProcess&) = delete;
  ClientProcess& operator=(const ClientProcess&) = delete;
  ~ClientProcess() { Join(); }

  // Opens the Store with open(process).
  absl::Status Open(const OpenStore& open);
  // Starts the threads; they stop at MonotonicNanos() >= stop_nanos.
  void Start(int64_t stop_nanos);
  void Join();
  // Reads every key once (kFinalRead records).
  void FinalReads();
  // Closes the Store and writes every record to `log_path`.
  absl::Status Finish(const std::string& log_path);

  // The name of key i.
  static std::string Key(const WorkloadOptions& options, int i);

 private:
  void Run(int thread, int64_t stop_nanos);

  const WorkloadOptions& options_;
  const uint64_t seed_;
  const int process_;
  std::unique_ptr<Store> store_;
  std::vector<std::vector<Operation>> records_;  // One list per thread; the final reads last.
  std::vector<std::thread> threads_;
};

}  // namespace asidekv::distributed

#endif  // ASIDEKV_TESTS_DISTRIBUTED_CLIENT_PROCESS_H_
