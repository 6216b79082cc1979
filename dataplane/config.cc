// SPDX-License-Identifier: Apache-2.0
#include "dataplane/config.h"

#include <arpa/inet.h>

#include <toml++/toml.h>

#include "common/endpoint.h"
#include "dataplane/ip_prefix.h"
#include "tls/server_context.h"


namespace dotpin::dataplane {

void read_dataplane_config(const toml::table& root, TomlReader& r, DataPlaneConfig& c) {
  const toml::table* dpdk = r.section(root, "dpdk", {"eal_args"});
  r.strings(dpdk, "eal_args", [&](const std::string& v, const toml::node&) { c.eal_args.push_back(v); });

  const toml::table* port = r.section(root, "port", {"device", "ipv4", "ipv6", "rx_descriptors", "tx_descriptors", "mbufs",
                                                     "promiscuous", "verify_udp_checksum", "max_udp_payload"});
  if (port == nullptr) {
    r.error(root.source(), "missing [port] section (device and addresses of the client-facing port)");
  } else {
    if (r.string(port, "device", c.device) == nullptr) r.error(port->source(), "[port] needs 'device' (an ethdev name)");
    r.strings(port, "ipv4", [&](const std::string& v, const toml::node& n) {
      // "address" or "address/len": with the subnet's length, its directed broadcast (and the
      // obsolete all-zeros broadcast, the network address) is dropped as a source like the
      // limited broadcast (src_martian).
      const auto p = parse_ip_prefix(v);
      if (!p || p->v6) {
        r.error(n.source(), p ? "'" + v + "' is not an IPv4 address" : p.error());
        return;
      }
      if (p->has_length && p->length < 8) {
        r.error(n.source(), "'" + v + "': the appliance's subnet must be /8 or longer");
        return;
      }
      const std::uint32_t host = p->v4(), mask = p->v4_mask();
      if (p->length <= 30) {  // /31 (RFC 3021) and /32 have no network or broadcast address
        if ((host & ~mask) == 0 || (host | mask) == ~0u) {
          r.error(n.source(), "'" + v + "' is the subnet's network or broadcast address, not a host's");
          return;
        }
        for (const std::uint32_t edge : {host & mask, host | ~mask})
          c.local.ipv4_broadcast.push_back({static_cast<std::uint8_t>(edge >> 24), static_cast<std::uint8_t>(edge >> 16),
                                            static_cast<std::uint8_t>(edge >> 8), static_cast<std::uint8_t>(edge)});
      }
      c.local.ipv4.push_back({p->address[0], p->address[1], p->address[2], p->address[3]});
    });
    r.strings(port, "ipv6", [&](const std::string& v, const toml::node& n) {
      std::array<std::uint8_t, 16> a{};
      if (inet_pton(AF_INET6, v.c_str(), a.data()) != 1) r.error(n.source(), "'" + v + "' is not an IPv6 address");
      else c.local.ipv6.push_back(a);
    });
    if (c.local.ipv4.empty() && c.local.ipv6.empty())
      r.error(port->source(), "[port] needs at least one address in 'ipv4' or 'ipv6'");
    r.integer(port, "rx_descriptors", c.rx_descriptors, 64, 16384);
    r.integer(port, "tx_descriptors", c.tx_descriptors, 64, 16384);
    r.integer(port, "mbufs", c.mbufs, 1023, 16777215);
    r.boolean(port, "promiscuous", c.promiscuous);
    r.boolean(port, "verify_udp_checksum", c.verify_udp_checksum);
    r.integer(port, "max_udp_payload", c.max_udp, 512, 1452);  // 1500 MTU - IPv6 - UDP headers
  }

  const toml::table* acl = r.section(root, "acl", {"allow", "action"});
  c.explicit_views = root.contains("view");
  if (c.explicit_views && acl != nullptr && acl->contains("allow"))
    r.error(acl->get("allow")->source(),
            "with [[view]] sections each view's 'allow' says who may query: remove [acl] allow (its 'action' stays)");
  r.strings(acl, "allow", [&](const std::string& v, const toml::node& n) {
    if (auto s = c.acl.add(v); !s) r.error(n.source(), s.error());
  });
  if (!c.explicit_views && c.acl.size() == 0 && r.ok())
    r.error(acl ? acl->source() : root.source(),
            "[acl] allow lists no client prefix: nobody could query (dotpin is never an open resolver; list the "
            "networks it serves, e.g. allow = [\"198.18.0.0/15\"])");
  std::string action = "refuse";
  if (const toml::node* n = r.string(acl, "action", action); n && action != "refuse" && action != "drop")
    r.error(n->source(), "'action' must be \"refuse\" or \"drop\"");
  c.acl_refuse = action == "refuse";

  const toml::table* cache = r.section(root, "cache", {"entries", "max_mib", "max_answer", "min_ttl", "max_ttl", "max_negative_ttl",
                                                             "stale_max_s"});
  r.integer(cache, "entries", c.cache.entries, 8, std::int64_t{1} << 26);
  std::size_t max_mib = c.cache.max_bytes >> 20;
  r.integer(cache, "max_mib", max_mib, 1, 65536);
  c.cache.max_bytes = max_mib << 20;
  r.integer(cache, "max_answer", c.cache.max_answer, 512, 65535);
  r.integer(cache, "min_ttl", c.limits.min_ttl, 0, 86400);
  r.integer(cache, "max_ttl", c.limits.max_ttl, 1, 604800);
  r.integer(cache, "max_negative_ttl", c.limits.max_negative_ttl, 0, 86400);
  r.integer(cache, "stale_max_s", c.limits.stale_max, 0, 604800);

  const toml::table* ups = r.section(root, "upstreams", {"ca_file", "tls_min_version", "policy", "connections", "max_inflight_per_connection",
                                                         "query_timeout_ms", "handshake_timeout_ms", "idle_timeout_ms", "pad_block",
                                                         "retry_once", "inflight_per_lcore", "probe_interval_ms", "suite_order"});
  r.string(ups, "ca_file", c.ca_file);
  c.ca_file = r.relative(c.ca_file);
  std::string floor = "1.2";
  if (const toml::node* n = r.string(ups, "tls_min_version", floor)) {
    // Stricter than the built-in policy, never weaker: there is no "1.1".
    if (auto f = tls::tls_floor_from_string(floor)) c.tls_min_version = *f;
    else r.error(n->source(), "'tls_min_version' must be \"1.2\" or \"1.3\"");
  }
  std::string order = "auto";
  if (const toml::node* n = r.string(ups, "suite_order", order)) {
    if (auto o = tls::suite_order_from_string(order)) c.suite_order = *o;
    else r.error(n->source(), "'suite_order' must be \"auto\", \"aes-gcm\" or \"chacha20\"");
  }
  std::string policy = "round-robin";
  if (const toml::node* n = r.string(ups, "policy", policy)) {
    if (policy == "round-robin") c.shard.policy = tls::ShardOptions::Policy::kRoundRobin;
    else if (policy == "lowest-latency") c.shard.policy = tls::ShardOptions::Policy::kLowestLatency;
    else r.error(n->source(), "'policy' must be \"round-robin\" or \"lowest-latency\"");
  }
  r.integer(ups, "connections", c.shard.connections_per_upstream, 1, 64);
  r.integer(ups, "max_inflight_per_connection", c.shard.max_inflight_per_connection, 1, 65536);
  r.millis(ups, "query_timeout_ms", c.shard.query_timeout, 50, 60000);
  r.millis(ups, "handshake_timeout_ms", c.shard.handshake_timeout, 50, 60000);
  r.millis(ups, "idle_timeout_ms", c.shard.idle_timeout, 100, 3600000);
  r.integer(ups, "pad_block", c.shard.pad_block, 0, 1024);
  r.boolean(ups, "retry_once", c.shard.retry_once);
  r.millis(ups, "probe_interval_ms", c.shard.probe_interval, 0, 60000);
  r.integer(ups, "inflight_per_lcore", c.inflight_per_lcore, 16, 1 << 20);
  c.shard.max_pending = c.inflight_per_lcore;

  const toml::table* rl = r.section(root, "ratelimit", {"qps", "burst", "error_qps", "error_burst", "ipv6_prefix",
                                                       "slip", "entries", "exempt"});
  r.integer(rl, "qps", c.ratelimit.qps, 0, 10000000);
  r.integer(rl, "burst", c.ratelimit.burst, 0, 10000000);
  r.integer(rl, "error_qps", c.ratelimit.error_qps, 0, 10000000);
  r.integer(rl, "error_burst", c.ratelimit.error_burst, 0, 10000000);
  r.integer(rl, "ipv6_prefix", c.ratelimit.ipv6_prefix, 32, 64);
  r.integer(rl, "slip", c.ratelimit.slip, 0, 100);
  r.integer(rl, "entries", c.ratelimit.entries, 2, 1 << 24);
  r.strings(rl, "exempt", [&](const std::string& v, const toml::node& n) {
    if (auto s = c.ratelimit.exempt.add(v); !s) r.error(n.source(), s.error());
  });

  const toml::table* tcp = r.section(root, "tcp", {"enabled", "max_connections", "max_connections_per_client",
                                                  "max_inflight_per_connection", "inflight", "idle_timeout_ms",
                                                  "write_timeout_ms", "interface"});
  r.boolean(tcp, "enabled", c.tcp.enabled);
  r.integer(tcp, "max_connections", c.tcp.max_connections, 1, 65536);
  r.integer(tcp, "max_connections_per_client", c.tcp.max_connections_per_client, 1, 65536);
  r.integer(tcp, "max_inflight_per_connection", c.tcp.max_inflight_per_connection, 1, 1024);
  r.integer(tcp, "inflight", c.tcp.inflight, 16, 65536);
  r.millis(tcp, "idle_timeout_ms", c.tcp.idle_timeout, 100, 3600000);
  r.millis(tcp, "write_timeout_ms", c.tcp.write_timeout, 100, 600000);
  if (const toml::node* n = r.string(tcp, "interface", c.tcp.interface);
      n && (c.tcp.interface.empty() || c.tcp.interface.size() > 15 || c.tcp.interface.find('/') != std::string::npos))
    r.error(n->source(), "'interface' must be a kernel interface name of 1 to 15 characters");
  if (c.tcp.enabled) c.local.tcp_ports[0] = kDnsPort;

  const toml::table* dot = r.section(root, "dot", {"certificate", "key", "min_tls_version", "ticket_key_rotation_s",
                                                  "handshake_timeout_ms"});
  const toml::node* cert_node = r.string(dot, "certificate", c.tcp.dot.certificate);
  const toml::node* key_node = r.string(dot, "key", c.tcp.dot.key);
  std::string dot_floor = "1.2";
  if (const toml::node* n = r.string(dot, "min_tls_version", dot_floor)) {
    if (auto f = tls::tls_floor_from_string(dot_floor)) c.tcp.dot.min_version = *f;
    else r.error(n->source(), "'min_tls_version' must be \"1.2\" or \"1.3\"");
  }
  r.seconds(dot, "ticket_key_rotation_s", c.tcp.dot.ticket_rotation, 1, 86400);
  r.millis(dot, "handshake_timeout_ms", c.tcp.dot.handshake_timeout, 100, 60000);
  if (dot != nullptr) {
    if (cert_node == nullptr || key_node == nullptr) {
      r.error(dot->source(), "[dot] needs both 'certificate' and 'key'");
      c.tcp.dot.certificate.clear();
    } else {
      c.tcp.dot.certificate = r.relative(c.tcp.dot.certificate);
      c.tcp.dot.key = r.relative(c.tcp.dot.key);
      // Loaded now, so that a wrong file, a key of another certificate or a chain wolfSSL cannot
      // read is an error at its line (and in --check), not at start.
      const tls::ServerPolicy server{c.tcp.dot.certificate, c.tcp.dot.key, c.tcp.dot.min_version, c.tcp.dot.ticket_rotation};
      if (auto ctx = tls::make_server_context(server); !ctx) r.error(cert_node->source(), "[dot]: " + ctx.error());
      else c.local.tcp_ports[1] = kDotPort;
    }
  }

  const toml::table* daemon = r.section(root, "daemon", {"drain_ms"});
  r.millis(daemon, "drain_ms", c.drain, 0, 60000);

  read_views(root, r, c);
}

}  // namespace dotpin::dataplane
