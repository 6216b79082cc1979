// SPDX-License-Identifier: Apache-2.0
/// @file daemon_log.h
/// @brief dotpind's log: one line per event on stderr (journald adds the time), filtered by a level
/// that `dotpinctl log level` changes at runtime. Pins are public-key hashes, not secrets; private
/// keys never reach this process. Connection failures are rate-limited by the upstream backoff.
#pragma once

#include <atomic>
#include <cstdio>
#include <string_view>

#include "dataplane/config.h"

namespace dotpin::ctl {

class DaemonLog {
 public:
  static DaemonLog& instance() {
    static DaemonLog log;
    return log;
  }
  void set_level(dataplane::LogLevel level) noexcept { level_.store(level, std::memory_order_relaxed); }
  [[nodiscard]] dataplane::LogLevel level() const noexcept { return level_.load(std::memory_order_relaxed); }
  [[nodiscard]] bool enabled(dataplane::LogLevel level) const noexcept { return level <= this->level(); }

  void write(dataplane::LogLevel level, std::string_view line) const {
    if (!enabled(level)) return;
    std::fprintf(stderr, "dotpind: %s%.*s\n", level == dataplane::LogLevel::kError  ? "error: "
                                              : level == dataplane::LogLevel::kWarn ? "warning: "
                                                                                    : "",
                 static_cast<int>(line.size()), line.data());
    std::fflush(stderr);
  }

 private:
  std::atomic<dataplane::LogLevel> level_{dataplane::LogLevel::kInfo};
};

inline void log_error(std::string_view line) { DaemonLog::instance().write(dataplane::LogLevel::kError, line); }
inline void log_warn(std::string_view line) { DaemonLog::instance().write(dataplane::LogLevel::kWarn, line); }
inline void log_info(std::string_view line) { DaemonLog::instance().write(dataplane::LogLevel::kInfo, line); }
inline void log_debug(std::string_view line) { DaemonLog::instance().write(dataplane::LogLevel::kDebug, line); }

}  // namespace dotpin::ctl
