// SPDX-License-Identifier: Apache-2.0
#include "tls/id_table.h"

#include <gtest/gtest.h>

#include <set>

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

}  // namespace
}  // namespace dotpin::tls
