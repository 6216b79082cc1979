// SPDX-License-Identifier: Apache-2.0
#include "tls/upstream_answer.h"

#include <gtest/gtest.h>

#include "common/dns_wire.h"
#include "tls/edns_options.h"

namespace dotpin::tls {
namespace {

std::vector<std::uint8_t> query(const char* name, std::uint16_t type = dns::kTypeA, bool edns = false) {
  dns::QueryOptions o;
  o.id = 0x1111;
  o.edns = edns;
  o.pad_block = 0;
  return *dns::build_query(name, type, o);
}

std::vector<std::uint8_t> as_response(std::vector<std::uint8_t> m) {
  m[2] |= 0x80;
  return m;
}

TEST(UpstreamAnswer, OnlyResponsesHaveAnId) {
  EXPECT_FALSE(response_id(query("a.")).has_value());  // QR=0
  EXPECT_EQ(response_id(as_response(query("a."))), 0x1111);
  const std::uint8_t short_msg[] = {0, 1, 0x80};
  EXPECT_FALSE(response_id(short_msg).has_value());
}

TEST(UpstreamAnswer, TheQuestionMustBeRepeated) {
  const auto q = query("www.dotpin.test");
  EXPECT_TRUE(answers_question(as_response(query("WWW.dotpin.TEST")), q));  // case is not kept by all
  EXPECT_FALSE(answers_question(as_response(query("www.dotpin.tesT", dns::kTypeAaaa)), q));
  EXPECT_FALSE(answers_question(as_response(query("ww.dotpin.test")), q));
  EXPECT_FALSE(answers_question(as_response(query("x.test", 97)), query("x.test", 65)));  // HTTPS is not TYPE97
  // A response whose question is compressed (a pointer into the header) answers nothing.
  auto compressed = as_response(query("a."));
  compressed.erase(compressed.begin() + 12, compressed.begin() + 15);
  compressed.insert(compressed.begin() + 12, {0xc0, 0x00});
  EXPECT_FALSE(answers_question(compressed, query("a.")));
  EXPECT_FALSE(answers_question({}, q));
}

TEST(UpstreamAnswer, ClientCopyHasTheClientsIdAndLosesTheAddedOpt) {
  const auto plain = query("www.dotpin.test");
  std::vector<std::uint8_t> padded;
  bool added = false;
  ASSERT_TRUE(pad_query(plain, 128, padded, added));
  ASSERT_TRUE(added);
  std::vector<std::uint8_t> out;
  client_copy(as_response(padded), 0xabcd, /*strip_opt=*/true, out);
  EXPECT_EQ(out.size(), plain.size());
  EXPECT_EQ(dns::read_header(out)->id, 0xabcd);
  EXPECT_EQ(dns::read_header(out)->arcount, 0);
  client_copy(as_response(padded), 0xabcd, /*strip_opt=*/false, out);
  EXPECT_EQ(out.size(), padded.size());
  EXPECT_EQ(dns::read_header(out)->arcount, 1);
}

}  // namespace
}  // namespace dotpin::tls
