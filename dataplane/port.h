// SPDX-License-Identifier: Apache-2.0
/// @file port.h
/// @brief Start-up: opens the client-facing DPDK port with one RX/TX queue pair per worker lcore
/// (RSS over IP addresses and UDP ports when there is more than one, as far as the device offers
/// it), its mbuf pool, and its MAC. Works the same for a NIC and for vdevs (net_tap, net_af_packet,
/// net_ring, net_pcap, net_null). Errors name the port, the queue and DPDK's reason.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "common/result.h"
#include "dataplane/api.h"
#include "dataplane/config.h"

struct rte_mempool;

namespace dotpin::dataplane {

struct Port {
  std::uint16_t id = 0;
  std::string name;
  unsigned queues = 0;
  rte_mempool* pool = nullptr;
  std::array<std::uint8_t, 6> mac{};
  bool rss = false;
};

/// Configures and starts @p config.device with @p queues queue pairs. EAL must be initialised.
Result<Port> open_port(const DataPlaneConfig& config, unsigned queues);
/// The port's counters now (rte_eth_stats), and the kernel side's drops when the port is backed
/// by a kernel interface. Safe from a non-lcore thread; costs the lcores nothing.
PortStats read_port_stats(const Port& port);
/// Stops and closes the port and frees its pool.
void close_port(Port& port);

}  // namespace dotpin::dataplane
