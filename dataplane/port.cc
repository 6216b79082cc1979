// SPDX-License-Identifier: Apache-2.0
#include "dataplane/port.h"

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <net/if.h>

#include <cstring>

#include "dataplane/kernel_link_stats.h"

namespace dotpin::dataplane {
namespace {
std::string dpdk_error(int rc) { return rte_strerror(rc < 0 ? -rc : rc); }
}  // namespace

Result<Port> open_port(const DataPlaneConfig& config, unsigned queues) {
  Port p;
  p.name = config.device;
  p.queues = queues;
  if (rte_eth_dev_get_port_by_name(config.device.c_str(), &p.id) != 0) {
    std::string known;
    std::uint16_t id;
    RTE_ETH_FOREACH_DEV(id) {
      char name[RTE_ETH_NAME_MAX_LEN];
      if (rte_eth_dev_get_name_by_port(id, name) == 0) known += std::string(known.empty() ? "" : ", ") + name;
    }
    return fail("port '", config.device, "' not found (EAL knows: ", known.empty() ? "no ports" : known,
                "; add it with --vdev= or a PCI allow-list in [dpdk] eal_args)");
  }
  rte_eth_dev_info info{};
  if (const int rc = rte_eth_dev_info_get(p.id, &info); rc != 0)
    return fail("port ", config.device, ": cannot read device info: ", dpdk_error(rc));
  if (queues > info.max_rx_queues || queues > info.max_tx_queues)
    return fail("port ", config.device, ": ", std::to_string(queues), " worker lcores need as many queue pairs; the device has ",
                std::to_string(info.max_rx_queues), " RX and ", std::to_string(info.max_tx_queues), " TX");

  const std::string pool_name = "dotpin_pool_" + std::to_string(p.id);
  p.pool = rte_pktmbuf_pool_create(pool_name.c_str(), config.mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                   static_cast<int>(rte_eth_dev_socket_id(p.id) < 0 ? rte_socket_id()
                                                                                   : rte_eth_dev_socket_id(p.id)));
  if (p.pool == nullptr)
    return fail("port ", config.device, ": cannot create a pool of ", std::to_string(config.mbufs), " mbufs: ",
                rte_strerror(rte_errno), " (give EAL more memory: -m, or hugepages)");

  rte_eth_conf conf{};
  const std::uint64_t rss_hf = info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP);
  if (queues > 1 && rss_hf != 0) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf = rss_hf;
    p.rss = true;
  }
  auto bail = [&](const std::string& what, int rc) -> Error {
    rte_mempool_free(p.pool);
    p.pool = nullptr;
    return fail("port ", config.device, ": ", what, ": ", dpdk_error(rc));
  };
  if (const int rc = rte_eth_dev_configure(p.id, static_cast<std::uint16_t>(queues), static_cast<std::uint16_t>(queues), &conf); rc != 0)
    return bail("cannot configure " + std::to_string(queues) + " queue pairs", rc);
  std::uint16_t rxd = config.rx_descriptors, txd = config.tx_descriptors;
  if (const int rc = rte_eth_dev_adjust_nb_rx_tx_desc(p.id, &rxd, &txd); rc != 0) return bail("descriptor counts", rc);
  const int socket = rte_eth_dev_socket_id(p.id);
  for (unsigned q = 0; q < queues; ++q) {
    if (const int rc = rte_eth_rx_queue_setup(p.id, static_cast<std::uint16_t>(q), rxd, static_cast<unsigned>(socket), nullptr, p.pool); rc != 0)
      return bail("RX queue " + std::to_string(q), rc);
    if (const int rc = rte_eth_tx_queue_setup(p.id, static_cast<std::uint16_t>(q), txd, static_cast<unsigned>(socket), nullptr); rc != 0)
      return bail("TX queue " + std::to_string(q), rc);
  }
  if (const int rc = rte_eth_dev_start(p.id); rc != 0) return bail("cannot start", rc);
  if (config.promiscuous) rte_eth_promiscuous_enable(p.id);
  rte_ether_addr mac{};
  if (const int rc = rte_eth_macaddr_get(p.id, &mac); rc != 0) return bail("cannot read its MAC address", rc);
  std::memcpy(p.mac.data(), mac.addr_bytes, 6);
  return p;
}

PortStats read_port_stats(const Port& port) {
  PortStats out;
  rte_eth_stats s{};
  if (rte_eth_stats_get(port.id, &s) == 0) {
    out.available = true;
    out.rx_packets = s.ipackets;
    out.tx_packets = s.opackets;
    out.rx_missed = s.imissed;
    out.rx_errors = s.ierrors;
    out.rx_nombuf = s.rx_nombuf;
    out.tx_errors = s.oerrors;
    const unsigned n = std::min<unsigned>(port.queues, RTE_ETHDEV_QUEUE_STAT_CNTRS);
    for (unsigned q = 0; q < n; ++q)
      if (s.q_ipackets[q] || s.q_opackets[q] || s.q_errors[q])
        out.queues.push_back({static_cast<std::uint16_t>(q), s.q_ipackets[q], s.q_opackets[q], s.q_errors[q]});
  }
  rte_eth_dev_info info{};
  char name[IF_NAMESIZE] = {};
  if (rte_eth_dev_info_get(port.id, &info) == 0 && info.if_index > 0 && if_indextoname(info.if_index, name)) {
    out.kernel_interface = name;
    if (const auto k = read_kernel_link_drops(name)) {
      out.kernel_tx_dropped = k->tx_dropped;
      out.kernel_rx_dropped = k->rx_dropped;
    }
  }
  return out;
}

void close_port(Port& port) {
  if (port.pool == nullptr) return;
  rte_eth_dev_stop(port.id);
  rte_eth_dev_close(port.id);
  rte_mempool_free(port.pool);
  port.pool = nullptr;
}

}  // namespace dotpin::dataplane
