// SPDX-License-Identifier: Apache-2.0
#include "control/daemon_admin.h"

#include "control/view_prefix.h"

#include "pinning/pin_lint.h"
#include "pinning/pem.h"

#include <fstream>
#include <sstream>

#include "common/dns_wire.h"
#include "common/time_util.h"
#include "control/daemon_log.h"
#include "control/pin_edit.h"
#include "control/replies.h"
#include "control/view_select.h"
#include "pinning/pin_file.h"
#include "pinning/pin_file_writer.h"
#include "pinning/spki_pin.h"

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

std::string lcore_list(const std::vector<unsigned>& ids) {
  std::string s;
  for (const unsigned id : ids) s += (s.empty() ? "" : ", ") + std::to_string(id);
  return s;
}

SourceStatusReply source_status_reply(const SourceStatus& s) {
  SourceStatusReply r;
  if (!s.view.empty()) r.view = s.view;
  r.upstream = s.upstream;
  r.source = s.source;
  r.state = s.state;
  r.detail = s.detail;
  if (s.last_attempt != UnixTime{}) r.last_attempt = format_utc(s.last_attempt);
  if (s.last_success != UnixTime{}) r.last_success = format_utc(s.last_success);
  r.attempts = s.attempts;
  r.successes = s.successes;
  r.failures = s.failures;
  r.last_ms = static_cast<double>(s.last_wall.count()) / 1e3;
  r.last_cpu_ms = static_cast<double>(s.last_cpu.count()) / 1e3;
  if (s.rrsig_expiration) r.rrsig_expiration = format_utc(*s.rrsig_expiration);
  r.ttl = s.ttl;
  r.records = s.records;
  return r;
}

}  // namespace

void DaemonAdmin::register_commands(ControlServer& server) {
  server.handle("pins list", [this](const Request& r) { return pins_list(r); });
  server.handle("pins reload", [this](const Request& r) { return pins_reload(r); });
  server.handle("pins add", [this](const Request& r) { return pins_add(r); });
  server.handle("pins remove", [this](const Request& r) { return pins_remove(r); });
  server.handle("pins accept", [this](const Request& r) { return pins_accept(r); });
  server.handle("pins forget", [this](const Request& r) { return pins_forget(r); });
  server.handle("pins sources", [this](const Request& r) { return pins_sources(r); });
  server.handle("cache flush", [this](const Request& r) { return cache_flush(r); });
  server.handle("upstream drain", [this](const Request& r) { return upstream_set(r, true); });
  server.handle("upstream enable", [this](const Request& r) { return upstream_set(r, false); });
  server.handle("log level", [this](const Request& r) { return log_level(r); });
}

void register_expiry_command(ControlServer& server, ExpiryMonitor& monitor, const dataplane::DataPlane* dataplane) {
  server.handle("expiry", [&monitor, dataplane](const Request& r) -> Result<nlohmann::json> {
    std::string prefix;  // with views and --view: that view's upstreams (VIEW/UPSTREAM)
    if (dataplane != nullptr) {
      const auto views = dataplane->views();
      const auto view = select_view(views, r, /*every_allowed=*/true);
      if (!view) return Error{view.error()};
      if (*view != kEveryView && explicit_views(views)) prefix = views[*view].name + "/";
    }
    // --refresh probes every upstream now (bounded by [expiry] probe_timeout_ms each).
    auto items = r.options.contains("refresh") ? monitor.check_now() : monitor.items();
    if (!prefix.empty())
      std::erase_if(items, [&](const ExpiryItem& i) { return i.upstream.compare(0, prefix.size(), prefix) != 0; });
    return expiry_json(items);
  });
}

Result<std::size_t> DaemonAdmin::view_of(const Request& r) const {
  auto v = select_view(dataplane_.views(), r);
  if (!v) return Error{v.error()};
  if (*v >= publishers_.size()) return fail("view ", std::to_string(*v), " has no pin publisher");
  return *v;
}

Result<PinSources*> DaemonAdmin::sources_of(const Request& r) const {
  const auto v = view_of(r);
  if (!v) return Error{v.error()};
  if (*v >= sources_.size() || sources_[*v] == nullptr) return fail("this dotpind learns no pins");
  return sources_[*v];
}

std::string DaemonAdmin::view_prefix(std::size_t view) const {
  const auto views = dataplane_.views();
  return view < views.size() ? ctl::view_prefix(views[view].name, explicit_views(views)) : std::string();
}

Result<nlohmann::json> DaemonAdmin::pins_list(const Request& r) {
  const auto v = view_of(r);
  if (!v) return Error{v.error()};
  PinsReply reply = pins_reply(*dataplane_.pins(*v), now_utc());
  reply.pin_file = publishers_[*v]->options().pin_file;
  return nlohmann::json(reply);
}

Result<nlohmann::json> DaemonAdmin::commit(PinPublisher& publisher, PinTable table, const std::string& text,
                                           const std::string& what, const Request& r) {
  // The one rule (pin_safety.h): a change that strands an upstream or the pool needs --force.
  auto reply = publisher.replace_file(std::move(table), text, what, r.options.contains("force"));
  if (!reply) return Error{reply.error()};
  return nlohmann::json(*reply);
}

Result<nlohmann::json> DaemonAdmin::pins_reload(const Request& r) {
  std::lock_guard lock(mu_);
  const auto v = view_of(r);
  if (!v) return Error{v.error()};
  PinPublisher& publisher = *publishers_[*v];
  const std::string& configured = publisher.options().pin_file;
  const std::string file = r.args.empty() ? configured : r.args[0];
  // Read once: what is validated is exactly what is saved and published.
  auto bytes = read_file(file);
  if (!bytes) return fail(bytes.error(), "; the pins in force are unchanged");
  PinFileResult loaded = parse_pin_file(*bytes, file);
  if (!loaded.table) {
    std::string msg = file + " rejected (" + std::to_string(loaded.errors.size()) + " error(s)); the pins in force are unchanged:";
    for (const auto& d : loaded.errors) msg += "\n  " + d.to_string();
    log_warn(view_prefix(*v) + "pins reload: " + file + " rejected; generation " +
             std::to_string(dataplane_.pins(*v)->generation) + " stays in force");
    return fail(msg);
  }
  std::string text;
  // Another file: it becomes the configured pin file's content (comments and all) so that a
  // restart loads what is in force.
  if (file != configured) text = std::move(*bytes);
  return commit(publisher, std::move(*loaded.table), text, view_prefix(*v) + "reloaded from " + file, r);
}

Result<nlohmann::json> DaemonAdmin::pins_add(const Request& r) {
  std::lock_guard lock(mu_);
  const auto v = view_of(r);
  if (!v) return Error{v.error()};
  PinPublisher& publisher = *publishers_[*v];
  PinToAdd add{r.args[0], r.args[1], option(r, "label").value_or(""), {}, {}};
  auto nb = date_option(r, "not-before");
  if (!nb) return Error{nb.error()};
  auto na = date_option(r, "not-after");
  if (!na) return Error{na.error()};
  add.not_before = *nb;
  add.not_after = *na;
  const auto now = now_utc();
  auto changed = with_pin_added(publisher.file_table(), add, now);
  if (!changed) return Error{changed.error()};
  auto checked = check_table(*changed, publisher.options().pin_file, now);
  if (!checked) return Error{checked.error()};
  return commit(publisher, std::move(checked->table), checked->text,
                view_prefix(*v) + "pin " + (add.label.empty() ? add.sha256.substr(0, 8) + "..." : "'" + add.label + "'") +
                    " added to upstream " + add.upstream,
                r);
}

Result<nlohmann::json> DaemonAdmin::pins_remove(const Request& r) {
  std::lock_guard lock(mu_);
  const auto v = view_of(r);
  if (!v) return Error{v.error()};
  PinPublisher& publisher = *publishers_[*v];
  const auto now = now_utc();
  auto changed = with_pin_removed(publisher.file_table(), r.args[0], r.args[1]);
  if (!changed) return Error{changed.error()};
  auto checked = check_table(*changed, publisher.options().pin_file, now);
  if (!checked) return Error{checked.error()};
  return commit(publisher, std::move(checked->table), checked->text,
                view_prefix(*v) + "pin " + r.args[1] + " removed from upstream " + r.args[0], r);
}

Result<nlohmann::json> DaemonAdmin::pins_accept(const Request& r) {
  std::lock_guard lock(mu_);
  const auto sources = sources_of(r);
  if (!sources) return Error{sources.error()};
  const std::string& name = r.args[0];
  // The key to accept is always the operator's own --pin, checked out of band: never "whatever
  // was refused last" (an attacker can make any key the last refused one) nor "whatever answers now".
  const auto p = option(r, "pin");
  if (!p) return fail("give the key to accept with --pin (the observed pin of the tofu_changed refusal, checked out of band)");
  std::string why;
  const auto expected = parse_pin_base64(*p, &why);
  if (!expected) return fail("--pin '", *p, "': ", why);
  auto reply = (*sources)->accept(name, *expected);
  if (!reply) return Error{reply.error()};
  return nlohmann::json(*reply);
}

Result<nlohmann::json> DaemonAdmin::pins_forget(const Request& r) {
  std::lock_guard lock(mu_);
  const auto sources = sources_of(r);
  if (!sources) return Error{sources.error()};
  auto reply = (*sources)->forget(r.args[0], r.options.contains("force"));
  if (!reply) return Error{reply.error()};
  return nlohmann::json(*reply);
}

Result<nlohmann::json> DaemonAdmin::pins_sources(const Request& r) {
  // Without --view on an appliance with views: every view's (each row names its view).
  const auto view = select_view(dataplane_.views(), r, /*every_allowed=*/true);
  if (!view) return Error{view.error()};
  PinSourcesReply reply;
  for (std::size_t i = 0; i < sources_.size(); ++i)
    if (sources_[i] != nullptr && (*view == kEveryView || *view == i))
      for (const SourceStatus& s : sources_[i]->status()) reply.upstreams.push_back(source_status_reply(s));
  return nlohmann::json(reply);
}

Result<nlohmann::json> DaemonAdmin::cache_flush(const Request& r) {
  const auto view = select_view(dataplane_.views(), r, /*every_allowed=*/true);
  if (!view) return Error{view.error()};
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
  dataplane::FlushCache flush{std::move(name)};
  if (*view != kEveryView) {
    flush.view = *view;
    shown = view_prefix(*view) + shown;
  }
  const auto done = dataplane_.execute(flush, kLcoreWait);
  if (!done.late.empty())
    return fail("lcore(s) ", lcore_list(done.late), " did not answer in time; their caches may still hold ", shown);
  log_info("cache flush: " + shown + ": " + std::to_string(done.total) + " entries removed");
  return nlohmann::json(CacheFlushReply{r.args.empty() ? std::nullopt : std::optional<std::string>(r.args[0]), done.total,
                                        dataplane_.worker_count()});
}

Result<nlohmann::json> DaemonAdmin::upstream_set(const Request& r, bool drained) {
  const std::string name = r.args[0];
  const auto view = select_view(dataplane_.views(), r);
  if (!view) return Error{view.error()};
  if (auto known = require_upstream(dataplane_.pins(*view)->table, name); !known) return Error{known.error()};
  const auto done = dataplane_.execute(dataplane::SetUpstreamDrained{name, drained, *view}, kLcoreWait);
  if (!done.late.empty()) return fail("lcore(s) ", lcore_list(done.late), " did not answer in time");
  log_info(view_prefix(*view) + "upstream " + name + (drained ? ": drained (no new queries; open connections finish theirs)" : ": enabled"));
  // Not persisted: a drain is an operational state; a restart starts with every upstream enabled.
  return nlohmann::json(UpstreamStateReply{name, drained ? "drained" : "enabled"});
}

Result<nlohmann::json> DaemonAdmin::log_level(const Request& r) {
  auto& log = DaemonLog::instance();
  const std::string before(to_string(log.level()));
  if (!r.args.empty()) {
    const auto level = log_level_from_string(r.args[0]);
    if (!level) return fail("unknown log level '", r.args[0], "' (error, warn, info, debug)");
    log_info("log level " + before + " -> " + r.args[0]);  // before the change: always seen at info
    log.set_level(*level);
  }
  return nlohmann::json(LogLevelReply{std::string(to_string(log.level())), before});
}

}  // namespace dotpin::ctl
