// SPDX-License-Identifier: Apache-2.0
/// @file packet.h
/// @brief Hot path: classifies an Ethernet frame (802.1Q, ARP, IPv4, IPv6, ICMP/ICMPv6, UDP) into
/// what the worker does with it, and turns a frame around into a reply in place. Pure functions on
/// bytes, no DPDK types, so unit tests and the fuzz target need no EAL. Every drop has a reason.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace dotpin::dataplane {

inline constexpr std::uint16_t kDnsPort = 53;
inline constexpr std::uint16_t kDotPort = 853;  ///< RFC 7858

/// The appliance's own addresses on a port (network byte order throughout).
struct LocalAddresses {
  std::array<std::uint8_t, 6> mac{};
  std::vector<std::array<std::uint8_t, 4>> ipv4;
  std::vector<std::array<std::uint8_t, 16>> ipv6;
  /// The broadcast addresses of each IPv4 subnet the port is on ([port] ipv4 given as
  /// "address/len", len <= 30): the directed broadcast and the network address (the obsolete
  /// all-zeros broadcast) — sources no query comes from (RFC 1122 §3.2.1.3, RFC 1812 §4.2.3.1).
  std::vector<std::array<std::uint8_t, 4>> ipv4_broadcast;
  /// TCP ports (host order; 0: unused) the kernel's exception path serves on these addresses
  /// (DNS over TCP 53, DoT 853): such segments are classified kException, any other TCP dropped.
  std::array<std::uint16_t, 2> tcp_ports{};
  [[nodiscard]] bool has_ipv4(const std::uint8_t* a) const noexcept;
  [[nodiscard]] bool has_ipv6(const std::uint8_t* a) const noexcept;
};

/// kException: TCP to one of LocalAddresses::tcp_ports, handed to the kernel (exception_port.h).
enum class PacketKind : std::uint8_t { kDnsQuery, kArpRequest, kNeighborSolicit, kIcmpEcho, kIcmp6Echo, kException, kDrop };

/// Why a frame was dropped before DNS parsing. Counted per lcore.
enum class DropReason : std::uint8_t {
  kNone,
  kRunt,             ///< shorter than the headers it claims
  kNotForUs,         ///< unicast MAC or IP address that is not ours
  kEtherType,        ///< neither ARP, IPv4 nor IPv6
  kVlanStacked,      ///< QinQ: more than one 802.1Q tag
  kArpOther,         ///< ARP that is not a request for one of our IPv4 addresses
  kIpHeader,         ///< bad version, IHL, length, or IPv4 header checksum
  kIpv4Options,      ///< IHL > 5 (options are not echoed; rare for DNS clients)
  kFragment,         ///< IPv4 fragment or IPv6 fragment header
  kIpv6ExtHeader,    ///< any IPv6 extension header
  kIpProtocol,       ///< not UDP, TCP or ICMP(v6)
  kTcpPort,          ///< TCP to a port the exception path does not serve (or TCP shorter than its header)
  kIcmpOther,        ///< ICMP/ICMPv6 that is not echo request / neighbour solicitation for us
  kUdpHeader,        ///< UDP length inconsistent with the IP length
  kUdpChecksum,      ///< UDP checksum wrong
  kUdpPort,          ///< UDP not to port 53
  // Hostile sources (docs/operations.md, "Sources that are never answered"): checked on fields
  // already parsed, before the ACL and before any reply is built, for DNS, ICMP echo, ARP and ND.
  kSrcMartian,       ///< a source that never sends a query: a group (multicast/broadcast) source
                     ///< MAC; IPv4 0/8, 127/8, 224/4, 240/4 (incl. 255.255.255.255); IPv6 ::/96
                     ///< (::, ::1, IPv4-compatible), ::ffff:0:0/96 (IPv4-mapped), ff00::/8
  kSrcSelf,          ///< the source is one of the appliance's own addresses (a reflection loop)
  kSrcPort,          ///< UDP source port 0 or a service that answers anything (is_reflection_port)
  kCount_
};
std::string_view to_string(DropReason r);

/// True for UDP source ports no query comes from and no answer may go to: 0 (RFC 768: no reply
/// port; forged) and the well-known services that answer any datagram or amplify (echo 7,
/// daytime 13, qotd 17, chargen 19, time 37, portmap 111, NTP 123, NetBIOS 137, SNMP 161,
/// XDMCP 177, CLDAP 389, RIP 520, SSDP 1900, ARD 3283, WS-Discovery 3702, mDNS 5353, CoAP 5683,
/// Ubiquiti discovery 10001, memcached 11211). Port 53 is not in it: forwarders query from it;
/// our own address on any port is kSrcSelf. Ephemeral ports (above 11211) cost one compare; a
/// 128-byte bitmap below 1024, a switch between.
inline constexpr std::array<std::uint64_t, 16> kLowReflectionPorts = [] {
  std::array<std::uint64_t, 16> bits{};  // bit p % 64 of word p / 64
  for (const unsigned p : {0u, 7u, 13u, 17u, 19u, 37u, 111u, 123u, 137u, 161u, 177u, 389u, 520u})
    bits[p >> 6] |= std::uint64_t{1} << (p & 63);
  return bits;
}();
[[nodiscard]] constexpr bool is_reflection_port(std::uint16_t port) noexcept {
  if (port > 11211) return false;
  if (port < 1024) return ((kLowReflectionPorts[port >> 6] >> (port & 63)) & 1) != 0;
  switch (port) {
    case 1900: case 3283: case 3702: case 5353: case 5683: case 10001: case 11211: return true;
    default: return false;
  }
}

/// Where the parts of a frame are. Offsets are from the start of the frame.
struct PacketView {
  PacketKind kind = PacketKind::kDrop;
  DropReason drop = DropReason::kNone;
  bool ipv6 = false;
  std::uint16_t l3 = 0;       ///< IP (or ARP) header
  std::uint16_t l4 = 0;       ///< UDP / TCP / ICMP header
  std::uint16_t payload = 0;  ///< DNS message (l4 + 8) or ICMP body
  std::uint16_t payload_len = 0;
};

/// Classifies @p frame. Checks IPv4 header checksums and, when @p verify_udp_checksum, UDP
/// checksums (an IPv4 UDP checksum of 0 means none). Never reads outside @p frame.
PacketView classify(std::span<const std::uint8_t> frame, const LocalAddresses& local, bool verify_udp_checksum) noexcept;

/// Turns a UDP datagram classified by classify() around in place: MACs (source = @p local mac),
/// IP addresses and ports swapped; lengths and checksums set for a payload of @p dns_len bytes
/// that the caller already wrote at view.payload. Returns the new frame length.
std::uint16_t finish_udp_reply(std::uint8_t* frame, const PacketView& view, std::uint16_t dns_len,
                               const std::array<std::uint8_t, 6>& mac) noexcept;

/// Swaps the addresses of a UDP frame's headers in place (MACs, IPs, ports) without touching
/// lengths or checksums: the header template of a reply sent later (see finish_udp_template()).
void swap_udp_addresses(std::uint8_t* frame, const PacketView& view, const std::array<std::uint8_t, 6>& mac) noexcept;

/// Sets lengths and checksums of a frame whose headers were already swapped; returns its length.
std::uint16_t finish_udp_template(std::uint8_t* frame, const PacketView& view, std::uint16_t dns_len) noexcept;

/// Answers an ARP request for one of our addresses in place; returns the frame length.
std::uint16_t make_arp_reply(std::uint8_t* frame, const PacketView& view, const std::array<std::uint8_t, 6>& mac) noexcept;

/// Answers an ICMP echo request (IPv4) or ICMPv6 echo request in place; returns the frame length.
std::uint16_t make_echo_reply(std::uint8_t* frame, const PacketView& view, const std::array<std::uint8_t, 6>& mac) noexcept;

/// Answers a neighbour solicitation for one of our IPv6 addresses with a solicited neighbour
/// advertisement (target link-layer address option) written in place; @p capacity bounds the
/// frame buffer. Returns the frame length, or 0 if it does not fit.
std::uint16_t make_neighbor_advert(std::uint8_t* frame, std::size_t capacity, const PacketView& view,
                                   const std::array<std::uint8_t, 6>& mac) noexcept;

/// Internet checksum helpers (RFC 1071), exposed for tests.
std::uint32_t checksum_add(std::uint32_t sum, const std::uint8_t* data, std::size_t len) noexcept;
std::uint16_t checksum_fold(std::uint32_t sum) noexcept;

}  // namespace dotpin::dataplane
