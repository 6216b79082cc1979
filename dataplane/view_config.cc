// SPDX-License-Identifier: Apache-2.0
// [[view]] sections of dotpind's config (docs/config.md, "Views"), and the implicit view of a
// config without them.
#include <toml++/toml.h>

#include <algorithm>
#include <set>

#include "common/same_file.h"
#include "dataplane/config.h"

namespace dotpin::dataplane {
namespace {

bool valid_view_name(const std::string& s) {
  if (s.empty() || s.size() > 32) return false;
  for (const char ch : s)
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_')) return false;
  return true;
}

}  // namespace

void read_views(const toml::table& root, TomlReader& r, DataPlaneConfig& c) {
  const auto tables = r.tables(root, "view", {"name", "vlan", "clients", "allow", "pin_file", "ca_file",
                                              "tofu_state_file", "policy", "cache_entries", "cache_max_mib", "inflight", "ratelimit_qps",
                                              "ratelimit_burst", "ratelimit_error_qps", "ratelimit_error_burst"});
  c.views.clear();
  c.ratelimit.views.clear();
  c.view_map = ViewMap{};
  if (!c.explicit_views) {
    // One view for everyone: [acl], [cache], [upstreams] (its pin_file is the control plane's).
    ViewConfig v;
    v.name = "default";
    v.acl = c.acl;
    v.ca_file = c.ca_file;
    v.policy = c.shard.policy;
    v.cache = c.cache;
    (void)c.view_map.add(0, std::nullopt, {});
    c.views.push_back(std::move(v));
    c.view_map.build();
    return;
  }
  if (tables.empty()) return;  // tables() reported what it is instead
  if (tables.size() > ViewMap::kMaxViews)
    r.error(root.get("view")->source(), "at most " + std::to_string(ViewMap::kMaxViews) + " views");
  std::set<std::string> names;
  for (const toml::table* t : tables) {
    ViewConfig v;
    const toml::node* name = r.string(t, "name", v.name);
    if (name == nullptr) {
      r.error(t->source(), "[[view]] needs 'name'");
    } else if (!valid_view_name(v.name)) {
      r.error(name->source(), "view name '" + v.name + "' must be 1 to 32 of a-z, 0-9, '-', '_'");
    } else if (!names.insert(v.name).second) {
      r.error(name->source(), "view '" + v.name + "' is defined twice");
    }
    if (const toml::node* n = t->get("vlan")) {
      const auto id = n->value<std::int64_t>();
      if (!id || *id < 1 || *id > 4094) r.error(n->source(), "'vlan' must be an 802.1Q VLAN ID from 1 to 4094");
      else v.vlan = static_cast<std::uint16_t>(*id);
    }
    r.strings(t, "clients", [&](const std::string& s, const toml::node& n) {
      Acl probe;
      if (auto ok = probe.add(s); !ok) r.error(n.source(), "'clients': " + ok.error());
      else v.clients.push_back(s);
    });
    if (!v.vlan && v.clients.empty())
      r.error(t->source(), "view '" + v.name + "' matches nobody: give it 'clients' (source prefixes), 'vlan', or both");
    if (t->contains("allow")) {
      r.strings(t, "allow", [&](const std::string& s, const toml::node& n) {
        if (auto ok = v.acl.add(s); !ok) r.error(n.source(), "'allow': " + ok.error());
      });
      if (v.acl.size() == 0) r.error(t->get("allow")->source(), "'allow' of view '" + v.name + "' lists nobody");
    } else if (!v.clients.empty()) {
      for (const auto& s : v.clients) (void)v.acl.add(s);
    } else {
      // Never an open resolver by accident: a VLAN is a network, not a list of clients.
      r.error(t->source(), "view '" + v.name + "' is matched by VLAN only: say who on it may query with 'allow'");
    }
    if (r.string(t, "pin_file", v.pin_file) == nullptr || v.pin_file.empty())
      r.error(t->source(), "view '" + v.name + "' needs 'pin_file' (its pinned upstreams)");
    v.pin_file = r.relative(v.pin_file);
    v.ca_file = c.ca_file;
    if (r.string(t, "ca_file", v.ca_file) != nullptr) v.ca_file = r.relative(v.ca_file);
    // Its own TOFU state (the default, derived from [tofu] state_file, is set with the control config).
    if (const toml::node* n = r.string(t, "tofu_state_file", v.tofu_state_file)) {
      if (v.tofu_state_file.empty()) r.error(n->source(), "'tofu_state_file' of view '" + v.name + "' must not be empty");
      v.tofu_state_file = r.relative(v.tofu_state_file);
    }
    v.policy = c.shard.policy;
    std::string policy;
    if (const toml::node* n = r.string(t, "policy", policy)) {
      if (policy == "round-robin") v.policy = tls::ShardOptions::Policy::kRoundRobin;
      else if (policy == "lowest-latency") v.policy = tls::ShardOptions::Policy::kLowestLatency;
      else r.error(n->source(), "'policy' of view '" + v.name + "' must be \"round-robin\" or \"lowest-latency\"");
    }
    v.cache = c.cache;
    r.integer(t, "cache_entries", v.cache.entries, 8, std::int64_t{1} << 26);
    std::size_t max_mib = v.cache.max_bytes >> 20;
    r.integer(t, "cache_max_mib", max_mib, 1, 65536);
    v.cache.max_bytes = max_mib << 20;
    r.integer(t, "inflight", v.inflight, 16, static_cast<std::int64_t>(c.inflight_per_lcore));
    // Its own rate limits: each key given replaces [ratelimit]'s for the view's clients.
    ViewRates rates{false, c.ratelimit.qps, c.ratelimit.burst, c.ratelimit.error_qps, c.ratelimit.error_burst};
    for (const char* key : {"ratelimit_qps", "ratelimit_burst", "ratelimit_error_qps", "ratelimit_error_burst"})
      rates.set = rates.set || t->contains(key);
    // A rate of its own without a burst of its own: one second's worth of that rate, not the burst
    // [ratelimit] sized for another rate.
    if (t->contains("ratelimit_qps") && !t->contains("ratelimit_burst")) rates.burst = 0;
    if (t->contains("ratelimit_error_qps") && !t->contains("ratelimit_error_burst")) rates.error_burst = 0;
    r.integer(t, "ratelimit_qps", rates.qps, 0, 10000000);
    r.integer(t, "ratelimit_burst", rates.burst, 0, 10000000);
    r.integer(t, "ratelimit_error_qps", rates.error_qps, 0, 10000000);
    r.integer(t, "ratelimit_error_burst", rates.error_burst, 0, 10000000);
    c.ratelimit.views.push_back(rates);
    if (v.vlan && c.tcp.any())
      r.error(t->get("vlan")->source(),
              "view '" + v.name +
                  "' is matched by VLAN: views by VLAN serve UDP only for now (the kernel that terminates TCP and DoT "
                  "cannot tell two VLANs' clients apart); set [tcp] enabled = false and leave out [dot], or match by "
                  "'clients'");
    for (const ViewConfig& earlier : c.views)
      if (!v.pin_file.empty() && same_file_key(earlier.pin_file) == same_file_key(v.pin_file))
        r.error(t->get("pin_file")->source(), "views '" + earlier.name + "' and '" + v.name +
                                                  "' name the same pin_file: a change of one would rewrite the other's pins");
    const auto index = static_cast<std::uint16_t>(c.views.size());
    if (auto ok = c.view_map.add(index, v.vlan, v.clients); !ok) {
      r.error(t->source(), ok.error());
    } else if (const std::uint16_t by = c.view_map.shadowed_by(index); by != ViewMap::kNoView) {
      // First match wins: a view whose every client an earlier view matches would never be
      // chosen, and its clients would silently get the earlier view's pool and cache.
      r.error(t->source(), "view '" + v.name + "' is never matched: the earlier view '" + c.views[by].name +
                               "' matches every client it could (first match wins; put the narrower view first)");
    }
    c.views.push_back(std::move(v));
  }
  const auto share = static_cast<std::uint32_t>(std::max<std::size_t>(16, c.inflight_per_lcore / std::max<std::size_t>(c.views.size(), 1)));
  for (ViewConfig& v : c.views)
    if (v.inflight == 0) v.inflight = share;
  c.view_map.build();
}

}  // namespace dotpin::dataplane
