// SPDX-License-Identifier: Apache-2.0
#include "dataplane/packet.h"

#include <gtest/gtest.h>

#include <cstring>

#include "tests/dataplane/frames.h"

namespace dotpin::dataplane {
namespace {

using test::FrameSpec;
using test::udp_frame;

const LocalAddresses kLocal = test::local_addresses();

PacketView classify_frame(const std::vector<std::uint8_t>& f, bool verify = true) {
  return classify(f, kLocal, verify);
}

TEST(Packet, Ipv4DnsQuery) {
  const auto q = test::query("www.dotpin.test");
  const auto f = udp_frame(q);
  const PacketView v = classify_frame(f);
  ASSERT_EQ(v.kind, PacketKind::kDnsQuery) << to_string(v.drop);
  EXPECT_FALSE(v.ipv6);
  EXPECT_EQ(v.l3, 14);
  EXPECT_EQ(v.payload, 14 + 20 + 8);
  EXPECT_EQ(v.payload_len, q.size());
}

TEST(Packet, Ipv6AndVlan) {
  const auto q = test::query("www.dotpin.test");
  PacketView v = classify_frame(udp_frame(q, FrameSpec{.ipv6 = true}));
  ASSERT_EQ(v.kind, PacketKind::kDnsQuery) << to_string(v.drop);
  EXPECT_TRUE(v.ipv6);
  EXPECT_EQ(v.payload, 14 + 40 + 8);
  v = classify_frame(udp_frame(q, FrameSpec{.ipv6 = true, .vlan = true}));
  ASSERT_EQ(v.kind, PacketKind::kDnsQuery) << to_string(v.drop);
  EXPECT_EQ(v.l3, 18);
}

TEST(Packet, EthernetPaddingIsIgnored) {
  auto f = udp_frame(test::query("a."));
  f.resize(f.size() + 10, 0);  // trailer after the IP datagram
  const PacketView v = classify_frame(f);
  ASSERT_EQ(v.kind, PacketKind::kDnsQuery);
  EXPECT_EQ(v.payload_len, test::query("a.").size());
}

TEST(Packet, DropReasons) {
  const auto q = test::query("www.dotpin.test");
  EXPECT_EQ(classify_frame(udp_frame(q, FrameSpec{.dst = "198.18.0.9"})).drop, DropReason::kNotForUs);
  EXPECT_EQ(classify_frame(udp_frame(q, FrameSpec{.dport = 5353})).drop, DropReason::kUdpPort);
  auto f = udp_frame(q);
  f[0] = 0x02;
  f[5] = 0x77;  // another unicast MAC
  EXPECT_EQ(classify_frame(f).drop, DropReason::kNotForUs);

  f = udp_frame(q);
  f[f.size() - 1] ^= 0x01;  // payload changed after the checksum
  EXPECT_EQ(classify_frame(f).drop, DropReason::kUdpChecksum);
  EXPECT_EQ(classify_frame(f, false).kind, PacketKind::kDnsQuery);
  EXPECT_EQ(classify_frame(udp_frame(q, FrameSpec{.udp_checksum = false})).kind, PacketKind::kDnsQuery);  // v4: none
  EXPECT_EQ(classify_frame(udp_frame(q, FrameSpec{.ipv6 = true, .udp_checksum = false})).drop, DropReason::kUdpChecksum);

  f = udp_frame(q);
  f[14 + 10] ^= 0xff;  // IPv4 header checksum
  EXPECT_EQ(classify_frame(f).drop, DropReason::kIpHeader);
  f = udp_frame(q);
  f[14] = 0x46;  // IHL 6
  EXPECT_EQ(classify_frame(f).drop, DropReason::kIpv4Options);
  f = udp_frame(q);
  f[14 + 6] = 0x20;  // MF
  EXPECT_EQ(classify_frame(f).drop, DropReason::kIpHeader);  // checksum now wrong first
  f = udp_frame(q);
  f[14 + 2] = 0x7f;  // total length beyond the frame
  EXPECT_EQ(classify_frame(f).drop, DropReason::kIpHeader);

  f = udp_frame(q, FrameSpec{.ipv6 = true});
  f[14 + 6] = 0;  // hop-by-hop
  EXPECT_EQ(classify_frame(f).drop, DropReason::kIpv6ExtHeader);
  f[14 + 6] = 44;
  EXPECT_EQ(classify_frame(f).drop, DropReason::kFragment);
  f[14 + 6] = 6;  // TCP, and no exception path for it
  EXPECT_EQ(classify_frame(f).drop, DropReason::kTcpPort);
  f[14 + 6] = 132;  // SCTP
  EXPECT_EQ(classify_frame(f).drop, DropReason::kIpProtocol);

  f = udp_frame(q, FrameSpec{.vlan = true});
  f[16] = 0x81;  // a second tag
  f[17] = 0x00;
  EXPECT_EQ(classify_frame(f).drop, DropReason::kVlanStacked);
  f = udp_frame(q);
  f[12] = 0x88;
  f[13] = 0xcc;  // LLDP
  EXPECT_EQ(classify_frame(f).drop, DropReason::kEtherType);
}

// A TCP segment to us (the 20-byte header only): a UDP frame's protocol changed, the IPv4 header
// checksum redone.
std::vector<std::uint8_t> tcp_frame(FrameSpec s = {}) {
  auto f = udp_frame(std::vector<std::uint8_t>(12, 0), s);
  const std::size_t l3 = s.vlan ? 18 : 14;
  if (s.ipv6) {
    f[l3 + 6] = 6;
  } else {
    f[l3 + 9] = 6;
    f[l3 + 10] = f[l3 + 11] = 0;
    const std::uint16_t sum = checksum_fold(checksum_add(0, &f[l3], 20));
    std::memcpy(&f[l3 + 10], &sum, 2);
  }
  return f;
}

TEST(Packet, TcpToOurDnsPortGoesToTheKernel) {
  LocalAddresses local = test::local_addresses();
  local.tcp_ports = {53, 853};
  for (const bool v6 : {false, true}) {
    SCOPED_TRACE(v6 ? "IPv6" : "IPv4");
    PacketView v = classify(tcp_frame({.ipv6 = v6}), local, true);
    ASSERT_EQ(v.kind, PacketKind::kException) << to_string(v.drop);
    EXPECT_EQ(v.l4, v6 ? 14 + 40 : 14 + 20);
    EXPECT_EQ(classify(tcp_frame({.ipv6 = v6, .vlan = true}), local, true).kind, PacketKind::kException);
    EXPECT_EQ(classify(tcp_frame({.ipv6 = v6, .dport = 853}), local, true).kind, PacketKind::kException);
    // Any other port, source port 0, another address, a martian source, no exception path.
    EXPECT_EQ(classify(tcp_frame({.ipv6 = v6, .dport = 22}), local, true).drop, DropReason::kTcpPort);
    EXPECT_EQ(classify(tcp_frame({.ipv6 = v6, .dport = 0}), local, true).drop, DropReason::kTcpPort);
    EXPECT_EQ(classify(tcp_frame({.ipv6 = v6, .sport = 0}), local, true).drop, DropReason::kSrcPort);
    EXPECT_EQ(classify(tcp_frame({.ipv6 = v6, .dst = v6 ? "2001:2::9" : "198.18.0.9"}), local, true).drop,
              DropReason::kNotForUs);
    EXPECT_EQ(classify(tcp_frame({.ipv6 = v6, .src = v6 ? "ff02::1" : "127.0.0.1"}), local, true).drop,
              DropReason::kSrcMartian);
    EXPECT_EQ(classify(tcp_frame({.ipv6 = v6, .src = v6 ? "2001:2::1" : "198.18.0.1"}), local, true).drop,
              DropReason::kSrcSelf);
    EXPECT_EQ(classify(tcp_frame({.ipv6 = v6}), kLocal, true).drop, DropReason::kTcpPort);
  }
  // Shorter than a TCP header.
  auto f = udp_frame({}, {});
  f[14 + 9] = 6;
  f[14 + 10] = f[14 + 11] = 0;
  const std::uint16_t sum = checksum_fold(checksum_add(0, &f[14], 20));
  std::memcpy(&f[14 + 10], &sum, 2);
  EXPECT_EQ(classify(f, local, true).drop, DropReason::kTcpPort);
}

TEST(Packet, FragmentDropped) {
  auto f = udp_frame(test::query("a."));
  f[14 + 6] = 0x20;
  f[14 + 10] = f[14 + 11] = 0;
  const std::uint16_t c = checksum_fold(checksum_add(0, &f[14], 20));
  std::memcpy(&f[14 + 10], &c, 2);
  EXPECT_EQ(classify_frame(f).drop, DropReason::kFragment);
}

TEST(Packet, EveryTruncationIsDroppedSafely) {
  for (const bool ipv6 : {false, true}) {
    const auto f = udp_frame(test::query("www.dotpin.test"), FrameSpec{.ipv6 = ipv6, .vlan = true});
    for (std::size_t n = 0; n < f.size(); ++n) {
      const std::vector<std::uint8_t> cut(f.begin(), f.begin() + static_cast<long>(n));
      EXPECT_EQ(classify_frame(cut).kind, PacketKind::kDrop) << "length " << n;
    }
  }
}

TEST(Packet, UdpReplyTurnsAroundWithChecksums) {
  for (const bool ipv6 : {false, true}) {
    for (const bool vlan : {false, true}) {
      auto f = udp_frame(test::query("www.dotpin.test"), FrameSpec{.ipv6 = ipv6, .vlan = vlan});
      const PacketView v = classify_frame(f);
      ASSERT_EQ(v.kind, PacketKind::kDnsQuery);
      f.resize(f.size() + 100);
      f[v.payload + 2] |= 0x80;
      const std::uint16_t len = finish_udp_reply(f.data(), v, static_cast<std::uint16_t>(v.payload_len + 100), kLocal.mac);
      f.resize(len);
      EXPECT_TRUE(std::equal(test::kClientMac.begin(), test::kClientMac.end(), f.begin()));
      EXPECT_TRUE(std::equal(kLocal.mac.begin(), kLocal.mac.end(), f.begin() + 6));
      EXPECT_EQ(f[v.l4] << 8 | f[v.l4 + 1], 53);              // source port
      EXPECT_EQ(f[v.l4 + 2] << 8 | f[v.l4 + 3], 40000);        // destination port
      EXPECT_TRUE(test::udp_checksums_ok(f, v.l3, ipv6)) << "ipv6=" << ipv6 << " vlan=" << vlan;
      if (vlan) {
        EXPECT_EQ(f[12], 0x81);
      }
    }
  }
}

TEST(Packet, ArpRequestForUsIsAnswered) {
  auto f = test::arp_request("198.18.0.1");
  const PacketView v = classify_frame(f);
  ASSERT_EQ(v.kind, PacketKind::kArpRequest);
  ASSERT_EQ(make_arp_reply(f.data(), v, kLocal.mac), 42);
  EXPECT_EQ(f[21], 2);  // reply
  EXPECT_TRUE(std::equal(kLocal.mac.begin(), kLocal.mac.end(), f.begin() + 22));                 // sender MAC
  EXPECT_EQ(std::vector<std::uint8_t>(f.begin() + 28, f.begin() + 32), (std::vector<std::uint8_t>{198, 18, 0, 1}));
  EXPECT_TRUE(std::equal(test::kClientMac.begin(), test::kClientMac.end(), f.begin() + 32));     // target MAC
  EXPECT_EQ(std::vector<std::uint8_t>(f.begin() + 38, f.begin() + 42), (std::vector<std::uint8_t>{198, 18, 0, 2}));
  EXPECT_EQ(classify_frame(test::arp_request("198.18.0.7")).drop, DropReason::kArpOther);
}

TEST(Packet, NeighborSolicitationIsAnswered) {
  auto f = test::neighbor_solicit("2001:2::1");
  const PacketView v = classify_frame(f);
  ASSERT_EQ(v.kind, PacketKind::kNeighborSolicit) << to_string(v.drop);
  const std::uint16_t len = make_neighbor_advert(f.data(), f.size(), v, kLocal.mac);
  ASSERT_EQ(len, 14 + 40 + 32);
  EXPECT_EQ(f[v.l4], 136);
  EXPECT_EQ(f[v.l4 + 4], 0x60);  // solicited + override
  EXPECT_EQ(f[v.l3 + 7], 255);
  const auto ours = test::v6("2001:2::1"), client = test::v6("2001:2::2");
  EXPECT_TRUE(std::equal(ours.begin(), ours.end(), f.begin() + v.l3 + 8));
  EXPECT_TRUE(std::equal(client.begin(), client.end(), f.begin() + v.l3 + 24));
  EXPECT_TRUE(std::equal(kLocal.mac.begin(), kLocal.mac.end(), f.begin() + v.l4 + 26));
  std::vector<std::uint8_t> ph(f.begin() + v.l3 + 8, f.begin() + v.l3 + 40);
  ph.insert(ph.end(), {0, 0, 0, 32, 0, 0, 0, 58});
  EXPECT_EQ(checksum_fold(checksum_add(checksum_add(0, ph.data(), ph.size()), &f[v.l4], 32)), 0);

  EXPECT_EQ(classify_frame(test::neighbor_solicit("2001:2::9")).drop, DropReason::kNotForUs);
  EXPECT_EQ(classify_frame(test::neighbor_solicit("2001:2::1", 64)).drop, DropReason::kIcmpOther);  // RFC 4861: 255
}

TEST(Packet, EchoRequestIsAnswered) {
  // ICMP echo with a 4-byte body, built on the UDP frame's IPv4 header.
  auto f = udp_frame({1, 2, 3, 4});
  f[14 + 9] = 1;
  f[14 + 10] = f[14 + 11] = 0;
  const std::uint16_t ipc = checksum_fold(checksum_add(0, &f[14], 20));
  std::memcpy(&f[14 + 10], &ipc, 2);
  f[34] = 8;
  f[35] = 0;
  f[36] = f[37] = 0;
  const std::uint16_t c = checksum_fold(checksum_add(0, &f[34], 12));
  std::memcpy(&f[36], &c, 2);
  const PacketView v = classify_frame(f);
  ASSERT_EQ(v.kind, PacketKind::kIcmpEcho) << to_string(v.drop);
  make_echo_reply(f.data(), v, kLocal.mac);
  EXPECT_EQ(f[34], 0);
  EXPECT_EQ(checksum_fold(checksum_add(0, &f[34], 12)), 0);
  EXPECT_EQ(checksum_fold(checksum_add(0, &f[14], 20)), 0);
  EXPECT_EQ(f[14 + 12], 198);
  EXPECT_EQ(f[14 + 15], 1);  // source is us now
}

// Hostile sources: each class is dropped with its reason before anything is answered; the sources
// next to them (so that the checks are not simply "drop everything") are still classified as
// queries.
DropReason source_verdict(FrameSpec s) {
  const PacketView v = classify_frame(udp_frame(test::query("www.dotpin.test"), s));
  return v.kind == PacketKind::kDnsQuery ? DropReason::kNone : v.drop;
}

TEST(Packet, Ipv4MartianSourcesAreDropped) {
  for (const char* src : {"255.255.255.255", "224.0.0.1", "239.255.255.250", "240.0.0.1", "254.1.2.3", "0.0.0.0",
                          "0.1.2.3", "127.0.0.1", "127.255.255.254"})
    EXPECT_EQ(source_verdict({.src = src}), DropReason::kSrcMartian) << src;
  for (const char* src : {"198.18.0.2", "1.0.0.1", "126.255.255.255", "128.0.0.1", "223.255.255.255", "169.254.1.1"})
    EXPECT_EQ(source_verdict({.src = src}), DropReason::kNone) << src;
}

TEST(Packet, TheDirectedBroadcastOfOurSubnetIsAMartianSource) {
  LocalAddresses local = test::local_addresses();
  local.ipv4_broadcast.push_back({198, 18, 0, 0});
  local.ipv4_broadcast.push_back({198, 18, 0, 255});
  const auto verdict = [&](const char* src) {
    const PacketView v = classify(udp_frame(test::query("www.dotpin.test"), {.src = src}), local, true);
    return v.kind == PacketKind::kDnsQuery ? DropReason::kNone : v.drop;
  };
  EXPECT_EQ(verdict("198.18.0.255"), DropReason::kSrcMartian);
  EXPECT_EQ(verdict("198.18.0.0"), DropReason::kSrcMartian);
  EXPECT_EQ(verdict("198.18.0.254"), DropReason::kNone);
  EXPECT_EQ(verdict("198.18.1.255"), DropReason::kNone);  // another subnet's host for all we know
  // Without the prefix the appliance cannot know it: a bare address configures no broadcast.
  EXPECT_EQ(source_verdict({.src = "198.18.0.255"}), DropReason::kNone);
}

TEST(Packet, Ipv6MartianSourcesAreDropped) {
  for (const char* src : {"::", "::1", "::198.18.0.2", "ff02::1", "ff05::1:3", "ff0e::1", "::ffff:198.18.0.2",
                          "::ffff:127.0.0.1", "::ffff:255.255.255.255", "::ffff:224.0.0.1", "::ffff:0.0.0.0"})
    EXPECT_EQ(source_verdict({.ipv6 = true, .src = src}), DropReason::kSrcMartian) << src;
  for (const char* src : {"2001:2::2", "fe80::1", "fe00::1", "64:ff9b::c612:2", "::1:0:0:0", "0:0:0:1::", "100::1",
                          "::fffe:c612:2"})
    EXPECT_EQ(source_verdict({.ipv6 = true, .src = src}), DropReason::kNone) << src;
}

TEST(Packet, OwnAddressAsSourceIsDropped) {
  EXPECT_EQ(source_verdict({.src = "198.18.0.1"}), DropReason::kSrcSelf);
  EXPECT_EQ(source_verdict({.vlan = true, .src = "198.18.0.1"}), DropReason::kSrcSelf);
  EXPECT_EQ(source_verdict({.src = "198.18.0.1", .sport = 53}), DropReason::kSrcSelf);
  EXPECT_EQ(source_verdict({.ipv6 = true, .src = "2001:2::1"}), DropReason::kSrcSelf);
  EXPECT_EQ(source_verdict({.ipv6 = true, .src = "2001:2::1", .sport = 53}), DropReason::kSrcSelf);
}

TEST(Packet, ReflectionSourcePortsAreDropped) {
  for (const std::uint16_t port : std::initializer_list<std::uint16_t>{0, 7, 13, 17, 19, 37, 111, 123, 137, 161, 177, 389, 520, 1900, 3283, 3702, 5353, 5683,
                                   10001, 11211}) {
    EXPECT_TRUE(is_reflection_port(port)) << port;
    EXPECT_EQ(source_verdict({.sport = port}), DropReason::kSrcPort) << port;
    EXPECT_EQ(source_verdict({.ipv6 = true, .sport = port}), DropReason::kSrcPort) << port;
  }
  // Forwarders query from 53; ephemeral ports, the neighbours of listed ones and the extremes pass.
  for (const std::uint16_t port : std::initializer_list<std::uint16_t>{1, 6, 8, 53, 63, 64, 122, 124, 1023, 1024, 1899, 11212, 32768, 40000, 60999, 65535}) {
    EXPECT_FALSE(is_reflection_port(port)) << port;
    EXPECT_EQ(source_verdict({.sport = port}), DropReason::kNone) << port;
  }
  // Not a DNS query at all is still udp_port, whatever its source port.
  EXPECT_EQ(source_verdict({.sport = 123, .dport = 123}), DropReason::kUdpPort);
}

TEST(Packet, GroupSourceMacIsDropped) {
  auto f = udp_frame(test::query("www.dotpin.test"));
  f[6] = 0xff;  // ff:00:00:00:00:02
  EXPECT_EQ(classify_frame(f).drop, DropReason::kSrcMartian);
  auto a = test::arp_request("198.18.0.1");
  std::memset(&a[6], 0xff, 6);
  EXPECT_EQ(classify_frame(a).drop, DropReason::kSrcMartian);
}

TEST(Packet, EchoFromHostileSourcesIsNotAnswered) {
  ASSERT_EQ(classify_frame(test::echo_request()).kind, PacketKind::kIcmpEcho);
  ASSERT_EQ(classify_frame(test::echo_request({.ipv6 = true})).kind, PacketKind::kIcmp6Echo);
  for (const char* src : {"255.255.255.255", "224.0.0.1", "0.0.0.0", "127.0.0.1"})
    EXPECT_EQ(classify_frame(test::echo_request({.src = src})).drop, DropReason::kSrcMartian) << src;
  EXPECT_EQ(classify_frame(test::echo_request({.src = "198.18.0.1"})).drop, DropReason::kSrcSelf);
  for (const char* src : {"::", "::1", "ff02::1", "::ffff:198.18.0.2"})
    EXPECT_EQ(classify_frame(test::echo_request({.ipv6 = true, .src = src})).drop, DropReason::kSrcMartian) << src;
  EXPECT_EQ(classify_frame(test::echo_request({.ipv6 = true, .src = "2001:2::1"})).drop, DropReason::kSrcSelf);
}

TEST(Packet, ArpFromHostileSendersIsNotAnswered) {
  EXPECT_EQ(classify_frame(test::arp_request("198.18.0.1", "0.0.0.0")).kind, PacketKind::kArpRequest);  // RFC 5227 probe
  for (const char* sender : {"255.255.255.255", "224.0.0.1", "127.0.0.1", "0.0.0.1", "240.1.1.1"})
    EXPECT_EQ(classify_frame(test::arp_request("198.18.0.1", sender)).drop, DropReason::kSrcMartian) << sender;
  EXPECT_EQ(classify_frame(test::arp_request("198.18.0.1", "198.18.0.1")).drop, DropReason::kSrcSelf);
}

TEST(Packet, NeighborSolicitationFromHostileSourcesIsNotAnswered) {
  // Duplicate address detection (from ::, to the solicited-node group) is answered.
  EXPECT_EQ(classify_frame(test::neighbor_solicit("2001:2::1", 255, "::")).kind, PacketKind::kNeighborSolicit);
  for (const char* src : {"::1", "ff02::1", "::ffff:198.18.0.2"})
    EXPECT_EQ(classify_frame(test::neighbor_solicit("2001:2::1", 255, src)).drop, DropReason::kSrcMartian) << src;
  EXPECT_EQ(classify_frame(test::neighbor_solicit("2001:2::1", 255, "2001:2::1")).drop, DropReason::kSrcSelf);
}

TEST(Packet, ChecksumMatchesRfc1071Example) {
  // RFC 1071 §3: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2 (before complement).
  const std::uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  const std::uint16_t c = checksum_fold(checksum_add(0, data, sizeof data));
  std::uint8_t bytes[2];
  std::memcpy(bytes, &c, 2);
  EXPECT_EQ(bytes[0], static_cast<std::uint8_t>(~0xdd));
  EXPECT_EQ(bytes[1], static_cast<std::uint8_t>(~0xf2));
}

}  // namespace
}  // namespace dotpin::dataplane
