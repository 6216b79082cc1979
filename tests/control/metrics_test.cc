// SPDX-License-Identifier: Apache-2.0
#include "control/metrics.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
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

// name{label="value",...} number — checked by hand (std::regex trips GCC 12's -Wmaybe-uninitialized
// under the sanitizer build).
bool is_sample(const std::string& line) {
  auto name_char = [](char c, bool first) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' || (!first && std::isdigit(static_cast<unsigned char>(c)));
  };
  std::size_t i = 0;
  if (i == line.size() || !name_char(line[i], true)) return false;
  while (i < line.size() && name_char(line[i], false)) ++i;
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (i < line.size() && line[i] != '}') {
      if (!name_char(line[i], true) || line[i] == ':') return false;
      while (i < line.size() && name_char(line[i], false) && line[i] != ':') ++i;
      if (line.compare(i, 2, "=\"") != 0) return false;
      i += 2;
      while (i < line.size() && line[i] != '"') i += line[i] == '\\' ? 2 : 1;
      if (i >= line.size()) return false;
      ++i;
      if (i < line.size() && line[i] == ',') ++i;
    }
    if (i == line.size()) return false;
    ++i;
  }
  if (i == line.size() || line[i] != ' ') return false;
  const std::string value = line.substr(i + 1);
  char* end = nullptr;
  std::strtod(value.c_str(), &end);
  return !value.empty() && end == value.c_str() + value.size();
}

TEST(Metrics, EveryLineIsExpositionFormat) {
  const std::string text = render_metrics(input());
  EXPECT_FALSE(is_sample("bad name 1"));
  EXPECT_FALSE(is_sample("x{a=\"1} 2"));
  EXPECT_FALSE(is_sample("x 1 2"));
  EXPECT_TRUE(is_sample("x{a=\"q\\\"\",b=\"\"} 2.5"));
  std::istringstream in(text);
  std::string line;
  int samples = 0;
  while (std::getline(in, line)) {
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) continue;
    EXPECT_TRUE(is_sample(line)) << line;
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
  EXPECT_NE(text.find("dotpin_lcore_running{lcore=\"1\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("dotpin_upstream_answers_total{upstream=\"lab\"} 10\n"), std::string::npos);
  EXPECT_NE(text.find("dotpin_upstream_rtt_seconds{upstream=\"lab\"} 0.0015\n"), std::string::npos);
  // Label values are escaped.
  EXPECT_NE(text.find("dotpin_upstream_failures_total{upstream=\"odd\\\"name\\\\x\",reason=\"pin_mismatch\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("dotpin_upstream_state{upstream=\"odd\\\"name\\\\x\",state=\"pin_failed\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE dotpin_upstream_failures_total counter\n"), std::string::npos);
}

TEST(Metrics, PortLossesAreExportedWithTheKernelSideWhenThereIsOne) {
  MetricsInput in = input();
  EXPECT_EQ(render_metrics(in).find("dotpin_port_lost_total"), std::string::npos);  // no statistics: no family
  in.port.available = true;
  in.port.rx_packets = 100;
  in.port.rx_missed = 3;
  in.port.rx_nombuf = 2;
  in.port.queues.push_back({1, 60, 50, 0});
  const std::string plain = render_metrics(in);
  EXPECT_NE(plain.find("dotpin_port_packets_total{direction=\"rx\"} 100\n"), std::string::npos) << plain;
  EXPECT_NE(plain.find("dotpin_port_lost_total{reason=\"rx_missed\"} 3\n"), std::string::npos);
  EXPECT_NE(plain.find("dotpin_port_lost_total{reason=\"rx_nombuf\"} 2\n"), std::string::npos);
  EXPECT_NE(plain.find("dotpin_port_queue_packets_total{queue=\"1\",direction=\"rx\"} 60\n"), std::string::npos);
  EXPECT_EQ(plain.find("reason=\"kernel_tx_dropped\""), std::string::npos);
  in.port.kernel_interface = "dtap0";
  in.port.kernel_tx_dropped = 14290;
  in.port.kernel_rx_dropped = 0;
  EXPECT_NE(render_metrics(in).find("dotpin_port_lost_total{reason=\"kernel_tx_dropped\"} 14290\n"), std::string::npos);
}

// The control socket's clients closed by dotpind, by reason (issue 19); absent when not given.
TEST(Metrics, ControlClients) {
  EXPECT_EQ(render_metrics(input()).find("dotpin_control_clients"), std::string::npos);
  MetricsInput in = input();
  in.control = ControlServer::Counters{};
  in.control->accepted = 310;
  in.control->request_deadline = 64;
  in.control->evicted = 236;
  const std::string text = render_metrics(in);
  EXPECT_NE(text.find("dotpin_control_clients_accepted_total 310\n"), std::string::npos) << text;
  EXPECT_NE(text.find("dotpin_control_clients_closed_total{reason=\"request_deadline\"} 64\n"), std::string::npos);
  EXPECT_NE(text.find("dotpin_control_clients_closed_total{reason=\"evicted\"} 236\n"), std::string::npos);
  EXPECT_NE(text.find("dotpin_control_clients_closed_total{reason=\"write_deadline\"} 0\n"), std::string::npos);
}

// Every counter of the field table is a family of its own (it once listed 9 of the 13).
TEST(Metrics, EveryUpstreamCounterIsExported) {
  MetricsInput in = input();
  in.upstreams[0].unmatched = 4;
  in.upstreams[0].resumptions_offered = 6;
  const std::string text = render_metrics(in);
  for (const auto& f : tls::kUpstreamCounters)
    EXPECT_NE(text.find("# TYPE dotpin_upstream_" + std::string(f.name) + "_total counter\n"), std::string::npos) << f.name;
  EXPECT_NE(text.find("dotpin_upstream_unmatched_total{upstream=\"lab\"} 4\n"), std::string::npos);
  EXPECT_NE(text.find("dotpin_upstream_resumptions_offered_total{upstream=\"lab\"} 6\n"), std::string::npos);
}

}  // namespace
}  // namespace dotpin::ctl
