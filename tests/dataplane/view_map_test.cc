// SPDX-License-Identifier: Apache-2.0
#include "dataplane/view_map.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <array>

namespace dotpin::dataplane {
namespace {

std::array<std::uint8_t, 4> v4(const char* text) {
  std::array<std::uint8_t, 4> a{};
  EXPECT_EQ(inet_pton(AF_INET, text, a.data()), 1) << text;
  return a;
}
std::array<std::uint8_t, 16> v6(const char* text) {
  std::array<std::uint8_t, 16> a{};
  EXPECT_EQ(inet_pton(AF_INET6, text, a.data()), 1) << text;
  return a;
}

TEST(ViewMap, OneViewForEveryoneIsTrivial) {
  ViewMap m;
  ASSERT_TRUE(m.add(0, std::nullopt, {}));
  m.build();
  EXPECT_TRUE(m.trivial());
  EXPECT_EQ(m.match_ipv4(0, v4("203.0.113.9").data()), 0);
  EXPECT_EQ(m.match_ipv6(7, v6("2001:db8::1").data()), 0);
  EXPECT_EQ(m.match_ipv4(ViewMap::kAnyVlan, v4("10.0.0.1").data()), 0);
}

TEST(ViewMap, FirstMatchingViewWinsByPrefix) {
  ViewMap m;
  ASSERT_TRUE(m.add(0, std::nullopt, {"198.18.1.0/24", "2001:2:1::/48"}));
  ASSERT_TRUE(m.add(1, std::nullopt, {"198.18.0.0/16"}));  // overlaps view 0: view 0 is first
  m.build();
  EXPECT_FALSE(m.trivial());
  EXPECT_EQ(m.match_ipv4(0, v4("198.18.1.7").data()), 0);
  EXPECT_EQ(m.match_ipv4(0, v4("198.18.2.7").data()), 1);
  EXPECT_EQ(m.match_ipv4(0, v4("198.19.2.7").data()), ViewMap::kNoView);
  EXPECT_EQ(m.match_ipv6(0, v6("2001:2:1::5").data()), 0);
  EXPECT_EQ(m.match_ipv6(0, v6("2001:2:2::5").data()), ViewMap::kNoView) << "view 1 has no IPv6 prefix";
  // Views without 'vlan' match on any VLAN, and when the VLAN is not known (TCP).
  EXPECT_EQ(m.match_ipv4(42, v4("198.18.2.7").data()), 1);
  EXPECT_EQ(m.match_ipv4(ViewMap::kAnyVlan, v4("198.18.1.7").data()), 0);
}

TEST(ViewMap, VlanViewsNeedTheirVlanAndBothWhenBothAreGiven) {
  ViewMap m;
  ASSERT_TRUE(m.add(0, 101, {}));                  // everyone on VLAN 101
  ASSERT_TRUE(m.add(1, 102, {"198.18.2.0/24"}));   // VLAN 102 and the prefix
  ASSERT_TRUE(m.add(2, std::nullopt, {"198.18.0.0/16"}));
  m.build();
  EXPECT_TRUE(m.uses_vlan());
  EXPECT_EQ(m.match_ipv4(101, v4("198.18.2.9").data()), 0);
  EXPECT_EQ(m.match_ipv6(101, v6("2001:db8::9").data()), 0) << "a VLAN-only view takes every address family";
  EXPECT_EQ(m.match_ipv4(102, v4("198.18.2.9").data()), 1);
  EXPECT_EQ(m.match_ipv4(102, v4("198.18.3.9").data()), 2) << "VLAN 102 but outside view 1's prefix";
  EXPECT_EQ(m.match_ipv4(102, v4("10.1.1.1").data()), ViewMap::kNoView);
  // Untagged, another VLAN, or the VLAN not known: never a VLAN view.
  EXPECT_EQ(m.match_ipv4(0, v4("198.18.2.9").data()), 2);
  EXPECT_EQ(m.match_ipv4(103, v4("198.18.2.9").data()), 2);
  EXPECT_EQ(m.match_ipv4(ViewMap::kAnyVlan, v4("198.18.2.9").data()), 2);
  EXPECT_EQ(m.match_ipv4(0, v4("10.1.1.1").data()), ViewMap::kNoView);
  EXPECT_EQ(m.match_ipv4(4095, v4("10.1.1.1").data()), ViewMap::kNoView);
}

TEST(ViewMap, BadRulesAreRefused) {
  ViewMap m;
  EXPECT_FALSE(m.add(0, 0, {}));
  EXPECT_FALSE(m.add(0, 4095, {}));
  EXPECT_FALSE(m.add(0, std::nullopt, {"198.18.1.1/24"})) << "host bits";
  EXPECT_FALSE(m.add(0, std::nullopt, {"not-an-address"}));
  EXPECT_FALSE(m.add(ViewMap::kMaxViews, std::nullopt, {}));
}

TEST(ViewMap, SixtyFourVlanViewsCostOneCompareEach) {
  ViewMap m;
  for (std::uint16_t i = 0; i < 64; ++i) ASSERT_TRUE(m.add(i, static_cast<std::uint16_t>(100 + i), {}));
  m.build();
  for (std::uint16_t i = 0; i < 64; ++i) EXPECT_EQ(m.match_ipv4(static_cast<std::uint16_t>(100 + i), v4("10.0.0.1").data()), i);
  EXPECT_EQ(m.match_ipv4(99, v4("10.0.0.1").data()), ViewMap::kNoView);
}

}  // namespace
}  // namespace dotpin::dataplane
