// SPDX-License-Identifier: Apache-2.0
#include "control/daemon_config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>
#include <functional>

#include "common/endpoint.h"
#include "common/same_file.h"
#include "pinning/toml_reader.h"

namespace dotpin::ctl {
namespace {

void read_control_config(const toml::table& root, TomlReader& r, ControlConfig& c) {
  const toml::table* ups = r.section(root, "upstreams", {"pin_file"});
  if (root.contains("view")) {
    // Each view names its own pin file ([[view]] pin_file, read with the views).
    if (ups != nullptr && ups->contains("pin_file"))
      r.error(ups->get("pin_file")->source(), "with [[view]] sections each view has its own 'pin_file': remove "
                                              "[upstreams] pin_file");
  } else {
    if (ups == nullptr || r.string(ups, "pin_file", c.pin_file) == nullptr)
      r.error(ups ? ups->source() : root.source(), "[upstreams] needs 'pin_file' (the pinned DoT upstreams)");
    c.pin_file = r.relative(c.pin_file);
  }

  const toml::table* daemon = r.section(root, "daemon", {"log_level"});
  std::string level(to_string(c.log_level));
  if (const toml::node* n = r.string(daemon, "log_level", level)) {
    if (const auto l = log_level_from_string(level)) c.log_level = *l;
    else r.error(n->source(), "'log_level' must be one of error, warn, info, debug");
  }

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

  const toml::table* tofu = r.section(root, "tofu", {"state_file", "probe_timeout_ms"});
  if (const toml::node* n = r.string(tofu, "state_file", c.tofu_state_file); n && c.tofu_state_file.empty())
    r.error(n->source(), "'state_file' must not be empty");
  c.tofu_state_file = r.relative(c.tofu_state_file);
  r.millis(tofu, "probe_timeout_ms", c.tofu_probe_timeout, 100, 60000);

  const toml::table* dane = r.section(root, "dane", {"trust_anchor_file", "resolvers", "stubs", "timeout_ms",
                                                     "refresh_min_s", "refresh_max_s", "retry_s", "stale_s"});
  r.string(dane, "trust_anchor_file", c.dane_trust_anchor_file);
  c.dane_trust_anchor_file = r.relative(c.dane_trust_anchor_file);
  r.strings(dane, "resolvers", [&](const std::string& v, const toml::node& n) {
    const std::string host = v.substr(0, v.find('@'));
    if (auto ep = parse_endpoint(host, 53, false); !ep || v.empty()) r.error(n.source(), "'resolvers': '" + v + "' is not IP or IP@PORT");
    else c.dane_resolvers.push_back(v);
  });
  r.strings(dane, "stubs", [&](const std::string& v, const toml::node& n) {
    const auto eq = v.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == v.size()) {
      r.error(n.source(), "'stubs': '" + v + "' is not ZONE=IP[@PORT]");
      return;
    }
    c.dane_stubs.emplace_back(v.substr(0, eq), v.substr(eq + 1));
  });
  r.millis(dane, "timeout_ms", c.dane_timeout, 100, 60000);
  std::int64_t rmin = c.dane_refresh_min.count(), rmax = c.dane_refresh_max.count(), retry = c.dane_retry.count(),
               stale = c.dane_stale.count();
  r.integer(dane, "stale_s", stale, 0, 7 * 86400);
  c.dane_stale = std::chrono::seconds(stale);
  r.integer(dane, "refresh_min_s", rmin, 1, 86400);
  r.integer(dane, "refresh_max_s", rmax, 1, 86400);
  r.integer(dane, "retry_s", retry, 1, 86400);
  if (dane && rmax < rmin) r.error(dane->source(), "'refresh_max_s' is below 'refresh_min_s'");
  c.dane_refresh_min = std::chrono::seconds(rmin);
  c.dane_refresh_max = std::chrono::seconds(rmax);
  c.dane_retry = std::chrono::seconds(retry);

  const toml::table* control = r.section(root, "control", {"socket", "group", "metrics"});
  if (const toml::node* n = r.string(control, "socket", c.socket); n && c.socket.empty())
    r.error(n->source(), "'socket' must not be empty");
  c.socket = r.relative(c.socket);
  r.string(control, "group", c.group);
  if (const toml::node* n = r.string(control, "metrics", c.metrics); n && !c.metrics.empty())
    if (auto ep = parse_endpoint(c.metrics, 9853, false); !ep) r.error(n->source(), "'metrics': " + ep.error());
}

/// Each view's TOFU state file: its own tofu_state_file, or [tofu] state_file with ".NAME" before
/// the extension. Two views sharing one (or a state file on another file dotpind reads or writes)
/// would let a key learned for one tenant's upstream admit a server to another's of the same name,
/// or let one write destroy the other file.
void assign_view_state_files(const toml::table& root, TomlReader& r, DaemonConfig& c) {
  if (!c.dataplane.explicit_views) {
    if (!c.dataplane.views.empty()) c.dataplane.views[0].tofu_state_file = c.control.tofu_state_file;
    return;
  }
  const toml::array* tables = root.get("view") ? root.get("view")->as_array() : nullptr;
  auto& views = c.dataplane.views;
  for (auto& v : views)
    if (v.tofu_state_file.empty()) {
      const std::filesystem::path base(c.control.tofu_state_file);
      v.tofu_state_file =
          (base.parent_path() / (base.stem().string() + "." + v.name + base.extension().string())).string();
    }
  // What every view's state file must not be: another view's state file (or its FILE.prev, which
  // each atomic write replaces), any view's pin file (or its .prev) or CA file.
  struct Taken {
    std::string key, what;
    std::size_t view;
  };
  std::vector<Taken> taken;
  for (std::size_t j = 0; j < views.size(); ++j) {
    const auto& w = views[j];
    taken.push_back({same_file_key(w.pin_file), "view '" + w.name + "''s pin_file", j});
    taken.push_back({same_file_key(w.pin_file + ".prev"), "view '" + w.name + "''s pin_file backup", j});
    if (!w.ca_file.empty()) taken.push_back({same_file_key(w.ca_file), "view '" + w.name + "''s ca_file", j});
  }
  for (std::size_t i = 0; i < views.size(); ++i) {
    const auto& v = views[i];
    const toml::table* t = tables != nullptr && i < tables->size() ? tables->get(i)->as_table() : nullptr;
    const toml::source_region where =
        t == nullptr ? root.source() : (t->get("tofu_state_file") ? t->get("tofu_state_file")->source() : t->source());
    const std::string mine = same_file_key(v.tofu_state_file);
    for (std::size_t j = 0; j < i; ++j) {
      if (same_file_key(views[j].tofu_state_file) == mine)
        r.error(where, "views '" + views[j].name + "' and '" + v.name + "' name the same tofu_state_file " +
                           v.tofu_state_file + ": a key learned for one would admit servers to the other");
      else if (same_file_key(views[j].tofu_state_file + ".prev") == mine ||
               same_file_key(views[j].tofu_state_file) == same_file_key(v.tofu_state_file + ".prev"))
        r.error(where, "view '" + v.name + "': tofu_state_file " + v.tofu_state_file + " and view '" + views[j].name +
                           "''s are one file and its backup (FILE.prev)");
    }
    for (const Taken& x : taken)
      if (x.key == mine) r.error(where, "view '" + v.name + "': tofu_state_file " + v.tofu_state_file + " is " + x.what);
  }
}

}  // namespace

ConfigResult parse_config(std::string_view text, const std::string& source) {
  ConfigResult result;
  TomlReader r(source);
  DaemonConfig c;
  c.source = source;
  if (auto root = parse_toml(text, r)) {
    dataplane::read_dataplane_config(*root, r, c.dataplane);
    read_control_config(*root, r, c.control);
    if (!c.dataplane.explicit_views && !c.dataplane.views.empty()) c.dataplane.views[0].pin_file = c.control.pin_file;
    assign_view_state_files(*root, r, c);
    r.check_unknown(*root);
  }
  result.errors = r.take();
  if (result.errors.empty()) result.config = std::move(c);
  return result;
}

ConfigResult load_config(const std::string& path) {
  TomlReader r(path);
  if (auto text = read_config_file(path, r)) return parse_config(*text, path);
  return {std::nullopt, r.take()};
}

}  // namespace dotpin::ctl
