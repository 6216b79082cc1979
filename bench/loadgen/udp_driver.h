// SPDX-License-Identifier: Apache-2.0
/// @file udp_driver.h
/// @brief dotpin-bench's UDP mode: plain DNS over a DPDK port (a real NIC, or net_tap /
/// net_af_packet / net_memif to a device under test on the same machine). One lcore builds query
/// frames from pre-built queries (many source addresses and ports, so RSS spreads them), sends them
/// open loop at a fixed rate (TSC-paced) or ramped, or closed loop with N outstanding, and matches
/// answers by (source port, DNS ID) to their send time. It answers ARP and neighbour solicitations
/// for its source addresses, so a kernel on the other side can reply. EAL must be initialised.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bench/loadgen/query_mix.h"
#include "bench/loadgen/run_stats.h"

namespace dotpin::bench {

struct UdpOptions {
  std::string device;                       ///< ethdev name (net_tap0, 0000:01:00.0, ...)
  bool ipv6 = false;
  std::array<std::uint8_t, 16> dst{};       ///< server address (first 4 bytes for IPv4)
  std::array<std::uint8_t, 16> src{};       ///< first source address; the next src_count - 1 follow it
  unsigned src_count = 1;
  unsigned src_ports = 16;                  ///< source ports 20000.. (IDs are per port)
  std::array<std::uint8_t, 6> dst_mac{};    ///< the server's (or gateway's) MAC
  bool resolve_mac = true;                  ///< IPv4: ARP for dst_mac when it is not given
  std::array<std::uint8_t, 4> gateway{};    ///< IPv4: ARP for this router instead of dst (0: none)
  double rate = 0;                          ///< open loop queries/s (0: closed loop)
  double ramp_to = 0;                       ///< > rate: ramp linearly from rate to this over the run
  std::size_t outstanding = 100;            ///< closed loop
  std::uint64_t max_queries = 0;
  std::chrono::milliseconds duration{10000};
  std::chrono::milliseconds timeout{1000};  ///< an answer later than this counts as lost (and "late")
};

Result<RunStats> run_udp(const UdpOptions& options, QueryMix& mix,
                         const std::function<void(const RunStats&, double)>& progress);

}  // namespace dotpin::bench
