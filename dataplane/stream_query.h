// SPDX-License-Identifier: Apache-2.0
/// @file stream_query.h
/// @brief How a query that came over TCP reaches the same cache and pinned shards as UDP: the TCP
/// service (tcp_service.h) puts the message in a StreamQuery from its fixed pool and enqueues it on
/// the ring of one worker lcore; the lcore answers it — from its cache, or through its shard — in
/// the same buffer (no truncation: over TCP an answer may take 65535 bytes) and enqueues it back.
/// Both rings are single-producer single-consumer and as large as the pool, so neither ever
/// fills. The service sleeps in io_uring when idle; an lcore that returns answers wakes it through
/// an eventfd, and only when it said it sleeps (a Dekker handshake on one flag), so a busy service
/// costs the lcores no system call.
#pragma once

#include <atomic>
#include <cstdint>

struct rte_ring;

namespace dotpin::dataplane {

struct StreamQuery {
  static constexpr std::size_t kMaxMessage = 65535;
  std::uint32_t conn = 0;         ///< the service's connection slot
  std::uint32_t conn_gen = 0;     ///< and its generation: an answer for a closed connection is dropped
  std::uint32_t len = 0;          ///< the message at message(): the query in, the answer out (0: no answer)
  bool ipv6 = false;
  bool keepalive = false;         ///< the query carried edns-tcp-keepalive (RFC 7828): the service adds it
  std::uint8_t client[16] = {};   ///< the client's address (4 or 16 bytes)
  std::uint32_t sent = 0;         ///< bytes of the framed answer written to the client so far
  StreamQuery* next = nullptr;    ///< the service's lists (free pool, a connection's write queue)
  std::uint8_t frame[2 + kMaxMessage];  ///< 2-byte length prefix (RFC 1035 §4.2.2), then the message
  [[nodiscard]] std::uint8_t* message() noexcept { return frame + 2; }
};

/// One worker lcore's end of the TCP service.
struct StreamChannel {
  rte_ring* to_lcore = nullptr;    ///< queries (service → lcore)
  rte_ring* to_service = nullptr;  ///< answers (lcore → service)
  std::atomic<bool>* service_sleeping = nullptr;
  int wake_fd = -1;                ///< the service's eventfd
};

}  // namespace dotpin::dataplane
