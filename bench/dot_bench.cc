// SPDX-License-Identifier: Apache-2.0
// The DoT connection on one core, client and an in-process wolfSSL responder together, over memory
// buffers (no sockets): full handshakes vs resumptions, what authentication costs inside a
// handshake, and forwarded queries per second with and without coalescing.
// Run: build/bench/dotpin_dot_bench (DOTPIN_TEST_PKI defaults to the build's test PKI).
#include <benchmark/benchmark.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <cstdlib>

#include "bench/bench_pki.h"
#include "pinning/pem.h"
#include "tests/tls/memory_dot_server.h"
#include "tls/dot_connection.h"
#include "tls/id_table.h"

namespace {

using namespace dotpin;
using namespace dotpin::tls;

using bench::reference_pin;

std::string pki(const std::string& name) { return bench::pki_path(name); }

struct Fixture {
  Fixture() : server(pki("leaf-p256.key"), pki("leaf-p256.chain.pem")) {
    ctx = std::move(*make_client_ctx(""));
    up.name = "bench";
    up.auth_name = "dns.dotpin.test";
    Pin p;
    p.digest = *parse_pin_base64(reference_pin("leaf-p256"));
    up.pins = {p};
  }
  test::MemoryDotServer server;
  ClientContext ctx;
  UpstreamPins up;
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void BM_FullHandshake(benchmark::State& state) {
  auto& f = fixture();
  const UnixTime now = now_utc();
  for (auto _ : state) {
    DotConnection c(f.ctx, f.up, 1, nullptr);
    auto s = f.server.accept();
    test::MemoryDotServer::pump(c, *s, now);
    if (c.state() != DotConnection::State::kReady) state.SkipWithError("handshake failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FullHandshake)->Unit(benchmark::kMicrosecond);

void BM_Resumption(benchmark::State& state) {
  auto& f = fixture();
  const UnixTime now = now_utc();
  TicketCache tickets;
  {
    // One full handshake and an exchange, so the ticket is stored.
    DotConnection c(f.ctx, f.up, 1, &tickets);
    auto s = f.server.accept();
    test::MemoryDotServer::pump(c, *s, now);
    std::vector<std::uint8_t> q(29, 0);
    const std::span<const std::uint8_t> b[] = {q};
    c.send(b);
    test::MemoryDotServer::pump(c, *s, now);
    c.receive([](std::span<const std::uint8_t>) {});
  }
  for (auto _ : state) {
    DotConnection c(f.ctx, f.up, 1, &tickets);
    auto s = f.server.accept();
    test::MemoryDotServer::pump(c, *s, now);
    if (!c.resumed()) state.SkipWithError("not resumed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Resumption)->Unit(benchmark::kMicrosecond);

// What authentication adds to a full handshake: the pin check over the presented chain, and the
// name check (decode the leaf, match the name).
void BM_AuthPinCheck(benchmark::State& state) {
  auto chain_text = read_file(pki("leaf-p256.chain.pem"));
  auto objs = read_key_objects(*chain_text, "chain");
  std::vector<DerBytes> chain;
  for (const auto& o : *objs) chain.emplace_back(o.der);
  const auto& f = fixture();
  const UnixTime now = now_utc();
  for (auto _ : state) benchmark::DoNotOptimize(verify_chain(chain, f.up.pins, now).code);
}
BENCHMARK(BM_AuthPinCheck);

void BM_AuthNameCheck(benchmark::State& state) {
  auto chain_text = read_file(pki("leaf-p256.chain.pem"));
  auto objs = read_key_objects(*chain_text, "chain");
  const auto& leaf = (*objs)[0].der;
  for (auto _ : state) {
    WOLFSSL_X509* x = wolfSSL_X509_d2i(nullptr, leaf.data(), static_cast<int>(leaf.size()));
    benchmark::DoNotOptimize(wolfSSL_X509_check_host(x, "dns.dotpin.test", 15, 0, nullptr));
    wolfSSL_X509_free(x);
  }
}
BENCHMARK(BM_AuthNameCheck);

// Queries through one established connection: a batch of N queries per TLS write (N=1: no
// coalescing), answered by the in-process responder. Counts client + responder work on one core.
void BM_ForwardBatch(benchmark::State& state) {
  auto& f = fixture();
  const UnixTime now = now_utc();
  DotConnection c(f.ctx, f.up, 1, nullptr);
  auto s = f.server.accept();
  test::MemoryDotServer::pump(c, *s, now);
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<std::vector<std::uint8_t>> qs(n, std::vector<std::uint8_t>(128, 0));  // padded query size
  std::vector<std::span<const std::uint8_t>> batch(qs.begin(), qs.end());
  std::size_t answers = 0;
  for (auto _ : state) {
    c.send(batch);
    test::MemoryDotServer::pump(c, *s, now);
    c.receive([&](std::span<const std::uint8_t>) { ++answers; });
  }
  if (answers != n * state.iterations()) state.SkipWithError("lost answers");
  state.SetItemsProcessed(static_cast<std::int64_t>(answers));
}
BENCHMARK(BM_ForwardBatch)->Arg(1)->Arg(16)->Arg(64);

// Framing 64 padded queries into a stream and splitting them out again.
void BM_FrameUnframe(benchmark::State& state) {
  const std::vector<std::uint8_t> msg(128, 0x11);
  std::size_t n = 0;
  for (auto _ : state) {
    ByteQueue wire;
    for (int i = 0; i < 64; ++i) append_framed(wire, msg);
    FrameDecoder dec;
    dec.feed(wire.data());
    std::span<const std::uint8_t> m;
    while (dec.next(m) == FrameDecoder::Status::kMessage) ++n;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(n));
}
BENCHMARK(BM_FrameUnframe);

// A wire ID taken and given back, with 1000 others in flight.
void BM_IdRemap(benchmark::State& state) {
  IdTable ids(65536, 7);
  for (int i = 0; i < 1000; ++i) ids.alloc();
  for (auto _ : state) {
    const auto id = ids.alloc();
    benchmark::DoNotOptimize(id);
    ids.release(*id);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IdRemap);

}  // namespace

BENCHMARK_MAIN();
