// SPDX-License-Identifier: Apache-2.0
/// @file shard_state.h
/// @brief Private to the shard's two files: a query slot, a connection and an upstream as the
/// shard keeps them, and the allocation-free helpers both use. shard.cc is the per-query path
/// (submit, poll, responses, failures, timeouts); shard_generations.cc the slow path (pin
/// generations, drains, pin rechecks). Nothing outside tls/shard*.cc includes this.
#pragma once

#include <algorithm>
#include <array>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tls/shard.h"
#include "tls/ticket_cache.h"

namespace dotpin::tls {
namespace shard_detail {

inline constexpr std::uint32_t kNone = UINT32_MAX;

/// "dotpin: upstream NAME REASON" (the EDE text of a connection failure) in @p buf, without
/// allocating; a long name is cut to fit.
inline std::string_view upstream_failure_text(std::span<char> buf, std::string_view name, FailureReason reason) noexcept {
  const std::string_view why = to_string(reason);
  const int n = std::snprintf(buf.data(), buf.size(), "dotpin: upstream %.*s %.*s",
                              static_cast<int>(std::min<std::size_t>(name.size(), 64)), name.data(),
                              static_cast<int>(why.size()), why.data());
  return {buf.data(), n < 0 ? 0 : std::min(static_cast<std::size_t>(n), buf.size() - 1)};
}
using FailureText = std::array<char, 128>;

/// Builds a log line with @p build and hands it to @p sink; a line that finds no memory is dropped.
template <class Build>
void log_line(const std::function<void(std::string_view)>& sink, Build&& build) noexcept {
  if (!sink) return;
  try {
    std::string line;
    build(line);
    sink(line);
  } catch (...) {
  }
}

}  // namespace shard_detail

struct DotShard::Slot {
  std::uint64_t cookie = 0;
  std::vector<std::uint8_t> query;  // carries the wire ID while on a connection
  std::uint16_t client_id = 0;
  std::uint16_t wire_id = 0;
  Clock::time_point deadline{}, sent_at{};
  Upstream* upstream = nullptr;
  Conn* conn = nullptr;
  std::size_t conn_pos = 0;
  int attempts = 0;
  bool live = false;
  bool abandoned = false;  // answered with SERVFAIL on timeout; its wire ID stays reserved
  bool queued = false;
  bool added_opt = false;  // the shard added the OPT record: remove it from what the client gets
};

struct DotShard::Conn {
  explicit Conn(std::size_t capacity) : ids(capacity), by_id(65536, shard_detail::kNone) {}
  std::unique_ptr<Link> link;
  IdTable ids;
  std::vector<std::uint32_t> by_id;
  std::vector<std::uint32_t> inflight;
  std::vector<std::uint32_t> queue;
  bool counted = false;
  bool draining = false;  // takes no new queries; closes once what it has written is answered
  std::shared_ptr<const void> keep;  // the pin table its link's UpstreamPins belong to
  std::size_t abandoned = 0;  // slots in inflight whose clients already got SERVFAIL on timeout
  std::optional<std::chrono::milliseconds> keepalive;  // the server's idle timeout, if it said
};

struct DotShard::Upstream {
  ShardUpstream cfg;
  TicketCache tickets;
  std::vector<std::unique_ptr<Conn>> conns;
  std::vector<std::unique_ptr<Conn>> graveyard;  // failed, waiting for their I/O to drain
  UpstreamStats stats;
  LatencyHistogram latency;  // answered queries' round trips, µs
  bool retired = false;  // gone from the pin table: its connections drain, then it is dropped
  bool open_failed = false;  // the last connection could not be created (kLocalResources)
  Clock::time_point retry_at{};
  std::chrono::milliseconds backoff{0};
  Clock::time_point probe_at{};  // while not up: when the next health probe may open a connection
  // Failure log lines while the upstream stays down: the first of each reason, then one per 30 s.
  FailureReason logged_reason = FailureReason::kNone;
  Clock::time_point logged_at{};
  std::uint64_t unlogged = 0;
};

}  // namespace dotpin::tls
