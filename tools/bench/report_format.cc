#include "tools/bench/report_format.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace asidekv::bench {
namespace {

// Three significant digits without exponents: 1.23, 12.3, 123 (and 1000 for 999.9).
std::string Sig3(double x) {
  if (x < 10) return absl::StrFormat("%.2f", x);
  if (x < 100) return absl::StrFormat("%.1f", x);
  return absl::StrFormat("%.0f", x);
}

}  // namespace

std::string Thousands(uint64_t n) {
  std::string digits = absl::StrCat(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string FormatNanos(double ns) {
  if (ns < 1e3) return absl::StrFormat("%.0fns", ns);
  if (ns < 1e6) return absl::StrCat(Sig3(ns / 1e3), "us");
  if (ns < 1e9) return absl::StrCat(Sig3(ns / 1e6), "ms");
  return absl::StrCat(Sig3(ns / 1e9), "s");
}

std::string FormatRate(double per_second) {
  if (per_second < 1e3) return absl::StrFormat("%.0f", per_second);
  if (per_second < 1e6) return absl::StrCat(Sig3(per_second / 1e3), "K");
  return absl::StrCat(Sig3(per_second / 1e6), "M");
}

std::string FormatBytes(double bytes) {
  if (bytes < 1024) return absl::StrFormat("%.0f B", bytes);
  if (bytes < 1024.0 * 1024) return absl::StrFormat("%.1f KiB", bytes / 1024);
  if (bytes < 1024.0 * 1024 * 1024) return absl::StrFormat("%.1f MiB", bytes / (1024.0 * 1024));
  return absl::StrFormat("%.2f GiB", bytes / (1024.0 * 1024 * 1024));
}

}  // namespace asidekv::bench
