// SPDX-License-Identifier: Apache-2.0
/// @file busy_share.h
/// @brief What an lcore's work cost, from its loop's busy and idle TSC cycles (counters.h
/// LoopCycles): the busy share of its cycles and the busy CPU time per query. A poll-mode lcore
/// spins at 100 % of wall time; its busy cycles are what compares with a kernel resolver's CPU
/// time. Header-only: dotpinctl computes it from a stats reply too.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

namespace dotpin::dataplane {

struct BusyShare {
  double busy_fraction = 0;
  std::optional<double> ns_per_query;  ///< nullopt before the first query or without a TSC rate
};

inline BusyShare busy_share(std::uint64_t busy_cycles, std::uint64_t idle_cycles, std::uint64_t queries,
                            std::uint64_t tsc_hz) {
  BusyShare b;
  if (const std::uint64_t all = busy_cycles + idle_cycles; all > 0)
    b.busy_fraction = static_cast<double>(busy_cycles) / static_cast<double>(all);
  if (queries > 0 && tsc_hz > 0)
    b.ns_per_query = static_cast<double>(busy_cycles) * 1e9 / static_cast<double>(tsc_hz) / static_cast<double>(queries);
  return b;
}

/// "busy 12.3 %, 450 ns CPU per query" (the second part when known).
inline std::string busy_text(const BusyShare& b) {
  char text[96];
  if (b.ns_per_query)
    std::snprintf(text, sizeof text, "busy %.1f %%, %.0f ns CPU per query", b.busy_fraction * 100, *b.ns_per_query);
  else
    std::snprintf(text, sizeof text, "busy %.1f %%", b.busy_fraction * 100);
  return text;
}

}  // namespace dotpin::dataplane
