// SPDX-License-Identifier: Apache-2.0
#include "common/dns_question.h"

#include <gtest/gtest.h>

#include "common/dns_wire.h"

namespace dotpin::dns {
namespace {

std::vector<std::uint8_t> query(const char* name, std::uint16_t type = kTypeA) {
  QueryOptions o;
  o.id = 7;
  return *build_query(name, type, o);
}

TEST(DnsQuestion, ReadsNameTypeAndClass) {
  const auto q = query("www.dotpin.test", kTypeAaaa);
  WireCursor c(q, kHeaderLen);
  Question question;
  ASSERT_TRUE(read_question(c, question));
  EXPECT_EQ(question.name_len, 17);
  EXPECT_EQ(question.qtype, kTypeAaaa);
  EXPECT_EQ(question.qclass, kClassIn);
  EXPECT_EQ(question.end, 12 + 17 + 4);
  EXPECT_EQ(c.pos(), question.end);
  EXPECT_EQ(question_of(q).size(), 17u + 4u);
}

TEST(DnsQuestion, CompressedOrCutQuestionsAreUnreadable) {
  // A pointer into the header (the only place before the first name): refused.
  std::vector<std::uint8_t> m{0, 7, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 2, 0, 1, 0, 1};
  WireCursor c(m, kHeaderLen);
  Question q;
  EXPECT_FALSE(read_question(c, q));
  EXPECT_EQ(q.end, 0);
  EXPECT_TRUE(question_of(m).empty());
  const auto full = query("a.b");
  for (std::size_t n = 0; n < 12 + 5 + 4; ++n) EXPECT_TRUE(question_of(std::span(full.data(), n)).empty()) << n;
  auto two = full;
  two[5] = 2;  // QDCOUNT 2
  EXPECT_TRUE(question_of(two).empty());
}

TEST(DnsQuestion, SameQuestionFoldsTheNameOnly) {
  const auto a = query("www.dotpin.test"), b = query("WwW.DoTpIn.TeSt");
  EXPECT_TRUE(same_question(question_of(a), question_of(b)));
  EXPECT_FALSE(same_question(question_of(a), question_of(query("www.dotpin.tesu"))));
  EXPECT_FALSE(same_question(question_of(a), question_of(query("www.dotpin.test", kTypeAaaa))));
  // QTYPE 65 (HTTPS, 0x0041 = "\0A") and 97 (0x0061 = "\0a") differ: type bytes are not folded.
  EXPECT_FALSE(same_question(question_of(query("x.test", 65)), question_of(query("x.test", 97))));
  auto other_class = a;
  other_class[12 + 17 + 3] = 3;  // CH
  EXPECT_FALSE(same_question(question_of(a), question_of(other_class)));
  EXPECT_FALSE(same_question({}, {}));
}

}  // namespace
}  // namespace dotpin::dns
