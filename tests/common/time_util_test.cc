// SPDX-License-Identifier: Apache-2.0
#include "common/time_util.h"

#include <gtest/gtest.h>

namespace dotpin {
namespace {

TEST(TimeUtil, FormatsAndParsesUtc) {
  const auto t = parse_utc("2027-06-01T12:34:56Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->time_since_epoch().count(), 1811853296);
  EXPECT_EQ(format_utc(*t), "2027-06-01T12:34:56Z");
  const auto d = parse_utc("2027-06-01");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(format_utc(*d), "2027-06-01T00:00:00Z");
}

TEST(TimeUtil, RejectsMalformedTimes) {
  for (const char* bad : {"2027-02-30", "2027-13-01", "2027-06-01T24:00:00Z", "2027-06-01T12:00:00",
                          "2027-06-01 12:00:00Z", "27-06-01", "", "2027-06-01T12:00:00+01"}) {
    EXPECT_FALSE(parse_utc(bad).has_value()) << bad;
  }
}

TEST(TimeUtil, DaysUntilRoundsDown) {
  const auto now = *parse_utc("2027-01-01T12:00:00Z");
  EXPECT_EQ(days_until(now, *parse_utc("2027-01-11T12:00:00Z")), 10);
  EXPECT_EQ(days_until(now, *parse_utc("2027-01-11T11:59:59Z")), 9);
  EXPECT_EQ(days_until(now, *parse_utc("2027-01-01T11:00:00Z")), -1);
}

}  // namespace
}  // namespace dotpin
