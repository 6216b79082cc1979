// SPDX-License-Identifier: Apache-2.0
#include "tls/edns_options.h"

#include <gtest/gtest.h>

#include "common/dns_wire.h"

namespace dotpin::tls {
namespace {

std::vector<std::uint8_t> query(bool edns, std::size_t pad_block, const char* name = "www.dotpin.test") {
  dns::QueryOptions o;
  o.id = 99;
  o.edns = edns;
  o.pad_block = pad_block;
  o.dnssec_ok = true;
  return *dns::build_query(name, dns::kTypeA, o);
}

TEST(EdnsPadding, PadsQueriesWithAndWithoutOpt) {
  for (const char* name : {"a.", "www.dotpin.test", "x.very-long-subdomain-label-for-padding-tests.example.net"}) {
    for (bool edns : {false, true}) {
      std::vector<std::uint8_t> out;
      bool added = false;
      ASSERT_TRUE(pad_query(query(edns, 0), 128, out, added)) << name;
      EXPECT_EQ(out.size() % 128, 0u) << name;
      EXPECT_EQ(added, !edns);
      const auto text = dns::format_message(out);
      ASSERT_TRUE(text.ok()) << text.error();
      EXPECT_NE(text->find(";; PADDING:"), std::string::npos);
      EXPECT_EQ(dns::read_header(out)->arcount, 1);
      if (edns) {
        EXPECT_NE(text->find("flags: do"), std::string::npos) << *text;  // the client DO bit survives
      }
    }
  }
}

TEST(EdnsPadding, ReplacesAnExistingPaddingOption) {
  std::vector<std::uint8_t> out;
  bool added = true;
  const auto padded_to_64 = query(true, 64);
  ASSERT_TRUE(pad_query(padded_to_64, 128, out, added));
  EXPECT_FALSE(added);
  EXPECT_EQ(out.size() % 128, 0u);
  const auto text = *dns::format_message(out);
  EXPECT_EQ(text.find(";; PADDING:"), text.rfind(";; PADDING:"));  // exactly one padding option
}

TEST(EdnsPadding, StripOptUndoesTheAddedRecord) {
  const auto plain = query(false, 0);
  std::vector<std::uint8_t> out;
  bool added = false;
  ASSERT_TRUE(pad_query(plain, 128, out, added));
  ASSERT_TRUE(added);
  ASSERT_TRUE(strip_opt(out));
  EXPECT_EQ(out, plain);
  EXPECT_FALSE(strip_opt(out));  // nothing left to strip
}

TEST(EdnsKeepalive, AskedForInQueriesAndReadFromAnswers) {
  std::vector<std::uint8_t> out;
  bool added = false;
  ASSERT_TRUE(pad_query(query(true, 0), 128, out, added, /*keepalive=*/true));
  EXPECT_EQ(out.size() % 128, 0u);
  EXPECT_NE(dns::format_message(out)->find(";; OPTION 11: 0 B"), std::string::npos) << *dns::format_message(out);
  EXPECT_FALSE(keepalive_timeout(out).has_value());  // a query's empty option carries no timeout
  // An answer whose OPT says TIMEOUT = 150 (units of 100 ms).
  std::vector<std::uint8_t> answer = query(false, 0);
  answer[2] |= 0x80;
  answer[11] = 1;
  const std::uint8_t opt[] = {0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 6, 0, 11, 0, 2, 0, 150};
  answer.insert(answer.end(), std::begin(opt), std::end(opt));
  const auto t = keepalive_timeout(answer);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->count(), 15000);
  EXPECT_FALSE(keepalive_timeout(query(true, 0)).has_value());
}

TEST(EdnsPadding, RejectsMalformedQueries) {
  auto q = query(true, 0);
  std::vector<std::uint8_t> out;
  bool added = false;
  for (std::size_t n = 0; n < q.size(); ++n) {
    EXPECT_FALSE(pad_query(std::span(q.data(), n), 128, out, added)) << n;
  }
  q.push_back(0);  // trailing garbage
  EXPECT_FALSE(pad_query(q, 128, out, added));
}

}  // namespace
}  // namespace dotpin::tls
