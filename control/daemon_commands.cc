// SPDX-License-Identifier: Apache-2.0
#include "control/daemon_commands.h"

#include "control/replies.h"
#include "control/verdict_text.h"
#include "control/view_select.h"

#include <cstdio>

#include "common/time_util.h"
#include "dotpin_version.h"
#include "pinning/spki_pin.h"

namespace dotpin::ctl {
namespace {

using dataplane::Counter;
using dataplane::DropReason;

std::string mac_text(const std::array<std::uint8_t, 6>& m) {
  char s[18];
  std::snprintf(s, sizeof s, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  return s;
}

std::map<std::string, std::uint64_t> counters_by_name(
    const std::array<std::uint64_t, static_cast<std::size_t>(Counter::kCount_)>& c) {
  std::map<std::string, std::uint64_t> m;
  for (std::size_t i = 0; i < c.size(); ++i) m[std::string(to_string(static_cast<Counter>(i)))] = c[i];
  return m;
}

std::map<std::string, std::uint64_t> drops_by_name(
    const std::array<std::uint64_t, static_cast<std::size_t>(DropReason::kCount_)>& d) {
  std::map<std::string, std::uint64_t> m;
  for (std::size_t i = 1; i < d.size(); ++i) m[std::string(to_string(static_cast<DropReason>(i)))] = d[i];
  return m;
}



LatencySummary latency_summary(const LatencyHistogram& h) {
  auto ms = [](std::uint64_t us) { return static_cast<double>(us) / 1000.0; };
  return {h.count(), ms(h.quantile(0.50)), ms(h.quantile(0.90)), ms(h.quantile(0.99)), ms(h.quantile(0.999)), ms(h.max())};
}

std::string state_of(const tls::UpstreamStats& s) {
  return s.drained ? "drained" : std::string(tls::to_string(s.health));
}

}  // namespace

UpstreamReply upstream_reply(const UpstreamPins& up, const tls::UpstreamStats& s, const LatencyHistogram& latency) {
  UpstreamReply r{up.name, up.address.to_string(), up.auth_name, std::string(to_string(up.mode)), state_of(s), {}, 0, {}, {}, {}};
  for (const tls::UpstreamCounterField& f : tls::kUpstreamCounters) r.counters[std::string(f.name)] = s.*f.member;
  for (std::size_t k = 0; k < s.failures.size(); ++k)
    r.failures[std::string(tls::to_string(static_cast<tls::FailureReason>(k)))] = s.failures[k];
  r.rtt_ewma_ms = s.rtt_ewma_us / 1000.0;
  r.latency = latency_summary(latency);
  if (s.last_refusal.observed_count > 0) {
    r.last_refusal = nlohmann::json{{"reason", std::string(to_string(s.last_refusal.code))},
                                    {"at", format_utc(s.last_refusal_at)},
                                    {"observed_pins", observed_pins_json(s.last_refusal)},
                                    {"chain", observed_chain_json(s.last_refusal)}};
  }
  return r;
}

nlohmann::json upstream_json(const UpstreamPins& up, const tls::UpstreamStats& s, const LatencyHistogram& latency) {
  return upstream_reply(up, s, latency);
}

namespace {
ViewReply view_reply(const dataplane::DataPlane& a, const dataplane::ViewFacts& f, std::size_t view) {
  ViewReply v;
  v.name = f.name;
  if (f.vlan) v.vlan = *f.vlan;
  v.clients = f.clients;
  v.pin_file = f.pin_file;
  v.policy = f.policy;
  if (const auto pins = a.pins(view)) {
    v.pin_generation = pins->generation;
    v.upstreams = pins->table.upstreams.size();
  }
  return v;
}
}  // namespace

nlohmann::json status_json(const dataplane::DataPlane& a, const std::string& pin_file) {
  const auto now = std::chrono::system_clock::now();
  const auto port = a.port();
  const auto pins = a.pins();
  StatusReply reply{DOTPIN_VERSION,
                    format_utc(std::chrono::time_point_cast<std::chrono::seconds>(a.started_at())),
                    std::chrono::duration_cast<std::chrono::seconds>(now - a.started_at()).count(),
                    a.worker_count(),
                    {port.name, mac_text(port.mac), port.queues, port.rss},
                    pins->generation,
                    pin_file,
                    pins->table.upstreams.size(),
                    {}};
  if (const auto views = a.views(); explicit_views(views)) {
    // No one pin file or generation: each view has its own.
    reply.pin_generation = 0;
    reply.pin_file.clear();
    reply.upstreams = 0;
    for (std::size_t i = 0; i < views.size(); ++i) {
      reply.views.push_back(view_reply(a, views[i], i));
      reply.upstreams += reply.views.back().upstreams;
    }
  }
  return reply;
}

namespace {
UpstreamsReply upstreams_reply(const dataplane::DataPlane& a, std::size_t view) {
  const auto t = a.upstream_totals(view);
  UpstreamsReply r{t.pins->generation, {}};
  for (std::size_t u = 0; u < t.stats.size(); ++u)
    r.upstreams.push_back(upstream_reply(t.pins->table.upstreams[u], t.stats[u], t.latency[u]));
  return r;
}
}  // namespace

Result<nlohmann::json> upstreams_json(const dataplane::DataPlane& a, const Request& r) {
  const auto view = select_view(a.views(), r);
  if (!view) return Error{view.error()};
  return nlohmann::json(upstreams_reply(a, *view));
}

Result<nlohmann::json> stats_json(const dataplane::DataPlane& a, const Request& r) {
  // With views and no --view: the appliance's totals and every view's counters, no upstreams
  // (each view has its own pool: `--view NAME` shows one).
  const auto facts = a.views();
  const auto view = select_view(facts, r, /*every_allowed=*/true);
  if (!view) return Error{view.error()};
  StatsReply reply{*view == kEveryView ? UpstreamsReply{} : upstreams_reply(a, *view), {}, {}, {}, a.port_stats()};
  if (explicit_views(facts)) {
    const auto lcores = a.lcore_views();
    for (std::size_t i = 0; i < facts.size(); ++i) {
      if (*view != kEveryView && *view != i) continue;
      ViewReply v = view_reply(a, facts[i], i);
      const dataplane::ViewTotals t = dataplane::sum_view(lcores, i);
      for (std::size_t c = 0; c < dataplane::kViewCounters; ++c)
        v.counters[std::string(dataplane::to_string(static_cast<dataplane::ViewCounter>(c)))] = t.counters[c];
      v.cache_entries = t.cache.entries;
      v.cache_bytes = t.cache.bytes;
      v.cache_evictions = t.cache.evictions;
      reply.views.push_back(std::move(v));
    }
  }
  if (const auto it = r.options.find("upstream"); it != r.options.end() && !it->second.empty()) {
    std::erase_if(reply.upstreams.upstreams, [&](const UpstreamReply& u) { return u.name != it->second.back(); });
    if (reply.upstreams.upstreams.empty()) return fail("no upstream named '", it->second.back(), "'");
  }
  std::array<std::uint64_t, static_cast<std::size_t>(Counter::kCount_)> total{};
  std::array<std::uint64_t, static_cast<std::size_t>(DropReason::kCount_)> total_drops{};
  const auto views = a.lcore_views();
  for (const auto& v : views) {
    for (std::size_t i = 0; i < total.size(); ++i) total[i] += v.counters[i];
    for (std::size_t i = 0; i < total_drops.size(); ++i) total_drops[i] += v.drops[i];
    const auto& c = v.stats.cache;
    reply.lcores.push_back({v.lcore, v.queue, counters_by_name(v.counters), drops_by_name(v.drops), v.stats.inflight,
                            {c.entries, c.bytes, c.hits, c.misses, c.evictions, c.expired}, v.stats.published, v.running,
                            {v.busy_cycles, v.idle_cycles, v.busy_passes, v.idle_passes}});
  }
  reply.tsc_hz = a.tsc_hz();
  reply.total_counters = counters_by_name(total);
  reply.total_drops = drops_by_name(total_drops);
  // With views a prefix is limited per view (the same address may be in two): named with it.
  const bool named = explicit_views(facts);
  for (const dataplane::LimitedPrefix& t : dataplane::top_limited(views))
    reply.ratelimit_top.push_back(
        {t.to_string() + (!named ? std::string()
                                 : " (" + (t.view < facts.size() ? "view " + facts[t.view].name : std::string("no view")) + ")"),
         t.limited});
  for (const bool dot : {false, true})
    if (const dataplane::TcpStats t = dot ? a.dot_stats() : a.tcp_stats(); t.enabled) {
      TcpReply& out = dot ? reply.dot : reply.tcp;
      out.enabled = true;
      out.active = t.active;
      for (std::size_t i = 0; i < t.counters.size(); ++i)
        out.counters[std::string(to_string(static_cast<dataplane::TcpCounter>(i)))] = t.counters[i];
    }
  return nlohmann::json(reply);
}

void register_daemon_commands(ControlServer& server, const dataplane::DataPlane& dataplane, std::string pin_file) {
  const dataplane::DataPlane* a = &dataplane;
  server.handle("status", [a, pin_file](const Request&) -> Result<nlohmann::json> { return status_json(*a, pin_file); });
  server.handle("stats", [a](const Request& r) { return stats_json(*a, r); });
  server.handle("upstreams", [a](const Request& r) { return upstreams_json(*a, r); });
}

}  // namespace dotpin::ctl
