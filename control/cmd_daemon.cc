// SPDX-License-Identifier: Apache-2.0
// dotpinctl status | stats | upstreams | pins list|reload|add|remove | cache flush | upstream
// drain|enable | log level | expiry: ask the running dotpind over its control socket and print the
// answer as tables (or the daemon's JSON with --json).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <sstream>

#include "control/command.h"
#include "control/control_server.h"
#include "control/replies.h"
#include "dataplane/busy_share.h"
#include "tls/upstream_stats.h"

namespace dotpin::ctl {
namespace {

std::string socket_path(const Invocation& inv) {
  if (auto s = inv.value("socket")) return *s;
  if (const char* env = std::getenv("DOTPIN_SOCKET"); env && *env) return env;
  return kDefaultSocket;
}

/// Sends the invocation as a request; on success leaves the result in @p out.
bool ask(Invocation& inv, std::string_view command, nlohmann::json& out, int& status) {
  Request r;
  r.command = std::string(command);
  r.args = inv.args;
  for (const auto& [k, v] : inv.options)
    if (k != "socket") r.options[k] = v;
  auto reply = call(socket_path(inv), r);
  if (!reply) {
    status = report_error(inv, command, reply.error());
    return false;
  }
  out = std::move(*reply);
  if (inv.json) {
    inv.out << nlohmann::json{{"ok", true}, {"result", out}}.dump(2) << "\n";
    status = kExitOk;
    return false;
  }
  return true;
}

/// ask(), then the reply as @p T (replies.h); a reply this dotpinctl cannot read is an error that
/// names the missing or mistyped field.
template <class T>
bool ask_typed(Invocation& inv, std::string_view command, T& out, int& status) {
  nlohmann::json r;
  if (!ask(inv, command, r, status)) return false;
  try {
    r.get_to(out);
  } catch (const nlohmann::json::exception& e) {
    status = report_error(inv, command, std::string("unexpected reply from dotpind: ") + e.what());
    return false;
  }
  return true;
}

std::string cell(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) {
    std::ostringstream s;
    s << std::fixed << std::setprecision(1) << v.get<double>();
    return s.str();
  }
  return v.dump();
}

/// A table: header row, then rows; columns padded to their widest cell.
void print_table(std::ostream& out, const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> w(head.size());
  for (std::size_t i = 0; i < head.size(); ++i) w[i] = head[i].size();
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], r[i].size());
  auto line = [&](const std::vector<std::string>& r) {
    for (std::size_t i = 0; i < r.size(); ++i) out << std::left << std::setw(static_cast<int>(w[i] + 2)) << r[i];
    out << "\n";
  };
  line(head);
  for (const auto& r : rows) line(r);
}

std::string ms(double v) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(1) << v;
  return s.str();
}

void print_upstreams(std::ostream& out, const std::vector<UpstreamReply>& ups, bool details) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& u : ups) {
    std::string failures;
    for (const auto& [reason, n] : u.failures)
      if (n > 0) failures += (failures.empty() ? "" : ",") + reason + "=" + std::to_string(n);
    auto n = [&u](const char* name) { return std::to_string(u.counter(name)); };
    rows.push_back({u.name, u.address, u.state, n("connections"), n("queries"), n("answers"), n("timeouts"),
                    n("servfails"), n("full_handshakes"), n("resumptions"), ms(u.latency.p50_ms), ms(u.latency.p99_ms),
                    ms(u.latency.max_ms), failures.empty() ? "-" : failures});
  }
  print_table(out, {"UPSTREAM", "ADDRESS", "STATE", "CONNS", "QUERIES", "ANSWERS", "TIMEOUTS", "SERVFAILS", "FULL_HS",
                    "RESUMED", "P50_MS", "P99_MS", "MAX_MS", "FAILURES"},
              rows);
  if (!details) return;
  for (const auto& u : ups) {
    // Every other counter of the field table, non-zero ones only.
    std::string more;
    for (const auto& f : tls::kUpstreamCounters) {
      static constexpr std::string_view kInTable[] = {"connections", "queries",         "answers",    "timeouts",
                                                      "servfails",   "full_handshakes", "resumptions"};
      if (std::find(std::begin(kInTable), std::end(kInTable), f.name) != std::end(kInTable)) continue;
      if (const auto v = u.counter(std::string(f.name))) more += " " + std::string(f.name) + "=" + std::to_string(v);
    }
    if (!more.empty()) out << u.name << ":" << more << "\n";
  }
  for (const auto& u : ups)
    if (u.last_refusal) {
      const auto& lr = *u.last_refusal;
      out << "\n" << u.name << ": last refused chain (" << cell(lr["reason"]) << ", " << cell(lr["at"])
          << "), observed pins:\n";
      std::size_t k = 0;
      for (const auto& p : lr["chain"]) {
        out << "  [" << k++ << "] " << (p["pin"].is_null() ? std::string("unparsable") : cell(p["pin"]));
        if (p["anchor"].get<bool>()) out << " (trust anchor)";
        else if (!p["on_path"].get<bool>()) out << " (not on the path: " << cell(p["off_path"]) << ")";
        out << "\n";
      }
    }
}

}  // namespace

int run_status(Invocation& inv) {
  StatusReply r;
  int status = kExitOk;
  if (!ask_typed(inv, "status", r, status)) return status;
  inv.out << "dotpind " << r.version << ", up " << r.uptime_s << " s (since " << r.started_at << ")\n"
          << "port " << r.port.name << " (MAC " << r.port.mac << ", " << r.port.queues << " queue(s)"
          << (r.port.rss ? ", RSS" : "") << "), " << r.worker_lcores << " worker lcore(s)\n"
          ;
  if (r.views.empty()) {
    inv.out << "pins: generation " << r.pin_generation << " from " << r.pin_file << ", " << r.upstreams << " upstream(s)\n";
    return kExitOk;
  }
  inv.out << r.views.size() << " views (first match wins), " << r.upstreams << " upstream(s) in all:\n";
  for (const ViewReply& v : r.views) {
    std::string match;
    if (v.vlan) match = "vlan " + std::to_string(*v.vlan);
    for (const auto& c : v.clients) match += (match.empty() ? "" : " ") + c;
    inv.out << "  view " << v.name << ": " << match << "; pins generation " << v.pin_generation << " from "
            << v.pin_file << ", " << v.upstreams << " upstream(s), " << v.policy << "\n";
  }
  return kExitOk;
}

int run_upstreams(Invocation& inv) {
  UpstreamsReply r;
  int status = kExitOk;
  if (!ask_typed(inv, "upstreams", r, status)) return status;
  print_upstreams(inv.out, r.upstreams, false);
  return kExitOk;
}

std::uint64_t total_counter(const StatsReply& r, const char* name) {
  const auto it = r.total_counters.find(name);
  return it == r.total_counters.end() ? std::uint64_t{0} : it->second;
}

int run_stats(Invocation& inv) {
  StatsReply r;
  int status = kExitOk;
  if (!ask_typed(inv, "stats", r, status)) return status;
  std::vector<std::vector<std::string>> rows;
  // BUSY: the share of the loop's cycles spent in passes that did something; CPU/Q: those
  // cycles per query (what the work cost, comparable with a kernel resolver's CPU time).
  auto busy = [&r](std::uint64_t busy_cycles, std::uint64_t idle_cycles, const std::map<std::string, std::uint64_t>& c) {
    const auto q = c.find("queries");
    const auto b = dataplane::busy_share(busy_cycles, idle_cycles, q == c.end() ? 0 : q->second, r.tsc_hz);
    char pct[16], ns[24];
    std::snprintf(pct, sizeof pct, "%.1f%%", b.busy_fraction * 100);
    if (b.ns_per_query) std::snprintf(ns, sizeof ns, "%.0f ns", *b.ns_per_query);
    else std::snprintf(ns, sizeof ns, "-");
    return std::pair<std::string, std::string>{pct, ns};
  };
  auto row = [&busy](const std::string& who, const std::map<std::string, std::uint64_t>& c,
                     const std::map<std::string, std::uint64_t>& d, const std::string& entries,
                     std::uint64_t busy_cycles, std::uint64_t idle_cycles) {
    const auto [pct, ns] = busy(busy_cycles, idle_cycles, c);
    std::uint64_t dropped = 0;
    for (const auto& [_, n] : d) dropped += n;
    auto n = [&c](const char* name) {
      const auto it = c.find(name);
      return it == c.end() ? std::string("-") : std::to_string(it->second);
    };
    return std::vector<std::string>{who, n("rx_packets"), n("queries"), n("cache_hits"), n("cache_misses"),
                                    n("forwarded"), n("merged"), n("upstream_servfails"), n("acl_refused"),
                                    std::to_string(dropped), entries, pct, ns};
  };
  std::uint64_t busy_total = 0, idle_total = 0;
  for (const auto& l : r.lcores) {
    rows.push_back(row("lcore " + std::to_string(l.lcore) + (l.running ? "" : " (stopped)"), l.counters, l.drops,
                       std::to_string(l.cache.entries), l.cycles.busy, l.cycles.idle));
    busy_total += l.cycles.busy;
    idle_total += l.cycles.idle;
  }
  rows.push_back(row("total", r.total_counters, r.total_drops, "-", busy_total, idle_total));
  print_table(inv.out, {"", "RX", "QUERIES", "HITS", "MISSES", "FORWARDED", "MERGED", "SERVFAIL", "ACL_REFUSED", "DROPPED",
                        "CACHED", "BUSY", "CPU/Q"},
              rows);
  std::string drops;
  for (const auto& [reason, n] : r.total_drops)
    if (n > 0) drops += " " + reason + "=" + std::to_string(n);
  if (!drops.empty()) inv.out << "drops:" << drops << "\n";
  if (const PortStatsReply& p = r.port; p.available) {
    // Lost where no lcore counter can see it: in the port (queue full, no mbuf) or the kernel side.
    inv.out << "port: " << dataplane::to_text(p) << "\n";
  }
  {
    auto total = [&r](const char* name) {
      const auto it = r.total_counters.find(name);
      return it == r.total_counters.end() ? std::uint64_t{0} : it->second;
    };
    const std::uint64_t held = total("ratelimited") + total("ratelimit_slipped") + total("rrl_dropped") + total("rrl_slipped");
    if (held > 0 || !r.ratelimit_top.empty()) {
      inv.out << "rate limits: queries dropped " << total("ratelimited") << ", slipped " << total("ratelimit_slipped")
              << "; error responses dropped " << total("rrl_dropped") << ", slipped " << total("rrl_slipped");
      if (!r.ratelimit_top.empty()) {
        inv.out << "; most limited:";
        for (const LimitedPrefixReply& t : r.ratelimit_top) inv.out << " " << t.prefix << "=" << t.limited;
      }
      inv.out << "\n";
    }
  }
  if (r.tcp.enabled) {
    // DNS over TCP for clients: connections, then every reason one was refused or closed.
    auto tcp = [&r](const char* name) {
      const auto it = r.tcp.counters.find(name);
      return it == r.tcp.counters.end() ? std::uint64_t{0} : it->second;
    };
    inv.out << "tcp: connections open " << r.tcp.active << ", accepted " << tcp("accepted") << "; queries "
            << tcp("queries") << ", answers " << tcp("answers") << "; lcores: tcp_queries " << total_counter(r, "tcp_queries")
            << ", to_kernel " << total_counter(r, "to_kernel") << ", from_kernel " << total_counter(r, "from_kernel");
    std::string closed;
    for (const auto& [name, n] : r.tcp.counters)
      if (n > 0 && name != "accepted" && name != "queries" && name != "answers") closed += " " + name + "=" + std::to_string(n);
    if (!closed.empty()) inv.out << ";" << closed;
    inv.out << "\n";
  }
  if (r.dot.enabled) {
    // DoT for clients: connections and handshakes, then every reason one was refused or closed.
    auto dot = [&r](const char* name) {
      const auto it = r.dot.counters.find(name);
      return it == r.dot.counters.end() ? std::uint64_t{0} : it->second;
    };
    inv.out << "dot: connections open " << r.dot.active << ", accepted " << dot("accepted") << ", handshakes "
            << dot("tls_handshakes") << " (resumed " << dot("tls_resumed") << "); queries " << dot("queries")
            << ", answers " << dot("answers");
    std::string closed;
    for (const auto& [name, n] : r.dot.counters)
      if (n > 0 && name != "accepted" && name != "queries" && name != "answers" && name != "tls_handshakes" &&
          name != "tls_resumed")
        closed += " " + name + "=" + std::to_string(n);
    if (!closed.empty()) inv.out << ";" << closed;
    inv.out << "\n";
  }
  for (const auto& l : r.lcores)
    if (!l.running)
      inv.out << "lcore " << l.lcore << ": its loop stopped (loop_aborted, see the log); it takes no packets: restart dotpind\n";
  inv.out << "\n";
  for (const ViewReply& v : r.views) {
    auto n = [&v](const char* name) {
      const auto it = v.counters.find(name);
      return it == v.counters.end() ? std::uint64_t{0} : it->second;
    };
    inv.out << "view " << v.name << ": queries " << n("queries") << ", cache hits " << n("cache_hits") << ", misses "
            << n("cache_misses") << ", upstream answers " << n("upstream_answers") << ", servfails "
            << n("upstream_servfails") << ", stale " << n("stale_answers") << ", acl refused " << n("acl_refused")
            << ", dropped " << n("acl_dropped") << ", rate-limited " << n("ratelimited") << "; cache " << v.cache_entries << " entries, " << v.cache_evictions
            << " evictions; pins generation " << v.pin_generation << "\n";
  }
  if (!r.views.empty() && r.upstreams.upstreams.empty() && r.views.size() > 1)
    inv.out << "upstreams: per view (dotpinctl stats --view NAME)\n";
  else
    print_upstreams(inv.out, r.upstreams.upstreams, true);
  return kExitOk;
}

}  // namespace dotpin::ctl

namespace dotpin::ctl {

namespace {
/// "file", "tofu (leaf) learned 2026-... from 198.18.0.2:853", "dane (issuer) _853._tcp.x at ...".
std::string pin_origin_text(const PinReply& p) {
  if (p.origin == "file") return "file";
  std::string s = p.origin + " (" + p.scope + ")";
  if (p.origin == "tofu") {
    if (p.learned_at) s += " learned " + *p.learned_at;
    if (p.learned_from) s += " from " + *p.learned_from;
  } else {
    if (p.learned_from) s += " " + *p.learned_from;
    if (p.learned_at) s += " fetched " + *p.learned_at;
  }
  return s;
}
}  // namespace

int run_pins_list(Invocation& inv) {
  PinsReply r;
  int status = kExitOk;
  if (!ask_typed(inv, "pins list", r, status)) return status;
  inv.out << "generation " << r.generation << " (published " << r.published_at << ") from " << r.pin_file << "\n\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& u : r.upstreams)
    for (const auto& p : u.pins)
      rows.push_back({u.name, u.mode, p.label.empty() ? "-" : p.label,
                      p.form == "spki-sha256" ? p.sha256 : p.form + ":" + p.digest_hex.value_or("").substr(0, 16) + "...",
                      p.state, pin_origin_text(p), p.not_before.value_or("-"), p.not_after.value_or("-")});
  print_table(inv.out, {"UPSTREAM", "MODE", "LABEL", "PIN", "STATE", "ORIGIN", "NOT_BEFORE", "NOT_AFTER"}, rows);
  return kExitOk;
}

namespace {
/// Asks the daemon; with a result (and no --json) prints it, read as @p Reply, with @p print.
template <class Reply, class Print>
int answer(Invocation& inv, std::string_view command, Print print) {
  Reply r;
  int status = kExitOk;
  if (!ask_typed(inv, command, r, status)) return status;
  print(r);
  return kExitOk;
}

/// A pin change: ask, then say what is in force now.
int pin_change(Invocation& inv, std::string_view command) {
  return answer<PinChangeReply>(inv, command, [&inv](const PinChangeReply& r) {
    inv.out << r.change << "\ngeneration " << r.generation << " in force";
    if (!r.pin_file.empty()) inv.out << "; " << r.pin_file << " written";
    inv.out << (r.adopted_by_all_lcores ? "; every lcore has adopted it\n" : "\n");
    if (r.warning) inv.err << "dotpinctl: warning: " << *r.warning << "\n";
    for (const std::string& f : r.forced) inv.err << "dotpinctl: warning: forced although " << f << "\n";
    for (const std::string& w : r.warnings) inv.err << "dotpinctl: warning: " << w << "\n";
  });
}
}  // namespace

int run_pins_reload(Invocation& inv) {
  // The daemon has its own working directory: send an absolute path.
  for (auto& a : inv.args) a = std::filesystem::absolute(a).lexically_normal().string();
  return pin_change(inv, "pins reload");
}
int run_pins_add(Invocation& inv) { return pin_change(inv, "pins add"); }
int run_pins_remove(Invocation& inv) { return pin_change(inv, "pins remove"); }
int run_pins_accept(Invocation& inv) { return pin_change(inv, "pins accept"); }
int run_pins_forget(Invocation& inv) { return pin_change(inv, "pins forget"); }

int run_pins_sources(Invocation& inv) {
  return answer<PinSourcesReply>(inv, "pins sources", [&inv](const PinSourcesReply& r) {
    if (r.upstreams.empty()) {
      inv.out << "no upstream takes its pins from the network (pins_from = \"tofu\" or \"dane\")\n";
      return;
    }
    // With [[view]] sections each row names its view.
    const bool views = std::ranges::any_of(r.upstreams, [](const auto& s) { return s.view.has_value(); });
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : r.upstreams) {
      std::string failures;
      for (const auto& [why, n] : s.failures) failures += (failures.empty() ? "" : " ") + why + "=" + std::to_string(n);
      std::vector<std::string> row{s.upstream, s.source, s.state, std::to_string(s.attempts),
                                   failures.empty() ? "-" : failures, s.last_success.value_or("-"),
                                   s.detail.empty() ? "-" : s.detail};
      if (views) row.insert(row.begin(), s.view.value_or("-"));
      rows.push_back(std::move(row));
    }
    std::vector<std::string> head{"UPSTREAM", "SOURCE", "STATE", "ATTEMPTS", "FAILURES", "LAST_SUCCESS", "DETAIL"};
    if (views) head.insert(head.begin(), "VIEW");
    print_table(inv.out, head, rows);
  });
}

int run_cache_flush(Invocation& inv) {
  return answer<CacheFlushReply>(inv, "cache flush", [&inv](const CacheFlushReply& r) {
    inv.out << "flushed " << r.name.value_or("every name") << ": " << r.removed << " cached answer(s) removed on "
            << r.lcores << " lcore(s)\n";
  });
}

namespace {
int upstream_state(Invocation& inv, std::string_view command) {
  return answer<UpstreamStateReply>(inv, command, [&inv](const UpstreamStateReply& r) {
    inv.out << "upstream " << r.upstream << ": " << r.state << "\n";
  });
}
}  // namespace

int run_upstream_drain(Invocation& inv) { return upstream_state(inv, "upstream drain"); }
int run_upstream_enable(Invocation& inv) { return upstream_state(inv, "upstream enable"); }

int run_expiry(Invocation& inv) {
  nlohmann::json j;
  int status = kExitOk;
  const bool printed = !ask(inv, "expiry", j, status);
  if (printed && (status != kExitOk || j.is_null())) return status;
  ExpiryReply r;
  try {
    j.get_to(r);
  } catch (const nlohmann::json::exception& e) {
    return report_error(inv, "expiry", std::string("unexpected reply from dotpind: ") + e.what());
  }
  const int graded = r.errors > 0 ? kExitFailure : r.warnings > 0 ? kExitWarnings : kExitOk;
  if (printed) return graded;  // --json printed the daemon's answer: the exit status still grades it
  std::vector<std::vector<std::string>> rows;
  for (const auto& it : r.items) {
    std::string st = it.status;
    if (it.threshold_days) st += " (" + std::to_string(*it.threshold_days) + "d)";
    rows.push_back({it.upstream, it.kind, it.item, it.not_after.value_or("-"),
                    it.days_left ? std::to_string(*it.days_left) : "-", st});
  }
  print_table(inv.out, {"UPSTREAM", "KIND", "ITEM", "NOT_AFTER", "DAYS", "STATUS"}, rows);
  for (const auto& it : r.items)
    if (it.status != "ok") inv.out << it.status << ": " << it.upstream << ": " << it.message << "\n";
  return graded;
}

int run_log_level(Invocation& inv) {
  return answer<LogLevelReply>(inv, "log level", [&inv](const LogLevelReply& r) {
    if (inv.args.empty()) inv.out << "log level: " << r.level << "\n";
    else inv.out << "log level: " << r.previous << " -> " << r.level << "\n";
  });
}

}  // namespace dotpin::ctl
