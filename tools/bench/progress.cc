#include "tools/bench/progress.h"

#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_format.h"

namespace asidekv::bench {

ProgressLine::ProgressLine(bool enabled) : active_(enabled && isatty(STDERR_FILENO) == 1) {}

void ProgressLine::Update(const std::string& label, uint64_t ops, double elapsed_seconds,
                          double fraction_done) {
  if (!active_) return;
  const double rate = elapsed_seconds > 0 ? static_cast<double>(ops) / elapsed_seconds : 0;
  std::string eta = "?";
  if (fraction_done > 0 && fraction_done <= 1) {
    eta = absl::StrFormat("%.1fs", elapsed_seconds * (1 - fraction_done) / fraction_done);
  }
  std::fprintf(stderr, "\r\033[K%s  %.3gM ops/s  elapsed %.1fs  ETA %s", label.c_str(), rate / 1e6,
               elapsed_seconds, eta.c_str());
  std::fflush(stderr);
  shown_ = true;
}

void ProgressLine::Clear() {
  if (!shown_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  shown_ = false;
}

}  // namespace asidekv::bench
