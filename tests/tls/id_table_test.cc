// SPDX-License-Identifier: Apache-2.0
#include "tls/id_table.h"

#include <gtest/gtest.h>

#include <set>

#include "common/dns_wire.h"
#include "tls/servfail.h"

namespace dotpin::tls {
namespace {

TEST(IdTable, HandsOutUniqueIdsUpToCapacity) {
  IdTable t(1000, 42);
  std::set<std::uint16_t> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto id = t.alloc();
    ASSERT_TRUE(id.has_value());
    EXPECT_TRUE(seen.insert(*id).second);
  }
  EXPECT_FALSE(t.alloc().has_value());
  EXPECT_EQ(t.in_flight(), 1000u);
  const std::uint16_t some = *seen.begin();
  EXPECT_TRUE(t.release(some));
  EXPECT_FALSE(t.release(some));  // a second response with the same ID is not accepted
  EXPECT_EQ(t.alloc(), some);
}

TEST(IdTable, FullRangeAndUnpredictableOrder) {
  IdTable t(65536, 1);
  std::vector<std::uint16_t> first;
  for (int i = 0; i < 16; ++i) first.push_back(*t.alloc());
  int sequential = 0;
  for (std::size_t i = 1; i < first.size(); ++i) sequential += first[i] == first[i - 1] + 1;
  EXPECT_LT(sequential, 3);
  for (int i = 16; i < 65536; ++i) ASSERT_TRUE(t.alloc().has_value());
  EXPECT_FALSE(t.alloc().has_value());
}

TEST(Servfail, KeepsIdQuestionAndAddsEdeOnlyWithEdns) {
  dns::QueryOptions o;
  o.id = 0xbeef;
  const auto q = *dns::build_query("www.dotpin.test", dns::kTypeAaaa, o);
  const auto sf = make_servfail(q, EdeCode::kNoReachableAuthority, "dotpin: upstream x pin_mismatch");
  ASSERT_TRUE(sf.has_value());
  const auto text = dns::format_message(*sf);
  ASSERT_TRUE(text.ok()) << text.error();
  EXPECT_NE(text->find("status: SERVFAIL; id: 48879"), std::string::npos) << *text;
  EXPECT_NE(text->find("Flags: qr rd ra"), std::string::npos) << *text;
  EXPECT_NE(text->find("IN\tAAAA"), std::string::npos) << *text;
  EXPECT_NE(text->find("EDE: 22 (dotpin: upstream x pin_mismatch)"), std::string::npos) << *text;
  // EDE INFO-CODE 22 right after the option header.
  const std::string bytes(sf->begin(), sf->end());
  EXPECT_NE(bytes.find(std::string("\x00\x16", 2) + "dotpin: upstream x pin_mismatch"), std::string::npos);

  o.edns = false;
  const auto q2 = *dns::build_query("www.dotpin.test", dns::kTypeA, o);
  const auto sf2 = make_servfail(q2, EdeCode::kNetworkError, "x");
  ASSERT_TRUE(sf2.has_value());
  EXPECT_EQ(dns::read_header(*sf2)->arcount, 0);
  const std::uint8_t junk[] = {0, 1, 2};
  EXPECT_FALSE(make_servfail(junk, EdeCode::kOther, "").has_value());
}

}  // namespace
}  // namespace dotpin::tls
