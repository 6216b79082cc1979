// SPDX-License-Identifier: Apache-2.0
#include "control/metrics.h"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>

namespace dotpin::ctl {
namespace {

MetricsInput input() {
  MetricsInput in;
  in.version = "9.9";
  in.uptime_seconds = 12.5;
  in.pin_generation = 3;
  dataplane::LcoreView v;
  v.lcore = 1;
  v.counters[static_cast<std::size_t>(dataplane::Counter::kCacheHits)] = 42;
  v.drops[static_cast<std::size_t>(dataplane::DropReason::kUdpChecksum)] = 7;
  v.stats.cache.entries = 5;
  in.lcores.push_back(v);
  in.upstream_names = {"lab", "odd\"name\\x"};
  tls::UpstreamStats a, b;
  a.answers = 10;
  a.rtt_ewma_us = 1500;
  b.failures[static_cast<std::size_t>(tls::FailureReason::kPinMismatch)] = 2;
  b.health = tls::UpstreamHealth::kPinFailed;
  in.upstreams = {a, b};
  return in;
}

TEST(Metrics, EveryLineIsExpositionFormat) {
  const std::string text = render_metrics(input());
  const std::regex sample(R"re([a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? \S+)re");
  std::istringstream in(text);
  std::string line;
  int samples = 0;
  while (std::getline(in, line)) {
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) continue;
    EXPECT_TRUE(std::regex_match(line, sample)) << line;
    ++samples;
  }
  EXPECT_GT(samples, 50);
}

TEST(Metrics, ValuesAndLabels) {
  const std::string text = render_metrics(input());
  EXPECT_NE(text.find("dotpin_build_info{version=\"9.9\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("dotpin_pin_generation 3\n"), std::string::npos);
  EXPECT_NE(text.find("dotpin_lcore_events_total{lcore=\"1\",event=\"cache_hits\"} 42\n"), std::string::npos);
  EXPECT_NE(text.find("dotpin_lcore_drops_total{lcore=\"1\",reason=\"udp_checksum\"} 7\n"), std::string::npos);
  EXPECT_NE(text.find("dotpin_upstream_answers_total{upstream=\"lab\"} 10\n"), std::string::npos);
  EXPECT_NE(text.find("dotpin_upstream_rtt_seconds{upstream=\"lab\"} 0.0015\n"), std::string::npos);
  // Label values are escaped.
  EXPECT_NE(text.find("dotpin_upstream_failures_total{upstream=\"odd\\\"name\\\\x\",reason=\"pin_mismatch\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("dotpin_upstream_state{upstream=\"odd\\\"name\\\\x\",state=\"pin_failed\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE dotpin_upstream_failures_total counter\n"), std::string::npos);
}

}  // namespace
}  // namespace dotpin::ctl
