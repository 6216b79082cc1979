// SPDX-License-Identifier: Apache-2.0
/// @file daemon_log.h
/// @brief dotpind's log: one line per event on stderr (journald adds the time), filtered by a level
/// that `dotpinctl log level` changes at runtime. Pins are public-key hashes, not secrets; private
/// keys never reach this process. Connection failures are rate-limited by the upstream backoff.
#pragma once

#include <atomic>
#include <cstdio>
#include <optional>
#include <string_view>

namespace dotpin::ctl {

/// Log levels of dotpind, most severe first.
enum class LogLevel { kError, kWarn, kInfo, kDebug };

constexpr std::optional<LogLevel> log_level_from_string(std::string_view text) {
  if (text == "error") return LogLevel::kError;
  if (text == "warn") return LogLevel::kWarn;
  if (text == "info") return LogLevel::kInfo;
  if (text == "debug") return LogLevel::kDebug;
  return std::nullopt;
}

constexpr std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::kError: return "error";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kInfo: return "info";
    case LogLevel::kDebug: return "debug";
  }
  return "?";
}

class DaemonLog {
 public:
  static DaemonLog& instance() {
    static DaemonLog log;
    return log;
  }
  void set_level(LogLevel level) noexcept { level_.store(level, std::memory_order_relaxed); }
  [[nodiscard]] LogLevel level() const noexcept { return level_.load(std::memory_order_relaxed); }
  [[nodiscard]] bool enabled(LogLevel level) const noexcept { return level <= this->level(); }

  void write(LogLevel level, std::string_view line) const {
    if (!enabled(level)) return;
    std::fprintf(stderr, "dotpind: %s%.*s\n", level == LogLevel::kError  ? "error: "
                                              : level == LogLevel::kWarn ? "warning: "
                                                                                    : "",
                 static_cast<int>(line.size()), line.data());
    std::fflush(stderr);
  }

 private:
  std::atomic<LogLevel> level_{LogLevel::kInfo};
};

inline void log_error(std::string_view line) { DaemonLog::instance().write(LogLevel::kError, line); }
inline void log_warn(std::string_view line) { DaemonLog::instance().write(LogLevel::kWarn, line); }
inline void log_info(std::string_view line) { DaemonLog::instance().write(LogLevel::kInfo, line); }
inline void log_debug(std::string_view line) { DaemonLog::instance().write(LogLevel::kDebug, line); }

}  // namespace dotpin::ctl
