// SPDX-License-Identifier: Apache-2.0
#include "dataplane/acl.h"

#include <gtest/gtest.h>

#include "tests/dataplane/frames.h"

namespace dotpin::dataplane {
namespace {

TEST(Acl, EmptyAllowsNobody) {
  Acl acl;
  EXPECT_FALSE(acl.allows_ipv4(test::v4("198.18.0.2").data()));
  EXPECT_FALSE(acl.allows_ipv6(test::v6("2001:2::2").data()));
}

TEST(Acl, Prefixes) {
  Acl acl;
  ASSERT_TRUE(acl.add("198.18.0.0/15"));
  ASSERT_TRUE(acl.add("2001:2::/48"));
  ASSERT_TRUE(acl.add("192.0.2.7"));
  ASSERT_TRUE(acl.add("2001:db8::1:0:0:1/128"));
  EXPECT_TRUE(acl.allows_ipv4(test::v4("198.19.255.255").data()));
  EXPECT_FALSE(acl.allows_ipv4(test::v4("198.20.0.0").data()));
  EXPECT_TRUE(acl.allows_ipv4(test::v4("192.0.2.7").data()));
  EXPECT_FALSE(acl.allows_ipv4(test::v4("192.0.2.8").data()));
  EXPECT_TRUE(acl.allows_ipv6(test::v6("2001:2:0:ffff::1").data()));
  EXPECT_FALSE(acl.allows_ipv6(test::v6("2001:2:1::1").data()));
  EXPECT_TRUE(acl.allows_ipv6(test::v6("2001:db8::1:0:0:1").data()));
  EXPECT_FALSE(acl.allows_ipv6(test::v6("2001:db8::1:0:0:2").data()));
  // IPv4 prefixes say nothing about IPv6 and back.
  EXPECT_FALSE(acl.allows_ipv6(test::v6("::ffff:198.18.0.1").data()));
}

TEST(Acl, AllowAll) {
  Acl acl;
  ASSERT_TRUE(acl.add("0.0.0.0/0"));
  ASSERT_TRUE(acl.add("::/0"));
  EXPECT_TRUE(acl.allows_ipv4(test::v4("8.8.8.8").data()));
  EXPECT_TRUE(acl.allows_ipv6(test::v6("2a00::1").data()));
}

TEST(Acl, Errors) {
  Acl acl;
  EXPECT_NE(acl.add("198.18.0.1/15").error().find("host bits"), std::string::npos);
  EXPECT_NE(acl.add("198.18.0.0/33").error().find("0..32"), std::string::npos);
  EXPECT_NE(acl.add("2001:2::/129").error().find("0..128"), std::string::npos);
  EXPECT_NE(acl.add("not-an-address").error().find("not an IPv4"), std::string::npos);
  EXPECT_NE(acl.add("198.18.0.0/").error().find("prefix length"), std::string::npos);
  EXPECT_NE(acl.add("2001:2::1/64").error().find("host bits"), std::string::npos);
  EXPECT_EQ(acl.size(), 0u);
}

}  // namespace
}  // namespace dotpin::dataplane
