// SPDX-License-Identifier: Apache-2.0
// The read-only daemon commands against a fake data plane: no EAL, no root.
#include "control/daemon_commands.h"

#include <gtest/gtest.h>

#include "fake_data_plane.h"
#include "pinning/pin_file.h"

namespace dotpin::ctl {
namespace {

constexpr const char* kPinA = "F84/Wp7qsvJU3gh03RflCM65iFhXD21tdUiOaRU4+v8=";
constexpr const char* kPinB = "lytNMGLawR46/UyHnpQZvaVnd1tc2LHVNhNAeZhB4L8=";

std::shared_ptr<const PinSnapshot> snapshot() {
  const std::string text = std::string("[[upstream]]\nname = \"a\"\naddress = \"192.0.2.1\"\npin = [ { sha256 = \"") + kPinA +
                           "\" } ]\n[[upstream]]\nname = \"b\"\naddress = \"192.0.2.2\"\npin = [ { sha256 = \"" + kPinB +
                           "\" } ]\n";
  auto r = parse_pin_file(text, "pins.toml");
  EXPECT_TRUE(r.table) << (r.errors.empty() ? "" : r.errors[0].to_string());
  auto s = std::make_shared<PinSnapshot>();
  s->generation = 4;
  s->table = *r.table;
  return s;
}

TEST(DaemonCommands, StatusShowsThePortAndTheGenerationFedToTheLcores) {
  test::FakeDataPlane dp(snapshot());
  dp.lcores = {test::lcore_view(1, {}, {}), test::lcore_view(2, {}, {})};
  const auto j = status_json(dp, "/etc/dotpin/pins.toml");
  EXPECT_EQ(j["worker_lcores"], 2);
  EXPECT_EQ(j["port"]["name"], "net_ring_fake");
  EXPECT_EQ(j["port"]["mac"], "02:00:00:00:00:01");
  EXPECT_EQ(j["port"]["rss"], true);
  EXPECT_EQ(j["pin_generation"], 4);
  EXPECT_EQ(j["pin_file"], "/etc/dotpin/pins.toml");
  EXPECT_EQ(j["upstreams"], 2);
  EXPECT_GE(j["uptime_s"].get<int>(), 89);
}

// Lcores are summed by upstream name (an lcore may still publish the previous generation's order),
// and every counter of the field table is shown — unmatched and resumptions_offered included.
TEST(DaemonCommands, UpstreamsSumTheLcoresByNameAndShowEveryCounter) {
  test::FakeDataPlane dp(snapshot());
  tls::UpstreamStats a1, b1, a2;
  a1.answers = 5;
  a1.unmatched = 1;
  a1.rtt_ewma_us = 1000;
  b1.resumptions_offered = 7;
  a2.answers = 6;
  a2.rtt_ewma_us = 3000;
  dp.lcores = {test::lcore_view(1, {"a", "b"}, {a1, b1}), test::lcore_view(2, {"gone", "a"}, {b1, a2})};
  const auto j = *upstreams_json(dp);
  ASSERT_EQ(j["upstreams"].size(), 2u);
  const auto& a = j["upstreams"][0];
  EXPECT_EQ(a["name"], "a");
  EXPECT_EQ(a["answers"], 11);
  EXPECT_EQ(a["unmatched"], 1);
  EXPECT_DOUBLE_EQ(a["rtt_ewma_ms"].get<double>(), 2.0);  // averaged over the lcores that have one
  EXPECT_EQ(j["upstreams"][1]["resumptions_offered"], 7);
  for (const auto& f : tls::kUpstreamCounters) EXPECT_TRUE(a.contains(std::string(f.name))) << f.name;
}

TEST(DaemonCommands, StatsFiltersByUpstreamAndRefusesAnUnknownOne) {
  test::FakeDataPlane dp(snapshot());
  auto v = test::lcore_view(1, {"a", "b"}, {tls::UpstreamStats{}, tls::UpstreamStats{}});
  v.counters[static_cast<std::size_t>(dataplane::Counter::kCacheHits)] = 9;
  dp.lcores = {v, v};
  dp.lcores[1].lcore = 2;
  dp.lcores[1].running = false;  // its loop stopped (loop_aborted): still counted and shown
  Request r{"stats", {}, {{"upstream", {"b"}}}};
  auto j = stats_json(dp, r);
  ASSERT_TRUE(j) << j.error();
  ASSERT_EQ((*j)["upstreams"].size(), 1u);
  EXPECT_EQ((*j)["upstreams"][0]["name"], "b");
  EXPECT_EQ((*j)["totals"]["counters"]["cache_hits"], 18);
  EXPECT_EQ((*j)["lcores"].size(), 2u);
  EXPECT_EQ((*j)["lcores"][0]["running"], true);
  EXPECT_EQ((*j)["lcores"][1]["running"], false);
  r.options["upstream"] = {"zz"};
  const auto bad = stats_json(dp, r);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("no upstream named 'zz'"), std::string::npos) << bad.error();
}

}  // namespace
}  // namespace dotpin::ctl
