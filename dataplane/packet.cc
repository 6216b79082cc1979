// SPDX-License-Identifier: Apache-2.0
#include "dataplane/packet.h"

#include <algorithm>
#include <cstring>

namespace dotpin::dataplane {
namespace {

constexpr std::uint16_t kEthIpv4 = 0x0800, kEthArp = 0x0806, kEthIpv6 = 0x86dd, kEthVlan = 0x8100, kEthQinQ = 0x88a8;
constexpr std::uint8_t kProtoIcmp = 1, kProtoTcp = 6, kProtoUdp = 17, kProtoIcmp6 = 58, kProtoFragment = 44;
constexpr std::uint8_t kIcmpEchoRequest = 8, kIcmpEchoReply = 0;
constexpr std::uint8_t kIcmp6EchoRequest = 128, kIcmp6EchoReply = 129, kIcmp6NeighborSolicit = 135,
                       kIcmp6NeighborAdvert = 136;

inline std::uint16_t be16(const std::uint8_t* p) noexcept { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
inline void put16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

PacketView dropped(DropReason r) noexcept {
  PacketView v;
  v.drop = r;
  return v;
}

// The sum of a pseudo header (RFC 768 / RFC 8200 §8.1) in the checksum's memory-order domain.
std::uint32_t pseudo_sum(const std::uint8_t* ip, bool ipv6, std::uint8_t proto, std::uint16_t l4_len) noexcept {
  const std::uint8_t tail[4] = {0, proto, static_cast<std::uint8_t>(l4_len >> 8), static_cast<std::uint8_t>(l4_len)};
  std::uint32_t sum = ipv6 ? checksum_add(0, ip + 8, 32) : checksum_add(0, ip + 12, 8);
  if (ipv6) {
    const std::uint8_t len32[4] = {0, 0, static_cast<std::uint8_t>(l4_len >> 8), static_cast<std::uint8_t>(l4_len)};
    const std::uint8_t nh[4] = {0, 0, 0, proto};
    sum = checksum_add(sum, len32, 4);
    return checksum_add(sum, nh, 4);
  }
  return checksum_add(sum, tail, 4);
}

// Checksum of an L4 segment: pseudo header plus the segment with its checksum field as it is.
std::uint16_t l4_checksum(const std::uint8_t* ip, bool ipv6, std::uint8_t proto, const std::uint8_t* l4,
                          std::uint16_t l4_len) noexcept {
  return checksum_fold(checksum_add(pseudo_sum(ip, ipv6, proto, l4_len), l4, l4_len));
}

void set_ipv4_header_checksum(std::uint8_t* ip) noexcept {
  ip[10] = ip[11] = 0;
  const std::uint16_t c = checksum_fold(checksum_add(0, ip, 20));
  std::memcpy(ip + 10, &c, 2);
}

void turn_ethernet(std::uint8_t* frame, const std::array<std::uint8_t, 6>& mac) noexcept {
  std::memcpy(frame, frame + 6, 6);
  std::memcpy(frame + 6, mac.data(), 6);
}

void swap_bytes(std::uint8_t* a, std::uint8_t* b, std::size_t n) noexcept {
  std::uint8_t tmp[16];
  std::memcpy(tmp, a, n);
  std::memcpy(a, b, n);
  std::memcpy(b, tmp, n);
}

bool solicited_node_multicast(const std::uint8_t* dst) noexcept {
  static constexpr std::uint8_t kPrefix[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff};
  return std::memcmp(dst, kPrefix, 13) == 0;
}

// Sources that never send a query and must never be answered (RFC 1122 §3.2.1.3, RFC 6890):
// 0/8 "this network", 127/8 loopback, 224/4 multicast, 240/4 reserved incl. 255.255.255.255,
// and the directed broadcast of each subnet the port is on.
// One unsigned compare catches 0 (wraps to 255) and 224..255; 127 is the other.
inline DropReason ipv4_source(const std::uint8_t* src, const LocalAddresses& local) noexcept {
  if (static_cast<std::uint8_t>(src[0] - 1) >= 223 || src[0] == 127) return DropReason::kSrcMartian;
  std::uint32_t a;
  std::memcpy(&a, src, 4);
  for (const auto& x : local.ipv4) {
    std::uint32_t b;
    std::memcpy(&b, x.data(), 4);
    if (a == b) return DropReason::kSrcSelf;
  }
  for (const auto& x : local.ipv4_broadcast) {
    std::uint32_t b;
    std::memcpy(&b, x.data(), 4);
    if (a == b) return DropReason::kSrcMartian;
  }
  return DropReason::kNone;
}

inline bool ipv6_unspecified(const std::uint8_t* a) noexcept {
  static constexpr std::uint8_t kZero[16] = {};
  return std::memcmp(a, kZero, 16) == 0;
}

// ff00::/8 multicast; ::/96 (::, ::1 and the deprecated IPv4-compatible addresses, RFC 4291
// §2.5.5.1); ::ffff:0:0/96 IPv4-mapped, whatever it embeds (RFC 4291 §2.5.5.2 and RFC 6890: never
// on the wire; a host stack would read ::ffff:127.0.0.1 as its own loopback).
inline DropReason ipv6_source(const std::uint8_t* src, const LocalAddresses& local) noexcept {
  if (src[0] == 0xff) return DropReason::kSrcMartian;
  if (src[0] == 0) {
    static constexpr std::uint8_t kZero[10] = {};
    if (std::memcmp(src, kZero, 10) == 0 && src[10] == src[11] && (src[10] == 0 || src[10] == 0xff))
      return DropReason::kSrcMartian;
  }
  return local.has_ipv6(src) ? DropReason::kSrcSelf : DropReason::kNone;
}

PacketView classify_udp(std::span<const std::uint8_t> f, PacketView v, std::uint16_t l4_end, bool verify) noexcept {
  if (l4_end < v.l4 + 8u) return dropped(DropReason::kUdpHeader);
  const std::uint8_t* udp = f.data() + v.l4;
  const std::uint16_t udp_len = be16(udp + 4);
  if (udp_len < 8 || v.l4 + udp_len > l4_end) return dropped(DropReason::kUdpHeader);
  if (be16(udp + 2) != kDnsPort) return dropped(DropReason::kUdpPort);
  if (is_reflection_port(be16(udp))) return dropped(DropReason::kSrcPort);
  const std::uint16_t stored = be16(udp + 6);
  if (v.ipv6 && stored == 0) return dropped(DropReason::kUdpChecksum);  // RFC 8200 §8.1: mandatory
  if (verify && stored != 0 && l4_checksum(f.data() + v.l3, v.ipv6, kProtoUdp, udp, udp_len) != 0)
    return dropped(DropReason::kUdpChecksum);
  v.kind = PacketKind::kDnsQuery;
  v.payload = static_cast<std::uint16_t>(v.l4 + 8);
  v.payload_len = static_cast<std::uint16_t>(udp_len - 8);
  return v;
}

// TCP to a port the kernel serves (DNS over TCP, DoT): checksums and state are the kernel's; only
// the header's presence, the port and the source port are checked here.
PacketView classify_tcp(PacketView v, const std::uint8_t* tcp, std::uint16_t l4_end, const LocalAddresses& local) noexcept {
  if (l4_end < v.l4 + 20u) return dropped(DropReason::kTcpPort);
  const std::uint16_t dport = be16(tcp + 2);
  if (dport == 0 || (dport != local.tcp_ports[0] && dport != local.tcp_ports[1])) return dropped(DropReason::kTcpPort);
  if (be16(tcp) == 0) return dropped(DropReason::kSrcPort);
  v.kind = PacketKind::kException;
  v.payload = v.l4;
  v.payload_len = static_cast<std::uint16_t>(l4_end - v.l4);
  return v;
}

PacketView classify_ipv4(std::span<const std::uint8_t> f, PacketView v, const LocalAddresses& local,
                         bool verify) noexcept {
  if (f.size() < v.l3 + 20u) return dropped(DropReason::kRunt);
  const std::uint8_t* ip = f.data() + v.l3;
  if ((ip[0] >> 4) != 4 || (ip[0] & 0x0f) < 5) return dropped(DropReason::kIpHeader);
  if ((ip[0] & 0x0f) != 5) return dropped(DropReason::kIpv4Options);
  const std::uint16_t total = be16(ip + 2);
  if (total < 20 || v.l3 + total > f.size()) return dropped(DropReason::kIpHeader);
  if (checksum_fold(checksum_add(0, ip, 20)) != 0) return dropped(DropReason::kIpHeader);
  if ((be16(ip + 6) & 0x3fff) != 0) return dropped(DropReason::kFragment);  // MF or an offset
  if (!local.has_ipv4(ip + 16)) return dropped(DropReason::kNotForUs);
  // Before any protocol: neither a DNS answer nor an echo reply goes to such a source.
  if (const DropReason bad = ipv4_source(ip + 12, local); bad != DropReason::kNone) return dropped(bad);
  v.l4 = static_cast<std::uint16_t>(v.l3 + 20);
  const auto l4_end = static_cast<std::uint16_t>(v.l3 + total);
  if (ip[9] == kProtoUdp) return classify_udp(f, v, l4_end, verify);
  if (ip[9] == kProtoTcp) return classify_tcp(v, f.data() + v.l4, l4_end, local);
  if (ip[9] != kProtoIcmp) return dropped(DropReason::kIpProtocol);
  if (l4_end < v.l4 + 8u || f[v.l4] != kIcmpEchoRequest || f[v.l4 + 1] != 0) return dropped(DropReason::kIcmpOther);
  v.kind = PacketKind::kIcmpEcho;
  v.payload = v.l4;
  v.payload_len = static_cast<std::uint16_t>(l4_end - v.l4);
  return v;
}

PacketView classify_ipv6(std::span<const std::uint8_t> f, PacketView v, const LocalAddresses& local,
                         bool verify) noexcept {
  if (f.size() < v.l3 + 40u) return dropped(DropReason::kRunt);
  const std::uint8_t* ip = f.data() + v.l3;
  if ((ip[0] >> 4) != 6) return dropped(DropReason::kIpHeader);
  const std::uint16_t payload_len = be16(ip + 4);
  if (v.l3 + 40u + payload_len > f.size()) return dropped(DropReason::kRunt);
  v.ipv6 = true;
  v.l4 = static_cast<std::uint16_t>(v.l3 + 40);
  const auto l4_end = static_cast<std::uint16_t>(v.l4 + payload_len);
  const std::uint8_t next = ip[6];
  const bool ours = local.has_ipv6(ip + 24);
  const DropReason bad = ipv6_source(ip + 8, local);
  if (next == kProtoUdp) {
    if (!ours) return dropped(DropReason::kNotForUs);
    return bad == DropReason::kNone ? classify_udp(f, v, l4_end, verify) : dropped(bad);
  }
  if (next == kProtoTcp) {
    if (!ours) return dropped(DropReason::kNotForUs);
    return bad == DropReason::kNone ? classify_tcp(v, f.data() + v.l4, l4_end, local) : dropped(bad);
  }
  if (next == kProtoFragment) return dropped(DropReason::kFragment);
  if (next != kProtoIcmp6) {
    // 0 hop-by-hop, 43 routing, 60 destination options, 51 AH, 50 ESP, 135 mobility, 59 none...
    const bool ext = next == 0 || next == 43 || next == 60 || next == 51 || next == 50 || next == 135 || next == 59;
    return dropped(ext ? DropReason::kIpv6ExtHeader : DropReason::kIpProtocol);
  }
  if (l4_end < v.l4 + 8u) return dropped(DropReason::kIcmpOther);
  const std::uint8_t* icmp = f.data() + v.l4;
  v.payload = v.l4;
  v.payload_len = payload_len;
  if (icmp[0] == kIcmp6EchoRequest && icmp[1] == 0 && ours) {
    if (bad != DropReason::kNone) return dropped(bad);
    v.kind = PacketKind::kIcmp6Echo;
    return v;
  }
  if (icmp[0] == kIcmp6NeighborSolicit && payload_len >= 24) {
    if (!local.has_ipv6(icmp + 8)) return dropped(DropReason::kNotForUs);  // someone else's address
    // Duplicate address detection comes from :: to the solicited-node group (RFC 4861 §7.1.1) and
    // is answered to all-nodes; any other martian or our own address as the source is not.
    const bool dad = ipv6_unspecified(ip + 8) && solicited_node_multicast(ip + 24);
    if (bad != DropReason::kNone && !dad) return dropped(bad);
    // RFC 4861 §7.1.1: hop limit 255, code 0, to us or our solicited-node group, checksum right.
    if (icmp[1] == 0 && ip[7] == 255 && (ours || solicited_node_multicast(ip + 24)) &&
        l4_checksum(ip, true, kProtoIcmp6, icmp, payload_len) == 0) {
      v.kind = PacketKind::kNeighborSolicit;
      return v;
    }
    return dropped(DropReason::kIcmpOther);
  }
  return dropped(ours ? DropReason::kIcmpOther : DropReason::kNotForUs);
}

}  // namespace

bool LocalAddresses::has_ipv4(const std::uint8_t* a) const noexcept {
  return std::any_of(ipv4.begin(), ipv4.end(), [a](const auto& x) { return std::memcmp(x.data(), a, 4) == 0; });
}

bool LocalAddresses::has_ipv6(const std::uint8_t* a) const noexcept {
  return std::any_of(ipv6.begin(), ipv6.end(), [a](const auto& x) { return std::memcmp(x.data(), a, 16) == 0; });
}

std::string_view to_string(DropReason r) {
  switch (r) {
    case DropReason::kNone: return "none";
    case DropReason::kRunt: return "runt";
    case DropReason::kNotForUs: return "not_for_us";
    case DropReason::kEtherType: return "ether_type";
    case DropReason::kVlanStacked: return "vlan_stacked";
    case DropReason::kArpOther: return "arp_other";
    case DropReason::kIpHeader: return "ip_header";
    case DropReason::kIpv4Options: return "ipv4_options";
    case DropReason::kFragment: return "fragment";
    case DropReason::kIpv6ExtHeader: return "ipv6_ext_header";
    case DropReason::kIpProtocol: return "ip_protocol";
    case DropReason::kTcpPort: return "tcp_port";
    case DropReason::kIcmpOther: return "icmp_other";
    case DropReason::kUdpHeader: return "udp_header";
    case DropReason::kUdpChecksum: return "udp_checksum";
    case DropReason::kUdpPort: return "udp_port";
    case DropReason::kSrcMartian: return "src_martian";
    case DropReason::kSrcSelf: return "src_self";
    case DropReason::kSrcPort: return "src_port";
    case DropReason::kCount_: break;
  }
  return "unknown";
}

std::uint32_t checksum_add(std::uint32_t sum, const std::uint8_t* data, std::size_t len) noexcept {
  // Sums 16-bit words in memory order (RFC 1071 §2(B): byte order does not matter as long as the
  // result is stored the same way), 4 bytes at a time into a 64-bit accumulator.
  std::uint64_t acc = sum;
  while (len >= 4) {
    std::uint32_t w;
    std::memcpy(&w, data, 4);
    acc += w;
    data += 4;
    len -= 4;
  }
  if (len >= 2) {
    std::uint16_t w;
    std::memcpy(&w, data, 2);
    acc += w;
    data += 2;
    len -= 2;
  }
  if (len == 1) {
    const std::uint8_t last[2] = {data[0], 0};
    std::uint16_t w;
    std::memcpy(&w, last, 2);
    acc += w;
  }
  acc = (acc & 0xffffffffu) + (acc >> 32);
  acc = (acc & 0xffffffffu) + (acc >> 32);
  return static_cast<std::uint32_t>(acc);
}

std::uint16_t checksum_fold(std::uint32_t sum) noexcept {
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

PacketView classify(std::span<const std::uint8_t> f, const LocalAddresses& local, bool verify_udp_checksum) noexcept {
  if (f.size() < 14) return dropped(DropReason::kRunt);
  const bool unicast = (f[0] & 1) == 0;
  if (unicast && std::memcmp(f.data(), local.mac.data(), 6) != 0) return dropped(DropReason::kNotForUs);
  // IEEE 802: a source MAC is never a group address; a reply to it would reach every station.
  if ((f[6] & 1) != 0) return dropped(DropReason::kSrcMartian);
  PacketView v;
  std::uint16_t type = be16(f.data() + 12);
  v.l3 = 14;
  if (type == kEthVlan) {
    if (f.size() < 18) return dropped(DropReason::kRunt);
    type = be16(f.data() + 16);
    v.l3 = 18;
    if (type == kEthVlan || type == kEthQinQ) return dropped(DropReason::kVlanStacked);
  } else if (type == kEthQinQ) {
    return dropped(DropReason::kVlanStacked);
  }
  switch (type) {
    case kEthIpv4: return classify_ipv4(f, v, local, verify_udp_checksum);
    case kEthIpv6: return classify_ipv6(f, v, local, verify_udp_checksum);
    case kEthArp: {
      if (f.size() < v.l3 + 28u) return dropped(DropReason::kRunt);
      const std::uint8_t* arp = f.data() + v.l3;
      // Ethernet/IPv4 request (RFC 826) whose target protocol address is ours.
      if (be16(arp) != 1 || be16(arp + 2) != kEthIpv4 || arp[4] != 6 || arp[5] != 4 || be16(arp + 6) != 1 ||
          !local.has_ipv4(arp + 24))
        return dropped(DropReason::kArpOther);
      // The sender is answered. 0.0.0.0 is an address probe (RFC 5227 §2.1.1): answered, so
      // that the prober sees the address is taken. Other martians and our own address are not.
      if (arp[14] != 0 || arp[15] != 0 || arp[16] != 0 || arp[17] != 0)
        if (const DropReason bad = ipv4_source(arp + 14, local); bad != DropReason::kNone) return dropped(bad);
      v.kind = PacketKind::kArpRequest;
      return v;
    }
    default: return dropped(DropReason::kEtherType);
  }
}

void swap_udp_addresses(std::uint8_t* frame, const PacketView& v, const std::array<std::uint8_t, 6>& mac) noexcept {
  turn_ethernet(frame, mac);
  std::uint8_t* ip = frame + v.l3;
  if (v.ipv6) {
    swap_bytes(ip + 8, ip + 24, 16);
    ip[7] = 64;
  } else {
    swap_bytes(ip + 12, ip + 16, 4);
    ip[8] = 64;
  }
  swap_bytes(frame + v.l4, frame + v.l4 + 2, 2);
}

std::uint16_t finish_udp_template(std::uint8_t* frame, const PacketView& v, std::uint16_t dns_len) noexcept {
  std::uint8_t* ip = frame + v.l3;
  std::uint8_t* udp = frame + v.l4;
  const auto udp_len = static_cast<std::uint16_t>(8 + dns_len);
  put16(udp + 4, udp_len);
  udp[6] = udp[7] = 0;
  if (v.ipv6) {
    put16(ip + 4, udp_len);
  } else {
    put16(ip + 2, static_cast<std::uint16_t>(20 + udp_len));
    put16(ip + 6, 0x4000);  // DF, no fragment offset: replies are sized to fit (no fragmentation)
    set_ipv4_header_checksum(ip);
  }
  std::uint16_t c = l4_checksum(ip, v.ipv6, kProtoUdp, udp, udp_len);
  if (c == 0) c = 0xffff;  // RFC 768: a computed 0 is sent as all ones
  std::memcpy(udp + 6, &c, 2);
  return static_cast<std::uint16_t>(v.l4 + udp_len);
}

std::uint16_t finish_udp_reply(std::uint8_t* frame, const PacketView& v, std::uint16_t dns_len,
                               const std::array<std::uint8_t, 6>& mac) noexcept {
  swap_udp_addresses(frame, v, mac);
  return finish_udp_template(frame, v, dns_len);
}

std::uint16_t make_arp_reply(std::uint8_t* frame, const PacketView& v, const std::array<std::uint8_t, 6>& mac) noexcept {
  turn_ethernet(frame, mac);
  std::uint8_t* arp = frame + v.l3;
  put16(arp + 6, 2);  // reply
  std::uint8_t asked[4];
  std::memcpy(asked, arp + 24, 4);
  std::memcpy(arp + 18, arp + 8, 10);  // target = the requester (MAC + IP)
  std::memcpy(arp + 8, mac.data(), 6);
  std::memcpy(arp + 14, asked, 4);
  return static_cast<std::uint16_t>(v.l3 + 28);
}

std::uint16_t make_echo_reply(std::uint8_t* frame, const PacketView& v, const std::array<std::uint8_t, 6>& mac) noexcept {
  turn_ethernet(frame, mac);
  std::uint8_t* ip = frame + v.l3;
  std::uint8_t* icmp = frame + v.l4;
  icmp[2] = icmp[3] = 0;
  std::uint16_t c;
  if (v.ipv6) {
    swap_bytes(ip + 8, ip + 24, 16);
    ip[7] = 64;
    icmp[0] = kIcmp6EchoReply;
    c = l4_checksum(ip, true, kProtoIcmp6, icmp, v.payload_len);
  } else {
    swap_bytes(ip + 12, ip + 16, 4);
    ip[8] = 64;
    set_ipv4_header_checksum(ip);
    icmp[0] = kIcmpEchoReply;
    c = checksum_fold(checksum_add(0, icmp, v.payload_len));
  }
  std::memcpy(icmp + 2, &c, 2);
  return static_cast<std::uint16_t>(v.l4 + v.payload_len);
}

std::uint16_t make_neighbor_advert(std::uint8_t* frame, std::size_t capacity, const PacketView& v,
                                   const std::array<std::uint8_t, 6>& mac) noexcept {
  constexpr std::uint16_t kAdvertLen = 32;  // header 4, flags 4, target 16, target link-layer option 8
  if (capacity < std::size_t{v.l4} + kAdvertLen) return 0;
  turn_ethernet(frame, mac);
  std::uint8_t* ip = frame + v.l3;
  std::uint8_t* icmp = frame + v.l4;
  std::uint8_t target[16];
  std::memcpy(target, icmp + 8, 16);
  static constexpr std::uint8_t kUnspecified[16] = {};
  static constexpr std::uint8_t kAllNodes[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const bool dad = std::memcmp(ip + 8, kUnspecified, 16) == 0;  // RFC 4861 §7.2.4: answer all-nodes
  std::memcpy(ip + 24, dad ? kAllNodes : ip + 8, 16);
  std::memcpy(ip + 8, target, 16);
  put16(ip + 4, kAdvertLen);
  ip[6] = kProtoIcmp6;
  ip[7] = 255;
  icmp[0] = kIcmp6NeighborAdvert;
  icmp[1] = 0;
  icmp[2] = icmp[3] = 0;
  icmp[4] = dad ? 0x20 : 0x60;  // solicited (unless DAD) + override
  icmp[5] = icmp[6] = icmp[7] = 0;
  std::memcpy(icmp + 8, target, 16);
  icmp[24] = 2;  // target link-layer address
  icmp[25] = 1;  // in units of 8 bytes
  std::memcpy(icmp + 26, mac.data(), 6);
  const std::uint16_t c = l4_checksum(ip, true, kProtoIcmp6, icmp, kAdvertLen);
  std::memcpy(icmp + 2, &c, 2);
  return static_cast<std::uint16_t>(v.l4 + kAdvertLen);
}

}  // namespace dotpin::dataplane
