// Log(): the one way the library emits a message, through Options::log or, by default, to
// stderr as one line "asidekv: SEVERITY: MESSAGE".
//
// Every module that reports something to the operator calls it (core/ itself; admin/ through
// this header, which is part of the core's declared interface), so an application's LogFunction
// sees everything and nothing reaches stderr behind its back.
//
// Thread safety: Log() may be called from any thread; the LogFunction it calls must allow that
// (asidekv/options.h says so).

#ifndef ASIDEKV_CORE_LOG_H_
#define ASIDEKV_CORE_LOG_H_

#include <string_view>

#include "asidekv/options.h"

namespace asidekv::core {

// Passes `message` to `log`, or writes it to stderr when `log` is empty.
void Log(const LogFunction& log, LogSeverity severity, std::string_view message);

// "info", "warning" or "error".
std::string_view LogSeverityName(LogSeverity severity);

}  // namespace asidekv::core

#endif  // ASIDEKV_CORE_LOG_H_
