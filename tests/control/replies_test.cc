// SPDX-License-Identifier: Apache-2.0
// The control socket's typed replies: what dotpind writes is what dotpinctl reads back, and a reply
// missing a field is an error naming it (never a silent zero).
#include "control/replies.h"

#include <gtest/gtest.h>

#include "tls/upstream_stats.h"

namespace dotpin::ctl {
namespace {

template <class T>
T round_trip(const T& v) {
  return nlohmann::json::parse(nlohmann::json(v).dump()).get<T>();
}

TEST(Replies, StatusRoundTrips) {
  StatusReply s{"1.2", "2026-12-01T09:00:00Z", 90, 2, {"net_tap0", "02:00:00:00:00:01", 2, true}, 7, "/etc/pins.toml", 3};
  const auto back = round_trip(s);
  EXPECT_EQ(back.version, "1.2");
  EXPECT_EQ(back.port.mac, "02:00:00:00:00:01");
  EXPECT_TRUE(back.port.rss);
  EXPECT_EQ(back.pin_generation, 7u);
  EXPECT_EQ(back.upstreams, 3u);
}

TEST(Replies, UpstreamCarriesEveryCounterOfTheFieldTable) {
  UpstreamReply u;
  u.name = "a";
  std::uint64_t v = 1;
  for (const auto& f : tls::kUpstreamCounters) u.counters[std::string(f.name)] = v++;
  u.failures["pin_mismatch"] = 4;
  u.last_refusal = nlohmann::json{{"reason", "pin_mismatch"}};
  const nlohmann::json j = u;
  for (const auto& f : tls::kUpstreamCounters) EXPECT_TRUE(j.contains(std::string(f.name))) << f.name;
  const auto back = round_trip(u);
  EXPECT_EQ(back.counters, u.counters);
  EXPECT_EQ(back.failures.at("pin_mismatch"), 4u);
  ASSERT_TRUE(back.last_refusal);
  EXPECT_EQ((*back.last_refusal)["reason"], "pin_mismatch");
  EXPECT_FALSE(round_trip(UpstreamReply{}).last_refusal);
}

TEST(Replies, OptionalFieldsStayOptional) {
  EXPECT_FALSE(round_trip(CacheFlushReply{std::nullopt, 3, 2}).name);
  EXPECT_EQ(*round_trip(CacheFlushReply{"example.com", 3, 2}).name, "example.com");
  EXPECT_FALSE(round_trip(PinChangeReply{2, "p", "c", true, std::nullopt}).warning);
  EXPECT_EQ(*round_trip(PinChangeReply{2, "p", "c", false, "late"}).warning, "late");
}

TEST(Replies, AMissingFieldIsAnErrorThatNamesIt) {
  nlohmann::json j = UpstreamStateReply{"a", "drained"};
  j.erase("state");
  try {
    (void)j.get<UpstreamStateReply>();
    FAIL() << "a reply without 'state' was accepted";
  } catch (const nlohmann::json::exception& e) {
    EXPECT_NE(std::string(e.what()).find("state"), std::string::npos) << e.what();
  }
  nlohmann::json u = UpstreamReply{};
  u.erase("unmatched");
  EXPECT_THROW((void)u.get<UpstreamReply>(), nlohmann::json::exception);
  nlohmann::json wrong = LogLevelReply{"info", "warn"};
  wrong["level"] = 3;
  EXPECT_THROW((void)wrong.get<LogLevelReply>(), nlohmann::json::exception);
}

}  // namespace
}  // namespace dotpin::ctl
