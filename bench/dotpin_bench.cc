// SPDX-License-Identifier: Apache-2.0
// dotpin-bench: a DNS load generator that is not the bottleneck. UDP mode drives a DPDK port
// (bench/loadgen/udp_driver.h); DoT mode drives a DoT server over kernel TCP with the pinned engine
// from tls/ (bench/loadgen/dot_driver.h). Every run is bounded by time and, optionally, a count.
#include <arpa/inet.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "bench/loadgen/dot_driver.h"
#include "bench/loadgen/udp_driver.h"
#include "common/endpoint.h"
#include "pinning/spki_pin.h"

namespace {

using namespace dotpin;
using namespace dotpin::bench;

int usage(int status) {
  std::fprintf(status == 0 ? stdout : stderr, R"(usage:
  dotpin-bench udp --device DEV --dst IP [options] [-- EAL-ARGS...]
  dotpin-bench dot --server IP:PORT --pin BASE64 [--pin ...] [--name AUTH_NAME] [options]

common options:
  --mix SPEC            single:NAME | random:N[:SUFFIX] | zipf:N:S[:SUFFIX] | unique:N[:SUFFIX] |
                        file:PATH (dnsperf format) | pcap:PATH (the queries in a capture)
                        (default single:www.dotpin.test)
  --duration SECONDS    how long to send (default 10); answers are awaited up to the timeout after
  --max-queries N       stop sending after N queries
  --rate QPS            open loop at QPS queries/s (default: closed loop)
  --json | --csv        machine-readable summary on stdout (a progress line goes to a terminal's stderr)
  --seed N              for the random and zipf mixes (default 1)
  --latency-cdf FILE    also write the latency distribution (latency_ms,fraction) to FILE
udp options (EAL arguments after --, e.g. -l 0 --no-huge -m 256 --vdev=net_tap0,iface=bench0):
  --device DEV          the ethdev to send on (net_tap0, a PCI address, ...)
  --dst IP              the server (IPv4 or IPv6)
  --dst-mac MAC         its MAC (IPv4: found by ARP when not given)
  --gateway IP          IPv4: the server is behind this router: ARP for it instead
  --src IP              first source address (default 198.18.0.2 / 2001:2::2)
  --src-count N         consecutive source addresses (default 1)
  --src-ports N         source ports from 20000 (default 16)
  --outstanding N       closed loop: queries in flight (default 100)
  --ramp-to QPS         open loop: ramp from --rate to QPS over the run (resperf style)
  --timeout MS          answers later than this count as lost (default 1000)
dot options:
  --server IP:PORT      the DoT server; --name sets SNI and the name check; --pin (repeatable) its keys
  --connections C       parallel connections (default 1)
  --pipeline P          queries in flight per connection (default 64)
  --queries-per-connection Q   reconnect after Q answers (measures handshakes)
  --no-resume           reconnect with full handshakes (default: resume the pinned session)
)");
  return status;
}

bool parse_ip(const std::string& text, std::array<std::uint8_t, 16>& out, bool& v6) {
  out = {};
  if (inet_pton(AF_INET, text.c_str(), out.data()) == 1) {
    v6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, text.c_str(), out.data()) == 1) {
    v6 = true;
    return true;
  }
  return false;
}

bool parse_mac(const std::string& text, std::array<std::uint8_t, 6>& out) {
  unsigned b[6];
  if (std::sscanf(text.c_str(), "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6) return false;
  for (int i = 0; i < 6; ++i) out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(b[i]);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") return usage(argc < 2 ? 2 : 0);
  const std::string mode = argv[1];
  if (mode != "udp" && mode != "dot") {
    std::fprintf(stderr, "dotpin-bench: unknown mode '%s' (udp or dot)\n", mode.c_str());
    return usage(2);
  }
  std::map<std::string, std::vector<std::string>> opt;
  std::vector<std::string> eal = {"dotpin-bench"};
  static const std::vector<std::string> flags = {"json", "csv", "no-resume"};
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      for (++i; i < argc; ++i) eal.emplace_back(argv[i]);
      break;
    }
    if (a.rfind("--", 0) != 0) {
      std::fprintf(stderr, "dotpin-bench: unexpected argument '%s'\n", a.c_str());
      return 2;
    }
    a = a.substr(2);
    if (std::find(flags.begin(), flags.end(), a) != flags.end()) {
      opt[a].push_back("");
    } else if (i + 1 < argc) {
      opt[a].push_back(argv[++i]);
    } else {
      std::fprintf(stderr, "dotpin-bench: --%s needs a value\n", a.c_str());
      return 2;
    }
  }
  auto get = [&](const std::string& k, const std::string& d = "") { return opt.contains(k) ? opt[k].back() : d; };
  auto number = [&](const std::string& k, double d) {
    if (!opt.contains(k)) return d;
    char* end = nullptr;
    const double v = std::strtod(opt[k].back().c_str(), &end);
    if (*end != '\0' || v < 0) {
      std::fprintf(stderr, "dotpin-bench: --%s '%s' is not a number\n", k.c_str(), opt[k].back().c_str());
      std::exit(2);
    }
    return v;
  };
  static const std::vector<std::string> known = {"mix", "duration", "max-queries", "rate", "json", "csv", "seed",
      "device", "dst", "dst-mac", "src", "src-count", "src-ports", "outstanding", "ramp-to", "timeout",
      "gateway", "server", "name", "pin", "connections", "pipeline", "queries-per-connection", "no-resume",
      "latency-cdf"};
  for (const auto& [k, _] : opt)
    if (std::find(known.begin(), known.end(), k) == known.end()) {
      std::fprintf(stderr, "dotpin-bench: unknown option --%s\n", k.c_str());
      return 2;
    }

  auto spec = parse_mix(get("mix", "single:www.dotpin.test"));
  if (!spec) {
    std::fprintf(stderr, "dotpin-bench: %s\n", spec.error().c_str());
    return 2;
  }
  auto mix = QueryMix::create(*spec, static_cast<std::uint64_t>(number("seed", 1)));
  if (!mix) {
    std::fprintf(stderr, "dotpin-bench: %s\n", mix.error().c_str());
    return 2;
  }
  const auto duration = std::chrono::milliseconds(static_cast<long>(number("duration", 10) * 1000));
  const auto max_queries = static_cast<std::uint64_t>(number("max-queries", 0));
  const bool tty = isatty(STDERR_FILENO) == 1;
  auto progress = [tty](const RunStats& s, double t) {
    if (tty) std::fprintf(stderr, "\r%s", progress_line(s, t).c_str());
  };

  Result<RunStats> result = fail("not run");
  if (mode == "dot") {
    DotOptions o;
    auto ep = parse_endpoint(get("server"), 853, false);
    if (!ep) {
      std::fprintf(stderr, "dotpin-bench: --server: %s\n", ep.error().c_str());
      return 2;
    }
    o.server.name = "bench";
    o.server.address = *ep;
    o.server.auth_name = get("name");
    for (const auto& p : opt["pin"]) {
      std::string why;
      auto d = parse_pin_base64(p, &why);
      if (!d) {
        std::fprintf(stderr, "dotpin-bench: --pin '%s': %s\n", p.c_str(), why.c_str());
        return 2;
      }
      Pin pin;
      pin.digest = *d;
      o.server.pins.push_back(pin);
    }
    if (o.server.pins.empty()) {
      std::fprintf(stderr, "dotpin-bench: dot mode needs --pin (the server's key is checked as dotpind checks it)\n");
      return 2;
    }
    o.connections = static_cast<std::size_t>(std::max(1.0, number("connections", 1)));
    o.pipeline = static_cast<std::size_t>(std::max(1.0, number("pipeline", 64)));
    o.rate = number("rate", 0);
    o.queries_per_connection = static_cast<std::uint64_t>(number("queries-per-connection", 0));
    o.resume = !opt.contains("no-resume");
    o.max_queries = max_queries;
    o.duration = duration;
    result = run_dot(o, *mix, progress);
  } else {
    UdpOptions o;
    o.device = get("device");
    bool v6 = false, src_v6 = false;
    if (o.device.empty() || !parse_ip(get("dst"), o.dst, v6)) {
      std::fprintf(stderr, "dotpin-bench: udp mode needs --device and --dst IP\n");
      return 2;
    }
    o.ipv6 = v6;
    if (!parse_ip(get("src", v6 ? "2001:2::2" : "198.18.0.2"), o.src, src_v6) || src_v6 != v6) {
      std::fprintf(stderr, "dotpin-bench: --src must be an address of the same family as --dst\n");
      return 2;
    }
    if (opt.contains("dst-mac") && !parse_mac(get("dst-mac"), o.dst_mac)) {
      std::fprintf(stderr, "dotpin-bench: --dst-mac '%s' is not a MAC address\n", get("dst-mac").c_str());
      return 2;
    }
    if (opt.contains("gateway")) {
      std::array<std::uint8_t, 16> gw{};
      bool gw6 = false;
      if (!parse_ip(get("gateway"), gw, gw6) || gw6 || v6) {
        std::fprintf(stderr, "dotpin-bench: --gateway must be an IPv4 address (with an IPv4 --dst)\n");
          return 2;
      }
      std::copy_n(gw.begin(), 4, o.gateway.begin());
    }
    o.src_count = static_cast<unsigned>(std::max(1.0, number("src-count", 1)));
    o.src_ports = static_cast<unsigned>(std::clamp(number("src-ports", 16), 1.0, 1024.0));
    o.rate = number("rate", 0);
    o.ramp_to = number("ramp-to", 0);
    o.outstanding = static_cast<std::size_t>(std::max(1.0, number("outstanding", 100)));
    o.timeout = std::chrono::milliseconds(static_cast<long>(number("timeout", 1000)));
    o.max_queries = max_queries;
    o.duration = duration;
    // EAL last: a bad option above exits before EAL has anything to clean up.
    std::vector<char*> eal_argv;
    for (auto& s : eal) eal_argv.push_back(s.data());
    if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
      std::fprintf(stderr, "dotpin-bench: EAL initialisation failed: %s\n", std::strerror(rte_errno));
      return 2;
    }
    result = run_udp(o, *mix, progress);
  }
  if (tty) std::fprintf(stderr, "\n");
  int status = 0;
  if (!result) {
    std::fprintf(stderr, "dotpin-bench: %s\n", result.error().c_str());
    status = 1;
  } else {
    if (opt.contains("json")) std::cout << to_json(*result).dump(2) << "\n";
    else if (opt.contains("csv")) print_csv(std::cout, *result);
    else print_summary(std::cout, *result);
    if (opt.contains("latency-cdf")) {
      std::ofstream f(get("latency-cdf"));
      print_latency_cdf(f, *result);
      if (!f) {
        std::fprintf(stderr, "dotpin-bench: cannot write %s\n", get("latency-cdf").c_str());
        status = 1;
      }
    }
  }
  if (mode == "udp") rte_eal_cleanup();
  return status;
}
