#include "core/log.h"

#include <cstdio>

namespace asidekv::core {

std::string_view LogSeverityName(LogSeverity severity) {
  switch (severity) {
    case LogSeverity::kInfo:
      return "info";
    case LogSeverity::kWarning:
      return "warning";
    case LogSeverity::kError:
      return "error";
  }
  return "unknown";
}

void Log(const LogFunction& log, LogSeverity severity, std::string_view message) {
  if (log) {
    log(severity, message);
    return;
  }
  const std::string_view name = LogSeverityName(severity);
  // One fprintf per line: stdio locks the stream, so concurrent lines do not interleave.
  std::fprintf(stderr, "asidekv: %.*s: %.*s\n", static_cast<int>(name.size()), name.data(),
               static_cast<int>(message.size()), message.data());
}

}  // namespace asidekv::core
