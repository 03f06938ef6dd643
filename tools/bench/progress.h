// ProgressLine: one self-overwriting status line on stderr while a phase runs
// ("aside  C run  1.23M ops/s  elapsed 3.0s  ETA 2.0s"), only when stderr is a terminal;
// otherwise every call does nothing, so logs and pipes stay clean.
//
// Thread safety: none; the thread that waits for the workers owns it.

#ifndef ASIDEKV_TOOLS_BENCH_PROGRESS_H_
#define ASIDEKV_TOOLS_BENCH_PROGRESS_H_

#include <cstdint>
#include <string>

namespace asidekv::bench {

class ProgressLine {
 public:
  // `enabled` false silences it whatever stderr is.
  explicit ProgressLine(bool enabled);
  ~ProgressLine() { Clear(); }
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  bool active() const { return active_; }

  // `fraction_done` in [0, 1] (for the ETA), or negative when unknown.
  void Update(const std::string& label, uint64_t ops, double elapsed_seconds, double fraction_done);
  // Erases the line.
  void Clear();

 private:
  const bool active_;
  bool shown_ = false;
};

}  // namespace asidekv::bench

#endif  // ASIDEKV_TOOLS_BENCH_PROGRESS_H_
