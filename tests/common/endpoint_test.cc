// SPDX-License-Identifier: Apache-2.0
#include "common/endpoint.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

namespace dotpin {
namespace {

TEST(Endpoint, ParsesAddressesWithAndWithoutPort) {
  auto a = parse_endpoint("192.0.2.1:8853", 853, false);
  ASSERT_TRUE(a.ok()) << a.error();
  EXPECT_EQ(a->host, "192.0.2.1");
  EXPECT_EQ(a->port, 8853);
  EXPECT_EQ(a->family, AF_INET);
  EXPECT_EQ(a->to_string(), "192.0.2.1:8853");

  auto b = parse_endpoint("192.0.2.1", 853, false);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->port, 853);

  auto c = parse_endpoint("[2001:db8::1]:53", 853, false);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->host, "2001:db8::1");
  EXPECT_EQ(c->port, 53);
  EXPECT_EQ(c->family, AF_INET6);
  EXPECT_EQ(c->to_string(), "[2001:db8::1]:53");

  auto d = parse_endpoint("2001:db8::1", 853, false);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->port, 853);
  EXPECT_EQ(d->family, AF_INET6);
}

TEST(Endpoint, NamesOnlyWhenAllowed) {
  EXPECT_FALSE(parse_endpoint("dns.example.net:853", 853, false).ok());
  auto n = parse_endpoint("dns.example.net:853", 853, true);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->family, 0);
}

TEST(Endpoint, RejectsBadPortsAndShapes) {
  for (const char* bad : {"192.0.2.1:", "192.0.2.1:0", "192.0.2.1:65536", "192.0.2.1:x", "[2001:db8::1",
                          "[2001:db8::1]853", ":853", "[]:853", "192.0.2.1:85 3"}) {
    EXPECT_FALSE(parse_endpoint(bad, 853, true).ok()) << bad;
  }
}

}  // namespace
}  // namespace dotpin
