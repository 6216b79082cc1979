// SPDX-License-Identifier: Apache-2.0
#include "common/dns_wire.h"

#include <gtest/gtest.h>

namespace dotpin::dns {
namespace {

TEST(DnsWire, QueryIsPaddedToTheBlock) {
  for (const char* name : {"a.", "www.dotpin.test", "a-very-long-label-to-push-the-size.example.org."}) {
    QueryOptions o;
    o.id = 0x1234;
    auto q = build_query(name, kTypeAaaa, o);
    ASSERT_TRUE(q.ok()) << q.error();
    EXPECT_EQ(q->size() % kPaddingBlock, 0u) << name;
    const auto h = read_header(*q);
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->id, 0x1234);
    EXPECT_EQ(h->qdcount, 1);
    EXPECT_EQ(h->arcount, 1);
    EXPECT_FALSE(h->qr);
    auto text = format_message(*q);
    ASSERT_TRUE(text.ok()) << text.error();
    EXPECT_NE(text->find("IN\tAAAA"), std::string::npos) << *text;
    EXPECT_NE(text->find(";; PADDING:"), std::string::npos) << *text;
  }
}

TEST(DnsWire, QueryWithoutEdnsOrPadding) {
  QueryOptions o;
  o.edns = false;
  auto q = build_query("example.", kTypeA, o);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->size(), 12u + 9u + 4u);
  o.edns = true;
  o.pad_block = 0;
  o.dnssec_ok = true;
  q = build_query("example.", kTypeA, o);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->size(), 12u + 9u + 4u + 11u);
  EXPECT_NE(format_message(*q)->find("flags: do"), std::string::npos);
}

TEST(DnsWire, RejectsBadNames) {
  EXPECT_FALSE(build_query("a..b", kTypeA, {}).ok());
  EXPECT_FALSE(build_query(std::string(64, 'x') + ".com", kTypeA, {}).ok());
  std::string longname;
  for (int i = 0; i < 52; ++i) longname += "abcd.";  // 261 octets on the wire
  EXPECT_FALSE(build_query(longname, kTypeA, {}).ok());
  EXPECT_TRUE(build_query(longname.substr(0, 250), kTypeA, {}).ok());  // 251 octets: legal
  EXPECT_TRUE(build_query(".", kTypeNs, {}).ok());
}

TEST(DnsWire, TypesByName) {
  EXPECT_EQ(type_from_string("aaaa"), kTypeAaaa);
  EXPECT_EQ(type_from_string("TLSA"), kTypeTlsa);
  EXPECT_EQ(type_from_string("TYPE65"), 65);
  EXPECT_FALSE(type_from_string("TYPE70000").has_value());
  EXPECT_FALSE(type_from_string("BOGUS").has_value());
  EXPECT_EQ(type_to_string(65), "TYPE65");
}

// A response with a compressed answer: www.example. 300 IN A 192.0.2.7, CNAME, TXT and MX.
std::vector<std::uint8_t> response() {
  std::vector<std::uint8_t> m{0xab, 0xcd, 0x81, 0x80, 0, 1, 0, 4, 0, 0, 0, 0,
                              3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 1, 0, 1};
  auto rr = [&](std::uint16_t type, std::vector<std::uint8_t> rdata) {
    m.insert(m.end(), {0xc0, 12, static_cast<std::uint8_t>(type >> 8), static_cast<std::uint8_t>(type), 0, 1, 0, 0, 1, 44,
                       0, static_cast<std::uint8_t>(rdata.size())});
    m.insert(m.end(), rdata.begin(), rdata.end());
  };
  rr(kTypeA, {192, 0, 2, 7});
  rr(kTypeCname, {0xc0, 16});  // -> example.
  rr(kTypeTxt, {5, 'h', 'e', '"', 'l', 'o'});
  rr(kTypeMx, {0, 10, 4, 'm', 'a', 'i', 'l', 0xc0, 16});
  return m;
}

TEST(DnsWire, FormatsAResponse) {
  auto text = format_message(response());
  ASSERT_TRUE(text.ok()) << text.error();
  EXPECT_NE(text->find("status: NOERROR; id: 43981"), std::string::npos) << *text;
  EXPECT_NE(text->find("Flags: qr rd ra"), std::string::npos) << *text;
  EXPECT_NE(text->find("\t300\tIN\tA\t192.0.2.7"), std::string::npos) << *text;
  EXPECT_NE(text->find("CNAME\texample."), std::string::npos) << *text;
  EXPECT_NE(text->find("TXT\t\"he\\\"lo\""), std::string::npos) << *text;
  EXPECT_NE(text->find("MX\t10 mail.example."), std::string::npos) << *text;
}

TEST(DnsWire, CompressionLoopsAndTruncationAreErrors) {
  auto m = response();
  // Make the first answer's owner point at itself.
  m[29] = 0xc0;
  m[30] = 29;
  EXPECT_FALSE(format_message(m).ok());
  // Every truncation fails cleanly.
  const auto full = response();
  for (std::size_t n = 0; n < full.size(); ++n) {
    EXPECT_FALSE(format_message(std::span(full.data(), n)).ok()) << n;
  }
}

TEST(WireReader, NamesWithEscapesAndForwardPointers) {
  const std::vector<std::uint8_t> m{3, 'a', '.', 'b', 0};
  WireReader r(m);
  EXPECT_EQ(r.name(), "a\\.b.");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.pos(), 5u);
  const std::vector<std::uint8_t> fwd{0xc0, 2, 1, 'x', 0};
  WireReader f(fwd);
  (void)f.name();
  EXPECT_FALSE(f.ok());
}

TEST(DnsWire, RendersEdnsOptionsAndRefusesAPartialOne) {
  auto m = response();
  m[11] = 1;
  const std::size_t at = m.size();
  m.resize(at + kOptRecordLen);
  const std::uint8_t options[] = {0, 15, 0, 5, 0, 22, 'w', 'h', 'y', 0, 12, 0, 2, 0, 0};
  write_opt(m.data() + at, 1232, 0, true, sizeof options);
  m.insert(m.end(), std::begin(options), std::end(options));
  auto text = format_message(m);
  ASSERT_TRUE(text.ok()) << text.error();
  EXPECT_NE(text->find(";; EDE: 22 (why)"), std::string::npos) << *text;
  EXPECT_NE(text->find(";; PADDING: 2 B"), std::string::npos) << *text;
  EXPECT_NE(text->find("flags: do; UDP size: 1232 B"), std::string::npos) << *text;
  // Two bytes after the last option: half an option header, malformed (RFC 6891 §6.1.2).
  m.insert(m.end(), {0, 1});
  m[at + 10] = static_cast<std::uint8_t>(sizeof options + 2);
  EXPECT_FALSE(format_message(m).ok());
}

TEST(WireReader, NamesUnderTheCursorsRules) {
  // A pointer into the name's own labels (before the pointer, but a loop) renders nothing.
  const std::vector<std::uint8_t> loop{3, 'w', 'w', 'w', 0xc0, 1};
  WireReader r(loop);
  EXPECT_EQ(r.name(), "");
  EXPECT_FALSE(r.ok());
  const std::vector<std::uint8_t> root{0};
  WireReader rr(root);
  EXPECT_EQ(rr.name(), ".");
}

}  // namespace
}  // namespace dotpin::dns
