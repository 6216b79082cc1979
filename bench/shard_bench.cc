// SPDX-License-Identifier: Apache-2.0
// Forwarding through one DoT shard over real loopback TCP and io_uring, against an in-process
// wolfSSL responder (a thread per connection, on the same 2 cores: the figures include its work).
// Closed loop with 512 queries outstanding. Args: connections, coalescing (1) or one write per query (0).
// Run: build/bench/dotpin_shard_bench
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <sys/resource.h>

#include "bench/bench_pki.h"
#include "common/dns_wire.h"
#include "pinning/pem.h"
#include "tests/tls/socket_dot_responder.h"
#include "tls/shard.h"

namespace {

using namespace dotpin;
using namespace dotpin::tls;

std::string pki(const std::string& name) { return bench::pki_path(name); }

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

void BM_ShardForward(benchmark::State& state) {
  test::SocketDotResponder responder(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"));
  UpstreamPins up;
  up.name = "bench";
  up.address = *parse_endpoint(responder.address(), 853, false);
  Pin p;
  p.digest = *parse_pin_base64(bench::reference_pin("leaf-p256"));
  up.pins = {p};
  auto ctx = std::move(*make_client_ctx(""));
  UringReactor reactor(512);
  ShardOptions o;
  o.connections_per_upstream = static_cast<std::size_t>(state.range(0));
  o.coalesce = state.range(1) != 0;
  o.max_inflight_per_connection = 4096;
  std::uint64_t done = 0, servfails = 0;
  DotShard shard(reactor, {{&up, &ctx}}, 1, o,
                 [&](std::uint64_t, DotShard::Outcome out, std::span<const std::uint8_t>, const dns::Ede&) {
                   ++done;
                   servfails += out == DotShard::Outcome::kServfail;
                 });
  dns::QueryOptions qo;
  const auto query = *dns::build_query("www.dotpin.test", dns::kTypeA, qo);
  constexpr std::uint64_t kOutstanding = 512, kPerIteration = 2000;
  std::uint64_t submitted = 0;
  auto top_up = [&] {
    while (submitted - done < kOutstanding) shard.submit(submitted++, query, DotShard::Clock::now());
  };
  // Warm up: connections and handshakes happen here, not in the timed loop.
  top_up();
  while (done < kOutstanding) shard.poll(DotShard::Clock::now(), std::chrono::microseconds(100));
  const double cpu0 = cpu_seconds();
  const std::uint64_t done0 = done;
  for (auto _ : state) {
    const std::uint64_t target = done + kPerIteration;
    while (done < target) {
      top_up();
      shard.poll(DotShard::Clock::now(), std::chrono::microseconds(50));
    }
  }
  const double cpu = cpu_seconds() - cpu0;
  const auto answered = static_cast<double>(done - done0);
  state.SetItemsProcessed(static_cast<std::int64_t>(done - done0));
  state.counters["cpu_us_per_query"] = 1e6 * cpu / answered;  // process CPU (shard + responder)
  state.counters["servfails"] = static_cast<double>(servfails);
  while (done < submitted) shard.poll(DotShard::Clock::now(), std::chrono::microseconds(100));
}
BENCHMARK(BM_ShardForward)->Args({1, 1})->Args({1, 0})->Args({4, 1})->Args({4, 0})->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
