// SPDX-License-Identifier: Apache-2.0
#include "dataplane/view_map.h"

#include "dataplane/inflight_table.h"
#include "dataplane/rate_limit.h"

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

// Shared per-lcore structures keep the views apart too.
TEST(ViewShares, EachViewHasItsShareOfTheInflightTable) {
  InflightTable t(8);
  t.set_view_caps({3, 8});
  std::uint64_t c[8];
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(t.acquire(c[i], 0));
  std::uint64_t extra = 0;
  EXPECT_FALSE(t.acquire(extra, 0)) << "view 0 is at its share";
  for (int i = 3; i < 8; ++i) ASSERT_TRUE(t.acquire(c[i], 1)) << "view 1 still finds entries";
  EXPECT_FALSE(t.acquire(extra, 1)) << "the table is full";
  EXPECT_EQ(t.find(c[0])->vi, 0);
  EXPECT_EQ(t.find(c[3])->vi, 1);
  t.release(c[0]);
  EXPECT_EQ(t.in_use(0), 2u);
  EXPECT_TRUE(t.acquire(extra, 0));
}

TEST(ViewShares, TheSameAddressInTwoViewsHasTwoRateLimitBuckets) {
  RateLimitOptions o;
  o.qps = 1;
  o.burst = 1;
  RateLimiter rl(o, 7);
  const auto a = v4("10.0.0.1");
  EXPECT_EQ(rl.query(a.data(), false, 1000, 0), RateLimiter::Verdict::kPass);
  EXPECT_NE(rl.query(a.data(), false, 2000, 0), RateLimiter::Verdict::kPass) << "view 0's bucket is empty";
  EXPECT_EQ(rl.query(a.data(), false, 3000, 1), RateLimiter::Verdict::kPass) << "view 1's is its own";
  EXPECT_EQ(rl.query(a.data(), false, 4000, kUnmatchedView), RateLimiter::Verdict::kPass);
  const auto top = rl.top();
  EXPECT_EQ(top[0].view, 0);
}

TEST(ViewShares, AViewsOwnRateLimitsReplaceTheGlobalOnes) {
  RateLimitOptions o;
  o.qps = 1;
  o.burst = 1;
  o.views = {ViewRates{}, ViewRates{true, 0, 0, 0, 0}, ViewRates{true, 1000, 1000, 0, 0}};
  RateLimiter rl(o, 7);
  ASSERT_TRUE(rl.limits_queries());
  EXPECT_FALSE(rl.limits_errors());
  const auto a = v4("10.0.0.1");
  // View 0 has [ratelimit]'s: 1 q/s.
  EXPECT_EQ(rl.query(a.data(), false, 1000, 0), RateLimiter::Verdict::kPass);
  EXPECT_NE(rl.query(a.data(), false, 2000, 0), RateLimiter::Verdict::kPass);
  // View 1 has none of its own: never limited.
  for (int i = 0; i < 100; ++i) EXPECT_EQ(rl.query(a.data(), false, 3000 + i, 1), RateLimiter::Verdict::kPass);
  // View 2: 1000 q/s with a burst of 1000.
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(rl.query(a.data(), false, 4000 + i, 2), RateLimiter::Verdict::kPass) << i;
  EXPECT_NE(rl.query(a.data(), false, 5000, 2), RateLimiter::Verdict::kPass);
  // Clients in no view have [ratelimit]'s.
  EXPECT_EQ(rl.query(a.data(), false, 6000, kUnmatchedView), RateLimiter::Verdict::kPass);
  EXPECT_NE(rl.query(a.data(), false, 7000, kUnmatchedView), RateLimiter::Verdict::kPass);
  // Only a view's own limits: the table exists though [ratelimit] has none.
  RateLimitOptions only;
  only.views = {ViewRates{true, 5, 0, 0, 0}};
  EXPECT_TRUE(only.enabled());
  RateLimiter rv(only, 7);
  EXPECT_TRUE(rv.limits_queries());
  EXPECT_EQ(rv.query(a.data(), false, 1000, 1), RateLimiter::Verdict::kPass) << "view 1 has no limit";
}

TEST(ViewMap, ReservedVlanAndAnUnbuiltMapMatchNothing) {
  ViewMap unbuilt;
  ASSERT_TRUE(unbuilt.add(0, std::nullopt, {}));
  EXPECT_EQ(unbuilt.match_ipv4(0, v4("10.0.0.1").data()), ViewMap::kNoView) << "build() not called yet";
  ViewMap m;
  ASSERT_TRUE(m.add(0, std::nullopt, {"10.0.0.0/8"}));
  m.build();
  EXPECT_EQ(m.match_ipv4(17, v4("10.0.0.1").data()), 0);
  EXPECT_EQ(m.match_ipv4(4095, v4("10.0.0.1").data()), ViewMap::kNoView) << "VLAN ID 4095 is reserved";
}

TEST(ViewMap, AViewThatAnEarlierOneCoversIsShadowed) {
  ViewMap m;
  ASSERT_TRUE(m.add(0, std::nullopt, {"10.0.0.0/8"}));
  ASSERT_TRUE(m.add(1, std::nullopt, {"10.1.0.0/16"}));                 // inside view 0: never matched
  ASSERT_TRUE(m.add(2, std::nullopt, {"10.2.0.0/16", "192.0.2.0/24"}));  // partly outside: fine
  ASSERT_TRUE(m.add(3, 101, {"10.3.0.0/16"}));                          // view 0 has no VLAN: covers
  ASSERT_TRUE(m.add(4, 102, {}));                                       // all addresses: not covered
  ASSERT_TRUE(m.add(5, 102, {"172.16.0.0/12"}));                        // view 4 covers VLAN 102
  ASSERT_TRUE(m.add(6, std::nullopt, {"172.16.0.0/12"}));               // other VLANs too: fine
  m.build();
  EXPECT_EQ(m.shadowed_by(0), ViewMap::kNoView);
  EXPECT_EQ(m.shadowed_by(1), 0);
  EXPECT_EQ(m.shadowed_by(2), ViewMap::kNoView);
  EXPECT_EQ(m.shadowed_by(3), 0);
  EXPECT_EQ(m.shadowed_by(4), ViewMap::kNoView);
  EXPECT_EQ(m.shadowed_by(5), 4);
  EXPECT_EQ(m.shadowed_by(6), ViewMap::kNoView);
  ViewMap v6;
  ASSERT_TRUE(v6.add(0, std::nullopt, {"2001:db8::/32"}));
  ASSERT_TRUE(v6.add(1, std::nullopt, {"2001:db8:1::/48"}));
  ASSERT_TRUE(v6.add(2, std::nullopt, {"2001:db9::/48"}));
  v6.build();
  EXPECT_EQ(v6.shadowed_by(1), 0);
  EXPECT_EQ(v6.shadowed_by(2), ViewMap::kNoView);
}

}  // namespace
}  // namespace dotpin::dataplane
