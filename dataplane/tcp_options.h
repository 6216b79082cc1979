// SPDX-License-Identifier: Apache-2.0
/// @file tcp_options.h
/// @brief DNS over TCP for clients (RFC 7766): its [tcp] settings and the TCP service's counters.
/// No DPDK here: the control plane reads both.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <array>

namespace dotpin::dataplane {

struct TcpOptions {
  bool enabled = true;                          ///< RFC 7766 makes TCP mandatory: on by default
  std::size_t max_connections = 1024;           ///< open connections at once, all clients
  std::size_t max_connections_per_client = 64;  ///< per client address
  std::size_t max_inflight_per_connection = 32; ///< pipelined queries a connection may have unanswered
  std::size_t inflight = 1024;                  ///< queries in the service at once (64 KiB buffer each, on demand)
  /// A connection with nothing in flight and no complete query for this long is closed (a client
  /// that dribbles bytes never completes a query). Also what edns-tcp-keepalive advertises.
  std::chrono::milliseconds idle_timeout{10000};
  /// An answer the client has not taken for this long closes the connection (it does not read).
  std::chrono::milliseconds write_timeout{5000};
  std::string interface;                        ///< the exception tap's kernel name (empty: dpx<pid>)
};

enum class TcpCounter : std::uint8_t {
  kAccepted,
  kRefusedLimit,         ///< closed at accept: max_connections open
  kRefusedClientLimit,   ///< closed at accept: max_connections_per_client open from that address
  kQueries,              ///< complete queries handed to an lcore
  kAnswers,              ///< answers written in full
  kKeepalive,            ///< answers that carried edns-tcp-keepalive (the client asked)
  kClosedByClient,       ///< the client closed (after its answers, or with none pending)
  kClosedIdle,           ///< idle_timeout: nothing in flight and no complete query
  kClosedSlowReader,     ///< write_timeout: the client did not take its answer
  kClosedBadLength,      ///< a length prefix below a DNS header's 12 bytes (0 included)
  kClosedBadMessage,     ///< a message that gets no answer (a response, shorter than a header)
  kClosedTlsOnPlain,     ///< a TLS record (a ClientHello) on the plain DNS port
  kClosedError,          ///< a socket error
  kAnswersDropped,       ///< answers for connections already closed
  kCount_
};
std::string_view to_string(TcpCounter c);

struct TcpStats {
  bool enabled = false;
  std::size_t active = 0;  ///< connections open now
  std::array<std::uint64_t, static_cast<std::size_t>(TcpCounter::kCount_)> counters{};
};

}  // namespace dotpin::dataplane
