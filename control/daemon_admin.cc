// SPDX-License-Identifier: Apache-2.0
#include "control/daemon_admin.h"

#include "pinning/pin_lint.h"
#include "pinning/pem.h"

#include <fstream>
#include <sstream>

#include "common/dns_wire.h"
#include "common/time_util.h"
#include "control/daemon_log.h"
#include "control/pin_edit.h"
#include "pinning/pin_file.h"
#include "pinning/pin_file_writer.h"

namespace dotpin::ctl {
namespace {

constexpr std::chrono::milliseconds kLcoreWait{2000};

std::optional<std::string> option(const Request& r, const std::string& name) {
  const auto it = r.options.find(name);
  if (it == r.options.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

Result<std::optional<UnixTime>> date_option(const Request& r, const std::string& name) {
  const auto v = option(r, name);
  if (!v) return std::optional<UnixTime>{};
  const auto t = parse_utc(*v);
  if (!t) return fail("--", name, " '", *v, "': expected a date (2027-03-01) or UTC time (2027-03-01T00:00:00Z)");
  return std::optional<UnixTime>{*t};
}

Status need_args(const Request& r, std::size_t n, std::string_view usage) {
  if (r.args.size() != n) return fail("usage: ", std::string(usage));
  return ok_status();
}

std::string lcore_list(const std::vector<unsigned>& ids) {
  std::string s;
  for (const unsigned id : ids) s += (s.empty() ? "" : ", ") + std::to_string(id);
  return s;
}

}  // namespace

void DaemonAdmin::register_commands(ControlServer& server) {
  server.handle("pins list", [this](const Request& r) { return pins_list(r); });
  server.handle("pins reload", [this](const Request& r) { return pins_reload(r); });
  server.handle("pins add", [this](const Request& r) { return pins_add(r); });
  server.handle("pins remove", [this](const Request& r) { return pins_remove(r); });
  server.handle("cache flush", [this](const Request& r) { return cache_flush(r); });
  server.handle("upstream drain", [this](const Request& r) { return upstream_set(r, true); });
  server.handle("upstream enable", [this](const Request& r) { return upstream_set(r, false); });
  server.handle("log level", [this](const Request& r) { return log_level(r); });
}

void register_expiry_command(ControlServer& server, ExpiryMonitor& monitor) {
  server.handle("expiry", [&monitor](const Request& r) -> Result<nlohmann::json> {
    if (!r.args.empty()) return fail("usage: expiry [--refresh]");
    // --refresh probes every upstream now (bounded by [expiry] probe_timeout_ms each).
    return expiry_json(r.options.contains("refresh") ? monitor.check_now() : monitor.items());
  });
}

Result<nlohmann::json> DaemonAdmin::pins_list(const Request& r) {
  if (auto ok = need_args(r, 0, "pins list"); !ok) return Error{ok.error()};
  nlohmann::json j = pins_json(*appliance_.pins(), now_utc());
  j["pin_file"] = appliance_.config().pin_file;
  return j;
}

Result<nlohmann::json> DaemonAdmin::commit(PinTable table, const std::string& text, const std::string& what) {
  const std::string& path = appliance_.config().pin_file;
  if (const auto trust = trust_profile_errors(table, !appliance_.config().ca_file.empty()); !trust.empty()) {
    std::string msg = "refused; the pins in force are unchanged:";
    for (const auto& d : trust) msg += "\n  " + d.to_string();
    return fail(msg);
  }
  if (!text.empty()) {
    // Persist first: if the file cannot be written, nothing changes (a restart would lose it).
    if (auto w = replace_file_atomically(path, text); !w) return fail("pin file not written, nothing changed: ", w.error());
  }
  table.source = path;
  const std::size_t upstreams = table.upstreams.size();
  auto published = appliance_.publish_pins(std::move(table), kLcoreWait);
  nlohmann::json j;
  if (!published) {
    // Published and persisted, but an lcore is slow to pick it up: say so, it is not a failure to change.
    log_warn("pins: " + what + ": " + published.error());
    j["warning"] = published.error();
  }
  const auto snap = appliance_.pins();
  log_info("pins: " + what + "; generation " + std::to_string(snap->generation) + " in force (" +
           std::to_string(upstreams) + " upstream(s))");
  j["generation"] = snap->generation;
  j["pin_file"] = path;
  j["change"] = what;
  j["adopted_by_all_lcores"] = static_cast<bool>(published);
  return j;
}

Result<nlohmann::json> DaemonAdmin::pins_reload(const Request& r) {
  std::lock_guard lock(mu_);
  if (r.args.size() > 1) return fail("usage: pins reload [FILE]");
  const std::string& configured = appliance_.config().pin_file;
  const std::string file = r.args.empty() ? configured : r.args[0];
  // Read once: what is validated is exactly what is saved and published.
  auto bytes = read_file(file);
  if (!bytes) return fail(bytes.error(), "; the pins in force are unchanged");
  PinFileResult loaded = parse_pin_file(*bytes, file);
  if (!loaded.table) {
    std::string msg = file + " rejected (" + std::to_string(loaded.errors.size()) + " error(s)); the pins in force are unchanged:";
    for (const auto& d : loaded.errors) msg += "\n  " + d.to_string();
    log_warn("pins reload: " + file + " rejected; generation " + std::to_string(appliance_.pins()->generation) + " stays in force");
    return fail(msg);
  }
  std::string text;
  // Another file: it becomes the configured pin file's content (comments and all) so that a
  // restart loads what is in force.
  if (file != configured) text = std::move(*bytes);
  return commit(std::move(*loaded.table), text, "reloaded from " + file);
}

Result<nlohmann::json> DaemonAdmin::pins_add(const Request& r) {
  std::lock_guard lock(mu_);
  if (auto ok = need_args(r, 2, "pins add UPSTREAM PIN [--label L] [--not-before DATE] [--not-after DATE]"); !ok)
    return Error{ok.error()};
  PinToAdd add{r.args[0], r.args[1], option(r, "label").value_or(""), {}, {}};
  auto nb = date_option(r, "not-before");
  if (!nb) return Error{nb.error()};
  auto na = date_option(r, "not-after");
  if (!na) return Error{na.error()};
  add.not_before = *nb;
  add.not_after = *na;
  const auto now = now_utc();
  auto changed = with_pin_added(appliance_.pins()->table, add, now);
  if (!changed) return Error{changed.error()};
  auto checked = check_table(*changed, appliance_.config().pin_file, now);
  if (!checked) return Error{checked.error()};
  return commit(std::move(checked->table), checked->text,
                "pin " + (add.label.empty() ? add.sha256.substr(0, 8) + "..." : "'" + add.label + "'") +
                    " added to upstream " + add.upstream);
}

Result<nlohmann::json> DaemonAdmin::pins_remove(const Request& r) {
  std::lock_guard lock(mu_);
  if (auto ok = need_args(r, 2, "pins remove UPSTREAM PIN|LABEL [--force]"); !ok) return Error{ok.error()};
  const auto now = now_utc();
  auto changed = with_pin_removed(appliance_.pins()->table, r.args[0], r.args[1], r.options.contains("force"), now);
  if (!changed) return Error{changed.error()};
  auto checked = check_table(*changed, appliance_.config().pin_file, now);
  if (!checked) return Error{checked.error()};
  return commit(std::move(checked->table), checked->text, "pin " + r.args[1] + " removed from upstream " + r.args[0]);
}

Result<nlohmann::json> DaemonAdmin::cache_flush(const Request& r) {
  if (r.args.size() > 1) return fail("usage: cache flush [NAME]");
  std::vector<std::uint8_t> name;
  std::string shown = "every name";
  if (!r.args.empty()) {
    // The name in lower-case wire format, as cache keys hold it.
    auto q = dns::build_query(r.args[0], 1, {});
    if (!q) return fail("'", r.args[0], "' is not a domain name: ", q.error());
    std::uint8_t folded[dns::kMaxNameLen];
    dns::WireCursor rd(*q, dns::kHeaderLen);
    name.assign(folded, folded + rd.read_name(folded, /*fold=*/true));
    shown = r.args[0];
  }
  auto removed = std::make_shared<std::atomic<std::uint64_t>>(0);
  const auto late = appliance_.on_each_worker(
      [name, removed](dataplane::Worker& w) { removed->fetch_add(w.flush_cache(name)); }, kLcoreWait);
  if (!late.empty()) return fail("lcore(s) ", lcore_list(late), " did not answer in time; their caches may still hold ", shown);
  log_info("cache flush: " + shown + ": " + std::to_string(removed->load()) + " entries removed");
  return nlohmann::json{{"name", r.args.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.args[0])},
                        {"removed", removed->load()},
                        {"lcores", appliance_.worker_count()}};
}

Result<nlohmann::json> DaemonAdmin::upstream_set(const Request& r, bool drained) {
  if (auto ok = need_args(r, 1, drained ? "upstream drain NAME" : "upstream enable NAME"); !ok) return Error{ok.error()};
  const std::string name = r.args[0];
  if (auto known = require_upstream(appliance_.pins()->table, name); !known) return Error{known.error()};
  const auto late = appliance_.on_each_worker([name, drained](dataplane::Worker& w) { w.set_upstream_drained(name, drained); },
                                              kLcoreWait);
  if (!late.empty()) return fail("lcore(s) ", lcore_list(late), " did not answer in time");
  log_info("upstream " + name + (drained ? ": drained (no new queries; open connections finish theirs)" : ": enabled"));
  // Not persisted: a drain is an operational state; a restart starts with every upstream enabled.
  return nlohmann::json{{"upstream", name}, {"state", drained ? "drained" : "enabled"}};
}

Result<nlohmann::json> DaemonAdmin::log_level(const Request& r) {
  if (r.args.size() > 1) return fail("usage: log level [error|warn|info|debug]");
  auto& log = DaemonLog::instance();
  const std::string before(to_string(log.level()));
  if (!r.args.empty()) {
    const auto level = dataplane::log_level_from_string(r.args[0]);
    if (!level) return fail("unknown log level '", r.args[0], "' (error, warn, info, debug)");
    log_info("log level " + before + " -> " + r.args[0]);  // before the change: always seen at info
    log.set_level(*level);
  }
  return nlohmann::json{{"level", std::string(to_string(log.level()))}, {"previous", before}};
}

}  // namespace dotpin::ctl
