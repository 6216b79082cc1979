// SPDX-License-Identifier: Apache-2.0
/// @file run_stats.h
/// @brief What one dotpin-bench run measured, and its reports: a live progress line for a
/// terminal, a human summary, JSON and CSV. Latencies are nanoseconds in a log-linear histogram
/// (common/latency_histogram.h: every value within 6.25 %), so percentiles come from every
/// answer, not a sample.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <ostream>
#include <string>

#include "common/latency_histogram.h"

namespace dotpin::bench {

struct RunStats {
  std::string mode;    ///< "udp" or "dot"
  std::string target;  ///< what was driven
  std::uint64_t sent = 0, answered = 0, late = 0, unmatched = 0;
  std::uint64_t handshakes = 0, resumptions = 0, connect_failures = 0;
  std::array<std::uint64_t, 16> rcodes{};
  double seconds = 0;              ///< from the first query sent to the end of the wait for answers
  double cpu_seconds = 0;          ///< of this process (user + system)
  LatencyHistogram latency_ns;

  [[nodiscard]] std::uint64_t lost() const noexcept { return sent > answered ? sent - answered : 0; }
  [[nodiscard]] double qps() const noexcept { return seconds > 0 ? static_cast<double>(answered) / seconds : 0; }
};

/// "sent 120000  answered 119998  rate 39998 q/s  lost 0.00 %" (no newline).
std::string progress_line(const RunStats& s, double elapsed);
void print_summary(std::ostream& out, const RunStats& s);
nlohmann::json to_json(const RunStats& s);
/// One header line and one row.
void print_csv(std::ostream& out, const RunStats& s);
/// The latency distribution: "latency_ms,fraction" per non-empty bucket (cumulative), for CDF plots.
void print_latency_cdf(std::ostream& out, const RunStats& s);

/// CPU seconds (user + system) this process has used so far.
double process_cpu_seconds();

}  // namespace dotpin::bench
