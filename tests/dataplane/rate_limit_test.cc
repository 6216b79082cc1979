// SPDX-License-Identifier: Apache-2.0
#include "dataplane/rate_limit.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <array>

namespace dotpin::dataplane {
namespace {

constexpr std::uint64_t kMs = 1'000'000;  // ns
constexpr std::uint64_t kS = 1000 * kMs;

std::array<std::uint8_t, 4> v4(const char* s) {
  std::array<std::uint8_t, 4> a{};
  EXPECT_EQ(inet_pton(AF_INET, s, a.data()), 1) << s;
  return a;
}
std::array<std::uint8_t, 16> v6(const char* s) {
  std::array<std::uint8_t, 16> a{};
  EXPECT_EQ(inet_pton(AF_INET6, s, a.data()), 1) << s;
  return a;
}

RateLimitOptions opts(std::uint32_t qps, std::uint32_t burst, std::uint32_t slip = 0) {
  RateLimitOptions o;
  o.qps = qps;
  o.burst = burst;
  o.slip = slip;
  o.entries = 1024;
  return o;
}

using V = RateLimiter::Verdict;

TEST(RateLimiter, ABurstPassesThenTheRateHolds) {
  RateLimiter rl(opts(100, 10), 1);
  const auto a = v4("198.18.0.2");
  const std::uint64_t t0 = 5 * kS;
  int passed = 0;
  for (int i = 0; i < 50; ++i) passed += rl.query(a.data(), false, t0) == V::kPass;
  EXPECT_EQ(passed, 10);  // the burst, all at one instant
  // Then one every 10 ms: flooding at 10x the rate for 2 s delivers 2 s worth, 200 (+1 at the edge).
  passed = 0;
  for (std::uint64_t t = t0; t < t0 + 2 * kS; t += kMs) passed += rl.query(a.data(), false, t) == V::kPass;
  EXPECT_GE(passed, 199);
  EXPECT_LE(passed, 201);
}

TEST(RateLimiter, AClientUnderItsRateIsNeverLimited) {
  RateLimiter rl(opts(100, 5), 1);
  const auto a = v4("198.18.0.2");
  for (std::uint64_t t = kS; t < 11 * kS; t += 11 * kMs) ASSERT_EQ(rl.query(a.data(), false, t), V::kPass) << t;
}

TEST(RateLimiter, ClientsHaveBucketsOfTheirOwn) {
  RateLimiter rl(opts(10, 2), 1);
  const auto a = v4("198.18.0.2"), b = v4("198.18.0.3");
  for (int i = 0; i < 2; ++i) ASSERT_EQ(rl.query(a.data(), false, kS), V::kPass);
  EXPECT_EQ(rl.query(a.data(), false, kS), V::kDrop);
  EXPECT_EQ(rl.query(b.data(), false, kS), V::kPass);  // a's flood costs b nothing
  EXPECT_EQ(rl.query(b.data(), false, kS), V::kPass);
  EXPECT_EQ(rl.query(b.data(), false, kS), V::kDrop);
}

TEST(RateLimiter, IPv6IsLimitedPerPrefixAndNeverSharesWithIPv4) {
  RateLimitOptions o = opts(10, 2);
  o.ipv6_prefix = 56;
  RateLimiter rl(o, 1);
  const auto a = v6("2001:db8:1:2ff::1"), b = v6("2001:db8:1:200:ffff::9"), c = v6("2001:db8:1:300::1");
  EXPECT_EQ(rl.query(a.data(), true, kS), V::kPass);
  EXPECT_EQ(rl.query(b.data(), true, kS), V::kPass);  // the same /56
  EXPECT_EQ(rl.query(a.data(), true, kS), V::kDrop);
  EXPECT_EQ(rl.query(c.data(), true, kS), V::kPass);  // the next /56
  // An IPv4 address equal to the /56's upper bits is another client.
  const std::array<std::uint8_t, 4> same_bits{0x20, 0x01, 0x0d, 0xb8};
  EXPECT_EQ(rl.query(same_bits.data(), false, kS), V::kPass);
  const auto top = rl.top();
  EXPECT_EQ(top[0].to_string(), "2001:db8:1:200::/56");
  EXPECT_EQ(top[0].limited, 1u);
  EXPECT_EQ(top[1].family, 0);
}

TEST(RateLimiter, EverySlipThLimitedQueryIsSlipped) {
  RateLimiter rl(opts(10, 1, 3), 1);
  const auto a = v4("198.18.0.2");
  ASSERT_EQ(rl.query(a.data(), false, kS), V::kPass);
  std::string seen;
  for (int i = 0; i < 9; ++i) seen += rl.query(a.data(), false, kS) == V::kSlip ? 'S' : 'D';
  EXPECT_EQ(seen, "DDSDDSDDS");
}

TEST(RateLimiter, ErrorResponsesHaveTheirOwnBucket) {
  RateLimitOptions o;
  o.error_qps = 5;
  o.error_burst = 2;
  o.slip = 0;
  o.entries = 64;
  RateLimiter rl(o, 1);
  EXPECT_FALSE(rl.limits_queries());
  EXPECT_TRUE(rl.limits_errors());
  const auto a = v4("203.0.113.9");
  for (int i = 0; i < 100; ++i) ASSERT_EQ(rl.query(a.data(), false, kS), V::kPass);  // no query limit
  EXPECT_EQ(rl.error_response(a.data(), false, kS), V::kPass);
  EXPECT_EQ(rl.error_response(a.data(), false, kS), V::kPass);
  EXPECT_EQ(rl.error_response(a.data(), false, kS), V::kDrop);
  EXPECT_EQ(rl.error_response(a.data(), false, kS + 200 * kMs), V::kPass);  // 1/5 s later, one more
  EXPECT_EQ(rl.top()[0].to_string(), "203.0.113.9/32");
}

TEST(RateLimiter, ExemptClientsAreNeverLimited) {
  RateLimitOptions o = opts(10, 1);
  o.error_qps = 1;
  ASSERT_TRUE(o.exempt.add("198.18.7.0/24"));
  ASSERT_TRUE(o.exempt.add("2001:db8:9::/48"));
  RateLimiter rl(o, 1);
  const auto in = v4("198.18.7.200"), out = v4("198.18.8.1");
  const auto in6 = v6("2001:db8:9:1::5");
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(rl.query(in.data(), false, kS), V::kPass);
    ASSERT_EQ(rl.error_response(in.data(), false, kS), V::kPass);
    ASSERT_EQ(rl.query(in6.data(), true, kS), V::kPass);
  }
  EXPECT_TRUE(rl.exempt(in.data(), false));
  EXPECT_FALSE(rl.exempt(out.data(), false));
  EXPECT_EQ(rl.query(out.data(), false, kS), V::kPass);
  EXPECT_EQ(rl.query(out.data(), false, kS), V::kDrop);
  EXPECT_EQ(rl.top()[0].to_string(), "198.18.8.1/32");
  EXPECT_EQ(rl.top()[1].family, 0);
}

TEST(RateLimiter, OffIsFreeAndPassesEverything) {
  RateLimiter rl(RateLimitOptions{}, 1);
  EXPECT_FALSE(rl.limits_queries());
  EXPECT_FALSE(rl.limits_errors());
  EXPECT_EQ(rl.capacity(), 0u);  // no table at all
  const auto a = v4("198.18.0.2");
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(rl.query(a.data(), false, kS), V::kPass);
}

TEST(RateLimiter, AFullTableEvictsTheIdlestAndStaysBounded) {
  // Two ways per bucket and a 4-entry table: a spoofed flood of new sources takes entries, each
  // gets one burst; the table does not grow, and a client seen again starts afresh.
  RateLimitOptions o = opts(1, 1);
  o.entries = 4;
  RateLimiter rl(o, 1);
  EXPECT_EQ(rl.capacity(), 4u);
  std::uint32_t passed = 0;
  for (std::uint32_t i = 0; i < 10000; ++i) {
    const std::uint32_t be = htonl(0xC6120000u + i);
    passed += rl.query(reinterpret_cast<const std::uint8_t*>(&be), false, kS) == V::kPass;
  }
  EXPECT_EQ(passed, 10000u);  // one burst of 1 each: the cost of per-source limits
  EXPECT_EQ(rl.capacity(), 4u);
}

TEST(RateLimiter, TheTopListKeepsTheMostLimited) {
  RateLimiter rl(opts(1, 1), 1);
  for (std::uint32_t c = 1; c <= 12; ++c) {
    const std::uint32_t be = htonl(0xC6120000u + c);
    const auto* a = reinterpret_cast<const std::uint8_t*>(&be);
    for (std::uint32_t i = 0; i <= c; ++i) (void)rl.query(a, false, kS);  // c limited
  }
  const auto top = rl.top();
  EXPECT_EQ(top[0].to_string(), "198.18.0.12/32");
  EXPECT_EQ(top[0].limited, 12u);
  EXPECT_EQ(top[7].to_string(), "198.18.0.5/32");
  EXPECT_EQ(top[7].limited, 5u);
}

}  // namespace
}  // namespace dotpin::dataplane
