// SPDX-License-Identifier: Apache-2.0
// The hot path's functions one at a time, on frames and messages that are already in the CPU
// cache: frame classification (with and without the UDP checksum check), DNS query parsing and
// key building, the in-place answer and error-reply writers, UDP turn-around (checksums), and an
// upstream answer's preparation for the cache. The pipeline benchmark measures them together in
// the real loop; these say where its cycles go.
// Run: build/bench/dotpin_packet_bench
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "dataplane/dns_query.h"
#include "dataplane/dns_reply.h"
#include "dataplane/packet.h"
#include "tests/dataplane/frames.h"
#include "tests/dataplane/responses.h"

namespace {

using namespace dotpin;
using namespace dotpin::dataplane;

// As dotpind configures `ipv4 = ["198.18.0.1/24"]`: the subnet's broadcast and network addresses
// are checked as sources too (src_martian), so classify pays for them here.
const LocalAddresses& local() {
  static const LocalAddresses l = [] {
    LocalAddresses a = test::local_addresses();
    a.ipv4_broadcast = {test::v4("198.18.0.255"), test::v4("198.18.0.0")};
    return a;
  }();
  return l;
}

void BM_Classify(benchmark::State& state) {
  const bool verify = state.range(0) != 0;
  const auto frame = test::udp_frame(test::query("www.example.com", dns::kTypeA, true, 7));
  for (auto _ : state) {
    auto v = classify(frame, local(), verify);
    benchmark::DoNotOptimize(v);
  }
  state.SetLabel(verify ? "UDP checksum checked" : "UDP checksum not checked");
}
BENCHMARK(BM_Classify)->Arg(0)->Arg(1);

void BM_ParseQuery(benchmark::State& state) {
  const auto msg = test::query("www.Example.COM", dns::kTypeA, state.range(0) != 0, 7);
  QueryInfo q;
  CacheKey key;
  for (auto _ : state) {
    auto verdict = parse_query(msg, q, key);
    benchmark::DoNotOptimize(verdict);
    benchmark::DoNotOptimize(key.hash);
  }
  state.SetLabel(state.range(0) ? "with EDNS" : "without EDNS");
}
BENCHMARK(BM_ParseQuery)->Arg(0)->Arg(1);

struct Answer {
  std::vector<std::uint8_t> query = test::query("www.example.com", dns::kTypeA, true, 7);
  PreparedAnswer prepared;
  QueryInfo q;
  CacheKey key;
  Answer() {
    auto bare = test::query("www.example.com", dns::kTypeA, false, 7);
    prepare_answer(test::response(bare, {.a_ttls = {300, 300}}), CacheLimits{}, prepared);
    parse_query(query, q, key);
  }
};

void BM_WriteAnswer(benchmark::State& state) {
  Answer a;
  std::vector<std::uint8_t> out(2048);
  for (auto _ : state) {
    auto len = write_answer(out.data(), out.size(), {a.prepared.message, a.prepared.ttl_offsets}, 5, a.q,
                            a.query.data() + 12, 1232);
    benchmark::DoNotOptimize(len);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_WriteAnswer);

void BM_WriteErrorReply(benchmark::State& state) {
  Answer a;
  std::vector<std::uint8_t> out(a.query);
  out.resize(512);
  const dns::Ede ede{dns::EdeCode::kNoReachableAuthority, "dotpin: upstream lab pin_mismatch"};
  for (auto _ : state) {
    std::memcpy(out.data(), a.query.data(), a.query.size());
    auto len = write_error_reply(out.data(), out.size(), a.q, 2, 1232, &ede);
    benchmark::DoNotOptimize(len);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_WriteErrorReply);

void BM_UdpTurnAround(benchmark::State& state) {
  const bool v6 = state.range(0) != 0;
  const auto original = test::udp_frame(test::query("www.example.com", dns::kTypeA, true, 7), test::FrameSpec{.ipv6 = v6});
  auto frame = original;
  frame.resize(2048);
  const PacketView v = classify(original, local(), true);
  for (auto _ : state) {
    std::memcpy(frame.data(), original.data(), original.size());
    auto len = finish_udp_reply(frame.data(), v, v.payload_len, local().mac);
    benchmark::DoNotOptimize(len);
    benchmark::ClobberMemory();
  }
  state.SetLabel(v6 ? "IPv6" : "IPv4");
}
BENCHMARK(BM_UdpTurnAround)->Arg(0)->Arg(1);

void BM_PrepareUpstreamAnswer(benchmark::State& state) {
  auto bare = test::query("www.example.com", dns::kTypeA, false, 7);
  const auto response = test::response(bare, {.a_ttls = {300, 300, 300, 300}, .opt = true});
  PreparedAnswer p;
  for (auto _ : state) {
    auto ok = prepare_answer(response, CacheLimits{}, p);
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_PrepareUpstreamAnswer);

}  // namespace

BENCHMARK_MAIN();
