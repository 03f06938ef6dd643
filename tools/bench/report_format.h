// Number formatting shared by the table and the SVG.

#ifndef ASIDEKV_TOOLS_BENCH_REPORT_FORMAT_H_
#define ASIDEKV_TOOLS_BENCH_REPORT_FORMAT_H_

#include <cstdint>
#include <string>

namespace asidekv::bench {

// 1234567 -> "1,234,567".
std::string Thousands(uint64_t n);
// Nanoseconds with a unit: "850ns", "12.3us", "1.23ms", "2.50s".
std::string FormatNanos(double ns);
// Operations per second: "950", "12.3K", "1.23M".
std::string FormatRate(double per_second);
// Bytes: "512 B", "64.0 MiB".
std::string FormatBytes(double bytes);

}  // namespace asidekv::bench

#endif  // ASIDEKV_TOOLS_BENCH_REPORT_FORMAT_H_
