// SPDX-License-Identifier: Apache-2.0
#include "dataplane/appliance.h"

#include <rte_launch.h>
#include <rte_lcore.h>
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ecc.h>

#include <sstream>
#include <thread>

#include "common/time_util.h"
#include "tls/dot_connection.h"

namespace dotpin::dataplane {

struct Appliance::Lcore {
  unsigned id = 0;
  Appliance* owner = nullptr;
  WorkerSetup setup;
  tls::CtxPtr ctx;
  std::unique_ptr<Worker> worker;
  std::atomic<int> state{0};  // 0 starting, 1 running, -1 failed
  std::string error;
};

Appliance::Appliance(DaemonConfig config, Log log) : config_(std::move(config)), log_(std::move(log)) {}

Appliance::~Appliance() {
  stop();
  lcores_.clear();  // workers close their connections before the port goes
  close_port(port_);
}

Result<std::unique_ptr<Appliance>> Appliance::create(DaemonConfig config, Log log) {
  std::unique_ptr<Appliance> a(new Appliance(std::move(config), std::move(log)));
  FilePinSource source(a->config_.pin_file);
  std::vector<Diagnostic> errors;
  const auto generation = a->pins_.reload(source, now_utc(), errors);
  if (!generation) {
    std::string text = "pin file rejected:";
    for (const auto& d : errors) text += "\n  " + d.to_string();
    return Error{text};
  }
  a->snapshot_ = a->pins_.current();

  unsigned workers = 0;
  unsigned lcore;
  RTE_LCORE_FOREACH_WORKER(lcore) ++workers;
  if (workers == 0)
    return fail("no worker lcore: give EAL at least two lcores (e.g. -l 0-1); the main lcore does not poll");
  auto port = open_port(a->config_, workers);
  if (!port) return Error{port.error()};
  a->port_ = *port;
  a->config_.local.mac = a->port_.mac;

  unsigned queue = 0;
  RTE_LCORE_FOREACH_WORKER(lcore) {
    auto l = std::make_unique<Lcore>();
    l->id = lcore;
    l->owner = a.get();
    auto ctx = tls::make_client_ctx(a->config_.ca_file);
    if (!ctx) return Error{"TLS context: " + ctx.error()};
    l->ctx = std::move(*ctx);
    WorkerSetup& s = l->setup;
    s.port = a->port_.id;
    s.queue = static_cast<std::uint16_t>(queue++);
    s.pool = a->port_.pool;
    s.local = &a->config_.local;
    s.acl = &a->config_.acl;
    s.acl_refuse = a->config_.acl_refuse;
    s.verify_udp_checksum = a->config_.verify_udp_checksum;
    s.max_udp = a->config_.max_udp;
    s.cache = a->config_.cache;
    s.limits = a->config_.limits;
    s.inflight = a->config_.inflight_per_lcore;
    s.shard = a->config_.shard;
    if (a->log_) {
      Log sink = a->log_;
      s.shard.log = [sink, lcore](std::string_view line) { sink("lcore " + std::to_string(lcore) + ": " + std::string(line)); };
    }
    for (const auto& up : a->snapshot_->table.upstreams) s.upstreams.push_back({&up, l->ctx.get()});
    s.pin_generation = a->snapshot_->generation;
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
  l->worker->run(l->owner->stop_, l->owner->config_.drain);
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

std::string Appliance::summary() const {
  std::ostringstream out;
  out << "lcore counters (non-zero):\n";
  for (const auto& l : lcores_) {
    if (!l->worker) continue;
    const LcoreCounters& c = l->worker->counters();
    out << "  lcore " << l->id << " (queue " << l->setup.queue << "):";
    for (std::size_t i = 0; i < c.counters.size(); ++i)
      if (const auto v = c.counters[i].get()) out << ' ' << to_string(static_cast<Counter>(i)) << '=' << v;
    for (std::size_t i = 1; i < c.drops.size(); ++i)
      if (const auto v = c.drops[i].get()) out << " drop_" << to_string(static_cast<DropReason>(i)) << '=' << v;
    const CacheStats& cs = l->worker->cache().stats();
    out << " cache_entries=" << cs.entries << " cache_evictions=" << cs.evictions << '\n';
  }
  out << "upstreams:\n";
  for (std::size_t u = 0; u < snapshot_->table.upstreams.size(); ++u) {
    tls::UpstreamStats sum;
    for (const auto& l : lcores_) {
      if (!l->worker) continue;
      const tls::UpstreamStats& s = l->worker->shard().stats(u);
      sum.queries += s.queries;
      sum.answers += s.answers;
      sum.timeouts += s.timeouts;
      sum.servfails += s.servfails;
      sum.connections += s.connections;
      sum.full_handshakes += s.full_handshakes;
      sum.resumptions += s.resumptions;
      for (std::size_t r = 0; r < sum.failures.size(); ++r) sum.failures[r] += s.failures[r];
    }
    out << "  " << snapshot_->table.upstreams[u].name << ": queries=" << sum.queries << " answers=" << sum.answers
        << " timeouts=" << sum.timeouts << " servfails=" << sum.servfails << " connections=" << sum.connections
        << " full_handshakes=" << sum.full_handshakes << " resumptions=" << sum.resumptions;
    for (std::size_t r = 0; r < sum.failures.size(); ++r)
      if (sum.failures[r]) out << " failed_" << tls::to_string(static_cast<tls::FailureReason>(r)) << '=' << sum.failures[r];
    out << '\n';
  }
  return out.str();
}

}  // namespace dotpin::dataplane
