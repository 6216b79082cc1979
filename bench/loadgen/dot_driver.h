// SPDX-License-Identifier: Apache-2.0
/// @file dot_driver.h
/// @brief dotpin-bench's DoT mode: C connections over kernel TCP through io_uring and the pinned
/// engine from tls/ (UpstreamLink: the server's chain must match the given pins, as in dotpind),
/// each pipelining up to P queries. With --queries-per-connection Q, a connection closes after Q
/// answers and reconnects — resuming the pinned session (ticket) unless resumption is off — which
/// measures a server's handshake rate; without, connections persist and the run measures query
/// capacity. Closed loop (P in flight per connection) or open loop (a global rate).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "bench/loadgen/query_mix.h"
#include "bench/loadgen/run_stats.h"
#include "pinning/pin_set.h"

namespace dotpin::bench {

struct DotOptions {
  UpstreamPins server;                 ///< address, auth name (SNI + name check), pins
  std::size_t connections = 1;
  std::size_t pipeline = 64;           ///< queries in flight per connection (closed loop)
  double rate = 0;                     ///< > 0: open loop at this many queries/s over all connections
  std::uint64_t queries_per_connection = 0;  ///< 0: persistent connections
  bool resume = true;                  ///< offer the pinned session on reconnects
  std::uint64_t max_queries = 0;       ///< 0: bounded by time only
  std::chrono::milliseconds duration{10000};
  std::chrono::milliseconds answer_wait{2000};  ///< after the last send, for answers still due
  std::chrono::milliseconds handshake_timeout{5000};
};

/// Runs the load; @p progress (may be empty) is called about once a second.
Result<RunStats> run_dot(const DotOptions& options, QueryMix& mix,
                         const std::function<void(const RunStats&, double)>& progress);

}  // namespace dotpin::bench
