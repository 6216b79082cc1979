// SPDX-License-Identifier: Apache-2.0
#include "dataplane/appliance.h"

#include <rte_launch.h>
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ecc.h>

#include <unistd.h>

#include <random>
#include <sstream>
#include <thread>

#include "common/time_util.h"
#include "dataplane/tcp_service.h"
#include "dataplane/worker.h"
#include "tls/client_context.h"

namespace dotpin::dataplane {

struct Appliance::Lcore {
  unsigned id = 0;
  Appliance* owner = nullptr;
  WorkerSetup setup;
  std::vector<tls::ClientContext> ctx;  // one per view (its CA file); reserved: upstreams point into it
  std::unique_ptr<Worker> worker;
  std::atomic<int> state{0};  // 0 starting, 1 running, 2 loop stopped by an exception, -1 failed
  std::string error;
};

Appliance::Appliance(DataPlaneConfig config, Log log) : config_(std::move(config)), log_(std::move(log)) {}

Appliance::~Appliance() {
  stop();
  lcores_.clear();  // workers close their connections before the port goes
  tcp_.reset();     // after the lcores: no answer comes back any more
  close_exception_port(exception_);
  close_port(port_);
}

Result<std::unique_ptr<Appliance>> Appliance::create(DataPlaneConfig config,
                                                     std::vector<std::shared_ptr<const PinSnapshot>> first, Log log) {
  if (first.empty() || first.size() != config.views.size())
    return fail("a first pin generation for each of the ", std::to_string(config.views.size()), " view(s) is needed");
  for (const auto& f : first)
    if (!f) return fail("no pin generation to start with");
  std::unique_ptr<Appliance> a(new Appliance(std::move(config), std::move(log)));

  unsigned workers = 0;
  unsigned lcore;
  RTE_LCORE_FOREACH_WORKER(lcore) ++workers;
  if (workers == 0)
    return fail("no worker lcore: give EAL at least two lcores (e.g. -l 0-1); the main lcore does not poll");
  auto feed = PinFeed::create(workers, first);
  if (!feed) return Error{feed.error()};
  a->feed_ = std::move(*feed);
  auto port = open_port(a->config_, workers);
  if (!port) return Error{port.error()};
  a->port_ = *port;
  a->config_.local.mac = a->port_.mac;

  // DNS over TCP: the exception path's tap, the service in its own namespace behind it.
  if (a->config_.tcp.any()) {
    std::string iface = a->config_.tcp.interface;
    if (iface.empty()) iface = "dpx" + std::to_string(::getpid());
    auto ex = open_exception_port(iface, workers, a->port_.pool);
    if (!ex) return Error{ex.error()};
    a->exception_ = *ex;
    a->neighbors_ = std::make_unique<ClientNeighbors>(std::size_t{1} << 16,
                                                      std::uint64_t{std::random_device{}()} << 32 | std::random_device{}());
    auto svc = TcpService::create(a->config_.tcp, workers);
    if (!svc) return Error{svc.error()};
    a->tcp_ = std::move(*svc);
    if (Status st = a->tcp_->start(iface, a->config_.local); !st) return Error{"DNS over TCP: " + st.error()};
    if (a->log_) {
      std::string what = a->config_.tcp.enabled ? "DNS over TCP on port 53" : "";
      if (a->config_.tcp.dot.enabled()) what += std::string(what.empty() ? "" : " and ") + "DoT on port 853";
      a->log_(what + " through exception interface " + iface + " (in the TCP service's own network namespace)");
    }
  } else {
    a->config_.local.tcp_ports = {};
  }

  unsigned queue = 0;
  RTE_LCORE_FOREACH_WORKER(lcore) {
    auto l = std::make_unique<Lcore>();
    l->id = lcore;
    l->owner = a.get();
    WorkerSetup& s = l->setup;
    l->ctx.reserve(a->config_.views.size());
    for (std::size_t v = 0; v < a->config_.views.size(); ++v) {
      const ViewConfig& vc = a->config_.views[v];
      auto ctx = tls::make_client_context({vc.ca_file, a->config_.tls_min_version, a->config_.suite_order});
      if (!ctx) return Error{"TLS context of view " + vc.name + ": " + ctx.error()};
      l->ctx.push_back(std::move(*ctx));
      WorkerView wv;
      wv.acl = &vc.acl;
      wv.cache = vc.cache;
      wv.policy = vc.policy;
      if (a->config_.explicit_views) wv.inflight = vc.inflight;
      for (const auto& up : first[v]->table.upstreams) wv.upstreams.push_back({&up, &l->ctx.back(), first[v]});
      wv.pin_generation = first[v]->generation;
      wv.fed = first[v].get();
      wv.tls_ctx = &l->ctx.back();
      s.views.push_back(std::move(wv));
    }
    s.view_map = &a->config_.view_map;
    s.port = a->port_.id;
    s.queue = static_cast<std::uint16_t>(queue++);
    s.pool = a->port_.pool;
    s.local = &a->config_.local;
    s.acl_refuse = a->config_.acl_refuse;
    s.verify_udp_checksum = a->config_.verify_udp_checksum;
    s.max_udp = a->config_.max_udp;
    s.limits = a->config_.limits;
    s.ratelimit = a->config_.ratelimit;
    s.inflight = a->config_.inflight_per_lcore;
    s.shard = a->config_.shard;
    if (a->log_) {
      Log sink = a->log_;
      s.shard.log = [sink, lcore](std::string_view line) { sink("lcore " + std::to_string(lcore) + ": " + std::string(line)); };
    }
    s.pins = a->feed_.get();
    s.pin_reader = queue - 1;
    if (a->tcp_) {
      s.exception_port = a->exception_.id;
      s.neighbors = a->neighbors_.get();
      s.streams = a->tcp_->channel(s.queue);
    }
    a->lcores_.push_back(std::move(l));
  }
  return a;
}

int Appliance::lcore_main(void* arg) {
  auto* l = static_cast<Lcore*>(arg);
  try {
    l->worker = std::make_unique<Worker>(l->setup);
  } catch (const std::exception& e) {
    l->error = e.what();
    l->state = -1;
    return -1;
  }
  l->state = 1;
  // A loop that ended by itself (loop_aborted) takes no commands or pin generations any more; its
  // counters stay visible (lcore_views) so that the operator sees why.
  if (!l->worker->run(l->owner->stop_, l->owner->config_.drain)) l->state = 2;
  wc_ecc_fp_free();  // Debian's wolfSSL caches ECC tables per thread (FP_ECC)
  return 0;
}

Status Appliance::start() {
  for (auto& l : lcores_)
    if (const int rc = rte_eal_remote_launch(&Appliance::lcore_main, l.get(), l->id); rc != 0)
      return fail("cannot launch a worker on lcore ", std::to_string(l->id));
  launched_ = true;
  for (auto& l : lcores_) {
    while (l->state.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (l->state.load() < 0) return fail("worker on lcore ", std::to_string(l->id), " failed to start: ", l->error);
  }
  return ok_status();
}

void Appliance::stop() {
  if (!launched_) return;
  stop_ = true;
  for (auto& l : lcores_) rte_eal_wait_lcore(l->id);
  launched_ = false;
}

std::vector<ViewFacts> Appliance::views() const {
  std::vector<ViewFacts> out;
  for (const ViewConfig& v : config_.views)
    out.push_back({v.name, v.vlan, v.clients, v.pin_file,
                   v.policy == tls::ShardOptions::Policy::kLowestLatency ? "lowest-latency" : "round-robin"});
  return out;
}

Status Appliance::publish_pins(std::shared_ptr<const PinSnapshot> snap, std::chrono::milliseconds wait,
                               std::size_t view) {
  if (!snap) return fail("no pin snapshot to publish");
  if (view >= config_.views.size()) return fail("no view ", std::to_string(view));
  const std::uint64_t generation = snap->generation;
  const std::uint64_t epoch = feed_->publish(view, std::move(snap));
  std::vector<unsigned> running;
  for (const auto& l : lcores_)
    if (l->state.load() == 1) running.push_back(l->setup.pin_reader);
  if (!feed_->wait_adopted(epoch, running, wait)) {
    std::string late;
    for (const auto& l : lcores_)
      if (l->state.load() == 1 && feed_->adopted_by(l->setup.pin_reader) < epoch) late += " " + std::to_string(l->id);
    return fail("generation ", std::to_string(generation),
                config_.explicit_views ? " of view " + config_.views[view].name : std::string(), " published, but lcore(s)", late,
                " have not adopted it yet (they will on their next loop pass)");
  }
  return ok_status();
}

CommandResult Appliance::execute(const LcoreCommand& command, std::chrono::milliseconds wait) {
  CommandResult r;
  for (const auto& l : lcores_) {
    if (l->state.load() != 1 || !l->worker) continue;
    if (const auto n = l->worker->mailbox().call(command, wait)) r.total += *n;
    else r.late.push_back(l->id);
  }
  return r;
}

TcpStats Appliance::tcp_stats() const { return tcp_ ? tcp_->stats(false) : TcpStats{}; }
TcpStats Appliance::dot_stats() const { return tcp_ ? tcp_->stats(true) : TcpStats{}; }

PortFacts Appliance::port() const { return {port_.name, port_.mac, port_.queues, port_.rss}; }

PortStats Appliance::port_stats() const {
  // The control socket and /metrics ask from threads of their own; a PMD may clear counters on read.
  std::lock_guard lock(port_stats_mu_);
  return read_port_stats(port_);
}

std::uint64_t Appliance::tsc_hz() const { return rte_get_tsc_hz(); }

std::vector<LcoreView> Appliance::lcore_views() const {
  std::vector<LcoreView> views;
  for (const auto& l : lcores_) {
    const int state = l->state.load();
    if ((state != 1 && state != 2) || !l->worker) continue;
    LcoreView v;
    v.lcore = l->id;
    v.running = state == 1;
    v.queue = l->setup.queue;
    const LcoreCounters& c = l->worker->counters();
    for (std::size_t i = 0; i < v.counters.size(); ++i) v.counters[i] = c.counters[i].get();
    for (std::size_t i = 0; i < v.drops.size(); ++i) v.drops[i] = c.drops[i].get();
    v.busy_cycles = c.cycles.busy_cycles.get();
    v.idle_cycles = c.cycles.idle_cycles.get();
    v.busy_passes = c.cycles.busy_passes.get();
    v.idle_passes = c.cycles.idle_passes.get();
    v.stats = l->worker->published();
    views.push_back(std::move(v));
  }
  return views;
}

std::string Appliance::summary() const {
  std::ostringstream out;
  out << "lcore counters (non-zero):\n";
  for (const LcoreView& v : lcore_views()) {
    out << "  lcore " << v.lcore << " (queue " << v.queue << "):";
    for (std::size_t i = 0; i < v.counters.size(); ++i)
      if (v.counters[i]) out << ' ' << to_string(static_cast<Counter>(i)) << '=' << v.counters[i];
    for (std::size_t i = 1; i < v.drops.size(); ++i)
      if (v.drops[i]) out << " drop_" << to_string(static_cast<DropReason>(i)) << '=' << v.drops[i];
    out << " cache_entries=" << v.stats.cache.entries << " cache_evictions=" << v.stats.cache.evictions;
    out << " busy_cycles=" << v.busy_cycles << " idle_cycles=" << v.idle_cycles << " busy_passes=" << v.busy_passes
        << " idle_passes=" << v.idle_passes << " " << busy_text(v, tsc_hz()) << '\n';
  }
  if (const PortStats p = port_stats(); p.available) {
    out << "port " << port_.name << ": " << to_text(p) << '\n';
  }
  for (const bool dot : {false, true})
    if (const TcpStats t = dot ? dot_stats() : tcp_stats(); t.enabled) {
      out << (dot ? "dot" : "tcp") << ": active=" << t.active;
      for (std::size_t i = 0; i < t.counters.size(); ++i)
        if (t.counters[i]) out << ' ' << to_string(static_cast<TcpCounter>(i)) << '=' << t.counters[i];
      out << '\n';
    }
  const std::vector<LcoreView> lcores = lcore_views();
  for (std::size_t v = 0; v < config_.views.size(); ++v) {
    if (config_.explicit_views) {
      const ViewTotals vt = sum_view(lcores, v);
      out << "view " << config_.views[v].name << ':';
      for (std::size_t i = 0; i < kViewCounters; ++i)
        out << ' ' << to_string(static_cast<ViewCounter>(i)) << '=' << vt.counters[i];
      out << " cache_entries=" << vt.cache.entries << " cache_evictions=" << vt.cache.evictions << '\n';
    }
    out << (config_.explicit_views ? "upstreams of view " + config_.views[v].name + ":\n" : std::string("upstreams:\n"));
    const UpstreamTotals t = sum_upstreams(pins(v), lcores, v);
    for (std::size_t u = 0; u < t.stats.size(); ++u) {
      const tls::UpstreamStats& sum = t.stats[u];
      out << "  " << t.pins->table.upstreams[u].name << ':';
      for (const tls::UpstreamCounterField& f : tls::kUpstreamCounters) out << ' ' << f.name << '=' << sum.*f.member;
      for (std::size_t r = 0; r < sum.failures.size(); ++r)
        if (sum.failures[r]) out << " failed_" << tls::to_string(static_cast<tls::FailureReason>(r)) << '=' << sum.failures[r];
      out << '\n';
    }
  }
  return out.str();
}

}  // namespace dotpin::dataplane
