// SPDX-License-Identifier: Apache-2.0
#include "dataplane/config.h"

#include <arpa/inet.h>

#include <toml++/toml.h>

#include "common/endpoint.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>

namespace dotpin::dataplane {
namespace {

class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  void error(const toml::source_region& where, std::string message) {
    errors_.push_back(Diagnostic{Severity::kError, source_, static_cast<int>(where.begin.line),
                                 static_cast<int>(where.begin.column), std::move(message), {}});
  }
  std::vector<Diagnostic> take() { return std::move(errors_); }
  [[nodiscard]] bool ok() const { return errors_.empty(); }

  /// The sub-table @p name of @p root (nullptr if absent); unknown keys in it are errors.
  const toml::table* section(const toml::table& root, std::string_view name, std::initializer_list<std::string_view> keys) {
    const toml::node* n = root.get(name);
    if (n == nullptr) return nullptr;
    const toml::table* t = n->as_table();
    if (t == nullptr) {
      error(n->source(), "'" + std::string(name) + "' must be a table: write [" + std::string(name) + "]");
      return nullptr;
    }
    for (auto&& [key, value] : *t)
      if (std::find(keys.begin(), keys.end(), key.str()) == keys.end())
        error(key.source(), "unknown key '" + std::string(key.str()) + "' in [" + std::string(name) + "]");
    return t;
  }

  template <class T>
  void integer(const toml::table* t, std::string_view key, T& out, std::int64_t min, std::int64_t max) {
    if (t == nullptr) return;
    const toml::node* n = t->get(key);
    if (n == nullptr) return;
    const auto v = n->value<std::int64_t>();
    if (!v || *v < min || *v > max) {
      error(n->source(), "'" + std::string(key) + "' must be an integer from " + std::to_string(min) + " to " +
                             std::to_string(max));
      return;
    }
    out = static_cast<T>(*v);
  }
  void millis(const toml::table* t, std::string_view key, std::chrono::milliseconds& out, std::int64_t min,
              std::int64_t max) {
    std::int64_t ms = out.count();
    integer(t, key, ms, min, max);
    out = std::chrono::milliseconds(ms);
  }
  void boolean(const toml::table* t, std::string_view key, bool& out) {
    if (t == nullptr) return;
    const toml::node* n = t->get(key);
    if (n == nullptr) return;
    if (const auto v = n->value<bool>()) out = *v;
    else error(n->source(), "'" + std::string(key) + "' must be true or false");
  }
  const toml::node* string(const toml::table* t, std::string_view key, std::string& out) {
    if (t == nullptr) return nullptr;
    const toml::node* n = t->get(key);
    if (n == nullptr) return nullptr;
    if (const auto v = n->value<std::string>()) out = *v;
    else error(n->source(), "'" + std::string(key) + "' must be a string");
    return n;
  }
  /// Calls @p each(value, node) for every string of an array.
  template <class F>
  void strings(const toml::table* t, std::string_view key, F&& each) {
    if (t == nullptr) return;
    const toml::node* n = t->get(key);
    if (n == nullptr) return;
    const toml::array* a = n->as_array();
    if (a == nullptr) {
      error(n->source(), "'" + std::string(key) + "' must be an array of strings");
      return;
    }
    for (const toml::node& e : *a) {
      if (const auto v = e.value<std::string>()) each(*v, e);
      else error(e.source(), "'" + std::string(key) + "' must hold strings only");
    }
  }

 private:
  std::string source_;
  std::vector<Diagnostic> errors_;
};

std::string relative_to(const std::string& source, const std::string& path) {
  if (path.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (std::filesystem::path(source).parent_path() / path).lexically_normal().string();
}

}  // namespace

ConfigResult parse_config(std::string_view text, const std::string& source) {
  ConfigResult result;
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    result.errors.push_back(Diagnostic{Severity::kError, source, static_cast<int>(e.source().begin.line),
                                       static_cast<int>(e.source().begin.column), std::string(e.description()), {}});
    return result;
  }
  Reader r(source);
  DaemonConfig c;
  c.source = source;
  for (auto&& [key, value] : root) {
    static constexpr std::string_view kSections[] = {"dpdk", "port", "acl", "cache", "upstreams", "daemon", "control", "expiry"};
    if (std::find(std::begin(kSections), std::end(kSections), key.str()) == std::end(kSections))
      r.error(key.source(), "unknown section '" + std::string(key.str()) +
                                "' (expected [dpdk], [port], [acl], [cache], [upstreams], [daemon], [control], [expiry])");
  }

  const toml::table* dpdk = r.section(root, "dpdk", {"eal_args"});
  r.strings(dpdk, "eal_args", [&](const std::string& v, const toml::node&) { c.eal_args.push_back(v); });

  const toml::table* port = r.section(root, "port", {"device", "ipv4", "ipv6", "rx_descriptors", "tx_descriptors", "mbufs",
                                                     "promiscuous", "verify_udp_checksum", "max_udp_payload"});
  if (port == nullptr) {
    r.error(root.source(), "missing [port] section (device and addresses of the client-facing port)");
  } else {
    if (r.string(port, "device", c.device) == nullptr) r.error(port->source(), "[port] needs 'device' (an ethdev name)");
    r.strings(port, "ipv4", [&](const std::string& v, const toml::node& n) {
      std::array<std::uint8_t, 4> a{};
      if (inet_pton(AF_INET, v.c_str(), a.data()) != 1) r.error(n.source(), "'" + v + "' is not an IPv4 address");
      else c.local.ipv4.push_back(a);
    });
    r.strings(port, "ipv6", [&](const std::string& v, const toml::node& n) {
      std::array<std::uint8_t, 16> a{};
      if (inet_pton(AF_INET6, v.c_str(), a.data()) != 1) r.error(n.source(), "'" + v + "' is not an IPv6 address");
      else c.local.ipv6.push_back(a);
    });
    if (c.local.ipv4.empty() && c.local.ipv6.empty())
      r.error(port->source(), "[port] needs at least one address in 'ipv4' or 'ipv6'");
    r.integer(port, "rx_descriptors", c.rx_descriptors, 64, 16384);
    r.integer(port, "tx_descriptors", c.tx_descriptors, 64, 16384);
    r.integer(port, "mbufs", c.mbufs, 1023, 16777215);
    r.boolean(port, "promiscuous", c.promiscuous);
    r.boolean(port, "verify_udp_checksum", c.verify_udp_checksum);
    r.integer(port, "max_udp_payload", c.max_udp, 512, 1452);  // 1500 MTU - IPv6 - UDP headers
  }

  const toml::table* acl = r.section(root, "acl", {"allow", "action"});
  r.strings(acl, "allow", [&](const std::string& v, const toml::node& n) {
    if (auto s = c.acl.add(v); !s) r.error(n.source(), s.error());
  });
  if (c.acl.size() == 0 && r.ok())
    r.error(acl ? acl->source() : root.source(),
            "[acl] allow lists no client prefix: nobody could query (dotpin is never an open resolver; list the "
            "networks it serves, e.g. allow = [\"198.18.0.0/15\"])");
  std::string action = "refuse";
  if (const toml::node* n = r.string(acl, "action", action); n && action != "refuse" && action != "drop")
    r.error(n->source(), "'action' must be \"refuse\" or \"drop\"");
  c.acl_refuse = action == "refuse";

  const toml::table* cache = r.section(root, "cache", {"entries", "max_mib", "max_answer", "min_ttl", "max_ttl", "max_negative_ttl"});
  r.integer(cache, "entries", c.cache.entries, 8, std::int64_t{1} << 26);
  std::size_t max_mib = c.cache.max_bytes >> 20;
  r.integer(cache, "max_mib", max_mib, 1, 65536);
  c.cache.max_bytes = max_mib << 20;
  r.integer(cache, "max_answer", c.cache.max_answer, 512, 65535);
  r.integer(cache, "min_ttl", c.limits.min_ttl, 0, 86400);
  r.integer(cache, "max_ttl", c.limits.max_ttl, 1, 604800);
  r.integer(cache, "max_negative_ttl", c.limits.max_negative_ttl, 0, 86400);

  const toml::table* ups = r.section(root, "upstreams", {"pin_file", "ca_file", "tls_min_version", "policy", "connections", "max_inflight_per_connection",
                                                         "query_timeout_ms", "handshake_timeout_ms", "idle_timeout_ms", "pad_block",
                                                         "retry_once", "inflight_per_lcore"});
  if (ups == nullptr || r.string(ups, "pin_file", c.pin_file) == nullptr)
    r.error(ups ? ups->source() : root.source(), "[upstreams] needs 'pin_file' (the pinned DoT upstreams)");
  r.string(ups, "ca_file", c.ca_file);
  c.pin_file = relative_to(source, c.pin_file);
  c.ca_file = relative_to(source, c.ca_file);
  std::string floor = "1.2";
  if (const toml::node* n = r.string(ups, "tls_min_version", floor)) {
    // Stricter than the built-in policy, never weaker: there is no "1.1".
    if (auto f = tls::tls_floor_from_string(floor)) c.tls_min_version = *f;
    else r.error(n->source(), "'tls_min_version' must be \"1.2\" or \"1.3\"");
  }
  std::string policy = "round-robin";
  if (const toml::node* n = r.string(ups, "policy", policy)) {
    if (policy == "round-robin") c.shard.policy = tls::ShardOptions::Policy::kRoundRobin;
    else if (policy == "lowest-latency") c.shard.policy = tls::ShardOptions::Policy::kLowestLatency;
    else r.error(n->source(), "'policy' must be \"round-robin\" or \"lowest-latency\"");
  }
  r.integer(ups, "connections", c.shard.connections_per_upstream, 1, 64);
  r.integer(ups, "max_inflight_per_connection", c.shard.max_inflight_per_connection, 1, 65536);
  r.millis(ups, "query_timeout_ms", c.shard.query_timeout, 50, 60000);
  r.millis(ups, "handshake_timeout_ms", c.shard.handshake_timeout, 50, 60000);
  r.millis(ups, "idle_timeout_ms", c.shard.idle_timeout, 100, 3600000);
  r.integer(ups, "pad_block", c.shard.pad_block, 0, 1024);
  r.boolean(ups, "retry_once", c.shard.retry_once);
  r.integer(ups, "inflight_per_lcore", c.inflight_per_lcore, 16, 1 << 20);
  c.shard.max_pending = c.inflight_per_lcore;

  const toml::table* daemon = r.section(root, "daemon", {"drain_ms", "log_level"});
  r.millis(daemon, "drain_ms", c.drain, 0, 60000);
  if (const toml::node* n = r.string(daemon, "log_level", c.log_level); n && !log_level_from_string(c.log_level))
    r.error(n->source(), "'log_level' must be one of error, warn, info, debug");

  const toml::table* expiry = r.section(root, "expiry", {"warn_days", "check_interval_s", "alert_command", "probe_timeout_ms"});
  if (expiry != nullptr) {
    if (const toml::node* n = expiry->get("warn_days")) {
      const toml::array* a = n->as_array();
      c.expiry_warn_days.clear();
      if (a == nullptr || a->empty()) r.error(n->source(), "'warn_days' must be a non-empty array of days, e.g. [30, 7]");
      else
        for (const toml::node& e : *a) {
          const auto v = e.value<std::int64_t>();
          if (!v || *v < 0 || *v > 3650) r.error(e.source(), "'warn_days' holds whole days from 0 to 3650");
          else c.expiry_warn_days.push_back(static_cast<int>(*v));
        }
      std::ranges::sort(c.expiry_warn_days, std::greater<>());
    }
    std::int64_t interval = c.expiry_interval.count();
    r.integer(expiry, "check_interval_s", interval, 1, 7 * 86400);
    c.expiry_interval = std::chrono::seconds(interval);
    r.millis(expiry, "probe_timeout_ms", c.expiry_probe_timeout, 100, 60000);
    r.string(expiry, "alert_command", c.alert_command);
  }

  const toml::table* control = r.section(root, "control", {"socket", "group", "metrics"});
  if (const toml::node* n = r.string(control, "socket", c.control_socket); n && c.control_socket.empty())
    r.error(n->source(), "'socket' must not be empty");
  c.control_socket = relative_to(source, c.control_socket);
  r.string(control, "group", c.control_group);
  if (const toml::node* n = r.string(control, "metrics", c.metrics); n && !c.metrics.empty())
    if (auto ep = parse_endpoint(c.metrics, 9853, false); !ep) r.error(n->source(), "'metrics': " + ep.error());

  result.errors = r.take();
  std::ranges::stable_sort(result.errors, [](const Diagnostic& a, const Diagnostic& b) { return a.line < b.line; });
  if (result.errors.empty()) result.config = std::move(c);
  return result;
}

std::optional<LogLevel> log_level_from_string(std::string_view text) {
  if (text == "error") return LogLevel::kError;
  if (text == "warn") return LogLevel::kWarn;
  if (text == "info") return LogLevel::kInfo;
  if (text == "debug") return LogLevel::kDebug;
  return std::nullopt;
}

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::kError: return "error";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kInfo: return "info";
    case LogLevel::kDebug: return "debug";
  }
  return "?";
}

ConfigResult load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ConfigResult r;
    r.errors.push_back(Diagnostic{Severity::kError, path, 0, 0, "cannot read the file", {}});
    return r;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path);
}

}  // namespace dotpin::dataplane
