// SPDX-License-Identifier: Apache-2.0
#include "dataplane/exception_port.h"

#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>

namespace dotpin::dataplane {

Result<ExceptionPort> open_exception_port(const std::string& interface, unsigned queues, rte_mempool* pool) {
  ExceptionPort p;
  p.device = "net_tap_dotpin_exc";
  p.interface = interface;
  const std::string args = "iface=" + interface;
  if (const int rc = rte_eal_hotplug_add("vdev", p.device.c_str(), args.c_str()); rc != 0)
    return fail("exception path: cannot create the tap '", interface, "': ", rte_strerror(rc < 0 ? -rc : rc),
                " (net_tap needs /dev/net/tun and CAP_NET_ADMIN)");
  if (rte_eth_dev_get_port_by_name(p.device.c_str(), &p.id) != 0) {
    rte_eal_hotplug_remove("vdev", p.device.c_str());
    return fail("exception path: tap created but no port for it");
  }
  p.open = true;
  auto bail = [&](const std::string& what, int rc) -> Error {
    close_exception_port(p);
    return fail("exception path (", interface, "): ", what, ": ", rte_strerror(rc < 0 ? -rc : rc));
  };
  rte_eth_conf conf{};
  const auto q = static_cast<std::uint16_t>(queues);
  if (const int rc = rte_eth_dev_configure(p.id, q, q, &conf); rc != 0) return bail("configure", rc);
  std::uint16_t rxd = 512, txd = 512;
  if (const int rc = rte_eth_dev_adjust_nb_rx_tx_desc(p.id, &rxd, &txd); rc != 0) return bail("descriptors", rc);
  const int socket = rte_eth_dev_socket_id(p.id);
  for (std::uint16_t i = 0; i < q; ++i) {
    if (const int rc = rte_eth_rx_queue_setup(p.id, i, rxd, static_cast<unsigned>(socket), nullptr, pool); rc != 0)
      return bail("RX queue " + std::to_string(i), rc);
    if (const int rc = rte_eth_tx_queue_setup(p.id, i, txd, static_cast<unsigned>(socket), nullptr); rc != 0)
      return bail("TX queue " + std::to_string(i), rc);
  }
  if (const int rc = rte_eth_dev_start(p.id); rc != 0) return bail("start", rc);
  return p;
}

void close_exception_port(ExceptionPort& port) {
  if (!port.open) return;
  // The kernel side lives in the TCP service's namespace by now: the PMD's interface calls by name
  // fail there, harmlessly; closing its queues' fds removes the device with the namespace's end.
  rte_eth_dev_stop(port.id);
  rte_eth_dev_close(port.id);
  rte_eal_hotplug_remove("vdev", port.device.c_str());
  port.open = false;
}

}  // namespace dotpin::dataplane
