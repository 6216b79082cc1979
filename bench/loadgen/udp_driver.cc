// SPDX-License-Identifier: Apache-2.0
#include "bench/loadgen/udp_driver.h"

#include <arpa/inet.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <cstdio>
#include <cstring>
#include <thread>

#include "dataplane/config.h"
#include "dataplane/packet.h"
#include "dataplane/port.h"

namespace dotpin::bench {
namespace {

using dataplane::PacketKind;
using dataplane::PacketView;

constexpr std::uint16_t kFirstPort = 20000;
constexpr unsigned kBurst = 32;

std::array<std::uint8_t, 16> add(std::array<std::uint8_t, 16> a, unsigned n, bool v6) {
  for (int i = v6 ? 15 : 3; i >= 0 && n; --i) {
    const unsigned v = a[static_cast<std::size_t>(i)] + (n & 0xff);
    a[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v);
    n = (n >> 8) + (v >> 8);
  }
  return a;
}

/// Ethernet + IP + UDP headers for one source address and port; lengths/checksums set per query.
std::uint16_t write_headers(std::uint8_t* f, const UdpOptions& o, const std::array<std::uint8_t, 6>& mac,
                            const std::array<std::uint8_t, 16>& src, std::uint16_t sport) {
  std::memcpy(f, o.dst_mac.data(), 6);
  std::memcpy(f + 6, mac.data(), 6);
  f[12] = o.ipv6 ? 0x86 : 0x08;
  f[13] = o.ipv6 ? 0xdd : 0x00;
  std::uint8_t* ip = f + 14;
  std::uint16_t l4;
  if (o.ipv6) {
    std::memset(ip, 0, 40);
    ip[0] = 0x60;
    ip[6] = 17;
    ip[7] = 64;
    std::memcpy(ip + 8, src.data(), 16);
    std::memcpy(ip + 24, o.dst.data(), 16);
    l4 = 14 + 40;
  } else {
    std::memset(ip, 0, 20);
    ip[0] = 0x45;
    ip[8] = 64;
    ip[9] = 17;
    std::memcpy(ip + 12, src.data(), 4);
    std::memcpy(ip + 16, o.dst.data(), 4);
    l4 = 14 + 20;
  }
  f[l4] = static_cast<std::uint8_t>(sport >> 8);
  f[l4 + 1] = static_cast<std::uint8_t>(sport);
  f[l4 + 2] = 0;
  f[l4 + 3] = 53;
  return l4;
}

void write_arp_request(std::uint8_t* f, const std::array<std::uint8_t, 6>& mac, const std::array<std::uint8_t, 16>& src,
                       const std::uint8_t* target) {
  std::memset(f, 0xff, 6);
  std::memcpy(f + 6, mac.data(), 6);
  const std::uint8_t arp[] = {0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1};
  std::memcpy(f + 12, arp, sizeof arp);
  std::memcpy(f + 22, mac.data(), 6);
  std::memcpy(f + 28, src.data(), 4);
  std::memset(f + 32, 0, 6);
  std::memcpy(f + 38, target, 4);
}

/// RFC 4861 neighbour solicitation for @p target to its solicited-node multicast address, with our
/// link-layer address option.
void write_neighbor_solicit(std::uint8_t* f, const std::array<std::uint8_t, 6>& mac, const std::array<std::uint8_t, 16>& src,
                            const std::array<std::uint8_t, 16>& target, rte_mbuf* m) {
  constexpr std::uint16_t kIcmpLen = 32;  // type..reserved (8) + target (16) + option (8)
  std::uint8_t* ip = f + 14;
  const std::uint8_t group[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, target[13], target[14], target[15]};
  const std::uint8_t eth_dst[6] = {0x33, 0x33, 0xff, target[13], target[14], target[15]};
  std::memcpy(f, eth_dst, 6);
  std::memcpy(f + 6, mac.data(), 6);
  f[12] = 0x86;
  f[13] = 0xdd;
  std::memset(ip, 0, 40);
  ip[0] = 0x60;
  ip[5] = kIcmpLen;
  ip[6] = 58;
  ip[7] = 255;
  std::memcpy(ip + 8, src.data(), 16);
  std::memcpy(ip + 24, group, 16);
  std::uint8_t* icmp = ip + 40;
  std::memset(icmp, 0, kIcmpLen);
  icmp[0] = 135;
  std::memcpy(icmp + 8, target.data(), 16);
  icmp[24] = 1;  // source link-layer address
  icmp[25] = 1;
  std::memcpy(icmp + 26, mac.data(), 6);
  const std::uint8_t pseudo[8] = {0, 0, 0, kIcmpLen, 0, 0, 0, 58};
  std::uint32_t sum = dataplane::checksum_add(0, ip + 8, 32);
  sum = dataplane::checksum_add(sum, pseudo, 8);
  sum = dataplane::checksum_add(sum, icmp, kIcmpLen);
  const std::uint16_t c = dataplane::checksum_fold(sum);
  std::memcpy(icmp + 2, &c, 2);  // checksum_add sums words as they lie in memory
  m->data_len = m->pkt_len = 14 + 40 + kIcmpLen;
}

struct Slot {
  std::uint64_t sent_tsc = 0;
  bool live = false;
};

}  // namespace

Result<RunStats> run_udp(const UdpOptions& o, QueryMix& mix, const std::function<void(const RunStats&, double)>& progress) {
  dataplane::DataPlaneConfig pc;
  pc.device = o.device;
  pc.mbufs = 8191;
  pc.promiscuous = false;
  auto port = dataplane::open_port(pc, 1);
  if (!port) return Error{port.error()};
  struct Closer {
    dataplane::Port& p;
    ~Closer() { dataplane::close_port(p); }
  } closer{*port};
  const std::uint16_t pid = port->id;

  dataplane::LocalAddresses local;
  local.mac = port->mac;
  std::vector<std::array<std::uint8_t, 16>> sources;
  for (unsigned i = 0; i < o.src_count; ++i) {
    sources.push_back(add(o.src, i, o.ipv6));
    if (o.ipv6) local.ipv6.push_back(sources.back());
    else local.ipv4.push_back({sources.back()[0], sources.back()[1], sources.back()[2], sources.back()[3]});
  }
  UdpOptions opt = o;
  const std::uint64_t hz = rte_get_tsc_hz();
  rte_mbuf* rx[kBurst];

  // Answers ARP / NS for our sources; returns answers (UDP from port 53) to @p on_answer.
  auto poll_rx = [&](const std::function<void(const std::uint8_t*, std::uint16_t, std::uint16_t, std::uint16_t)>& on_answer,
                     const std::function<void(const std::uint8_t*, std::uint16_t)>& on_other) {
    const std::uint16_t n = rte_eth_rx_burst(pid, 0, rx, kBurst);
    for (std::uint16_t i = 0; i < n; ++i) {
      rte_mbuf* m = rx[i];
      auto* d = rte_pktmbuf_mtod(m, std::uint8_t*);
      const std::uint16_t len = m->data_len;
      PacketView v = dataplane::classify({d, len}, local, false);
      std::uint16_t reply = 0;
      if (v.kind == PacketKind::kArpRequest) reply = dataplane::make_arp_reply(d, v, local.mac);
      else if (v.kind == PacketKind::kNeighborSolicit)
        reply = dataplane::make_neighbor_advert(d, m->buf_len - m->data_off, v, local.mac);
      if (reply) {
        m->data_len = m->pkt_len = reply;
        if (rte_eth_tx_burst(pid, 0, &m, 1) == 1) continue;
      } else {
        const bool v6 = len >= 54 && d[12] == 0x86 && d[13] == 0xdd;
        const bool v4 = len >= 34 && d[12] == 0x08 && d[13] == 0x00;
        const std::uint16_t l4 = v6 ? 54 : v4 ? static_cast<std::uint16_t>(14 + (d[14] & 0x0f) * 4) : 0;
        const bool udp = (v6 && d[20] == 17) || (v4 && d[23] == 17);
        if (udp && l4 + 8 + 12 <= len && d[l4] == 0 && d[l4 + 1] == 53) {
          const std::uint16_t dport = static_cast<std::uint16_t>(d[l4 + 2] << 8 | d[l4 + 3]);
          on_answer(d + l4 + 8, static_cast<std::uint16_t>(len - l4 - 8), dport, 0);
        } else if (on_other) {
          on_other(d, len);
        }
      }
      rte_pktmbuf_free(m);
    }
  };

  // Without a MAC: ask for it (ARP for IPv4, a neighbour solicitation for IPv6), up to 3 s.
  const bool have_mac = std::any_of(o.dst_mac.begin(), o.dst_mac.end(), [](std::uint8_t b) { return b != 0; });
  if (!have_mac) {
    if (!o.resolve_mac) return fail("--dst-mac is needed");
    bool found = false;
    const bool via_gateway = std::any_of(o.gateway.begin(), o.gateway.end(), [](std::uint8_t b) { return b != 0; });
    const std::uint8_t* ask_for = via_gateway ? o.gateway.data() : o.dst.data();
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    auto next_ask = std::chrono::steady_clock::now();
    while (!found && std::chrono::steady_clock::now() < until) {
      if (std::chrono::steady_clock::now() >= next_ask) {
        rte_mbuf* m = rte_pktmbuf_alloc(port->pool);
        if (!m) return fail("mbuf pool empty");
        if (o.ipv6) write_neighbor_solicit(rte_pktmbuf_mtod(m, std::uint8_t*), local.mac, sources[0], o.dst, m);
        else write_arp_request(reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, 42)), local.mac, sources[0], ask_for);
        if (rte_eth_tx_burst(pid, 0, &m, 1) != 1) rte_pktmbuf_free(m);
        next_ask += std::chrono::milliseconds(200);
      }
      poll_rx([](const std::uint8_t*, std::uint16_t, std::uint16_t, std::uint16_t) {},
              [&](const std::uint8_t* d, std::uint16_t len) {
                if (!o.ipv6 && len >= 42 && d[12] == 0x08 && d[13] == 0x06 && d[21] == 2 &&
                    std::memcmp(d + 28, ask_for, 4) == 0) {
                  std::memcpy(opt.dst_mac.data(), d + 22, 6);
                  found = true;
                }
                // A neighbour advertisement for the target with its link-layer address option.
                if (o.ipv6 && len >= 14 + 40 + 32 && d[12] == 0x86 && d[13] == 0xdd && d[20] == 58 && d[54] == 136 &&
                    std::memcmp(d + 62, o.dst.data(), 16) == 0 && d[78] == 2 && d[79] == 1) {
                  std::memcpy(opt.dst_mac.data(), d + 80, 6);
                  found = true;
                }
              });
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (!found) {
      char mac[18];
      std::snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", local.mac[0], local.mac[1], local.mac[2],
                    local.mac[3], local.mac[4], local.mac[5]);
      return fail("no ", o.ipv6 ? "neighbour advertisement" : "ARP reply", " from the target within 3 s to ", mac,
                  " (give --dst-mac)");
    }
  }

  std::fprintf(stderr, "dotpin-bench: port %s MAC %02x:%02x:%02x:%02x:%02x:%02x -> target MAC %02x:%02x:%02x:%02x:%02x:%02x\n",
               port->name.c_str(), local.mac[0], local.mac[1], local.mac[2], local.mac[3], local.mac[4], local.mac[5],
               opt.dst_mac[0], opt.dst_mac[1], opt.dst_mac[2], opt.dst_mac[3], opt.dst_mac[4], opt.dst_mac[5]);
  RunStats st;
  st.mode = "udp";
  char text[INET6_ADDRSTRLEN];
  inet_ntop(o.ipv6 ? AF_INET6 : AF_INET, o.dst.data(), text, sizeof text);
  st.target = std::string(text) + " via " + port->name;
  const std::size_t ports = std::max(1u, o.src_ports);
  std::vector<Slot> slots(ports * 65536);
  std::uint64_t seq = 0, outstanding = 0;
  const std::uint64_t timeout_tsc = hz * static_cast<std::uint64_t>(o.timeout.count()) / 1000;

  auto on_answer = [&](const std::uint8_t* dns, std::uint16_t, std::uint16_t dport, std::uint16_t) {
    if (dport < kFirstPort || dport >= kFirstPort + ports) {
      ++st.unmatched;
      return;
    }
    const std::uint16_t id = static_cast<std::uint16_t>(dns[0] << 8 | dns[1]);
    Slot& s = slots[static_cast<std::size_t>(id) * ports + (dport - kFirstPort)];
    if (!s.live) {
      ++st.unmatched;
      return;
    }
    const std::uint64_t now = rte_rdtsc();
    s.live = false;
    --outstanding;
    if (now - s.sent_tsc > timeout_tsc) {
      ++st.late;
      return;
    }
    ++st.answered;
    ++st.rcodes[dns[3] & 15];
    st.latency_ns.record((now - s.sent_tsc) * 1'000'000'000ull / hz);
  };

  const double cpu0 = process_cpu_seconds();
  const std::uint64_t start = rte_rdtsc();
  const std::uint64_t run_tsc = hz * static_cast<std::uint64_t>(o.duration.count()) / 1000;
  std::uint64_t next_send = start;
  std::uint64_t next_progress = start + hz;
  std::uint64_t expire_scan = start;
  std::size_t expire_cursor = 0;
  rte_mbuf* tx[kBurst];
  for (;;) {
    const std::uint64_t now = rte_rdtsc();
    const bool sending = now - start < run_tsc && (!o.max_queries || seq < o.max_queries);
    if (!sending && (outstanding == 0 || now - start >= run_tsc + timeout_tsc)) break;
    if (sending) {
      unsigned want = 0;
      if (o.rate > 0) {
        double rate = o.rate;
        if (o.ramp_to > o.rate) rate += (o.ramp_to - o.rate) * static_cast<double>(now - start) / static_cast<double>(run_tsc);
        const auto gap = static_cast<std::uint64_t>(static_cast<double>(hz) / rate);
        while (want < kBurst && next_send <= now) {
          ++want;
          next_send += gap;
        }
        if (now > next_send + hz / 100) next_send = now;  // more than 10 ms behind: do not burst to catch up
      } else {
        want = static_cast<unsigned>(std::min<std::uint64_t>(kBurst, o.outstanding > outstanding ? o.outstanding - outstanding : 0));
      }
      if (o.max_queries) want = static_cast<unsigned>(std::min<std::uint64_t>(want, o.max_queries - seq));
      if (want > 0 && rte_pktmbuf_alloc_bulk(port->pool, tx, want) == 0) {
        unsigned built = 0;
        for (; built < want; ++built) {
          const std::uint64_t s = seq + built;
          const std::size_t port_idx = s % ports;
          const std::uint16_t id = static_cast<std::uint16_t>((s / ports) & 0xffff);
          Slot& slot = slots[static_cast<std::size_t>(id) * ports + port_idx];
          if (slot.live) break;  // 65536 outstanding on this port: wait
          const auto& q = mix.wire()[mix.next()];
          auto* f = rte_pktmbuf_mtod(tx[built], std::uint8_t*);
          const std::uint16_t l4 = write_headers(f, opt, local.mac, sources[(s / ports) % sources.size()],
                                                 static_cast<std::uint16_t>(kFirstPort + port_idx));
          std::memcpy(f + l4 + 8, q.data(), q.size());
          f[l4 + 8] = static_cast<std::uint8_t>(id >> 8);
          f[l4 + 9] = static_cast<std::uint8_t>(id);
          PacketView v;
          v.ipv6 = o.ipv6;
          v.l3 = 14;
          v.l4 = l4;
          v.payload = static_cast<std::uint16_t>(l4 + 8);
          const std::uint16_t len = dataplane::finish_udp_template(f, v, static_cast<std::uint16_t>(q.size()));
          tx[built]->data_len = tx[built]->pkt_len = len;
          slot.live = true;
          slot.sent_tsc = rte_rdtsc();
        }
        const std::uint16_t sent = rte_eth_tx_burst(pid, 0, tx, static_cast<std::uint16_t>(built));
        for (unsigned k = sent; k < built; ++k) {  // not taken by the queue: not sent
          const std::uint64_t s = seq + k;
          slots[static_cast<std::size_t>((s / ports) & 0xffff) * ports + s % ports].live = false;
        }
        if (sent < want) rte_pktmbuf_free_bulk(tx + sent, want - sent);
        seq += sent;
        st.sent += sent;
        outstanding += sent;
      }
    }
    poll_rx(on_answer, {});
    // Give up on queries older than the timeout, a slice of the table per pass.
    if (now >= expire_scan) {
      for (std::size_t k = 0; k < 4096; ++k, expire_cursor = (expire_cursor + 1) % slots.size()) {
        Slot& s = slots[expire_cursor];
        if (s.live && now > s.sent_tsc && now - s.sent_tsc > timeout_tsc) {  // sent_tsc may be after now
          s.live = false;
          --outstanding;
        }
      }
      expire_scan = now + hz / 1000;
    }
    if (progress && now >= next_progress) {
      progress(st, static_cast<double>(now - start) / static_cast<double>(hz));
      next_progress += hz;
    }
  }
  st.seconds = static_cast<double>(rte_rdtsc() - start) / static_cast<double>(hz);
  st.cpu_seconds = process_cpu_seconds() - cpu0;
  return st;
}

}  // namespace dotpin::bench
