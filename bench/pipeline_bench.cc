// SPDX-License-Identifier: Apache-2.0
// The pipeline benchmark: the real worker lcore loop (Worker::run_once: rx_burst, classify, parse,
// ACL, cache lookup, reply in place or dispatch, shard poll, tx_burst) on a real DPDK port — the
// net_ring PMD, whose RX and TX are rings this benchmark feeds and drains, so the port costs
// next to nothing. EAL runs with --no-huge on one lcore.
//
// Each iteration: 32 prepared query frames are copied into mbufs and enqueued on the RX ring, the
// worker runs one pass, and its replies are dequeued and freed. BM_Harness does the same work with
// a worker that only moves packets (rx_burst -> tx_burst), so worker cost = total - harness.
// Counters: queries/s (items), cycles per query from the TSC (total and net of the harness), and
// heap allocations per query made by the worker's own thread inside its passes (allocs_per_query:
// malloc, calloc and realloc, which operator new and wolfSSL's XMALLOC both end in).
// Run: build/bench/dotpin_pipeline_bench
#include <benchmark/benchmark.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <random>

#include "bench/bench_pki.h"
#include "dataplane/pass_clock.h"
#include "dataplane/port.h"
#include "dataplane/worker.h"
#include "tests/dataplane/frames.h"
#include "tests/tls/socket_dot_responder.h"
#include "tls/dot_connection.h"

// Counting allocations: this binary's malloc family stands in for glibc's (symbol interposition)
// and counts the calls made while the calling thread has counting on. Not counted: aligned_alloc,
// posix_memalign, memalign (and aligned operator new), which glibc serves itself. Not under a
// sanitizer, which interposes these functions itself (the counter then stays 0).
#if !defined(__SANITIZE_ADDRESS__)
#define DOTPIN_COUNT_ALLOCS 1
#endif
namespace {
thread_local bool t_count_allocs = false;
thread_local std::uint64_t t_allocs = 0;
}  // namespace
#if defined(DOTPIN_COUNT_ALLOCS)
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* malloc(std::size_t n) noexcept {
  if (t_count_allocs) ++t_allocs;
  return __libc_malloc(n);
}
void* calloc(std::size_t count, std::size_t size) noexcept {
  if (t_count_allocs) ++t_allocs;
  return __libc_calloc(count, size);
}
void* realloc(void* p, std::size_t n) noexcept {
  if (t_count_allocs) ++t_allocs;
  return __libc_realloc(p, n);
}
}
#endif

namespace {

using namespace dotpin;
using namespace dotpin::dataplane;
using Clock = Worker::Clock;

constexpr unsigned kBurst = Worker::kBurst;

// Heap in use (malloc'd, including mmapped blocks), MiB: what a structure costs, whatever an
// earlier benchmark freed and the allocator kept.
double heap_mib() {
  const struct mallinfo2 m = mallinfo2();
  return static_cast<double>(m.uordblks + m.hblkhd) / (1 << 20);
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// One port over two rings, its pool, and the things a worker points at.
struct Rig {
  rte_ring* rx = nullptr;
  rte_ring* tx = nullptr;
  Port port;
  LocalAddresses local = test::local_addresses();
  Acl acl;
  tls::ClientContext ctx;

  Rig() {
    static int n = 0;
    const std::string name = "pipe" + std::to_string(n++);
    rx = rte_ring_create((name + "rx").c_str(), 4096, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    tx = rte_ring_create((name + "tx").c_str(), 4096, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    const int id = rte_eth_from_rings(name.c_str(), &rx, 1, &tx, 1, 0);
    char ethdev[RTE_ETH_NAME_MAX_LEN];
    rte_eth_dev_get_name_by_port(static_cast<std::uint16_t>(id), ethdev);
    DataPlaneConfig c;
    c.device = ethdev;
    c.mbufs = 16383;
    auto p = open_port(c, 1);
    if (!p) throw std::runtime_error(p.error());
    port = *p;
    (void)acl.add("198.18.0.0/15");
    (void)acl.add("2001:2::/48");
    ctx = std::move(*tls::make_client_ctx(""));
  }
  ~Rig() {
    rte_mbuf* m;
    while (rte_ring_dequeue(rx, reinterpret_cast<void**>(&m)) == 0) rte_pktmbuf_free(m);
    while (rte_ring_dequeue(tx, reinterpret_cast<void**>(&m)) == 0) rte_pktmbuf_free(m);
    close_port(port);
    rte_ring_free(rx);
    rte_ring_free(tx);
  }

  WorkerSetup setup(std::vector<tls::ShardUpstream> ups, std::size_t cache_entries) {
    WorkerSetup s;
    s.port = port.id;
    s.pool = port.pool;
    s.local = &local;
    s.inflight = 8192;
    s.shard.max_pending = 8192;
    s.shard.max_inflight_per_connection = 8192;
    WorkerView v;
    v.acl = &acl;
    v.cache.entries = cache_entries;
    v.cache.max_bytes = std::size_t{4} << 30;
    v.upstreams = std::move(ups);
    s.views.push_back(std::move(v));
    return s;
  }

  /// Copies frames [next, next+n) (cycling) into mbufs on the RX ring.
  void feed(const std::vector<std::vector<std::uint8_t>>& frames, std::size_t& next, unsigned n) {
    rte_mbuf* m[kBurst];
    if (rte_pktmbuf_alloc_bulk(port.pool, m, n) != 0) throw std::runtime_error("pool empty");
    for (unsigned i = 0; i < n; ++i) {
      const auto& f = frames[next];
      next = next + 1 == frames.size() ? 0 : next + 1;
      std::memcpy(rte_pktmbuf_mtod(m[i], void*), f.data(), f.size());
      m[i]->data_len = static_cast<std::uint16_t>(f.size());
      m[i]->pkt_len = static_cast<std::uint32_t>(f.size());
    }
    rte_ring_enqueue_bulk(rx, reinterpret_cast<void**>(m), n, nullptr);
  }
  unsigned drain() {
    rte_mbuf* m[256];
    unsigned total = 0, n;
    while ((n = rte_ring_dequeue_burst(tx, reinterpret_cast<void**>(m), 256, nullptr)) > 0) {
      rte_pktmbuf_free_bulk(m, n);
      total += n;
    }
    return total;
  }
};

std::vector<std::vector<std::uint8_t>> query_frames(std::size_t names, const char* suffix, bool shuffle,
                                                    std::size_t clients = 1) {
  std::vector<std::vector<std::uint8_t>> frames;
  frames.reserve(names);
  for (std::size_t i = 0; i < names; ++i) {
    const std::string name = "n" + std::to_string(i) + suffix;
    // Source ports the worker drops (is_reflection_port: 1900, 5353, 11211, ...) are skipped: every
    // frame here is a query that is answered.
    auto sport = static_cast<std::uint16_t>(1024 + i % 60000);
    if (is_reflection_port(sport)) ++sport;
    // More than one client: sources in 198.19.0.0/16 (inside the rig's ACL, never our address).
    const std::size_t c = i % clients;
    const std::string src =
        clients == 1 ? "" : "198.19." + std::to_string(c >> 8 & 0xff) + "." + std::to_string(c & 0xff);
    frames.push_back(test::udp_frame(test::query(name.c_str(), dns::kTypeA, true, static_cast<std::uint16_t>(i)),
                                     test::FrameSpec{.src = src, .sport = sport}));
  }
  if (shuffle) std::shuffle(frames.begin(), frames.end(), std::mt19937(42));
  return frames;
}

// Fills the worker's cache (of view @p view) with an answer (one A record, TTL 1 day) for each name
// (with @p every > 1: names i with i % every == view only).
void warm(Worker& w, std::size_t names, const char* suffix, std::size_t view = 0, std::size_t every = 1) {
  for (std::size_t i = view % every; i < names; i += every) {
    const std::string name = "n" + std::to_string(i) + suffix;
    auto q = test::query(name.c_str(), dns::kTypeA, true);
    QueryInfo info;
    CacheKey key;
    parse_query(q, info, key);
    q.resize(q.size() - 11);  // the answer without the client's OPT
    q[11] = 0;
    q[2] |= 0x80;
    q[7] = 1;
    q.insert(q.end(), {0xc0, 12, 0, 1, 0, 1, 0, 1, 0x51, 0x80, 0, 4, 198, 18, 0, 10});
    PreparedAnswer p;
    prepare_answer(q, CacheLimits{}, p);
    w.cache(view).insert(key, p, 0);
  }
}

void report(benchmark::State& state, std::uint64_t queries, std::uint64_t cycles) {
  state.SetItemsProcessed(static_cast<std::int64_t>(queries));
  state.counters["cycles_per_query"] = static_cast<double>(cycles) / static_cast<double>(queries);
  state.counters["tsc_ghz"] = static_cast<double>(rte_get_tsc_hz()) / 1e9;
}

// One worker pass with the worker thread's allocations counted.
unsigned counted_pass(Worker& w) {
  t_count_allocs = true;
  const unsigned n = w.run_once(Clock::now());
  t_count_allocs = false;
  return n;
}

// allocs_per_query: what the passes since @p allocs0 allocated, per query.
void report_allocs(benchmark::State& state, std::uint64_t allocs0, std::uint64_t queries) {
  state.counters["allocs_per_query"] = static_cast<double>(t_allocs - allocs0) / static_cast<double>(queries);
}

// The timed loop of the cache-hit benchmarks: a burst of @p frames in, one pass, the replies out;
// cycles per query and the hit ratio (a set-associative cache can lose a few names to full
// buckets while warming).
void run_hits(benchmark::State& state, Rig& rig, Worker& w, const std::vector<std::vector<std::uint8_t>>& frames) {
  std::size_t next = 0;
  std::uint64_t queries = 0, cycles = 0;
  const std::uint64_t allocs0 = t_allocs;
  for (auto _ : state) {
    rig.feed(frames, next, kBurst);
    const std::uint64_t t0 = rte_rdtsc();
    counted_pass(w);
    cycles += rte_rdtsc() - t0;
    queries += rig.drain();
  }
  report(state, queries, cycles);
  report_allocs(state, allocs0, queries);
  state.counters["hit_ratio"] = static_cast<double>(w.counters()[Counter::kCacheHits].get()) /
                                static_cast<double>(w.counters()[Counter::kQueries].get());
}

// The harness alone: the same feed and drain around a loop that only moves packets.
void BM_Harness(benchmark::State& state) {
  Rig rig;
  const auto frames = query_frames(10000, ".hot.test", false);
  std::size_t next = 0;
  std::uint64_t queries = 0, cycles = 0;
  for (auto _ : state) {
    rig.feed(frames, next, kBurst);
    const std::uint64_t t0 = rte_rdtsc();
    rte_mbuf* m[kBurst];
    const std::uint16_t n = rte_eth_rx_burst(rig.port.id, 0, m, kBurst);
    rte_eth_tx_burst(rig.port.id, 0, m, n);
    cycles += rte_rdtsc() - t0;
    queries += rig.drain();
  }
  report(state, queries, cycles);
}
BENCHMARK(BM_Harness);

// Cache hits: arg 0 = distinct names (10k hot set; 1M random names); arg 1 = 1: the worker reads a
// pin feed (RCU pointer check + quiescent report) and its mailbox every pass, as in dotpind; arg 2
// ("limit") = 0: no [ratelimit]; 1: a query limit no client reaches, one client; 2: the same with
// 65,536 clients (a 65,536-entry table: the bucket is a cache miss, as with many real clients).
void BM_CacheHit(benchmark::State& state) {
  Rig rig;
  const auto names = static_cast<std::size_t>(state.range(0));
  const auto frames = query_frames(names, ".hit.test", true, state.range(2) == 2 ? 65536 : 1);
  auto snapshot = std::make_shared<PinSnapshot>();
  snapshot->generation = 1;
  std::unique_ptr<PinFeed> feed;
  WorkerSetup setup = rig.setup({}, names * 2);
  if (state.range(2) != 0) {
    setup.ratelimit.qps = 100000000;  // never reached: every query pays the lookup and passes
    setup.ratelimit.error_qps = 100000000;
  }
  if (state.range(1) != 0) {
    feed = std::move(*PinFeed::create(1, {snapshot}));
    feed->online(0);
    setup.pins = feed.get();
  }
  Worker w(setup);
  warm(w, names, ".hit.test");
  run_hits(state, rig, w, frames);
  if (feed) feed->offline(0);
}
BENCHMARK(BM_CacheHit)
    ->ArgNames({"names", "feed", "limit"})
    ->Args({10000, 0, 0})
    ->Args({10000, 1, 0})
    ->Args({1000000, 0, 0})
    ->Args({10000, 1, 1})
    ->Args({10000, 1, 2})
    ->Args({1000000, 0, 2});

// Cache hits with views (tenants): arg 0 = views (0: none, the implicit view and no lookup); arg 1
// ("by") = 0: views told apart by source prefix (one /32 client each: the scan is as long as the
// client's position), 1: by 802.1Q VLAN (a table load and one compare). Queries are spread evenly
// over the views; every view's partition holds every name. With the pin feed, as in dotpind.
void BM_CacheHitViews(benchmark::State& state) {
  Rig rig;
  const auto views = static_cast<std::size_t>(state.range(0));
  const bool by_vlan = state.range(1) != 0;
  constexpr std::size_t kNames = 10000;
  auto frames = query_frames(kNames, ".hit.test", true, 1);
  ViewMap map;
  if (views > 0) {
    frames.clear();
    for (std::size_t i = 0; i < kNames; ++i) {
      const std::size_t v = i % views;
      auto sport = static_cast<std::uint16_t>(1024 + i % 60000);
      if (is_reflection_port(sport)) ++sport;
      const std::string src = by_vlan ? "198.19.0.1" : "198.19.0." + std::to_string(v + 1);
      auto f = test::udp_frame(test::query(("n" + std::to_string(i) + ".hit.test").c_str(), dns::kTypeA, true,
                                           static_cast<std::uint16_t>(i)),
                               test::FrameSpec{.vlan = by_vlan, .src = src, .sport = sport});
      if (by_vlan) {
        const auto vid = static_cast<std::uint16_t>(100 + v);
        f[14] = static_cast<std::uint8_t>(vid >> 8);
        f[15] = static_cast<std::uint8_t>(vid);
      }
      frames.push_back(std::move(f));
    }
    std::shuffle(frames.begin(), frames.end(), std::mt19937(42));
    for (std::size_t v = 0; v < views; ++v) {
      const auto status = by_vlan ? map.add(static_cast<std::uint16_t>(v), static_cast<std::uint16_t>(100 + v), {})
                                  : map.add(static_cast<std::uint16_t>(v), std::nullopt,
                                            {"198.19.0." + std::to_string(v + 1) + "/32"});
      if (!status) throw std::runtime_error(status.error());
    }
    map.build();
  }
  WorkerSetup setup = rig.setup({}, kNames * 2);
  setup.views.resize(std::max<std::size_t>(views, 1), setup.views[0]);
  // Partitions sized to their tenant's share of the names, as an operator would size them.
  for (auto& v : setup.views) {
    v.cache.entries = std::max<std::size_t>(64, kNames * 2 / setup.views.size());
    if (views > 0) v.inflight = static_cast<std::uint32_t>(std::max<std::size_t>(16, 8192 / views));  // as dotpind does
  }
  setup.view_map = views > 0 ? &map : nullptr;
  std::vector<std::shared_ptr<const PinSnapshot>> first;
  for (std::size_t v = 0; v < setup.views.size(); ++v) {
    auto snapshot = std::make_shared<PinSnapshot>();
    snapshot->generation = 1;
    setup.views[v].fed = snapshot.get();
    first.push_back(std::move(snapshot));
  }
  auto feed = std::move(*PinFeed::create(1, first));
  feed->online(0);
  setup.pins = feed.get();
  const double heap_before = heap_mib();
  Worker w(setup);
  // The worker with its views' empty partitions (bucket tables) and shards, per view: compare rows
  // (64 views against 2) for the cost of one more view on one lcore.
  state.counters["worker_mib"] = heap_mib() - heap_before;
  // Each view's clients ask for their own names (name i is view i % views's): the working set is
  // the same 10,000 answers whatever the number of views, so the rows differ by the lookup and
  // the per-view state a pass touches, not by how much is cached.
  const std::size_t per = std::max<std::size_t>(views, 1);
  for (std::size_t v = 0; v < w.view_count(); ++v) warm(w, kNames, ".hit.test", v, per);
  run_hits(state, rig, w, frames);
  feed->offline(0);
}
BENCHMARK(BM_CacheHitViews)
    ->ArgNames({"views", "by_vlan"})
    ->Args({0, 0})
    ->Args({1, 0})
    ->Args({2, 0})
    ->Args({64, 0})
    ->Args({2, 1})
    ->Args({64, 1});

// Malformed traffic: every frame is dropped or answered with an error, none reaches the cache.
void BM_Malformed(benchmark::State& state) {
  Rig rig;
  std::vector<std::vector<std::uint8_t>> frames;
  std::mt19937 rng(3);
  const auto good = test::udp_frame(test::query("www.dotpin.test", dns::kTypeA, true));
  for (int i = 0; i < 4096; ++i) {
    auto f = good;
    switch (i % 4) {
      case 0: f.back() ^= 0x5a; break;                              // UDP checksum
      case 1: f[14 + 9] = 6; break;                                 // not UDP (and IP checksum)
      case 2: f.resize(14 + 20 + 8 + 5); f[14 + 2] = 0; f[14 + 3] = 33; f[14 + 10] = f[14 + 11] = 0; {
          const std::uint16_t c = checksum_fold(checksum_add(0, &f[14], 20));
          std::memcpy(&f[14 + 10], &c, 2);
          f[38] = 0; f[39] = 13; f[40] = f[41] = 0;                   // UDP: 5 bytes, no checksum
        } break;                                                     // DNS shorter than a header
      case 3: f[12] = 0x88; f[13] = 0xcc; break;                    // LLDP
    }
    frames.push_back(f);
  }
  Worker w(rig.setup({}, 1024));
  std::size_t next = 0;
  std::uint64_t frames_in = 0, cycles = 0;
  for (auto _ : state) {
    rig.feed(frames, next, kBurst);
    const std::uint64_t t0 = rte_rdtsc();
    w.run_once(Clock::now());
    cycles += rte_rdtsc() - t0;
    rig.drain();
    frames_in += kBurst;
  }
  report(state, frames_in, cycles);
}
BENCHMARK(BM_Malformed);

// What the busy-cycle accounting adds to every pass of Worker::run: one TSC read and one
// LoopCycles::account (two single-writer counter updates). Alternating busy and idle passes.
void BM_PassAccounting(benchmark::State& state) {
  LoopCycles cycles;
  std::uint64_t last = rte_rdtsc();
  bool busy = false;
  for (auto _ : state) {
    const std::uint64_t t = rte_rdtsc();
    cycles.account(busy, last, t);
    last = t;
    busy = !busy;
  }
  benchmark::DoNotOptimize(cycles.busy_passes.get());
  state.counters["tsc_per_pass"] =
      static_cast<double>(cycles.busy_cycles.get() + cycles.idle_cycles.get()) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_PassAccounting);

// A pass's time: Arg 0, steady_clock::now() (clock_gettime through the vDSO, what Worker::run read
// per pass before); Arg 1, PassClock::at() on the TSC reading the loop takes anyway (pass_clock.h).
void BM_PassTime(benchmark::State& state) {
  PassClock<Clock> clock(rte_get_tsc_hz(), rte_rdtsc());
  const bool tsc = state.range(0) != 0;
  state.SetLabel(tsc ? "PassClock::at(rdtsc)" : "steady_clock::now()");
  std::uint64_t sum = 0;
  const std::uint64_t t0 = rte_rdtsc();
  for (auto _ : state) {
    const std::uint64_t t = rte_rdtsc();  // taken by the loop in both cases
    const auto now = tsc ? clock.at(t) : Clock::now();
    sum += static_cast<std::uint64_t>(now.time_since_epoch().count());
  }
  benchmark::DoNotOptimize(sum);
  state.counters["tsc_per_pass"] =
      static_cast<double>(rte_rdtsc() - t0) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_PassTime)->Arg(0)->Arg(1);

// Misses: every query is a new name, forwarded over DoT to a local responder (in-process threads
// on the same 2 cores); closed loop with arg 0 queries outstanding. Arg 1: the responder pads its
// answers to 468-byte blocks as unbound does (the shard pads queries to 128: RFC 8467), 0: it
// echoes the padded query (a 128-byte answer).
void BM_Miss(benchmark::State& state) {
  Rig rig;
  test::SocketDotResponder responder(bench::pki_path("leaf-p256.key"), bench::pki_path("leaf-p256.chain.pem"));
  responder.pad_block = state.range(1) != 0 ? 468 : 0;
  state.SetLabel(state.range(1) != 0 ? "answers padded to 468" : "answers 128");
  UpstreamPins up;
  up.name = "bench";
  up.address = *parse_endpoint(responder.address(), 853, false);
  up.auth_name = "dns.dotpin.test";
  Pin p;
  p.digest = *parse_pin_base64(bench::reference_pin("leaf-p256"));
  up.pins = {p};
  const auto frames = query_frames(65536, ".miss.test", false);
  Worker w(rig.setup({{&up, &rig.ctx}}, 1024));  // NODATA without SOA: never cached
  const auto outstanding = static_cast<std::uint64_t>(state.range(0));
  std::size_t next = 0;
  std::uint64_t sent = 0, answered = 0, cycles = 0;
  auto pump = [&] {
    while (sent - answered < outstanding) {
      const auto n = static_cast<unsigned>(std::min<std::uint64_t>(kBurst, outstanding - (sent - answered)));
      rig.feed(frames, next, n);
      sent += n;
      if (n < kBurst) break;
    }
    const std::uint64_t t0 = rte_rdtsc();
    counted_pass(w);
    cycles += rte_rdtsc() - t0;
    answered += rig.drain();
  };
  while (answered < outstanding) pump();  // handshake and warm-up outside the timed loop
  cycles = 0;
  const std::uint64_t answered0 = answered;
  const std::uint64_t allocs0 = t_allocs;
  const double cpu0 = cpu_seconds();
  for (auto _ : state) {
    const std::uint64_t target = answered + 1000;
    while (answered < target) pump();
  }
  const double cpu = cpu_seconds() - cpu0;
  const auto q = answered - answered0;
  report(state, q, cycles);
  report_allocs(state, allocs0, q);
  state.counters["cpu_us_per_query"] = 1e6 * cpu / static_cast<double>(q);  // worker + responder
  while (w.inflight() > 0) {
    w.run_once(Clock::now());
    rig.drain();
  }
}
BENCHMARK(BM_Miss)->Args({512, 0})->Args({512, 1})->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  const std::string prefix = "dotpin-pipeline-" + std::to_string(::getpid());
  std::vector<std::string> args = {"pipeline_bench", "--no-huge", "-m", "2048", "--no-pci", "-l", "0",
                                    "--file-prefix", prefix, "--log-level", "error"};
  std::vector<char*> eal;
  for (auto& a : args) eal.push_back(a.data());
  if (rte_eal_init(static_cast<int>(eal.size()), eal.data()) < 0) {
    std::fprintf(stderr, "EAL init failed\n");
    return 1;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  rte_eal_cleanup();
  std::filesystem::remove_all("/var/run/dpdk/" + prefix);
  return 0;
}
