// SPDX-License-Identifier: Apache-2.0
#include "dataplane/dns_query.h"

#include <gtest/gtest.h>

#include "tests/dataplane/frames.h"

namespace dotpin::dataplane {
namespace {

QueryVerdict parse(const std::vector<std::uint8_t>& m, QueryInfo& q) {
  CacheKey key;
  return parse_query(m, q, key);
}
QueryVerdict parse(const std::vector<std::uint8_t>& m) {
  QueryInfo q;
  return parse(m, q);
}

// A query with an OPT record whose fields the test sets.
std::vector<std::uint8_t> with_opt(std::uint16_t udp, std::uint8_t version, bool dnssec_ok,
                                   std::vector<std::uint8_t> rdata = {}) {
  auto m = test::query("www.dotpin.test");
  m[11] = 1;
  m.insert(m.end(), {0, 0, 41, static_cast<std::uint8_t>(udp >> 8), static_cast<std::uint8_t>(udp), 0, version,
                     static_cast<std::uint8_t>(dnssec_ok ? 0x80 : 0), 0, 0, static_cast<std::uint8_t>(rdata.size())});
  m.insert(m.end(), rdata.begin(), rdata.end());
  return m;
}

TEST(DnsQuery, PlainQuery) {
  QueryInfo q;
  ASSERT_EQ(parse(test::query("www.dotpin.test", dns::kTypeAaaa), q), QueryVerdict::kOk);
  EXPECT_EQ(q.id, 0x1234);
  EXPECT_EQ(q.qtype, dns::kTypeAaaa);
  EXPECT_EQ(q.qclass, 1);
  EXPECT_EQ(q.qname_len, 17);
  EXPECT_EQ(q.question_end, 12 + 17 + 4);
  EXPECT_FALSE(q.edns);
  EXPECT_EQ(q.udp_size, 512);
  EXPECT_TRUE(q.rd());
}

TEST(DnsQuery, Edns) {
  QueryInfo q;
  ASSERT_EQ(parse(with_opt(4096, 0, true, {0, 10, 0, 2, 0xab, 0xcd}), q), QueryVerdict::kOk);
  EXPECT_TRUE(q.edns);
  EXPECT_TRUE(q.dnssec_ok);
  EXPECT_EQ(q.udp_size, 4096);
  ASSERT_EQ(parse(with_opt(100, 0, false), q), QueryVerdict::kOk);
  EXPECT_EQ(q.udp_size, 512);  // RFC 6891 §6.2.3: below 512 is treated as 512
  EXPECT_EQ(parse(with_opt(1232, 1, false), q), QueryVerdict::kBadVers);
  EXPECT_TRUE(q.edns);
  EXPECT_EQ(parse(with_opt(1232, 0, false, {0, 10, 0, 9, 1})), QueryVerdict::kFormErr);  // option overruns
  EXPECT_EQ(parse(with_opt(1232, 0, false, {0, 10, 0})), QueryVerdict::kFormErr);        // half an option header
}

TEST(DnsQuery, TwoOptRecordsAreFormErr) {
  auto m = with_opt(1232, 0, false);
  m[11] = 2;
  m.insert(m.end(), {0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0});
  EXPECT_EQ(parse(m), QueryVerdict::kFormErr);
}

TEST(DnsQuery, OptWithNonRootOwnerIsFormErr) {
  auto m = test::query("a.");
  m[11] = 1;
  m.insert(m.end(), {1, 'x', 0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0});
  EXPECT_EQ(parse(m), QueryVerdict::kFormErr);
}

TEST(DnsQuery, HeaderRules) {
  auto m = test::query("a.");
  m[2] |= 0x80;
  EXPECT_EQ(parse(m), QueryVerdict::kDropResponse);
  m = test::query("a.");
  m[2] = static_cast<std::uint8_t>((m[2] & 0x87) | (4 << 3));  // NOTIFY
  EXPECT_EQ(parse(m), QueryVerdict::kNotImp);
  m[2] = static_cast<std::uint8_t>((m[2] & 0x87) | (5 << 3));  // UPDATE
  EXPECT_EQ(parse(m), QueryVerdict::kNotImp);
  m = test::query("a.");
  m[5] = 0;
  EXPECT_EQ(parse(m), QueryVerdict::kFormErr);  // QDCOUNT 0
  m = test::query("a.");
  m[5] = 2;
  EXPECT_EQ(parse(m), QueryVerdict::kFormErr);  // QDCOUNT 2 (and too short)
  m = test::query("a.");
  m[7] = 1;
  EXPECT_EQ(parse(m), QueryVerdict::kFormErr);  // an answer in a query
  EXPECT_EQ(parse(std::vector<std::uint8_t>(11, 0)), QueryVerdict::kDropShort);
}

TEST(DnsQuery, TypesAndClasses) {
  EXPECT_EQ(parse(test::query("a.", 252)), QueryVerdict::kNotImp);  // AXFR
  EXPECT_EQ(parse(test::query("a.", 251)), QueryVerdict::kNotImp);  // IXFR
  EXPECT_EQ(parse(test::query("a.", 41)), QueryVerdict::kFormErr);  // OPT
  EXPECT_EQ(parse(test::query("a.", 255)), QueryVerdict::kOk);      // ANY is forwarded (RFC 8482 upstream)
  auto m = test::query("a.");
  m[m.size() - 1] = 3;  // CH
  EXPECT_EQ(parse(m), QueryVerdict::kRefused);
  m[m.size() - 1] = 255;  // ANY class
  EXPECT_EQ(parse(m), QueryVerdict::kRefused);
}

TEST(DnsQuery, NameRules) {
  // A compression pointer in the question can only loop: FORMERR.
  std::vector<std::uint8_t> m = {0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0xc0, 12, 0, 1, 0, 1};
  EXPECT_EQ(parse(m), QueryVerdict::kFormErr);
  m = {0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1};
  EXPECT_EQ(parse(m), QueryVerdict::kFormErr);
  // Label of 64.
  m = {0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 64};
  m.insert(m.end(), 64, 'a');
  m.insert(m.end(), {0, 0, 1, 0, 1});
  EXPECT_EQ(parse(m), QueryVerdict::kFormErr);
  // Name of 256 octets: 4 labels of 63 + root = 257 > 255.
  m = {0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  for (int i = 0; i < 4; ++i) {
    m.push_back(63);
    m.insert(m.end(), 63, 'b');
  }
  m.insert(m.end(), {0, 0, 1, 0, 1});
  EXPECT_EQ(parse(m), QueryVerdict::kFormErr);
  // Trailing garbage after the question.
  m = test::query("a.");
  m.push_back(0);
  EXPECT_EQ(parse(m), QueryVerdict::kFormErr);
}

TEST(DnsQuery, AdditionalRecordPointersMustGoBackwards) {
  auto m = test::query("a.");
  m[11] = 1;
  const auto at = static_cast<std::uint8_t>(m.size());
  // Owner name: a pointer to itself (a loop for a follower): FORMERR.
  m.insert(m.end(), {0xc0, at, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0});
  EXPECT_EQ(parse(m), QueryVerdict::kFormErr);
  m[at + 1] = 12;  // back to the question name: fine
  EXPECT_EQ(parse(m), QueryVerdict::kOk);
}

TEST(DnsQuery, EveryTruncationIsHandled) {
  const auto m = with_opt(1232, 0, true, {0, 10, 0, 2, 1, 2});
  for (std::size_t n = 0; n < m.size(); ++n) {
    const std::vector<std::uint8_t> cut(m.begin(), m.begin() + static_cast<long>(n));
    const QueryVerdict v = parse(cut);
    EXPECT_TRUE(v == QueryVerdict::kDropShort || v == QueryVerdict::kFormErr) << n << " " << to_string(v);
  }
}

TEST(DnsQuery, KeyIgnoresCaseButNotDoOrType) {
  CacheKey a, b;
  QueryInfo q;
  ASSERT_EQ(parse_query(test::query("WwW.DotPin.TEST"), q, a), QueryVerdict::kOk);
  ASSERT_EQ(parse_query(test::query("www.dotpin.test"), q, b), QueryVerdict::kOk);
  EXPECT_EQ(a.hash, b.hash);
  ASSERT_EQ(a.len, b.len);
  EXPECT_EQ(std::memcmp(a.bytes, b.bytes, a.len), 0);
  ASSERT_EQ(parse_query(with_opt(1232, 0, true), q, b), QueryVerdict::kOk);
  EXPECT_NE(a.hash, b.hash);
  ASSERT_EQ(parse_query(test::query("www.dotpin.test", dns::kTypeAaaa), q, b), QueryVerdict::kOk);
  EXPECT_NE(std::memcmp(a.bytes, b.bytes, a.len), 0);
}

}  // namespace
}  // namespace dotpin::dataplane
