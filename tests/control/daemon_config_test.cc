// SPDX-License-Identifier: Apache-2.0
#include "control/daemon_config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "tests/test_pki.h"

namespace dotpin::ctl {
namespace {

constexpr const char* kGood = R"(
[dpdk]
eal_args = ["-l", "0-1", "--no-huge"]

[port]
device = "net_tap0"
ipv4 = ["198.18.0.1"]
ipv6 = ["2001:2::1"]
max_udp_payload = 1400

[acl]
allow = ["198.18.0.0/15", "2001:2::/48"]
action = "drop"

[cache]
entries = 1000
max_ttl = 600

[upstreams]
pin_file = "pins.toml"
policy = "lowest-latency"
query_timeout_ms = 1500
)";

std::string errors_of(const ConfigResult& r) {
  std::string s;
  for (const auto& d : r.errors) s += d.to_string() + "\n";
  return s;
}

TEST(Config, Good) {
  const auto r = parse_config(kGood, "/etc/dotpin/dotpind.toml");
  ASSERT_TRUE(r.config) << errors_of(r);
  const dataplane::DataPlaneConfig& c = r.config->dataplane;
  EXPECT_EQ(c.eal_args.size(), 3u);
  EXPECT_EQ(c.device, "net_tap0");
  EXPECT_EQ(c.local.ipv4.size(), 1u);
  EXPECT_EQ(c.local.ipv6.size(), 1u);
  EXPECT_EQ(c.max_udp, 1400);
  EXPECT_FALSE(c.acl_refuse);
  EXPECT_EQ(c.acl.size(), 2u);
  EXPECT_EQ(c.cache.entries, 1000u);
  EXPECT_EQ(c.limits.max_ttl, 600u);
  EXPECT_EQ(r.config->control.pin_file, "/etc/dotpin/pins.toml");  // relative to the config file
  EXPECT_EQ(c.shard.policy, tls::ShardOptions::Policy::kLowestLatency);
  EXPECT_EQ(c.shard.query_timeout.count(), 1500);
  EXPECT_EQ(c.tls_min_version, tls::TlsFloor::kTls12);  // the strict suite list, TLS 1.2 and 1.3
  EXPECT_EQ(c.suite_order, tls::SuiteOrder::kAuto);
}

// kGood with @p line added to its [upstreams] section, parsed as c.toml.
auto parse_with_upstreams_line(const std::string& line) {
  std::string text = kGood;
  text.replace(text.find("policy ="), 0, line + "\n");
  return parse_config(text, "c.toml");
}

TEST(Config, SuiteOrderIsOneOfThree) {
  const auto r = parse_with_upstreams_line("suite_order = \"chacha20\"");
  ASSERT_TRUE(r.config) << errors_of(r);
  EXPECT_EQ(r.config->dataplane.suite_order, tls::SuiteOrder::kChaChaFirst);
  const auto bad = parse_with_upstreams_line("suite_order = \"aes\"");
  EXPECT_FALSE(bad.config);
  EXPECT_NE(errors_of(bad).find("c.toml:"), std::string::npos) << errors_of(bad);
  EXPECT_NE(errors_of(bad).find("'suite_order' must be"), std::string::npos) << errors_of(bad);
}

TEST(Config, TlsMinVersionMayOnlyBeStricter) {
  const auto r = parse_with_upstreams_line("tls_min_version = \"1.3\"");
  ASSERT_TRUE(r.config) << errors_of(r);
  EXPECT_EQ(r.config->dataplane.tls_min_version, tls::TlsFloor::kTls13);
  const auto bad = parse_with_upstreams_line("tls_min_version = \"1.1\"");
  EXPECT_FALSE(bad.config);
  EXPECT_NE(errors_of(bad).find("'tls_min_version' must be"), std::string::npos) << errors_of(bad);
}

TEST(Config, EveryErrorWithItsLine) {
  const auto r = parse_config(R"([port]
device = "net_tap0"
ipv4 = ["198.18.0.300"]
colour = "blue"

[acl]
allow = ["198.18.0.1/15"]

[cache]
entries = -4

[upstreams]
policy = "random"
)", "bad.toml");
  ASSERT_FALSE(r.config);
  const std::string e = errors_of(r);
  EXPECT_NE(e.find("bad.toml:3:"), std::string::npos) << e;  // bad address
  EXPECT_NE(e.find("bad.toml:4:1: error: unknown key 'colour' in [port]"), std::string::npos) << e;
  EXPECT_NE(e.find("bad.toml:7:"), std::string::npos) << e;  // host bits
  EXPECT_NE(e.find("bad.toml:10:"), std::string::npos) << e;  // entries
  EXPECT_NE(e.find("pin_file"), std::string::npos) << e;
  EXPECT_NE(e.find("bad.toml:13:"), std::string::npos) << e;  // policy
}

TEST(Config, RateLimitsAreOffUnlessSetAndCheckedWhenSet) {
  {
    const auto r = parse_config(kGood, "c.toml");
    ASSERT_TRUE(r.config) << errors_of(r);
    EXPECT_FALSE(r.config->dataplane.ratelimit.enabled());
    EXPECT_EQ(r.config->dataplane.ratelimit.ipv6_prefix, 56);
    EXPECT_EQ(r.config->dataplane.ratelimit.slip, 2u);
  }
  {
    const auto r = parse_config(std::string(kGood) + "\n[ratelimit]\nqps = 50\nburst = 100\nerror_qps = 5\n"
                                                    "ipv6_prefix = 48\nslip = 0\nentries = 4096\n"
                                                    "exempt = [\"198.18.9.0/24\", \"2001:db8::/32\"]\n", "c.toml");
    ASSERT_TRUE(r.config) << errors_of(r);
    const auto& rl = r.config->dataplane.ratelimit;
    EXPECT_TRUE(rl.enabled());
    EXPECT_EQ(rl.qps, 50u);
    EXPECT_EQ(rl.burst, 100u);
    EXPECT_EQ(rl.error_qps, 5u);
    EXPECT_EQ(rl.ipv6_prefix, 48);
    EXPECT_EQ(rl.slip, 0u);
    EXPECT_EQ(rl.entries, 4096u);
    EXPECT_EQ(rl.exempt.size(), 2u);
  }
  const auto r = parse_config(std::string(kGood) + "\n[ratelimit]\nqps = -1\nipv6_prefix = 65\nslip = 1000\nrate = 5\n"
                                                  "exempt = [\"198.18.9.1/24\"]\n",
                              "rl.toml");
  ASSERT_FALSE(r.config);
  const std::string e = errors_of(r);
  const int at = static_cast<int>(std::count(kGood, kGood + std::strlen(kGood), '\n')) + 3;  // qps's line
  EXPECT_NE(e.find("rl.toml:" + std::to_string(at) + ":"), std::string::npos) << e;
  EXPECT_NE(e.find("rl.toml:" + std::to_string(at + 1) + ":"), std::string::npos) << e;
  EXPECT_NE(e.find("rl.toml:" + std::to_string(at + 2) + ":"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key 'rate' in [ratelimit]"), std::string::npos) << e;
  EXPECT_NE(e.find("rl.toml:" + std::to_string(at + 4) + ":"), std::string::npos) << e;  // host bits in exempt
}

TEST(DaemonConfig, TcpSection) {
  {
    const auto r = parse_config(kGood, "c.toml");
    ASSERT_TRUE(r.config) << errors_of(r);
    const auto& t = r.config->dataplane.tcp;
    EXPECT_TRUE(t.enabled) << "RFC 7766: TCP is on unless turned off";
    EXPECT_EQ(r.config->dataplane.local.tcp_ports[0], 53);
    EXPECT_EQ(t.idle_timeout, std::chrono::milliseconds(10000));
  }
  {
    const auto r = parse_config(std::string(kGood) + "\n[tcp]\nenabled = false\n", "c.toml");
    ASSERT_TRUE(r.config) << errors_of(r);
    EXPECT_FALSE(r.config->dataplane.tcp.enabled);
    EXPECT_EQ(r.config->dataplane.local.tcp_ports[0], 0) << "no exception path: TCP to port 53 is dropped (tcp_port)";
  }
  {
    const auto r = parse_config(std::string(kGood) + "\n[tcp]\nmax_connections = 100\nmax_connections_per_client = 4\n"
                                                    "max_inflight_per_connection = 8\ninflight = 64\nidle_timeout_ms = 2000\n"
                                                    "write_timeout_ms = 1000\ninterface = \"dpx-edge\"\n", "c.toml");
    ASSERT_TRUE(r.config) << errors_of(r);
    const auto& t = r.config->dataplane.tcp;
    EXPECT_EQ(t.max_connections, 100u);
    EXPECT_EQ(t.max_connections_per_client, 4u);
    EXPECT_EQ(t.max_inflight_per_connection, 8u);
    EXPECT_EQ(t.inflight, 64u);
    EXPECT_EQ(t.idle_timeout, std::chrono::milliseconds(2000));
    EXPECT_EQ(t.write_timeout, std::chrono::milliseconds(1000));
    EXPECT_EQ(t.interface, "dpx-edge");
  }
  const auto r = parse_config(std::string(kGood) + "\n[tcp]\nmax_connections = 0\ninterface = \"a-name-far-too-long\"\nport = 54\n",
                              "t.toml");
  ASSERT_FALSE(r.config);
  const std::string e = errors_of(r);
  const int at = static_cast<int>(std::count(kGood, kGood + std::strlen(kGood), '\n')) + 3;
  EXPECT_NE(e.find("t.toml:" + std::to_string(at) + ":"), std::string::npos) << e;
  EXPECT_NE(e.find("t.toml:" + std::to_string(at + 1) + ":"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key 'port' in [tcp]"), std::string::npos) << e;
}

TEST(DaemonConfig, DotSection) {
  DOTPIN_REQUIRE_PKI();
  const std::string pki = test::pki_dir() + "/";
  {
    const auto r = parse_config(kGood, "c.toml");
    ASSERT_TRUE(r.config) << errors_of(r);
    EXPECT_FALSE(r.config->dataplane.tcp.dot.enabled()) << "DoT needs a certificate: off without one";
    EXPECT_EQ(r.config->dataplane.local.tcp_ports[1], 0);
  }
  {
    const auto r = parse_config(std::string(kGood) + "\n[dot]\ncertificate = \"" + pki + "resolver.chain.pem\"\nkey = \"" +
                                    pki + "resolver.key\"\nmin_tls_version = \"1.3\"\nticket_key_rotation_s = 600\n"
                                    "handshake_timeout_ms = 2000\n\n[tcp]\nenabled = false\n",
                                "c.toml");
    ASSERT_TRUE(r.config) << errors_of(r);
    const auto& d = r.config->dataplane.tcp.dot;
    EXPECT_TRUE(d.enabled());
    EXPECT_EQ(d.min_version, tls::TlsFloor::kTls13);
    EXPECT_EQ(d.ticket_rotation, std::chrono::seconds(600));
    EXPECT_EQ(d.handshake_timeout, std::chrono::milliseconds(2000));
    EXPECT_TRUE(r.config->dataplane.tcp.any()) << "DoT alone still runs the service";
    EXPECT_EQ(r.config->dataplane.local.tcp_ports[0], 0);
    EXPECT_EQ(r.config->dataplane.local.tcp_ports[1], 853);
  }
  const int at = static_cast<int>(std::count(kGood, kGood + std::strlen(kGood), '\n')) + 3;
  {
    // A key of another certificate: refused at the certificate's line, nothing served on 853.
    const auto r = parse_config(std::string(kGood) + "\n[dot]\ncertificate = \"" + pki + "resolver.chain.pem\"\nkey = \"" +
                                    pki + "impostor.key\"\n",
                                "d.toml");
    ASSERT_FALSE(r.config);
    const std::string e = errors_of(r);
    EXPECT_NE(e.find("d.toml:" + std::to_string(at) + ":"), std::string::npos) << e;
    EXPECT_NE(e.find("impostor.key: does not belong to the certificate in"), std::string::npos) << e;
  }
  {
    const auto r = parse_config(std::string(kGood) + "\n[dot]\ncertificate = \"" + pki +
                                    "resolver.chain.pem\"\nmin_tls_version = \"1.1\"\nticket_key_rotation_s = 0\n",
                                "e.toml");
    ASSERT_FALSE(r.config);
    const std::string e = errors_of(r);
    EXPECT_NE(e.find("needs both 'certificate' and 'key'"), std::string::npos) << e;
    EXPECT_NE(e.find("'min_tls_version' must be"), std::string::npos) << e;
    EXPECT_NE(e.find("'ticket_key_rotation_s' must be an integer from 1"), std::string::npos) << e;
  }
}

TEST(Config, AnIpv4PrefixGivesTheSubnetsBroadcastToDrop) {
  std::string text = kGood;
  text.replace(text.find("ipv4 = [\"198.18.0.1\"]"), 21, R"(ipv4 = ["198.18.0.1/24", "198.19.0.1/31", "198.19.1.1"])");
  const auto r = parse_config(text, "c.toml");
  ASSERT_TRUE(r.config) << errors_of(r);
  const auto& local = r.config->dataplane.local;
  ASSERT_EQ(local.ipv4.size(), 3u);
  EXPECT_EQ(local.ipv4[0], (std::array<std::uint8_t, 4>{198, 18, 0, 1}));
  // Only the /24 has broadcast addresses (its network address, the obsolete all-zeros broadcast,
  // and its directed broadcast): a /31 (RFC 3021) and a bare address have none.
  ASSERT_EQ(local.ipv4_broadcast.size(), 2u);
  EXPECT_EQ(local.ipv4_broadcast[0], (std::array<std::uint8_t, 4>{198, 18, 0, 0}));
  EXPECT_EQ(local.ipv4_broadcast[1], (std::array<std::uint8_t, 4>{198, 18, 0, 255}));
  for (const char* bad : {"198.18.0.1/7", "198.18.0.1/33", "2001:2::1/64", "198.18.0.1/024x", "198.18.0.1/", "198.18.0.1/x", "198.18.0.255/24",
                          "198.18.0.0/24"}) {
    std::string t = kGood;
    t.replace(t.find("ipv4 = [\"198.18.0.1\"]"), 21, std::string("ipv4 = [\"") + bad + "\"]");
    const auto b = parse_config(t, "c.toml");
    EXPECT_FALSE(b.config) << bad;
    EXPECT_NE(errors_of(b).find("c.toml:7:"), std::string::npos) << bad << ": " << errors_of(b);
  }
}

TEST(Config, NeverAnOpenResolverByDefault) {
  const auto r = parse_config(R"([port]
device = "x"
ipv4 = ["198.18.0.1"]
[upstreams]
pin_file = "p.toml"
)", "c.toml");
  ASSERT_FALSE(r.config);
  EXPECT_NE(errors_of(r).find("open resolver"), std::string::npos) << errors_of(r);
}

TEST(Config, SyntaxErrorIsLocated) {
  const auto r = parse_config("[port\ndevice = 1\n", "s.toml");
  ASSERT_FALSE(r.config);
  EXPECT_NE(errors_of(r).find("s.toml:1:"), std::string::npos) << errors_of(r);
}

TEST(Config, UnknownSection) {
  const auto r = parse_config(std::string(kGood) + "\n[extra]\nx = 1\n", "c.toml");
  ASSERT_FALSE(r.config);
  EXPECT_NE(errors_of(r).find("unknown section 'extra'"), std::string::npos) << errors_of(r);
}

TEST(Config, ControlSectionsAreTheControlPlanes) {
  const auto r = parse_config(std::string(kGood) + R"(
[daemon]
drain_ms = 250
log_level = "debug"

[control]
socket = "run/dotpind.sock"
group = "dotpin"
metrics = ""

[expiry]
warn_days = [7, 30]
alert_command = "/usr/local/bin/page"
)", "/etc/dotpin/dotpind.toml");
  ASSERT_TRUE(r.config) << errors_of(r);
  const ControlConfig& c = r.config->control;
  EXPECT_EQ(c.log_level, LogLevel::kDebug);
  EXPECT_EQ(c.socket, "/etc/dotpin/run/dotpind.sock");  // relative to the config file
  EXPECT_EQ(c.group, "dotpin");
  EXPECT_EQ(c.metrics, "");
  EXPECT_EQ(c.expiry_warn_days, (std::vector<int>{30, 7}));  // largest first
  EXPECT_EQ(c.alert_command, "/usr/local/bin/page");
  EXPECT_EQ(r.config->dataplane.drain.count(), 250);  // [daemon] is shared: drain_ms is the data plane's
}

// [upstreams] and [daemon] hold keys of both planes: an unknown key in them is reported once, and a
// key of one plane is never "unknown" to the other.
TEST(Config, UnknownKeyInASharedSectionIsReportedOnce) {
  std::string text = kGood;
  text.replace(text.find("policy ="), 0, "pinfile = \"typo.toml\"\n");
  text += "\n[daemon]\nlog_level = \"warn\"\ndrain_ms = 10\nloglevel = \"x\"\n";
  const auto r = parse_config(text, "c.toml");
  ASSERT_FALSE(r.config);
  const std::string e = errors_of(r);
  EXPECT_EQ(r.errors.size(), 2u) << e;
  EXPECT_NE(e.find("unknown key 'pinfile' in [upstreams]"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key 'loglevel' in [daemon]"), std::string::npos) << e;
}

TEST(Config, BadLogLevel) {
  const auto r = parse_config(std::string(kGood) + "\n[daemon]\nlog_level = \"verbose\"\n", "c.toml");
  ASSERT_FALSE(r.config);
  EXPECT_NE(errors_of(r).find("'log_level' must be one of"), std::string::npos) << errors_of(r);
}

TEST(Config, MissingFile) {
  const auto r = load_config("/nonexistent/dotpind.toml");
  ASSERT_FALSE(r.config);
  EXPECT_NE(errors_of(r).find("cannot read"), std::string::npos);
}

}  // namespace
}  // namespace dotpin::dataplane

namespace dotpin::ctl {
namespace {

constexpr const char* kBase = R"(
[dpdk]
eal_args = ["-l", "0-1", "--no-huge"]

[port]
device = "net_tap0"
ipv4 = ["198.18.0.1"]

[acl]
action = "drop"

[cache]
entries = 4096
max_mib = 8

[tcp]
enabled = false
)";

TEST(DaemonConfig, ViewsInMatchOrderWithTheirOwnPinsAclAndCache) {
  const auto r = parse_config(std::string(kBase) + R"(
[[view]]
name = "tenant-a"
clients = ["198.18.1.0/24", "2001:2:1::/48"]
pin_file = "pins-a.toml"
cache_entries = 1024
cache_max_mib = 2

[[view]]
name = "tenant-b"
vlan = 102
allow = ["198.18.2.0/24"]
pin_file = "/etc/dotpin/pins-b.toml"
ca_file = "ca-b.pem"
policy = "lowest-latency"
)",
                              "/etc/dotpin/dotpind.toml");
  ASSERT_TRUE(r.config) << errors_of(r);
  const auto& dp = r.config->dataplane;
  ASSERT_TRUE(dp.explicit_views);
  ASSERT_EQ(dp.views.size(), 2u);
  const auto& a = dp.views[0];
  EXPECT_EQ(a.name, "tenant-a");
  EXPECT_FALSE(a.vlan);
  EXPECT_EQ(a.pin_file, "/etc/dotpin/pins-a.toml");
  EXPECT_EQ(a.acl.size(), 2u) << "allow defaults to the view's clients";
  EXPECT_EQ(a.cache.entries, 1024u);
  EXPECT_EQ(a.cache.max_bytes, std::size_t{2} << 20);
  const auto& b = dp.views[1];
  EXPECT_EQ(b.vlan, 102);
  EXPECT_EQ(b.ca_file, "/etc/dotpin/ca-b.pem");
  EXPECT_EQ(b.cache.entries, 4096u) << "[cache] is the default partition size";
  const std::uint8_t in_a[4] = {198, 18, 1, 9}, in_b[4] = {198, 18, 2, 9};
  EXPECT_EQ(dp.view_map.match_ipv4(0, in_a), 0);
  EXPECT_EQ(dp.view_map.match_ipv4(102, in_b), 1);
  EXPECT_EQ(dp.view_map.match_ipv4(0, in_b), dataplane::ViewMap::kNoView);
  EXPECT_TRUE(r.config->control.pin_file.empty());
  EXPECT_EQ(a.inflight, 2048u) << "by default each view has an equal share of inflight_per_lcore";
  // Each view learns on first use into a file of its own, by default beside [tofu] state_file.
  EXPECT_EQ(a.tofu_state_file, "/var/lib/dotpin/tofu.tenant-a.json");
  EXPECT_EQ(b.tofu_state_file, "/var/lib/dotpin/tofu.tenant-b.json");
  EXPECT_EQ(a.policy, tls::ShardOptions::Policy::kRoundRobin) << "[upstreams] policy by default";
  EXPECT_EQ(b.policy, tls::ShardOptions::Policy::kLowestLatency);
}

TEST(DaemonConfig, AViewsTofuStateFileIsItsOwn) {
  const std::string two = std::string(kBase) + R"(
[tofu]
state_file = "state/learned"

[[view]]
name = "a"
clients = ["198.18.1.0/24"]
pin_file = "pins-a.toml"
tofu_state_file = "/srv/a.json"

[[view]]
name = "b"
clients = ["198.18.2.0/24"]
pin_file = "pins-b.toml"
)";
  auto r = parse_config(two, "/etc/dotpin/dotpind.toml");
  ASSERT_TRUE(r.config) << errors_of(r);
  EXPECT_EQ(r.config->dataplane.views[0].tofu_state_file, "/srv/a.json");
  EXPECT_EQ(r.config->dataplane.views[1].tofu_state_file, "/etc/dotpin/state/learned.b") << "no extension: .NAME appended";
  // Two views' learned keys in one file: tenant-b learning "ns" would admit its server to tenant-a's "ns".
  std::string shared = two;
  shared.replace(shared.find("pin_file = \"pins-b.toml\""), 24, "pin_file = \"pins-b.toml\"\ntofu_state_file = \"/srv/a.json\"");
  r = parse_config(shared, "/etc/dotpin/dotpind.toml");
  EXPECT_FALSE(r.config);
  EXPECT_NE(errors_of(r).find("dotpind.toml:32:"), std::string::npos) << errors_of(r);
  EXPECT_NE(errors_of(r).find("views 'a' and 'b' name the same tofu_state_file"), std::string::npos) << errors_of(r);
  // Nor a pin file (each write of one would destroy the other).
  std::string on_pins = two;
  on_pins.replace(on_pins.find("/srv/a.json"), 11, "/etc/dotpin/pins-b.toml");
  r = parse_config(on_pins, "/etc/dotpin/dotpind.toml");
  EXPECT_NE(errors_of(r).find("is view 'b''s pin_file"), std::string::npos) << errors_of(r);
  // Nor another's backup (each atomic write of one would replace the other), nor a CA file.
  std::string on_prev = two;
  on_prev.replace(on_prev.find("pin_file = \"pins-b.toml\""), 24, "pin_file = \"pins-b.toml\"\ntofu_state_file = \"/srv/a.json.prev\"");
  r = parse_config(on_prev, "/etc/dotpin/dotpind.toml");
  EXPECT_NE(errors_of(r).find("one file and its backup"), std::string::npos) << errors_of(r);
  std::string on_ca = two;
  on_ca.replace(on_ca.find("tofu_state_file = \"/srv/a.json\""), 31, "tofu_state_file = \"/srv/a.json\"\nca_file = \"/srv/a.json\"");
  r = parse_config(on_ca, "/etc/dotpin/dotpind.toml");
  EXPECT_NE(errors_of(r).find("is view 'a''s ca_file"), std::string::npos) << errors_of(r);
  r = parse_config(std::string(kBase) + "[[view]]\nname = \"a\"\nclients = [\"198.18.1.0/24\"]\npin_file = \"p\"\ntofu_state_file = \"\"\n",
                   "v.toml");
  EXPECT_NE(errors_of(r).find("must not be empty"), std::string::npos) << errors_of(r);
}

TEST(DaemonConfig, WithoutViewsOneImplicitViewOfAclCacheAndPinFile) {
  const auto r = parse_config(kGood, "/etc/dotpin/dotpind.toml");
  ASSERT_TRUE(r.config) << errors_of(r);
  const auto& dp = r.config->dataplane;
  EXPECT_FALSE(dp.explicit_views);
  ASSERT_EQ(dp.views.size(), 1u);
  EXPECT_EQ(dp.views[0].name, "default");
  EXPECT_EQ(dp.views[0].pin_file, "/etc/dotpin/pins.toml");
  EXPECT_EQ(dp.views[0].acl.size(), 2u);
  EXPECT_TRUE(dp.view_map.trivial());
}

TEST(DaemonConfig, BadViewsAreRejectedAtTheirLines) {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"[[view]]\nname = \"a\"\npin_file = \"p.toml\"\n", "matches nobody"},
      {"[[view]]\nname = \"a\"\nvlan = 7\npin_file = \"p.toml\"\n", "matched by VLAN only: say who"},
      {"[[view]]\nname = \"a\"\nclients = [\"198.18.1.0/24\"]\n", "needs 'pin_file'"},
      {"[[view]]\nname = \"A b\"\nclients = [\"198.18.1.0/24\"]\npin_file = \"p\"\n", "must be 1 to 32"},
      {"[[view]]\nname = \"a\"\nclients = [\"198.18.1.1/24\"]\npin_file = \"p\"\n", "host bits"},
      {"[[view]]\nname = \"a\"\nclients = [\"198.18.1.0/24\"]\npin_file = \"p\"\n"
       "[[view]]\nname = \"a\"\nclients = [\"198.18.2.0/24\"]\npin_file = \"q\"\n",
       "defined twice"},
      {"[[view]]\nname = \"a\"\nvlan = 4095\nallow = [\"198.18.1.0/24\"]\npin_file = \"p\"\n", "from 1 to 4094"},
      {"[[view]]\nname = \"a\"\nclients = [\"198.18.1.0/24\"]\npin_file = \"p\"\nmystery = 1\n", "unknown key 'mystery' in [[view]]"},
      {"[[view]]\nname = \"a\"\nclients = [\"198.18.0.0/16\"]\npin_file = \"p\"\n"
       "[[view]]\nname = \"b\"\nclients = [\"198.18.1.0/24\"]\npin_file = \"q\"\n",
       "view 'b' is never matched: the earlier view 'a'"},
      {"[[view]]\nname = \"a\"\nclients = [\"198.18.1.0/24\"]\npin_file = \"p\"\n"
       "[[view]]\nname = \"b\"\nclients = [\"198.18.2.0/24\"]\npin_file = \"p\"\n",
       "name the same pin_file"},
      {"[[view]]\nname = \"a\"\nclients = [\"198.18.1.0/24\"]\npin_file = \"p\"\ninflight = 8\n", "'inflight' must be"},
      {"[[view]]\nname = \"a\"\nclients = [\"198.18.1.0/24\"]\npin_file = \"p\"\npolicy = \"random\"\n",
       "'policy' of view 'a' must be"},
  };
  for (const Case& c : cases) {
    const auto r = parse_config(std::string(kBase) + c.text, "v.toml");
    EXPECT_FALSE(r.config) << c.text;
    EXPECT_NE(errors_of(r).find(c.error), std::string::npos) << c.text << "\n" << errors_of(r);
  }
  // [acl] allow and [upstreams] pin_file would say something for every view: refused with views.
  auto r = parse_config(std::string(kBase) + "[upstreams]\npin_file = \"p\"\n[[view]]\nname = \"a\"\nclients = [\"198.18.1.0/24\"]\npin_file = \"p\"\n",
                        "v.toml");
  EXPECT_NE(errors_of(r).find("remove [upstreams] pin_file"), std::string::npos) << errors_of(r);
  std::string with_allow = kBase;
  with_allow.replace(with_allow.find("[acl]\n"), 6, "[acl]\nallow = [\"198.18.0.0/15\"]\n");
  r = parse_config(with_allow + "[[view]]\nname = \"a\"\nclients = [\"198.18.1.0/24\"]\npin_file = \"p\"\n", "v.toml");
  EXPECT_NE(errors_of(r).find("remove [acl] allow"), std::string::npos) << errors_of(r);
  // A view by VLAN with TCP on: the kernel behind the exception path could not tell VLANs apart.
  std::string tcp_on = kBase;
  tcp_on.replace(tcp_on.find("enabled = false"), 15, "enabled = true");
  r = parse_config(tcp_on + "[[view]]\nname = \"a\"\nvlan = 5\nallow = [\"198.18.1.0/24\"]\npin_file = \"p\"\n", "v.toml");
  EXPECT_NE(errors_of(r).find("views by VLAN serve UDP only"), std::string::npos) << errors_of(r);
}

}  // namespace
}  // namespace dotpin::ctl
