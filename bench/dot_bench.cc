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
#include "pinning/authenticate.h"
#include "pinning/cert_view.h"
#include "pinning/name_match.h"
#include "pinning/pem.h"
#include "pinning/signature.h"
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
    // The key share before X25519 came first (wolfSSL's default: P-256), for the A/B.
    p256_first = std::move(*make_client_ctx(""));
    int groups[] = {WOLFSSL_ECC_SECP256R1, WOLFSSL_ECC_X25519, WOLFSSL_ECC_SECP384R1};
    if (wolfSSL_CTX_set_groups(p256_first.get(), groups, 3) != WOLFSSL_SUCCESS) std::abort();  // else A = B
    up.name = "bench";
    up.auth_name = "dns.dotpin.test";
    Pin p;
    p.digest = *parse_pin_base64(reference_pin("leaf-p256"));
    up.pins = {p};
  }
  test::MemoryDotServer server;
  ClientContext ctx;
  ClientContext p256_first;
  UpstreamPins up;
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

// Arg 0: the client policy's key share (X25519); 1: a P-256 share, wolfSSL's default (its ECDH
// runs the fixed-point ECC cache on the server's fresh point; client_context.cc).
void BM_FullHandshake(benchmark::State& state) {
  auto& f = fixture();
  const UnixTime now = now_utc();
  const ClientContext& ctx = state.range(0) == 0 ? f.ctx : f.p256_first;
  state.SetLabel(state.range(0) == 0 ? "X25519 key share" : "P-256 key share");
  for (auto _ : state) {
    DotConnection c(ctx, f.up, 1, nullptr);
    auto s = f.server.accept();
    test::MemoryDotServer::pump(c, *s, now);
    if (c.state() != DotConnection::State::kReady) state.SkipWithError("handshake failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FullHandshake)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_Resumption(benchmark::State& state) {
  auto& f = fixture();
  const UnixTime now = now_utc();
  const ClientContext& ctx = state.range(0) == 0 ? f.ctx : f.p256_first;  // as BM_FullHandshake
  state.SetLabel(state.range(0) == 0 ? "X25519 key share" : "P-256 key share");
  TicketCache tickets;
  {
    // One full handshake and an exchange, so the ticket is stored.
    DotConnection c(ctx, f.up, 1, &tickets);
    auto s = f.server.accept();
    test::MemoryDotServer::pump(c, *s, now);
    std::vector<std::uint8_t> q(29, 0);
    const std::span<const std::uint8_t> b[] = {q};
    c.send(b);
    test::MemoryDotServer::pump(c, *s, now);
    c.receive([](std::span<const std::uint8_t>) {});
  }
  for (auto _ : state) {
    DotConnection c(ctx, f.up, 1, &tickets);
    auto s = f.server.accept();
    test::MemoryDotServer::pump(c, *s, now);
    if (!c.resumed()) state.SkipWithError("not resumed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Resumption)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

// What authentication adds to a full handshake: the pin check over the verified path (one
// signature check per link), the name check, and both together as the resolver runs them.
std::vector<std::vector<std::uint8_t>> ders_of(const std::string& file) {
  auto text = read_file(pki(file));
  auto objs = read_key_objects(*text, file);
  std::vector<std::vector<std::uint8_t>> out;
  for (auto& o : *objs) out.push_back(std::move(o.der));
  return out;
}

// Pin-only mode, leaf pin: element 0 matches; the path (leaf -> issuing, one ECDSA P-256
// verification) is still built, so the verdict can be re-checked later against any pin set.
void BM_AuthPinCheck(benchmark::State& state) {
  const auto ders = ders_of("leaf-p256.chain.pem");
  const std::vector<DerBytes> chain(ders.begin(), ders.end());
  const auto& f = fixture();
  const UnixTime now = now_utc();
  for (auto _ : state) benchmark::DoNotOptimize(verify_chain(chain, f.up.pins, now).code);
}
BENCHMARK(BM_AuthPinCheck)->Unit(benchmark::kMicrosecond);

// Baseline: what the pin check did before it verified the path (hash every presented SPKI and
// compare with the pins): the part of BM_AuthPinCheck that is not signature checking.
void BM_AuthPinHashOnly(benchmark::State& state) {
  const auto ders = ders_of("leaf-p256.chain.pem");
  const std::vector<DerBytes> chain(ders.begin(), ders.end());
  const auto& f = fixture();
  for (auto _ : state) {
    bool any = false;
    for (const DerBytes d : chain)
      if (const auto spki = find_spki(d))
        for (const Pin& p : f.up.pins) any |= pins_equal(spki_sha256(*spki), p.digest);
    benchmark::DoNotOptimize(any);
  }
}
BENCHMARK(BM_AuthPinHashOnly)->Unit(benchmark::kMicrosecond);

// CA mode with the root as trust anchor: two links (leaf -> issuing -> root).
void BM_AuthPinCheckCaMode(benchmark::State& state) {
  const auto ders = ders_of("leaf-p256.chain.pem");
  const auto root = ders_of("root.crt");
  const std::vector<DerBytes> chain(ders.begin(), ders.end());
  const CertView anchor = *view_certificate(root[0]);
  const auto& f = fixture();
  const UnixTime now = now_utc();
  for (auto _ : state)
    benchmark::DoNotOptimize(verify_chain(chain, f.up.pins, now, std::span<const CertView>(&anchor, 1)).code);
}
BENCHMARK(BM_AuthPinCheckCaMode)->Unit(benchmark::kMicrosecond);

// The hostile chain of the appended-certificate attack: impostor leaf + genuine leaf + issuing.
void BM_AuthPinCheckAppendedImpostor(benchmark::State& state) {
  const auto ders = ders_of("hostile/misissued-plus-leaf.chain.pem");
  const std::vector<DerBytes> chain(ders.begin(), ders.end());
  const auto& f = fixture();
  const UnixTime now = now_utc();
  for (auto _ : state) benchmark::DoNotOptimize(verify_chain(chain, f.up.pins, now).code);
}
BENCHMARK(BM_AuthPinCheckAppendedImpostor)->Unit(benchmark::kMicrosecond);

// One link's signature check, by the issuer's key type (the test PKI's sig-KIND chains).
void BM_LinkSignature(benchmark::State& state, const char* kind) {
  const std::string k = kind;
  const auto leaf = ders_of(k == "p256" ? "leaf-p256.crt" : "hostile/sig-" + k + "-leaf.crt");
  const auto ca = ders_of(k == "p256" ? "issuing.crt" : "hostile/sig-" + k + "-ca.crt");
  const auto l = view_certificate(leaf[0]);
  const auto c = view_certificate(ca[0]);
  if (verify_signature(l->tbs, l->sig_alg, l->signature, c->spki) != SignatureCheck::kValid) {
    state.SkipWithError("signature does not verify");
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(verify_signature(l->tbs, l->sig_alg, l->signature, c->spki));
}
BENCHMARK_CAPTURE(BM_LinkSignature, ecdsa_p256, "p256")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_LinkSignature, ecdsa_p384, "p384")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_LinkSignature, rsa2048_pkcs1, "rsa-pkcs1")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_LinkSignature, rsa2048_pss, "rsa-pss")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_LinkSignature, ed25519, "ed25519")->Unit(benchmark::kMicrosecond);

// The name check as it was: decode the leaf again through wolfSSL's X509 and match the name.
void BM_AuthNameCheckWolfX509(benchmark::State& state) {
  const auto ders = ders_of("leaf-p256.chain.pem");
  const auto& leaf = ders[0];
  for (auto _ : state) {
    WOLFSSL_X509* x = wolfSSL_X509_d2i(nullptr, leaf.data(), static_cast<int>(leaf.size()));
    benchmark::DoNotOptimize(wolfSSL_X509_check_host(x, "dns.dotpin.test", 15, 0, nullptr));
    wolfSSL_X509_free(x);
  }
}
BENCHMARK(BM_AuthNameCheckWolfX509);

// The name check now: our DER walk of the leaf and RFC 6125 matching of its DNS SANs.
void BM_AuthNameCheck(benchmark::State& state) {
  const auto ders = ders_of("leaf-p256.chain.pem");
  for (auto _ : state) {
    const auto v = view_certificate(ders[0]);
    benchmark::DoNotOptimize(v && certificate_matches_name(*v, "dns.dotpin.test"));
  }
}
BENCHMARK(BM_AuthNameCheck);

// The whole decision a full handshake gets: path, pins and name (pin-only mode).
void BM_AuthenticateChain(benchmark::State& state) {
  const auto ders = ders_of("leaf-p256.chain.pem");
  const std::vector<DerBytes> chain(ders.begin(), ders.end());
  const auto& f = fixture();
  const UnixTime now = now_utc();
  for (auto _ : state) benchmark::DoNotOptimize(authenticate_chain(chain, f.up, now).code);
}
BENCHMARK(BM_AuthenticateChain)->Unit(benchmark::kMicrosecond);

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
