// SPDX-License-Identifier: Apache-2.0
/// @file tcp_options.h
/// @brief DNS over TCP (RFC 7766) and over TLS (RFC 7858) for clients: the [tcp] and [dot]
/// settings and the TCP service's counters (one set per transport).
/// No DPDK here: the control plane reads both.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <array>

#include "tls/client_context.h"

namespace dotpin::dataplane {

/// [dot]: DoT for clients on port 853, served by the same service as TCP. On once a certificate
/// and key are configured.
struct DotOptions {
  std::string certificate;                      ///< PEM chain, leaf first
  std::string key;                              ///< PEM private key
  tls::TlsFloor min_version = tls::TlsFloor::kTls12;
  std::chrono::seconds ticket_rotation{3600};   ///< a new session-ticket key this often (a ticket lives 2x)
  /// A connection whose TLS handshake has not completed this long after accept is closed.
  std::chrono::milliseconds handshake_timeout{5000};
  [[nodiscard]] bool enabled() const noexcept { return !certificate.empty(); }
};

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
  DotOptions dot;                               ///< [dot]
  /// Whether the service runs at all (TCP on 53, DoT on 853, or both).
  [[nodiscard]] bool any() const noexcept { return enabled || dot.enabled(); }
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
  // DoT only:
  kTlsHandshakes,        ///< handshakes completed
  kTlsResumed,           ///< of which resumed from a session ticket
  kClosedTlsHandshake,   ///< a handshake that failed (no shared version, suite or group; garbage; a bad record)
  kClosedHandshakeTimeout, ///< no completed handshake within handshake_timeout_ms
  kClosedPlainOnTls,     ///< a plain DNS length prefix where a TLS record should be (a port-53 client on 853)
  kClosedTlsError,       ///< a TLS record that fails after the handshake (a forged or corrupt record, an alert)
  kClosedTlsNoData,      ///< 16 KiB of records in a row with no DNS data in them (a KeyUpdate flood)
  kCount_
};
std::string_view to_string(TcpCounter c);

/// One transport's connections and counters (the service keeps one for TCP, one for DoT).
struct TcpStats {
  bool enabled = false;
  std::size_t active = 0;  ///< connections open now
  std::array<std::uint64_t, static_cast<std::size_t>(TcpCounter::kCount_)> counters{};
};

}  // namespace dotpin::dataplane
