// SPDX-License-Identifier: Apache-2.0
#include "control/metrics.h"
#include "control/view_select.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>

#include <cstring>
#include <sstream>

#include "common/endpoint.h"
#include "common/time_util.h"
#include "dotpin_version.h"

namespace dotpin::ctl {
namespace {

using dataplane::Counter;
using dataplane::DropReason;

// Label values: backslash, double quote and newline escaped (exposition format).
std::string label(std::string_view v) {
  std::string s;
  for (const char c : v) {
    if (c == '\\' || c == '"') s += '\\';
    if (c == '\n') {
      s += "\\n";
      continue;
    }
    s += c;
  }
  return s;
}

class Writer {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  }
  template <class Number>
  void sample(std::string_view name, std::string_view labels, Number value) {
    out_ << name;
    if (!labels.empty()) out_ << '{' << labels << '}';
    out_ << ' ' << value << '\n';
  }
  std::string str() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

}  // namespace

MetricsInput gather_metrics(const dataplane::DataPlane& a, const ExpiryMonitor* expiry, const SourceList& sources,
                            const ControlServer* control) {
  MetricsInput in;
  in.version = DOTPIN_VERSION;
  in.uptime_seconds = std::chrono::duration<double>(std::chrono::system_clock::now() - a.started_at()).count();
  in.lcores = a.lcore_views();
  in.tsc_hz = a.tsc_hz();
  const auto views = a.views();
  const bool labelled = explicit_views(views);
  for (std::size_t v = 0; v < views.size(); ++v) {
    auto totals = dataplane::sum_upstreams(a.pins(v), in.lcores, v);
    if (!totals.pins) continue;
    if (v == 0) in.pin_generation = totals.pins->generation;
    if (labelled) {
      in.view_names.push_back(views[v].name);
      in.view_generations.emplace_back(views[v].name, totals.pins->generation);
      in.views.emplace_back(views[v].name, dataplane::sum_view(in.lcores, v));
    }
    for (const auto& u : totals.pins->table.upstreams) {
      in.upstream_names.push_back(u.name);
      in.upstream_views.push_back(labelled ? views[v].name : std::string());
    }
    for (auto& s : totals.stats) in.upstreams.push_back(s);
    for (auto& h : totals.latency) in.latency.push_back(h);
  }
  if (expiry) in.expiry = expiry->items();
  for (const PinSources* s : sources)
    if (s != nullptr)
      for (SourceStatus& st : s->status()) in.sources.push_back(std::move(st));
  in.port = a.port_stats();
  in.tcp = a.tcp_stats();
  in.dot = a.dot_stats();
  if (control) in.control = control->counters();
  return in;
}

namespace {
/// Pins from the network: TOFU learning and DANE refreshes, per upstream.
void render_source_metrics(Writer& w, const std::vector<SourceStatus>& sources) {
  auto up = [](const SourceStatus& s) {
    return (s.view.empty() ? std::string() : "view=\"" + label(s.view) + "\",") + "upstream=\"" + label(s.upstream) +
           "\",source=\"" + label(s.source) + "\"";
  };
  auto seconds = [](UnixTime t) { return static_cast<double>(t.time_since_epoch().count()); };
  w.family("dotpin_pin_source_state", "gauge", "state of an upstream's network pin source (1 for the current state)");
  for (const SourceStatus& s : sources) w.sample("dotpin_pin_source_state", up(s) + ",state=\"" + label(s.state) + "\"", std::uint64_t{1});
  w.family("dotpin_pin_source_attempts_total", "counter", "TOFU learning attempts and DANE lookups");
  for (const SourceStatus& s : sources) w.sample("dotpin_pin_source_attempts_total", up(s), s.attempts);
  w.family("dotpin_pin_source_successes_total", "counter", "keys learned (TOFU) and secure TLSA answers (DANE)");
  for (const SourceStatus& s : sources) w.sample("dotpin_pin_source_successes_total", up(s), s.successes);
  w.family("dotpin_pin_source_failures_total", "counter",
           "attempts that gave no pins, by reason (tofu: unreachable, refused, disagree, not_on_path; "
           "dane: dane_bogus, dane_insecure, dane_missing, dane_unusable, dane_error)");
  for (const SourceStatus& s : sources)
    for (const auto& [why, n] : s.failures)
      w.sample("dotpin_pin_source_failures_total", up(s) + ",reason=\"" + label(why) + "\"", n);
  w.family("dotpin_pin_source_last_success_timestamp_seconds", "gauge",
           "when pins were last learned (TOFU: their age is time() minus this) or last refreshed (DANE)");
  for (const SourceStatus& s : sources)
    if (s.last_success != UnixTime{}) w.sample("dotpin_pin_source_last_success_timestamp_seconds", up(s), seconds(s.last_success));
  w.family("dotpin_pin_source_last_duration_seconds", "gauge",
           "the last attempt's wall time on the control thread (TOFU: its handshakes; DANE: the validated lookup)");
  for (const SourceStatus& s : sources)
    if (s.attempts) w.sample("dotpin_pin_source_last_duration_seconds", up(s), static_cast<double>(s.last_wall.count()) / 1e6);
  w.family("dotpin_pin_source_last_cpu_seconds", "gauge", "the CPU time of that attempt on the control thread");
  for (const SourceStatus& s : sources)
    if (s.attempts) w.sample("dotpin_pin_source_last_cpu_seconds", up(s), static_cast<double>(s.last_cpu.count()) / 1e6);
  w.family("dotpin_dane_ttl_seconds", "gauge", "TTL of the TLSA RRset whose pins are in force");
  for (const SourceStatus& s : sources)
    if (s.source == "dane" && s.records > 0) w.sample("dotpin_dane_ttl_seconds", up(s), std::uint64_t{s.ttl});
  w.family("dotpin_dane_rrsig_expiration_timestamp_seconds", "gauge",
           "when the signatures over the TLSA RRset in force expire (its pins stop counting then)");
  for (const SourceStatus& s : sources)
    if (s.rrsig_expiration) w.sample("dotpin_dane_rrsig_expiration_timestamp_seconds", up(s), seconds(*s.rrsig_expiration));
  w.family("dotpin_dane_records", "gauge", "usable TLSA records in force");
  for (const SourceStatus& s : sources)
    if (s.source == "dane") w.sample("dotpin_dane_records", up(s), static_cast<std::uint64_t>(s.records));
}
}  // namespace

namespace {
/// An upstream's labels: its view (with [[view]] sections) and name.
std::string up_label(const MetricsInput& in, std::size_t u) {
  std::string l;
  if (u < in.upstream_views.size() && !in.upstream_views[u].empty()) l = "view=\"" + label(in.upstream_views[u]) + "\",";
  return l + "upstream=\"" + label(in.upstream_names[u]) + "\"";
}
}  // namespace

std::string render_metrics(const MetricsInput& in) {
  Writer w;
  w.family("dotpin_build_info", "gauge", "dotpind version");
  w.sample("dotpin_build_info", "version=\"" + label(in.version) + "\"", std::uint64_t{1});
  w.family("dotpin_uptime_seconds", "gauge", "seconds since dotpind started");
  w.sample("dotpin_uptime_seconds", "", in.uptime_seconds);
  w.family("dotpin_pin_generation", "gauge", "generation of the pin table in force");
  if (in.view_generations.empty()) w.sample("dotpin_pin_generation", "", in.pin_generation);
  for (const auto& [view, generation] : in.view_generations)
    w.sample("dotpin_pin_generation", "view=\"" + label(view) + "\"", generation);
  if (!in.views.empty()) {
    w.family("dotpin_view_events_total", "counter", "queries of each view (tenant) by outcome");
    for (const auto& [view, totals] : in.views)
      for (std::size_t i = 0; i < dataplane::kViewCounters; ++i)
        w.sample("dotpin_view_events_total",
                 "view=\"" + label(view) + "\",event=\"" +
                     std::string(dataplane::to_string(static_cast<dataplane::ViewCounter>(i))) + "\"",
                 totals.counters[i]);
    w.family("dotpin_view_cache_entries", "gauge", "answers cached in the view's partition (all lcores)");
    for (const auto& [view, totals] : in.views)
      w.sample("dotpin_view_cache_entries", "view=\"" + label(view) + "\"", totals.cache.entries);
    w.family("dotpin_view_cache_evictions_total", "counter", "entries evicted from the view's partition (all lcores)");
    for (const auto& [view, totals] : in.views)
      w.sample("dotpin_view_cache_evictions_total", "view=\"" + label(view) + "\"", totals.cache.evictions);
  }

  w.family("dotpin_lcore_running", "gauge", "1 while the worker lcore's loop runs; 0 once it stopped (loop_aborted)");
  for (const auto& l : in.lcores) w.sample("dotpin_lcore_running", "lcore=\"" + std::to_string(l.lcore) + "\"", std::uint64_t{l.running});
  // A poll-mode lcore spins: its busy cycles (passes that did something) are what its work cost.
  using Field = std::uint64_t dataplane::LcoreView::*;
  const auto by_state = [&](const char* name, const char* help, Field busy, Field idle) {
    w.family(name, "counter", help);
    for (const auto& l : in.lcores)
      for (const auto& [state, field] : {std::pair{"busy", busy}, std::pair{"idle", idle}})
        w.sample(name, "lcore=\"" + std::to_string(l.lcore) + "\",state=\"" + state + "\"", l.*field);
  };
  by_state("dotpin_lcore_cycles_total",
           "TSC cycles of the worker lcore's loop: state busy (passes that received, sent or completed something) or idle",
           &dataplane::LcoreView::busy_cycles, &dataplane::LcoreView::idle_cycles);
  by_state("dotpin_lcore_passes_total", "passes of the worker lcore's loop, busy or idle",
           &dataplane::LcoreView::busy_passes, &dataplane::LcoreView::idle_passes);
  w.family("dotpin_tsc_hz", "gauge", "the TSC frequency the lcore cycles are counted in");
  w.sample("dotpin_tsc_hz", "", in.tsc_hz);
  w.family("dotpin_lcore_events_total", "counter", "packet outcomes per worker lcore (docs/operations.md)");
  for (const auto& l : in.lcores)
    for (std::size_t i = 0; i < l.counters.size(); ++i)
      w.sample("dotpin_lcore_events_total",
               "lcore=\"" + std::to_string(l.lcore) + "\",event=\"" + std::string(to_string(static_cast<Counter>(i))) + "\"",
               l.counters[i]);
  w.family("dotpin_lcore_drops_total", "counter", "frames dropped before DNS, per worker lcore and reason");
  for (const auto& l : in.lcores)
    for (std::size_t i = 1; i < l.drops.size(); ++i)
      w.sample("dotpin_lcore_drops_total",
               "lcore=\"" + std::to_string(l.lcore) + "\",reason=\"" + std::string(to_string(static_cast<DropReason>(i))) + "\"",
               l.drops[i]);
  if (const auto top = dataplane::top_limited(in.lcores); !top.empty()) {
    w.family("dotpin_ratelimit_top_limited", "gauge",
             "queries and error responses held back by [ratelimit] since start, for the most limited client prefixes");
    for (const auto& t : top) {
      std::string l = "prefix=\"" + label(t.to_string()) + "\"";
      if (!in.view_names.empty())
        l += ",view=\"" + label(t.view < in.view_names.size() ? in.view_names[t.view] : std::string("(none)")) + "\"";
      w.sample("dotpin_ratelimit_top_limited", l, t.limited);
    }
  }
  for (const bool dot : {false, true}) {
    const dataplane::TcpStats& t = dot ? in.dot : in.tcp;
    if (!t.enabled) continue;
    const std::string conns = dot ? "dotpin_dot_connections" : "dotpin_tcp_connections";
    const std::string events = dot ? "dotpin_dot_events_total" : "dotpin_tcp_events_total";
    w.family(conns, "gauge", dot ? "DoT client connections open" : "DNS-over-TCP client connections open");
    w.sample(conns, "", static_cast<std::uint64_t>(t.active));
    w.family(events, "counter",
             dot ? "DoT client connections: handshakes, queries and closes by reason"
                 : "the TCP service's connections, queries and closes by reason");
    for (std::size_t i = 0; i < t.counters.size(); ++i)
      w.sample(events, "event=\"" + std::string(to_string(static_cast<dataplane::TcpCounter>(i))) + "\"", t.counters[i]);
  }
  if (in.port.available) {
    const dataplane::PortStats& p = in.port;
    w.family("dotpin_port_packets_total", "counter", "frames the port received (rx) and sent (tx)");
    w.sample("dotpin_port_packets_total", "direction=\"rx\"", p.rx_packets);
    w.sample("dotpin_port_packets_total", "direction=\"tx\"", p.tx_packets);
    w.family("dotpin_port_lost_total", "counter",
             "frames lost in the port, where no lcore counter sees them: rx_missed (an RX queue was full), rx_errors, "
             "rx_nombuf, tx_errors; kernel_tx_dropped / kernel_rx_dropped on a port backed by a kernel interface");
    w.sample("dotpin_port_lost_total", "reason=\"rx_missed\"", p.rx_missed);
    w.sample("dotpin_port_lost_total", "reason=\"rx_errors\"", p.rx_errors);
    w.sample("dotpin_port_lost_total", "reason=\"rx_nombuf\"", p.rx_nombuf);
    w.sample("dotpin_port_lost_total", "reason=\"tx_errors\"", p.tx_errors);
    if (p.kernel_tx_dropped) w.sample("dotpin_port_lost_total", "reason=\"kernel_tx_dropped\"", *p.kernel_tx_dropped);
    if (p.kernel_rx_dropped) w.sample("dotpin_port_lost_total", "reason=\"kernel_rx_dropped\"", *p.kernel_rx_dropped);
    if (!p.queues.empty()) {
      w.family("dotpin_port_queue_packets_total", "counter", "frames per port queue, where the PMD counts per queue");
      for (const auto& q : p.queues) {
        const std::string qs = "queue=\"" + std::to_string(q.queue) + "\"";
        w.sample("dotpin_port_queue_packets_total", qs + ",direction=\"rx\"", q.rx_packets);
        w.sample("dotpin_port_queue_packets_total", qs + ",direction=\"tx\"", q.tx_packets);
      }
    }
  }
  w.family("dotpin_cache_entries", "gauge", "answers in the lcore's cache");
  for (const auto& l : in.lcores) w.sample("dotpin_cache_entries", "lcore=\"" + std::to_string(l.lcore) + "\"", l.stats.cache.entries);
  w.family("dotpin_cache_bytes", "gauge", "bytes of the lcore's cache records");
  for (const auto& l : in.lcores) w.sample("dotpin_cache_bytes", "lcore=\"" + std::to_string(l.lcore) + "\"", l.stats.cache.bytes);
  w.family("dotpin_cache_evictions_total", "counter", "live answers evicted to make room");
  for (const auto& l : in.lcores)
    w.sample("dotpin_cache_evictions_total", "lcore=\"" + std::to_string(l.lcore) + "\"", l.stats.cache.evictions);
  w.family("dotpin_inflight", "gauge", "queries waiting for an upstream on the lcore");
  for (const auto& l : in.lcores) w.sample("dotpin_inflight", "lcore=\"" + std::to_string(l.lcore) + "\"", std::uint64_t{l.stats.inflight});

  for (const tls::UpstreamCounterField& f : tls::kUpstreamCounters) {
    const std::string family = "dotpin_upstream_" + std::string(f.name) + "_total";
    w.family(family, "counter", f.help);
    for (std::size_t u = 0; u < in.upstreams.size(); ++u)
      w.sample(family, up_label(in, u), in.upstreams[u].*f.member);
  }
  w.family("dotpin_upstream_failures_total", "counter", "connection failures by reason (pin_mismatch, ...)");
  for (std::size_t u = 0; u < in.upstreams.size(); ++u)
    for (std::size_t r = 0; r < in.upstreams[u].failures.size(); ++r)
      w.sample("dotpin_upstream_failures_total",
               up_label(in, u) + ",reason=\"" +
                   std::string(tls::to_string(static_cast<tls::FailureReason>(r))) + "\"",
               in.upstreams[u].failures[r]);
  w.family("dotpin_upstream_state", "gauge", "1 for the upstream's current state");
  for (std::size_t u = 0; u < in.upstreams.size(); ++u)
    for (const auto h : {tls::UpstreamHealth::kUp, tls::UpstreamHealth::kBackingOff, tls::UpstreamHealth::kPinFailed})
      w.sample("dotpin_upstream_state",
               up_label(in, u) + ",state=\"" + std::string(tls::to_string(h)) + "\"",
               std::uint64_t{!in.upstreams[u].drained && in.upstreams[u].health == h});
  for (std::size_t u = 0; u < in.upstreams.size(); ++u)
    w.sample("dotpin_upstream_state", up_label(in, u) + ",state=\"drained\"",
             std::uint64_t{in.upstreams[u].drained});
  w.family("dotpin_upstream_rtt_seconds", "gauge", "query round trip, exponentially weighted moving average");
  for (std::size_t u = 0; u < in.upstreams.size(); ++u)
    w.sample("dotpin_upstream_rtt_seconds", up_label(in, u), in.upstreams[u].rtt_ewma_us / 1e6);
  w.family("dotpin_upstream_latency_seconds", "summary", "answered queries' round trips (log-linear histogram, within 6.25%)");
  for (std::size_t u = 0; u < in.latency.size() && u < in.upstream_names.size(); ++u) {
    const LatencyHistogram& h = in.latency[u];
    const std::string up = up_label(in, u);
    for (const char* q : {"0.5", "0.9", "0.99", "0.999"})
      w.sample("dotpin_upstream_latency_seconds", up + ",quantile=\"" + q + "\"",
               static_cast<double>(h.quantile(std::stod(q))) / 1e6);
    w.sample("dotpin_upstream_latency_seconds_sum", up, h.mean() * static_cast<double>(h.count()) / 1e6);
    w.sample("dotpin_upstream_latency_seconds_count", up, h.count());
  }
  w.family("dotpin_expiry_seconds", "gauge", "seconds until a certificate or pin window of an upstream ends (negative: ended)");
  for (const ExpiryItem& it : in.expiry)
    if (it.not_after)
      w.sample("dotpin_expiry_seconds",
               "upstream=\"" + label(it.upstream) + "\",kind=\"" + label(it.kind) + "\",item=\"" + label(it.item) + "\"",
               static_cast<double>((*it.not_after - now_utc()).count()));
  w.family("dotpin_expiry_status", "gauge", "expiry monitor verdict per item: 0 ok, 1 warning, 2 error");
  for (const ExpiryItem& it : in.expiry)
    w.sample("dotpin_expiry_status",
             "upstream=\"" + label(it.upstream) + "\",kind=\"" + label(it.kind) + "\",item=\"" + label(it.item) + "\"",
             std::uint64_t{it.status == "warning" ? 1u : it.status == "error" ? 2u : 0u});
  render_source_metrics(w, in.sources);
  if (in.control) {
    // Clients closed by dotpind, not by themselves: a climbing request_deadline or evicted count is
    // something (or someone) holding control connections open without asking (issue 19).
    const ControlServer::Counters& c = *in.control;
    w.family("dotpin_control_clients_accepted_total", "counter", "connections accepted on the control socket");
    w.sample("dotpin_control_clients_accepted_total", "", c.accepted);
    w.family("dotpin_control_clients_closed_total", "counter",
             "control socket clients closed by dotpind, by reason (docs/operations.md)");
    for (const auto& [reason, n] : {std::pair{"request_deadline", c.request_deadline}, std::pair{"write_deadline", c.write_deadline},
                                    std::pair{"unread_output", c.unread_output}, std::pair{"idle", c.idle},
                                    std::pair{"evicted", c.evicted}})
      w.sample("dotpin_control_clients_closed_total", std::string("reason=\"") + reason + "\"", n);
  }
  return w.str();
}

struct MetricsAccess {
  static MHD_Result answer(void* cls, MHD_Connection* connection, const char* url, const char* method, const char*,
                           const char*, size_t*, void**) {
    const auto* self = static_cast<const MetricsServer*>(cls);
    std::string body;
    unsigned status = MHD_HTTP_OK;
    const char* type = "text/plain; version=0.0.4; charset=utf-8";
    if (std::strcmp(method, "GET") != 0 && std::strcmp(method, "HEAD") != 0) {
      status = MHD_HTTP_METHOD_NOT_ALLOWED;
      body = "only GET\n";
    } else if (std::strcmp(url, "/metrics") != 0) {
      status = MHD_HTTP_NOT_FOUND;
      body = "dotpind serves /metrics\n";
    } else {
      body = render_metrics(gather_metrics(self->dataplane_, self->expiry_, self->sources_, self->control_));
    }
    MHD_Response* r = MHD_create_response_from_buffer(body.size(), body.data(), MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", type);
    const MHD_Result rc = MHD_queue_response(connection, status, r);
    MHD_destroy_response(r);
    return rc;
  }
};

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& address, const dataplane::DataPlane& a,
                                                             const ExpiryMonitor* expiry, SourceList sources,
                                                             const ControlServer* control) {
  auto ep = parse_endpoint(address, 9853, false);
  if (!ep) return fail("metrics address '", address, "': ", ep.error());
  std::unique_ptr<MetricsServer> s(new MetricsServer(a, expiry, std::move(sources), control));
  sockaddr_storage ss{};
  const bool v6 = ep->family == AF_INET6;
  if (v6) {
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(ep->port);
    inet_pton(AF_INET6, ep->host.c_str(), &a6->sin6_addr);
  } else {
    auto* a4 = reinterpret_cast<sockaddr_in*>(&ss);
    a4->sin_family = AF_INET;
    a4->sin_port = htons(ep->port);
    inet_pton(AF_INET, ep->host.c_str(), &a4->sin_addr);
  }
  s->daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0),
                                ep->port, nullptr, nullptr, &MetricsAccess::answer, s.get(),
                                MHD_OPTION_SOCK_ADDR, reinterpret_cast<sockaddr*>(&ss),
                                MHD_OPTION_CONNECTION_LIMIT, 16u,
                                MHD_OPTION_CONNECTION_TIMEOUT, 10u,
                                MHD_OPTION_END);
  if (s->daemon_ == nullptr) return fail("cannot serve /metrics on ", address, " (address in use or not local?)");
  return s;
}

MetricsServer::~MetricsServer() {
  if (daemon_ != nullptr) MHD_stop_daemon(daemon_);
}

}  // namespace dotpin::ctl
