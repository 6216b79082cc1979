// SPDX-License-Identifier: Apache-2.0
// DaneLookup's configuration checks and its deadline, without any DNS server: real signed zones are
// tests/integration/test_dane_lookup.py's (knot on loopback).
#include "control/dane_lookup.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

namespace dotpin::dane {
namespace {

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& text) {
    char name[] = "/tmp/dotpin-dane-XXXXXX";
    const int fd = mkstemp(name);
    if (fd >= 0) close(fd);
    path = name;
    std::ofstream(path) << text;
  }
  ~TempFile() { std::remove(path.c_str()); }
};

const char* kAnchor = "dane.test. DS 26332 13 2 b0bcc14a2991f1c29056b781b7e3ad9aa90310a0e82b7dc4d2f3418eda85c1ee\n";

// A UDP port on 127.0.0.1 bound by nobody once this returns: queries to it go unanswered.
std::uint16_t dead_udp_port() {
  const int s = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

TEST(DaneLookup, RefusesAnAnchorFileWithoutRecords) {
  TempFile empty("; only a comment\n\n");
  auto l = DaneLookup::create({.trust_anchor_file = empty.path});
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.error().find("no DS or DNSKEY"), std::string::npos) << l.error();

  auto missing = DaneLookup::create({.trust_anchor_file = "/nonexistent/anchors.ds"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("/nonexistent/anchors.ds"), std::string::npos) << missing.error();
}

TEST(DaneLookup, RefusesBadAddressesAndTimeouts) {
  TempFile anchor(kAnchor);
  EXPECT_FALSE(DaneLookup::create({.trust_anchor_file = anchor.path, .resolvers = {"not-an-address"}}).ok());
  EXPECT_FALSE(DaneLookup::create({.trust_anchor_file = anchor.path, .stubs = {{"dane.test", "bogus@@"}}}).ok());
  EXPECT_FALSE(DaneLookup::create({.trust_anchor_file = anchor.path, .timeout = std::chrono::milliseconds(0)}).ok());
  EXPECT_TRUE(DaneLookup::create({.trust_anchor_file = anchor.path, .resolvers = {"127.0.0.1@5353", "::1"}}).ok());
}

TEST(DaneLookup, BadNamesAreErrors) {
  TempFile anchor(kAnchor);
  auto l = DaneLookup::create({.trust_anchor_file = anchor.path, .resolvers = {"127.0.0.1@9"}});
  ASSERT_TRUE(l.ok()) << l.error();
  EXPECT_FALSE(l->lookup("").ok());
  EXPECT_FALSE(l->lookup(".").ok());
  EXPECT_FALSE(l->lookup(".dane.test").ok());
}

TEST(DaneLookup, NoAnswerIsAnErrorWithinTheDeadline) {
  TempFile anchor(kAnchor);
  const std::string dead = "127.0.0.1@" + std::to_string(dead_udp_port());
  auto l = DaneLookup::create(
      {.trust_anchor_file = anchor.path, .resolvers = {dead}, .timeout = std::chrono::milliseconds(300)});
  ASSERT_TRUE(l.ok()) << l.error();
  for (int i = 0; i < 2; ++i) {  // a second lookup on the same context after a cancelled one
    const auto start = std::chrono::steady_clock::now();
    auto a = l->lookup("dns.dane.test");
    const auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(a.ok());
    EXPECT_NE(a.error().find("300 ms"), std::string::npos) << a.error();
    EXPECT_GE(took, std::chrono::milliseconds(290));
    EXPECT_LT(took, std::chrono::milliseconds(1500));
  }
}

}  // namespace
}  // namespace dotpin::dane
