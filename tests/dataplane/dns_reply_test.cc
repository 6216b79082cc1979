// SPDX-License-Identifier: Apache-2.0
#include "dataplane/dns_reply.h"

#include <gtest/gtest.h>

#include "common/dns_wire.h"
#include "tests/dataplane/responses.h"

namespace dotpin::dataplane {
namespace {

using test::response;
using test::ResponseSpec;

std::uint32_t ttl_at(const std::vector<std::uint8_t>& m, std::size_t at) {
  return std::uint32_t{m[at]} << 24 | std::uint32_t{m[at + 1]} << 16 | std::uint32_t{m[at + 2]} << 8 | m[at + 3];
}

TEST(DnsReply, ErrorReplyKeepsQuestionAndEchoesEdns) {
  auto m = test::query("www.dotpin.test", 252, true);  // AXFR with EDNS
  QueryInfo q;
  CacheKey key;
  ASSERT_EQ(parse_query(m, q, key), QueryVerdict::kNotImp);
  m.resize(512);
  const dns::Ede ede{dns::EdeCode::kOther, "why"};
  const std::uint16_t len = write_error_reply(m.data(), m.size(), q, rcode_for(QueryVerdict::kNotImp), 1232, &ede);
  m.resize(len);
  const auto h = dns::read_header(m);
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->qr);
  EXPECT_EQ(h->rcode, kRcodeNotImp);
  EXPECT_EQ(h->qdcount, 1);
  EXPECT_EQ(h->arcount, 1);
  EXPECT_EQ(h->id, 0x1234);
  const auto text = dns::format_message(m);
  ASSERT_TRUE(text) << text.error();
  EXPECT_NE(text->find("www.dotpin.test."), std::string::npos);
  EXPECT_NE(text->find("EDE: 0 (why)"), std::string::npos) << *text;
}

TEST(DnsReply, EdeWithoutText) {
  auto m = test::query("a.", dns::kTypeA, true);
  QueryInfo q;
  CacheKey key;
  ASSERT_EQ(parse_query(m, q, key), QueryVerdict::kOk);
  const std::size_t query_len = m.size();
  m.resize(512);
  const dns::Ede ede{dns::EdeCode::kProhibited, {}};
  m.resize(write_error_reply(m.data(), m.size(), q, kRcodeRefused, 1232, &ede));
  EXPECT_EQ(m.size(), query_len + 6);  // the EDE option alone: no amplification beyond 6 bytes
  dns::Ede read{};
  ASSERT_TRUE(dns::read_ede(m, read));
  EXPECT_EQ(read.code, dns::EdeCode::kProhibited);
  EXPECT_TRUE(read.text.empty());
}

TEST(DnsReply, BadVersUsesTheExtendedRcode) {
  auto m = test::query("a.", dns::kTypeA, true);
  m[m.size() - 5] = 1;  // OPT version 1
  QueryInfo q;
  CacheKey key;
  ASSERT_EQ(parse_query(m, q, key), QueryVerdict::kBadVers);
  m.resize(512);
  m.resize(write_error_reply(m.data(), m.size(), q, rcode_for(QueryVerdict::kBadVers), 1232));
  EXPECT_EQ(m[3] & 0x0f, 0);
  EXPECT_EQ(m[m.size() - 6], 1);  // extended rcode: 16 >> 4
}

TEST(DnsReply, FormErrWithoutQuestionIsHeaderOnly) {
  std::vector<std::uint8_t> m = {0xab, 0xcd, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0};
  QueryInfo q;
  CacheKey key;
  ASSERT_EQ(parse_query(m, q, key), QueryVerdict::kFormErr);
  EXPECT_EQ(write_error_reply(m.data(), m.size(), q, kRcodeFormErr, 1232), 12);
  EXPECT_EQ(m[5], 0);
  EXPECT_EQ(m[3] & 0x0f, kRcodeFormErr);
}

TEST(DnsReply, PrepareStripsOptAndFindsMinTtl) {
  PreparedAnswer p;
  const auto r = response(test::query("www.dotpin.test"), ResponseSpec{.a_ttls = {300, 120, 900}, .opt = true});
  ASSERT_TRUE(prepare_answer(r, CacheLimits{}, p));
  EXPECT_EQ(p.ttl, 120u);
  EXPECT_FALSE(p.negative);
  EXPECT_EQ(p.ttl_offsets.size(), 3u);
  EXPECT_EQ(p.message.size(), r.size() - 17);
  EXPECT_EQ(p.message[11], 0);  // ARCOUNT without the OPT
  ASSERT_TRUE(prepare_answer(r, CacheLimits{.min_ttl = 0, .max_ttl = 60}, p));
  EXPECT_EQ(p.ttl, 60u);
  EXPECT_EQ(ttl_at(p.message, p.ttl_offsets[2]), 60u);  // stored TTLs clamped too
  ASSERT_TRUE(prepare_answer(r, CacheLimits{.min_ttl = 200, .max_ttl = 86400}, p));
  EXPECT_EQ(p.ttl, 200u);
}

TEST(DnsReply, NegativeCachingFollowsRfc2308) {
  PreparedAnswer p;
  ASSERT_TRUE(prepare_answer(response(test::query("no.dotpin.test"), ResponseSpec{.rcode = 3, .soa = true}), CacheLimits{}, p));
  EXPECT_TRUE(p.negative);
  EXPECT_EQ(p.ttl, 60u);  // min(SOA TTL 3600, MINIMUM 60)
  ASSERT_TRUE(prepare_answer(response(test::query("no.dotpin.test"), ResponseSpec{.soa = true, .soa_ttl = 30}), CacheLimits{}, p));
  EXPECT_TRUE(p.negative);  // NODATA
  EXPECT_EQ(p.ttl, 30u);
  ASSERT_TRUE(prepare_answer(response(test::query("no.dotpin.test"), ResponseSpec{.rcode = 3}), CacheLimits{}, p));
  EXPECT_EQ(p.ttl, 0u);  // no SOA: not cached (RFC 2308 §5)
  ASSERT_TRUE(prepare_answer(response(test::query("no.dotpin.test"), ResponseSpec{.rcode = 3, .soa = true}),
                             CacheLimits{.max_negative_ttl = 10}, p));
  EXPECT_EQ(p.ttl, 10u);
}

TEST(DnsReply, NotCached) {
  PreparedAnswer p;
  ASSERT_TRUE(prepare_answer(response(test::query("a."), ResponseSpec{.rcode = 2}), CacheLimits{}, p));
  EXPECT_EQ(p.ttl, 0u);  // SERVFAIL
  ASSERT_TRUE(prepare_answer(response(test::query("a."), ResponseSpec{.a_ttls = {300}, .tc = true}), CacheLimits{}, p));
  EXPECT_EQ(p.ttl, 0u);  // truncated
  ASSERT_TRUE(prepare_answer(response(test::query("a."), ResponseSpec{.a_ttls = {0}}), CacheLimits{}, p));
  EXPECT_EQ(p.ttl, 0u);
}

TEST(DnsReply, UnreadableAnswersAreRejected) {
  PreparedAnswer p;
  const auto r = response(test::query("www.dotpin.test"), ResponseSpec{.a_ttls = {300}, .soa = true, .opt = true});
  for (std::size_t n = 0; n < r.size(); ++n)
    EXPECT_FALSE(prepare_answer(std::span(r.data(), n), CacheLimits{}, p)) << n;
  EXPECT_FALSE(prepare_answer(test::query("a."), CacheLimits{}, p));  // not a response
}

TEST(DnsReply, AnswerForAClient) {
  PreparedAnswer p;
  ASSERT_TRUE(prepare_answer(response(test::query("www.dotpin.test"), ResponseSpec{.a_ttls = {300, 200}}), CacheLimits{}, p));
  // Another client, other spelling and ID, RD clear, with EDNS and DO.
  auto m = test::query("WwW.DoTpIn.TeSt", dns::kTypeA, true, 0x7777);
  m[2] &= static_cast<std::uint8_t>(~0x01);
  m[m.size() - 4] = 0x80;  // DO
  QueryInfo q;
  CacheKey key;
  ASSERT_EQ(parse_query(m, q, key), QueryVerdict::kOk);
  m.resize(1500);
  const std::uint16_t len = write_answer(m.data(), m.size(), {p.message, p.ttl_offsets}, 50, q, m.data() + 12, 1232);
  ASSERT_GT(len, 0);
  m.resize(len);
  const auto h = dns::read_header(m);
  EXPECT_EQ(h->id, 0x7777);
  EXPECT_EQ(h->ancount, 2);
  EXPECT_EQ(h->arcount, 1);
  EXPECT_EQ(m[2] & 0x01, 0);  // RD as the client sent it
  EXPECT_EQ(std::string(m.begin() + 13, m.begin() + 16), "WwW");
  EXPECT_EQ(ttl_at(m, p.ttl_offsets[0]), 250u);
  EXPECT_EQ(ttl_at(m, p.ttl_offsets[1]), 150u);
  EXPECT_EQ(m[m.size() - 4], 0x80);  // DO echoed in our OPT
  // Older than a TTL: 0, never a wrap-around.
  m = test::query("www.dotpin.test");
  ASSERT_EQ(parse_query(m, q, key), QueryVerdict::kOk);
  m.resize(1500);
  m.resize(write_answer(m.data(), m.size(), {p.message, p.ttl_offsets}, 250, q, m.data() + 12, 1232));
  EXPECT_EQ(ttl_at(m, p.ttl_offsets[0]), 50u);
  EXPECT_EQ(ttl_at(m, p.ttl_offsets[1]), 0u);
}

TEST(DnsReply, AStaleAnswerHasTtl30AndEde3ForEdnsClients) {
  PreparedAnswer p;
  ASSERT_TRUE(prepare_answer(response(test::query("www.dotpin.test"), ResponseSpec{.a_ttls = {300, 200}}), CacheLimits{}, p));
  const dns::Ede stale{dns::EdeCode::kStaleAnswer, "served stale"};
  auto m = test::query("WwW.dotpin.test", dns::kTypeA, true, 0x4242);
  QueryInfo q;
  CacheKey key;
  ASSERT_EQ(parse_query(m, q, key), QueryVerdict::kOk);
  m.resize(1500);
  m.resize(write_stale_answer(m.data(), m.size(), {p.message, p.ttl_offsets}, q, m.data() + 12, 1232, stale));
  ASSERT_GT(m.size(), 0u);
  const auto h = dns::read_header(m);
  EXPECT_EQ(h->id, 0x4242);
  EXPECT_EQ(h->ancount, 2);
  EXPECT_EQ(h->arcount, 1);
  EXPECT_EQ(ttl_at(m, p.ttl_offsets[0]), kStaleTtl);  // RFC 8767 §4: never the expired (0) TTLs
  EXPECT_EQ(ttl_at(m, p.ttl_offsets[1]), kStaleTtl);
  dns::Ede read{};
  ASSERT_TRUE(dns::read_ede(m, read));
  EXPECT_EQ(read.code, dns::EdeCode::kStaleAnswer);
  EXPECT_EQ(read.text, "served stale");
  // A client without EDNS gets the answer with TTL 30 and no OPT.
  auto plain = test::query("www.dotpin.test");
  ASSERT_EQ(parse_query(plain, q, key), QueryVerdict::kOk);
  plain.resize(1500);
  plain.resize(write_stale_answer(plain.data(), plain.size(), {p.message, p.ttl_offsets}, q, plain.data() + 12, 1232, stale));
  EXPECT_EQ(dns::read_header(plain)->arcount, 0);
  EXPECT_EQ(ttl_at(plain, p.ttl_offsets[0]), kStaleTtl);
}

TEST(DnsReply, TooLargeForTheClientIsTruncated) {
  PreparedAnswer p;
  std::vector<std::uint32_t> ttls(40, 300);  // 40 A records: 16 bytes each
  ASSERT_TRUE(prepare_answer(response(test::query("www.dotpin.test"), ResponseSpec{.a_ttls = ttls}), CacheLimits{}, p));
  ASSERT_GT(p.message.size(), 512u);
  for (const bool edns : {false, true}) {
    auto m = test::query("www.dotpin.test", dns::kTypeA, edns);
    if (edns) {  // advertise 512 (the client's limit) explicitly
      m[m.size() - 8] = 2;
      m[m.size() - 7] = 0;
    }
    QueryInfo q;
    CacheKey key;
    ASSERT_EQ(parse_query(m, q, key), QueryVerdict::kOk);
    m.resize(1500);
    m.resize(write_answer(m.data(), m.size(), {p.message, p.ttl_offsets}, 0, q, m.data() + 12, 1232));
    EXPECT_EQ(m.size(), 12u + 17 + 4 + (edns ? 11 : 0));
    EXPECT_TRUE(m[2] & 0x02);  // TC
    EXPECT_EQ(dns::read_header(m)->ancount, 0);
  }
  // With a 1232-byte EDNS limit it fits.
  auto m = test::query("www.dotpin.test", dns::kTypeA, true);
  QueryInfo q;
  CacheKey key;
  ASSERT_EQ(parse_query(m, q, key), QueryVerdict::kOk);
  m.resize(1500);
  m.resize(write_answer(m.data(), m.size(), {p.message, p.ttl_offsets}, 0, q, m.data() + 12, 1232));
  EXPECT_FALSE(m[2] & 0x02);
  EXPECT_EQ(dns::read_header(m)->ancount, 40);
}

TEST(DnsReply, ServfailFromTheQuestionAlone) {
  auto m = test::query("WwW.dotpin.test", dns::kTypeAaaa, true, 0x4242);
  QueryInfo q;
  CacheKey key;
  ASSERT_EQ(parse_query(m, q, key), QueryVerdict::kOk);
  std::vector<std::uint8_t> out(512);
  ASSERT_TRUE(write_question(out.data(), out.size(), q, m.data() + 12));
  const dns::Ede ede{dns::EdeCode::kNetworkError, "timeout"};
  out.resize(write_error_reply(out.data(), out.size(), q, kRcodeServFail, 1232, &ede));
  const auto text = dns::format_message(out);
  ASSERT_TRUE(text) << text.error();
  EXPECT_NE(text->find("SERVFAIL"), std::string::npos) << *text;
  EXPECT_NE(text->find("Flags: qr rd ra"), std::string::npos) << *text;
  EXPECT_NE(text->find("WwW.dotpin.test."), std::string::npos) << *text;
  EXPECT_NE(text->find("IN\tAAAA"), std::string::npos) << *text;
  EXPECT_NE(text->find("EDE: 23 (timeout)"), std::string::npos) << *text;
  dns::Ede read{};
  ASSERT_TRUE(dns::read_ede(out, read));
  EXPECT_EQ(read.code, dns::EdeCode::kNetworkError);
  EXPECT_EQ(read.text, "timeout");
  // INFO-CODE 23 right after the option header, then the text.
  const std::string bytes(out.begin(), out.end());
  EXPECT_NE(bytes.find(std::string("\x00\x0f\x00\x09\x00\x17", 6) + "timeout"), std::string::npos);
  EXPECT_EQ(dns::read_header(out)->id, 0x4242);
}

TEST(DnsReply, ServfailWithoutEdnsHasNoOpt) {
  auto m = test::query("www.dotpin.test", dns::kTypeA, false, 0xbeef);
  QueryInfo q;
  CacheKey key;
  ASSERT_EQ(parse_query(m, q, key), QueryVerdict::kOk);
  std::vector<std::uint8_t> out(512);
  ASSERT_TRUE(write_question(out.data(), out.size(), q, m.data() + 12));
  const dns::Ede ede{dns::EdeCode::kNoReachableAuthority, "dotpin: upstream x pin_mismatch"};
  out.resize(write_error_reply(out.data(), out.size(), q, kRcodeServFail, 1232, &ede));
  EXPECT_EQ(out.size(), m.size());  // header and question only
  const auto h = dns::read_header(out);
  EXPECT_EQ(h->id, 0xbeef);
  EXPECT_EQ(h->rcode, kRcodeServFail);
  EXPECT_EQ(h->arcount, 0);
  dns::Ede read{};
  EXPECT_FALSE(dns::read_ede(out, read));
}

TEST(DnsReply, EdeTextIsCutAndLeftOutWhenItDoesNotFit) {
  auto m = test::query("a.", dns::kTypeA, true);
  QueryInfo q;
  CacheKey key;
  ASSERT_EQ(parse_query(m, q, key), QueryVerdict::kOk);
  const std::string long_text(300, 'x');
  const dns::Ede ede{dns::EdeCode::kOther, long_text};
  std::vector<std::uint8_t> out(m);
  out.resize(1024);
  out.resize(write_error_reply(out.data(), out.size(), q, kRcodeServFail, 1232, &ede));
  dns::Ede read{};
  ASSERT_TRUE(dns::read_ede(out, read));
  EXPECT_EQ(read.text.size(), dns::kEdeMaxText);
  // Room for the OPT record but not for the option: the OPT goes without it.
  out.assign(m.begin(), m.end());
  const std::size_t opt_only = q.question_end + dns::kOptRecordLen;
  out.resize(opt_only + 10);
  out.resize(write_error_reply(out.data(), out.size(), q, kRcodeServFail, 1232, &ede));
  EXPECT_EQ(out.size(), opt_only);
  EXPECT_EQ(dns::read_header(out)->arcount, 1);
  EXPECT_FALSE(dns::read_ede(out, read));
}

}  // namespace
}  // namespace dotpin::dataplane
