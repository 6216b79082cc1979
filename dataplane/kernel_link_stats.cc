// SPDX-License-Identifier: Apache-2.0
#include "dataplane/kernel_link_stats.h"

#include <array>
#include <charconv>
#include <fstream>
#include <sstream>
#include <string>

namespace dotpin::dataplane {

std::optional<KernelLinkDrops> parse_proc_net_dev(std::string_view text, std::string_view iface) {
  // "  name: rx_bytes rx_packets rx_errs rx_drop rx_fifo rx_frame rx_compressed rx_multicast
  //          tx_bytes tx_packets tx_errs tx_drop tx_fifo tx_colls tx_carrier tx_compressed"
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = line.substr(0, colon);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    if (name != iface) continue;
    std::array<std::uint64_t, 16> v{};
    std::string_view rest = line.substr(colon + 1);
    for (std::uint64_t& x : v) {
      while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
      const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), x);
      if (ec != std::errc{}) return std::nullopt;  // not the layout this parser knows
      rest.remove_prefix(static_cast<std::size_t>(end - rest.data()));
    }
    return KernelLinkDrops{v[3], v[11]};
  }
  return std::nullopt;
}

std::optional<KernelLinkDrops> read_kernel_link_drops(std::string_view iface) {
  std::ifstream f("/proc/net/dev");
  if (!f) return std::nullopt;
  std::ostringstream s;
  s << f.rdbuf();
  return parse_proc_net_dev(s.str(), iface);
}

}  // namespace dotpin::dataplane
