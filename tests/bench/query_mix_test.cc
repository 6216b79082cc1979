// SPDX-License-Identifier: Apache-2.0
#include "bench/loadgen/query_mix.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <map>

#include "bench/loadgen/run_stats.h"
#include "common/dns_wire.h"

namespace dotpin::bench {
namespace {

TEST(QueryMix, ParsesEverySpecAndRejectsNonsense) {
  EXPECT_EQ(parse_mix("single:a.example")->path_or_name, "a.example");
  EXPECT_EQ(parse_mix("random:10")->n, 10u);
  auto z = parse_mix("zipf:1000:1.1:x.test");
  ASSERT_TRUE(z);
  EXPECT_EQ(z->s, 1.1);
  EXPECT_EQ(z->suffix, "x.test");
  EXPECT_EQ(parse_mix("unique:5")->kind, MixSpec::Kind::kUnique);
  for (const char* bad : {"zipf:10", "zipf:10:9", "random:0", "random:x", "single:", "nope:1", "file"})
    EXPECT_FALSE(parse_mix(bad)) << bad;
}

TEST(QueryMix, UniqueNeverRepeatsAndRandomCoversTheSet) {
  auto u = QueryMix::create(*parse_mix("unique:100"));
  ASSERT_TRUE(u);
  std::map<std::size_t, int> seen;
  for (int i = 0; i < 100; ++i) ++seen[u->next()];
  EXPECT_EQ(seen.size(), 100u);
  auto r = QueryMix::create(*parse_mix("random:10"), 42);
  seen.clear();
  for (int i = 0; i < 1000; ++i) ++seen[r->next()];
  EXPECT_EQ(seen.size(), 10u);
  // Queries are real DNS: the name comes back out of the wire form.
  dns::WireReader rd(r->wire()[3], 12);
  EXPECT_EQ(rd.name(), "q3.bench.dotpin.test.");
}

TEST(QueryMix, ZipfFavoursTheFirstNames) {
  auto z = QueryMix::create(*parse_mix("zipf:1000:1.0"), 7);
  ASSERT_TRUE(z);
  std::size_t first = 0, last_half = 0;
  for (int i = 0; i < 100000; ++i) {
    const auto k = z->next();
    first += k == 0;
    last_half += k >= 500;
  }
  // P(rank 1) = 1/H(1000) ~ 13.4 %; the last 500 ranks together ~ 9.3 %.
  EXPECT_NEAR(static_cast<double>(first) / 100000, 0.134, 0.01);
  EXPECT_NEAR(static_cast<double>(last_half) / 100000, 0.093, 0.01);
}

TEST(QueryMix, DnsperfFileWithTypesAndCommentsAndItsErrors) {
  const std::string path = "/tmp/dotpin-mix-" + std::to_string(::getpid()) + ".txt";
  { std::ofstream(path) << "# comment\nwww.example.com A\nexample.com MX\n\nexample.net AAAA\n"; }
  auto f = QueryMix::create(*parse_mix("file:" + path));
  ASSERT_TRUE(f) << f.error();
  ASSERT_EQ(f->queries().size(), 3u);
  EXPECT_EQ(f->queries()[1].type, 15);
  EXPECT_EQ(f->next(), 0u);
  EXPECT_EQ(f->next(), 1u);
  EXPECT_EQ(f->next(), 2u);
  EXPECT_EQ(f->next(), 0u);  // replayed in order
  { std::ofstream(path) << "a.example A\nb.example BOGUS\n"; }
  auto bad = QueryMix::create(*parse_mix("file:" + path));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find(":2: unknown type 'BOGUS'"), std::string::npos) << bad.error();
  ::unlink(path.c_str());
}

// A capture: an IPv4 query, a response (skipped), a UDP packet to another port (skipped), an IPv6
// query behind a VLAN tag, and a truncated last record.
TEST(QueryMix, PcapQueriesAreReplayedInCaptureOrder) {
  auto frame = [](bool v6, bool vlan, std::uint16_t dport, std::vector<std::uint8_t> dns) {
    std::vector<std::uint8_t> f(12, 0x02);
    if (vlan) f.insert(f.end(), {0x81, 0x00, 0x00, 0x05});
    f.insert(f.end(), {static_cast<std::uint8_t>(v6 ? 0x86 : 0x08), static_cast<std::uint8_t>(v6 ? 0xdd : 0x00)});
    const std::size_t udp_len = 8 + dns.size();
    if (v6) {
      std::vector<std::uint8_t> ip(40, 0);
      ip[0] = 0x60;
      ip[4] = static_cast<std::uint8_t>(udp_len >> 8);
      ip[5] = static_cast<std::uint8_t>(udp_len);
      ip[6] = 17;
      f.insert(f.end(), ip.begin(), ip.end());
    } else {
      std::vector<std::uint8_t> ip(20, 0);
      ip[0] = 0x45;
      ip[9] = 17;
      f.insert(f.end(), ip.begin(), ip.end());
    }
    f.insert(f.end(), {0x9c, 0x40, static_cast<std::uint8_t>(dport >> 8), static_cast<std::uint8_t>(dport),
                       static_cast<std::uint8_t>(udp_len >> 8), static_cast<std::uint8_t>(udp_len), 0, 0});
    f.insert(f.end(), dns.begin(), dns.end());
    return f;
  };
  auto q = [](const char* name, std::uint16_t type) { return *dns::build_query(name, type, {}); };
  auto response = q("r.example", 1);
  response[2] |= 0x80;
  std::vector<std::vector<std::uint8_t>> frames = {frame(false, false, 53, q("a.example", 1)), frame(false, false, 53, response),
                                                   frame(false, false, 5353, q("m.example", 1)),
                                                   frame(true, true, 53, q("b.example", 28))};
  const std::string path = "/tmp/dotpin-mix-" + std::to_string(::getpid()) + ".pcap";
  {
    std::ofstream out(path, std::ios::binary);
    const std::uint32_t header[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
    out.write(reinterpret_cast<const char*>(header), sizeof header);
    for (const auto& f : frames) {
      const std::uint32_t rec[4] = {0, 0, static_cast<std::uint32_t>(f.size()), static_cast<std::uint32_t>(f.size())};
      out.write(reinterpret_cast<const char*>(rec), sizeof rec);
      out.write(reinterpret_cast<const char*>(f.data()), static_cast<std::streamsize>(f.size()));
    }
    const std::uint32_t cut[4] = {0, 0, 100, 100};
    out.write(reinterpret_cast<const char*>(cut), sizeof cut);
    out.write("xx", 2);
  }
  auto mix = QueryMix::create(*parse_mix("pcap:" + path));
  ASSERT_TRUE(mix) << mix.error();
  ASSERT_EQ(mix->queries().size(), 2u);
  EXPECT_EQ(mix->queries()[0].name, "a.example.");
  EXPECT_EQ(mix->queries()[1].name, "b.example.");
  EXPECT_EQ(mix->queries()[1].type, 28);
  EXPECT_EQ(mix->next(), 0u);
  EXPECT_EQ(mix->next(), 1u);
  { std::ofstream(path) << "not a capture at all, but long enough"; }
  auto bad = QueryMix::create(*parse_mix("pcap:" + path));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("not a pcap file"), std::string::npos) << bad.error();
  ::unlink(path.c_str());
}

TEST(RunStats, ReportsAreConsistent) {
  RunStats s;
  s.mode = "udp";
  s.target = "t";
  s.sent = 10;
  s.answered = 8;
  s.seconds = 2;
  s.rcodes[0] = 8;
  for (int i = 1; i <= 8; ++i) s.latency_ns.record(static_cast<std::uint64_t>(i) * 1'000'000);
  const auto j = to_json(s);
  EXPECT_EQ(j["lost"], 2);
  EXPECT_EQ(j["qps"], 4.0);
  EXPECT_EQ(j["rcodes"]["NOERROR"], 8);
  EXPECT_NEAR(j["latency"]["p50_ms"].get<double>(), 4.0, 0.25);
  std::ostringstream cdf;
  print_latency_cdf(cdf, s);
  EXPECT_NE(cdf.str().find(",1\n"), std::string::npos) << cdf.str();  // ends at fraction 1
}

}  // namespace
}  // namespace dotpin::bench
