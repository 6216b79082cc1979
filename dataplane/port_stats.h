// SPDX-License-Identifier: Apache-2.0
/// @file port_stats.h
/// @brief What the port itself counted (no DPDK here): the data plane fills it (port.cc), the
/// control plane shows it as it is (`stats`, /metrics) and dotpinctl reads it back from JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dotpin::dataplane {

/// The port's own counters (rte_eth_stats_get): packets lost before or after any lcore saw them.
/// Read on the control thread; the lcores never pay for them.
struct PortStats {
  std::uint64_t rx_packets = 0, tx_packets = 0;
  std::uint64_t rx_missed = 0;  ///< imissed: dropped by the port because an RX queue was full (an lcore fell behind)
  std::uint64_t rx_errors = 0;  ///< ierrors: erroneous frames received
  std::uint64_t rx_nombuf = 0;  ///< frames lost because no mbuf was free for them
  std::uint64_t tx_errors = 0;  ///< oerrors: frames the port failed to send
  /// For a port backed by a kernel interface (net_tap, net_af_packet): what the kernel dropped on
  /// its side — its TX drops are frames towards dotpind it could not queue (the lcore fell behind
  /// and the device queue overflowed), which the PMD never sees. nullopt: no kernel interface.
  std::optional<std::uint64_t> kernel_tx_dropped, kernel_rx_dropped;
  std::string kernel_interface;
  struct Queue {
    std::uint16_t queue = 0;
    std::uint64_t rx_packets = 0, tx_packets = 0, rx_errors = 0;
  };
  std::vector<Queue> queues;  ///< per queue, where the PMD counts per queue
  bool available = false;     ///< false: the port gave no statistics
};

/// One line for the shutdown summary and `dotpinctl stats`: "rx_packets=N ... tx_errors=N" and,
/// with a kernel interface, " kernel_tx_dropped=N kernel_rx_dropped=N (IFACE)".
inline std::string to_text(const PortStats& p) {
  std::string s;
  const auto field = [&s](std::string_view name, std::uint64_t v) {
    s += s.empty() ? "" : " ";
    s += name;
    s += '=';
    s += std::to_string(v);
  };
  field("rx_packets", p.rx_packets);
  field("tx_packets", p.tx_packets);
  field("rx_missed", p.rx_missed);
  field("rx_errors", p.rx_errors);
  field("rx_nombuf", p.rx_nombuf);
  field("tx_errors", p.tx_errors);
  if (p.kernel_tx_dropped) {
    field("kernel_tx_dropped", *p.kernel_tx_dropped);
    field("kernel_rx_dropped", p.kernel_rx_dropped.value_or(0));
    s += " (" + p.kernel_interface + ")";
  }
  return s;
}

}  // namespace dotpin::dataplane
