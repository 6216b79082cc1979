// SPDX-License-Identifier: Apache-2.0
/// @file frames.h
/// @brief Test frames: Ethernet (+802.1Q) / IPv4 or IPv6 / UDP around a DNS payload, with correct
/// lengths and checksums, plus ARP requests and neighbour solicitations.
#pragma once

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "common/dns_wire.h"
#include "dataplane/packet.h"

namespace dotpin::test {

inline const std::array<std::uint8_t, 6> kOurMac{0x02, 0, 0, 0, 0, 0x01};
inline const std::array<std::uint8_t, 6> kClientMac{0x02, 0, 0, 0, 0, 0x02};

inline std::array<std::uint8_t, 4> v4(const char* s) {
  std::array<std::uint8_t, 4> a{};
  inet_pton(AF_INET, s, a.data());
  return a;
}
inline std::array<std::uint8_t, 16> v6(const char* s) {
  std::array<std::uint8_t, 16> a{};
  inet_pton(AF_INET6, s, a.data());
  return a;
}

inline dataplane::LocalAddresses local_addresses() {
  dataplane::LocalAddresses l;
  l.mac = kOurMac;
  l.ipv4.push_back(v4("198.18.0.1"));
  l.ipv6.push_back(v6("2001:2::1"));
  return l;
}

inline void put16(std::vector<std::uint8_t>& f, std::size_t at, std::uint16_t v) {
  f[at] = static_cast<std::uint8_t>(v >> 8);
  f[at + 1] = static_cast<std::uint8_t>(v);
}

/// The RFC 768 checksum over the pseudo header and the UDP datagram at l3 + 20/40 of @p f, with the
/// checksum field as it is: 0 when a stored checksum is right.
inline std::uint16_t udp_checksum(const std::vector<std::uint8_t>& f, std::size_t l3, bool ipv6) {
  const std::size_t l4 = l3 + (ipv6 ? 40 : 20);
  const auto udp_len = static_cast<std::uint16_t>(f[l4 + 4] << 8 | f[l4 + 5]);
  std::vector<std::uint8_t> ph;
  if (ipv6) {
    ph.insert(ph.end(), f.begin() + static_cast<long>(l3 + 8), f.begin() + static_cast<long>(l3 + 40));
    ph.insert(ph.end(), {0, 0, static_cast<std::uint8_t>(udp_len >> 8), static_cast<std::uint8_t>(udp_len), 0, 0, 0, 17});
  } else {
    ph.insert(ph.end(), f.begin() + static_cast<long>(l3 + 12), f.begin() + static_cast<long>(l3 + 20));
    ph.insert(ph.end(), {0, 17, static_cast<std::uint8_t>(udp_len >> 8), static_cast<std::uint8_t>(udp_len)});
  }
  return dataplane::checksum_fold(dataplane::checksum_add(dataplane::checksum_add(0, ph.data(), ph.size()), &f[l4], udp_len));
}

struct FrameSpec {
  bool ipv6 = false;
  bool vlan = false;
  std::string src = "";  // default client address
  std::string dst = "";  // default our address
  std::uint16_t sport = 40000, dport = 53;
  bool udp_checksum = true;
};

/// A UDP frame to us carrying @p payload.
inline std::vector<std::uint8_t> udp_frame(const std::vector<std::uint8_t>& payload, FrameSpec s = {}) {
  std::vector<std::uint8_t> f;
  f.insert(f.end(), kOurMac.begin(), kOurMac.end());
  f.insert(f.end(), kClientMac.begin(), kClientMac.end());
  if (s.vlan) f.insert(f.end(), {0x81, 0x00, 0x00, 0x64});
  f.insert(f.end(), {static_cast<std::uint8_t>(s.ipv6 ? 0x86 : 0x08), static_cast<std::uint8_t>(s.ipv6 ? 0xdd : 0x00)});
  const std::size_t l3 = f.size();
  const auto udp_len = static_cast<std::uint16_t>(8 + payload.size());
  if (s.ipv6) {
    f.resize(l3 + 40);
    f[l3] = 0x60;
    put16(f, l3 + 4, udp_len);
    f[l3 + 6] = 17;
    f[l3 + 7] = 64;
    const auto a = v6(s.src.empty() ? "2001:2::2" : s.src.c_str()), b = v6(s.dst.empty() ? "2001:2::1" : s.dst.c_str());
    std::memcpy(&f[l3 + 8], a.data(), 16);
    std::memcpy(&f[l3 + 24], b.data(), 16);
  } else {
    f.resize(l3 + 20);
    f[l3] = 0x45;
    put16(f, l3 + 2, static_cast<std::uint16_t>(20 + udp_len));
    f[l3 + 8] = 64;
    f[l3 + 9] = 17;
    const auto a = v4(s.src.empty() ? "198.18.0.2" : s.src.c_str()), b = v4(s.dst.empty() ? "198.18.0.1" : s.dst.c_str());
    std::memcpy(&f[l3 + 12], a.data(), 4);
    std::memcpy(&f[l3 + 16], b.data(), 4);
    const std::uint16_t c = dataplane::checksum_fold(dataplane::checksum_add(0, &f[l3], 20));
    std::memcpy(&f[l3 + 10], &c, 2);
  }
  const std::size_t l4 = f.size();
  f.resize(l4 + 8);
  put16(f, l4, s.sport);
  put16(f, l4 + 2, s.dport);
  put16(f, l4 + 4, udp_len);
  f.insert(f.end(), payload.begin(), payload.end());
  if (s.udp_checksum) {
    std::uint16_t c = udp_checksum(f, l3, s.ipv6);
    if (c == 0) c = 0xffff;
    std::memcpy(&f[l4 + 6], &c, 2);
  }
  return f;
}

/// True if the IPv4 header checksum and the UDP checksum of @p f (no VLAN) are right.
inline bool udp_checksums_ok(const std::vector<std::uint8_t>& f, std::size_t l3, bool ipv6) {
  if (!ipv6 && dataplane::checksum_fold(dataplane::checksum_add(0, &f[l3], 20)) != 0) return false;
  return udp_checksum(f, l3, ipv6) == 0;
}

inline std::vector<std::uint8_t> query(const char* name, std::uint16_t type = dns::kTypeA, bool edns = false,
                                       std::uint16_t id = 0x1234) {
  dns::QueryOptions o;
  o.id = id;
  o.edns = edns;
  o.pad_block = 0;
  return *dns::build_query(name, type, o);
}

inline std::vector<std::uint8_t> arp_request(const char* target, const char* sender = "198.18.0.2") {
  std::vector<std::uint8_t> f(14 + 28, 0);
  std::memset(f.data(), 0xff, 6);
  std::memcpy(&f[6], kClientMac.data(), 6);
  f[12] = 0x08;
  f[13] = 0x06;
  const std::uint8_t hdr[] = {0, 1, 8, 0, 6, 4, 0, 1};
  std::memcpy(&f[14], hdr, 8);
  std::memcpy(&f[22], kClientMac.data(), 6);
  const auto s = v4(sender), t = v4(target);
  std::memcpy(&f[28], s.data(), 4);
  std::memcpy(&f[38], t.data(), 4);
  return f;
}

/// A neighbour solicitation for @p target to its solicited-node multicast address.
/// From @p src ("::" for duplicate address detection).
inline std::vector<std::uint8_t> neighbor_solicit(const char* target, std::uint8_t hop_limit = 255,
                                                  const char* src_address = "2001:2::2") {
  std::vector<std::uint8_t> f = {0x33, 0x33, 0xff, 0, 0, 1};
  f.insert(f.end(), kClientMac.begin(), kClientMac.end());
  f.insert(f.end(), {0x86, 0xdd});
  const std::size_t l3 = f.size();
  f.resize(l3 + 40 + 32, 0);
  f[l3] = 0x60;
  put16(f, l3 + 4, 32);
  f[l3 + 6] = 58;
  f[l3 + 7] = hop_limit;
  const auto src = v6(src_address), t = v6(target);
  auto dst = v6("ff02::1:ff00:0");
  std::memcpy(&dst[13], &t[13], 3);
  std::memcpy(&f[l3 + 8], src.data(), 16);
  std::memcpy(&f[l3 + 24], dst.data(), 16);
  const std::size_t l4 = l3 + 40;
  f[l4] = 135;
  std::memcpy(&f[l4 + 8], t.data(), 16);
  f[l4 + 24] = 1;  // source link-layer address option
  f[l4 + 25] = 1;
  std::memcpy(&f[l4 + 26], kClientMac.data(), 6);
  std::vector<std::uint8_t> ph(f.begin() + static_cast<long>(l3 + 8), f.begin() + static_cast<long>(l3 + 40));
  ph.insert(ph.end(), {0, 0, 0, 32, 0, 0, 0, 58});
  std::uint32_t sum = dataplane::checksum_add(0, ph.data(), ph.size());
  sum = dataplane::checksum_add(sum, &f[l4], 32);
  const std::uint16_t c = dataplane::checksum_fold(sum);
  std::memcpy(&f[l4 + 2], &c, 2);
  return f;
}

/// An ICMP (IPv4) or ICMPv6 echo request with a 4-byte body, addressed as @p s says (ports unused).
inline std::vector<std::uint8_t> echo_request(FrameSpec s = {}) {
  s.vlan = false;
  s.udp_checksum = false;
  std::vector<std::uint8_t> f = udp_frame({1, 2, 3, 4}, s);  // 8 + 4 bytes at l4, like an echo
  const std::size_t l3 = 14, l4 = l3 + (s.ipv6 ? 40 : 20);
  std::memset(&f[l4], 0, 8);
  f[l4 + 4] = 0x12;  // identifier
  f[l4 + 7] = 1;     // sequence
  std::uint32_t sum = 0;
  if (s.ipv6) {
    f[l3 + 6] = 58;
    f[l4] = 128;
    std::vector<std::uint8_t> ph(f.begin() + static_cast<long>(l3 + 8), f.begin() + static_cast<long>(l3 + 40));
    ph.insert(ph.end(), {0, 0, 0, 12, 0, 0, 0, 58});
    sum = dataplane::checksum_add(0, ph.data(), ph.size());
  } else {
    f[l3 + 9] = 1;
    f[l3 + 10] = f[l3 + 11] = 0;
    const std::uint16_t ipc = dataplane::checksum_fold(dataplane::checksum_add(0, &f[l3], 20));
    std::memcpy(&f[l3 + 10], &ipc, 2);
    f[l4] = 8;
  }
  const std::uint16_t c = dataplane::checksum_fold(dataplane::checksum_add(sum, &f[l4], 12));
  std::memcpy(&f[l4 + 2], &c, 2);
  return f;
}

}  // namespace dotpin::test
