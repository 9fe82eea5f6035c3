// berthd's log: one line per event on stderr, each with its UTC time (to the millisecond) and
// level, as text
//   2026-12-05T08:20:00.123Z info berthd: listening on http://127.0.0.1:8765 (state in berth-state)
// or, with [log] format = "json" (or berthd --log-format json), as JSON lines
//   {"time":"2026-12-05T08:20:00.123Z","level":"info","message":"listening on ..."}
// Written through spdlog (Debian's libspdlog-dev). Thread-safe: any thread may log; each event
// is written and flushed whole. A message's control characters (a newline in a path, say) are
// escaped, so an event never spans two lines.
#pragma once

#include <ostream>
#include <string>

#include "config/config.h"

namespace berth::server {

enum class LogLevel : uint8_t { kInfo, kWarning, kError, kCritical };

// Where and how the log is written; stderr as text until called. `out` (for tests) replaces
// stderr and must outlive every later log call. Call it before other threads log.
void configure_log(LogFormat format, std::ostream* out = nullptr);

void log_event(LogLevel level, const std::string& message);
inline void log_info(const std::string& message) { log_event(LogLevel::kInfo, message); }
inline void log_warning(const std::string& message) { log_event(LogLevel::kWarning, message); }
inline void log_error(const std::string& message) { log_event(LogLevel::kError, message); }
// berthd stops after it (FATAL: a commit that failed, a database that is gone).
inline void log_critical(const std::string& message) { log_event(LogLevel::kCritical, message); }

}  // namespace berth::server
