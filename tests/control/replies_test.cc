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
  EXPECT_FALSE(round_trip(PinChangeReply{2, "p", "c", true, std::nullopt, {"forced"}, {"w"}}).warning);
  EXPECT_EQ(*round_trip(PinChangeReply{2, "p", "c", false, "late", {}, {}}).warning, "late");
  const auto forced = round_trip(PinChangeReply{2, "p", "c", true, std::nullopt, {"forced"}, {"w"}});
  EXPECT_EQ(forced.forced, std::vector<std::string>{"forced"});
  EXPECT_EQ(forced.warnings, std::vector<std::string>{"w"});
}

TEST(Replies, StatsPinsAndExpiryRoundTrip) {
  StatsReply st;
  st.upstreams.pin_generation = 3;
  st.upstreams.upstreams.push_back(UpstreamReply{});
  st.lcores.push_back({1, 0, {{"cache_hits", 9}}, {{"udp_checksum", 2}}, 4, {5, 6, 7, 8, 9, 10}, 11});
  st.total_counters = {{"cache_hits", 9}};
  st.port.available = true;
  st.port.rx_missed = 12;
  st.port.kernel_interface = "dtap0";
  st.port.kernel_tx_dropped = 14290;
  st.port.queues.push_back({1, 60, 50, 2});
  const nlohmann::json j = st;
  EXPECT_TRUE(j["port"]["kernel_rx_dropped"].is_null());  // unknown, not 0
  EXPECT_EQ(j["pin_generation"], 3);  // the upstream part as `upstreams` has it
  EXPECT_EQ(j["lcores"][0]["published"], 11);
  const auto back = round_trip(st);
  EXPECT_EQ(back.lcores.at(0).cache.expired, 10u);
  EXPECT_EQ(back.lcores.at(0).drops.at("udp_checksum"), 2u);
  EXPECT_EQ(back.upstreams.upstreams.size(), 1u);
  EXPECT_EQ(back.port.rx_missed, 12u);
  EXPECT_EQ(back.port.kernel_tx_dropped, 14290u);
  EXPECT_FALSE(back.port.kernel_rx_dropped);
  ASSERT_EQ(back.port.queues.size(), 1u);
  EXPECT_EQ(back.port.queues[0].rx_errors, 2u);
  EXPECT_EQ(round_trip(UpstreamsReply{}).upstreams.size(), 0u);

  PinsReply pins{2, "2026-12-01T00:00:00Z", "/p", "/etc/p", {}};
  UpstreamPinsReply up{"a", "192.0.2.1:853", "", "enforce", "tofu", 2, {}};
  up.pins.push_back({"AAA=", "", "valid", std::nullopt, "2027-01-01T00:00:00Z", 4});
  PinReply learned{"BBB=", "tofu-leaf", "valid", std::nullopt, std::nullopt, 0};
  learned.origin = "tofu";
  learned.scope = "leaf";
  learned.learned_at = "2026-12-01T10:00:00Z";
  learned.learned_from = "198.18.0.2:853";
  up.pins.push_back(learned);
  pins.upstreams.push_back(up);
  const nlohmann::json pj = pins;
  EXPECT_TRUE(pj["upstreams"][0]["pins"][0]["not_before"].is_null());  // absent bounds are null, not missing
  const auto pb = round_trip(pins);
  EXPECT_FALSE(pb.upstreams[0].pins[0].not_before);
  EXPECT_EQ(*pb.upstreams[0].pins[0].not_after, "2027-01-01T00:00:00Z");
  EXPECT_EQ(pb.upstreams[0].pins[0].line, 4);
  EXPECT_EQ(pb.upstreams[0].pins_from, "tofu");
  EXPECT_EQ(pb.upstreams[0].pins[0].origin, "file");
  EXPECT_EQ(pb.upstreams[0].pins[1].origin, "tofu");
  EXPECT_EQ(pb.upstreams[0].pins[1].scope, "leaf");
  EXPECT_EQ(*pb.upstreams[0].pins[1].learned_from, "198.18.0.2:853");
  EXPECT_EQ(*pb.upstreams[0].pins[1].learned_at, "2026-12-01T10:00:00Z");
  EXPECT_FALSE(pb.upstreams[0].pins[1].digest_hex);

  PinSourcesReply src;
  src.upstreams.push_back({std::nullopt, "a", "tofu", "waiting", "unreachable", "2026-12-01T10:00:00Z", std::nullopt, 3, 0,
                           {{"unreachable", 3}}});
  src.upstreams.push_back({"tenant-b", "a", "dane", "secure", "", std::nullopt, std::nullopt, 1, 1, {}});
  const auto sb = round_trip(src);
  EXPECT_EQ(sb.upstreams.at(0).failures.at("unreachable"), 3u);
  EXPECT_FALSE(sb.upstreams.at(0).last_success);
  EXPECT_FALSE(sb.upstreams.at(0).view) << "no view without [[view]] sections";
  EXPECT_EQ(sb.upstreams.at(1).view.value_or(""), "tenant-b");

  ExpiryReply ex{{{"a", "pin_window", "primary", "warning", "ends soon", "2027-01-01T00:00:00Z", 20, 30},
                  {"a", "probe", "-", "error", "no answer", std::nullopt, std::nullopt, std::nullopt}},
                 1, 1};
  const auto eb = round_trip(ex);
  EXPECT_EQ(*eb.items[0].threshold_days, 30);
  EXPECT_FALSE(eb.items[1].days_left);
  EXPECT_EQ(eb.errors, 1u);
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
