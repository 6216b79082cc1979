// SPDX-License-Identifier: Apache-2.0
/// @file kernel_link_stats.h
/// @brief The kernel's own drop counters of a network interface, from /proc/net/dev (the reading
/// process's network namespace). For a DPDK port backed by a kernel interface (net_tap,
/// net_af_packet), the frames the kernel could not hand to the port are counted only there.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace dotpin::dataplane {

struct KernelLinkDrops {
  std::uint64_t rx_dropped = 0;  ///< frames the port sent that the kernel dropped
  std::uint64_t tx_dropped = 0;  ///< frames the kernel could not queue towards the port
};

/// The drop columns of @p iface in the text of /proc/net/dev; nullopt when it is not listed.
std::optional<KernelLinkDrops> parse_proc_net_dev(std::string_view text, std::string_view iface);
/// Reads /proc/net/dev; nullopt when the file or the interface is missing.
std::optional<KernelLinkDrops> read_kernel_link_drops(std::string_view iface);

}  // namespace dotpin::dataplane
