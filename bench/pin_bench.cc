// SPDX-License-Identifier: Apache-2.0
// Micro-benchmarks of the pin check, the work done once per full TLS handshake, against the
// baseline of doing the same with wolfSSL's own X509 objects (parse, get key, re-encode SPKI).
// Run: build/bench/dotpin_pin_bench (DOTPIN_TEST_PKI defaults to the build's test PKI).
#include <benchmark/benchmark.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "bench/bench_pki.h"
#include "common/encoding.h"
#include "pinning/certificate.h"
#include "pinning/pem.h"
#include "pinning/pin_file.h"
#include "pinning/verifier.h"

namespace {

using namespace dotpin;

using bench::pki_path;

std::vector<std::vector<std::uint8_t>> load_chain(const std::string& file) {
  auto text = read_file(pki_path(file));
  if (!text) throw std::runtime_error(text.error() + " (build the test-pki target or set DOTPIN_TEST_PKI)");
  auto objs = read_key_objects(*text, file);
  if (!objs) throw std::runtime_error(objs.error());
  std::vector<std::vector<std::uint8_t>> out;
  for (auto& o : *objs) out.push_back(std::move(o.der));
  return out;
}

const char* kLeafFiles[] = {"leaf-p256.chain.pem", "leaf-rsa2048.chain.pem", "leaf-rsa4096.chain.pem",
                            "leaf-ed25519.chain.pem"};

// Our DER walk: locate the SPKI of one certificate.
void BM_FindSpki(benchmark::State& state) {
  const auto chain = load_chain(kLeafFiles[state.range(0)]);
  state.SetLabel(kLeafFiles[state.range(0)]);
  for (auto _ : state) benchmark::DoNotOptimize(find_spki(chain[0]));
}
BENCHMARK(BM_FindSpki)->DenseRange(0, 3);

// Baseline: wolfSSL parses the certificate into an X509, extracts the key and re-encodes the SPKI.
void BM_WolfsslSpki(benchmark::State& state) {
  const auto chain = load_chain(kLeafFiles[state.range(0)]);
  state.SetLabel(kLeafFiles[state.range(0)]);
  for (auto _ : state) {
    WOLFSSL_X509* x = wolfSSL_X509_d2i(nullptr, chain[0].data(), static_cast<int>(chain[0].size()));
    WOLFSSL_EVP_PKEY* key = wolfSSL_X509_get_pubkey(x);
    unsigned char* der = nullptr;
    const int len = wolfSSL_i2d_PUBKEY(key, &der);
    benchmark::DoNotOptimize(len);
    XFREE(der, nullptr, DYNAMIC_TYPE_OPENSSL);
    wolfSSL_EVP_PKEY_free(key);
    wolfSSL_X509_free(x);
  }
}
BENCHMARK(BM_WolfsslSpki)->DenseRange(0, 2);

void BM_SpkiSha256(benchmark::State& state) {
  const auto chain = load_chain("leaf-p256.chain.pem");
  const auto spki = *find_spki(chain[0]);
  for (auto _ : state) benchmark::DoNotOptimize(spki_sha256(spki));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * spki.size()));
}
BENCHMARK(BM_SpkiSha256);

// The whole per-handshake check: a 2-element chain against a primary and a backup pin, the
// match on the leaf (best case) or on nothing (an impostor: every pair compared).
void BM_VerifyChain(benchmark::State& state) {
  const auto good = load_chain("leaf-p256.chain.pem");
  const auto bad = load_chain("impostor.chain.pem");
  const auto& ders = state.range(0) ? bad : good;
  std::vector<DerBytes> chain(ders.begin(), ders.end());
  std::vector<Pin> pins(2);
  pins[0].digest = spki_sha256(*find_spki(good[0]));
  pins[1].digest.fill(0x5a);
  state.SetLabel(state.range(0) ? "impostor" : "genuine");
  const UnixTime now = now_utc();
  for (auto _ : state) {
    const PinVerdict v = verify_chain(chain, pins, now);
    benchmark::DoNotOptimize(v.code);
  }
}
BENCHMARK(BM_VerifyChain)->Arg(0)->Arg(1);

void BM_ParsePinBase64(benchmark::State& state) {
  const std::string pin = base64_encode(std::vector<std::uint8_t>(32, 0x42));
  for (auto _ : state) benchmark::DoNotOptimize(parse_pin_base64(pin));
}
BENCHMARK(BM_ParsePinBase64);

// A pin file of N upstreams with 2 pins each: the cost of a reload's parse + validation.
void BM_ParsePinFile(benchmark::State& state) {
  std::string text;
  for (int i = 0; i < state.range(0); ++i) {
    text += "[[upstream]]\nname = \"u" + std::to_string(i) + "\"\naddress = \"192.0.2." + std::to_string(i % 250 + 1) +
            ":853\"\nauth_name = \"dns" + std::to_string(i) + ".example.net\"\n";
    for (int p = 0; p < 2; ++p)
      text += "[[upstream.pin]]\nsha256 = \"" +
              base64_encode(std::vector<std::uint8_t>(32, static_cast<std::uint8_t>(i * 2 + p))) +
              "\"\nnot_after = 2030-01-01T00:00:00Z\n";
  }
  for (auto _ : state) {
    auto r = parse_pin_file(text, "bench.toml");
    if (!r.table) state.SkipWithError("pin file did not parse");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ParsePinFile)->Arg(10)->Arg(1000);

}  // namespace

BENCHMARK_MAIN();
