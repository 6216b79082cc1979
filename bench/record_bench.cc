// SPDX-License-Identifier: Apache-2.0
// What one TLS record costs to seal and to open, per cipher suite the client offers and per record
// size, over memory buffers on one core: the per-query cost of DoT once a connection is up. A
// padded query (RFC 8467: a multiple of 128 bytes) is one 128-byte record; unbound pads its
// answers to 468 bytes; 1460 is a large answer in one segment; 16384 is the largest record.
//
// Only wolfSSL's own API is used, so the same source is built against each wolfSSL the build
// knows (bench/meson.build): Debian's generic library and, with -Dwolfssl=aesni, the one built
// from Debian's source package with AES-NI and the x86-64 assembly (scripts/build-wolfssl.sh).
// The label names the library the binary runs with; docs/benchmarks.md has the same-run A/B.
//
// Run: build/bench/dotpin_record_bench [--benchmark_filter=Seal]
#include <benchmark/benchmark.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace {

/// The wolfSSL this binary runs with: "generic C" or "AES-NI + x86-64 asm".
const char* library_label() {
#if defined(WOLFSSL_AESNI) && defined(USE_INTEL_SPEEDUP)
  return "wolfSSL AES-NI+asm";
#else
  return "wolfSSL generic";
#endif
}

std::string pki_path(const std::string& name) {
  const char* dir = std::getenv("DOTPIN_TEST_PKI");
  return std::string(dir ? dir : DOTPIN_DEFAULT_PKI) + "/" + name;
}

/// Bytes in flight one way: what wolfSSL's send callback writes, its receive callback reads.
struct Pipe {
  std::vector<std::uint8_t> bytes;
  std::size_t head = 0;
};

int pipe_send(WOLFSSL*, char* buf, int sz, void* ctx) {
  auto* p = static_cast<Pipe*>(ctx);
  p->bytes.insert(p->bytes.end(), buf, buf + sz);
  return sz;
}

int pipe_recv(WOLFSSL*, char* buf, int sz, void* ctx) {
  auto* p = static_cast<Pipe*>(ctx);
  const std::size_t left = p->bytes.size() - p->head;
  if (left == 0) return WOLFSSL_CBIO_ERR_WANT_READ;
  const std::size_t n = std::min(left, static_cast<std::size_t>(sz));
  std::memcpy(buf, p->bytes.data() + p->head, n);
  p->head += n;
  if (p->head == p->bytes.size()) {
    p->bytes.clear();
    p->head = 0;
  }
  return static_cast<int>(n);
}

struct CtxFree {
  void operator()(WOLFSSL_CTX* c) const { wolfSSL_CTX_free(c); }
};
struct SslFree {
  void operator()(WOLFSSL* s) const { wolfSSL_free(s); }
};

/// A client and a server session joined by two pipes, handshaken with exactly one suite.
struct Pair {
  std::unique_ptr<WOLFSSL_CTX, CtxFree> cctx, sctx;
  std::unique_ptr<WOLFSSL, SslFree> client, server;
  Pipe to_server, to_client;
  std::string error;

  explicit Pair(const char* suite) {
    wolfSSL_Init();
    cctx.reset(wolfSSL_CTX_new(wolfSSLv23_client_method()));
    sctx.reset(wolfSSL_CTX_new(wolfSSLv23_server_method()));
    if (!cctx || !sctx) {
      error = "no context";
      return;
    }
    wolfSSL_CTX_set_verify(cctx.get(), WOLFSSL_VERIFY_NONE, nullptr);  // the record layer only
    const std::string key = pki_path("leaf-p256.key"), chain = pki_path("leaf-p256.chain.pem");
    if (wolfSSL_CTX_use_PrivateKey_file(sctx.get(), key.c_str(), WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS ||
        wolfSSL_CTX_use_certificate_chain_file(sctx.get(), chain.c_str()) != WOLFSSL_SUCCESS) {
      error = "cannot load " + key;
      return;
    }
    if (wolfSSL_CTX_set_cipher_list(cctx.get(), suite) != WOLFSSL_SUCCESS ||
        wolfSSL_CTX_set_cipher_list(sctx.get(), suite) != WOLFSSL_SUCCESS) {
      error = std::string("suite not available: ") + suite;
      return;
    }
    // A TLS 1.2 suite alone: the client must not offer TLS 1.3 (it would have no suite for it).
    if (std::strncmp(suite, "TLS13-", 6) != 0 &&
        wolfSSL_CTX_set_max_proto_version(cctx.get(), TLS1_2_VERSION) != WOLFSSL_SUCCESS) {
      error = "cannot cap the version at TLS 1.2";
      return;
    }
    client.reset(wolfSSL_new(cctx.get()));
    server.reset(wolfSSL_new(sctx.get()));
    for (auto [ssl, out, in] : {std::tuple{client.get(), &to_server, &to_client},
                                std::tuple{server.get(), &to_client, &to_server}}) {
      wolfSSL_SSLSetIOSend(ssl, pipe_send);
      wolfSSL_SSLSetIORecv(ssl, pipe_recv);
      wolfSSL_SetIOWriteCtx(ssl, out);
      wolfSSL_SetIOReadCtx(ssl, in);
    }
    for (int round = 0; round < 16; ++round) {
      const bool c = wolfSSL_connect(client.get()) == WOLFSSL_SUCCESS;
      const bool s = wolfSSL_accept(server.get()) == WOLFSSL_SUCCESS;
      if (c && s) break;
    }
    // TLS 1.3: the server's tickets arrive after the handshake; read them off before measuring.
    std::uint8_t scratch[64];
    wolfSSL_read(client.get(), scratch, sizeof scratch);
    if (!wolfSSL_is_init_finished(client.get()) || !wolfSSL_is_init_finished(server.get()))
      error = std::string("handshake failed: ") + suite;
    else if (std::strcmp(wolfSSL_get_cipher_name(client.get()), suite) != 0)
      error = std::string("negotiated ") + wolfSSL_get_cipher_name(client.get()) + ", not " + suite;
  }
};

// Sealing (@p open false): the client writes one record of state.range(0) bytes; the ciphertext
// is dropped. Sealing and opening (@p open true): the server reads each record back. Opening
// alone is the difference (a record can be opened only once, in order).
void run_records(benchmark::State& state, const char* suite, bool open) {
  Pair p(suite);
  if (!p.error.empty()) {
    state.SkipWithError(p.error.c_str());
    return;
  }
  const int size = static_cast<int>(state.range(0));
  std::vector<std::uint8_t> plain(static_cast<std::size_t>(size), 0x5a), got(plain.size());
  for (auto _ : state) {
    if (wolfSSL_write(p.client.get(), plain.data(), size) != size) {
      state.SkipWithError("write failed");
      break;
    }
    if (!open) {
      p.to_server.bytes.clear();
    } else if (wolfSSL_read(p.server.get(), got.data(), size) != size) {
      state.SkipWithError("read failed");
      break;
    }
  }
  if (open && got != plain) state.SkipWithError("the record did not come back intact");
  state.SetLabel(library_label());
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * size);
}

void BM_RecordSeal(benchmark::State& state, const char* suite) { run_records(state, suite, false); }
void BM_RecordSealOpen(benchmark::State& state, const char* suite) { run_records(state, suite, true); }

#define RECORD_BENCH(fn, tag, suite) \
  BENCHMARK_CAPTURE(fn, tag, suite)->Arg(128)->Arg(468)->Arg(1460)->Arg(16384)

RECORD_BENCH(BM_RecordSeal, tls13_aes128gcm, "TLS13-AES128-GCM-SHA256");
RECORD_BENCH(BM_RecordSeal, tls13_aes256gcm, "TLS13-AES256-GCM-SHA384");
RECORD_BENCH(BM_RecordSeal, tls13_chacha20, "TLS13-CHACHA20-POLY1305-SHA256");
RECORD_BENCH(BM_RecordSeal, tls12_aes128gcm, "ECDHE-ECDSA-AES128-GCM-SHA256");
RECORD_BENCH(BM_RecordSeal, tls12_aes256gcm, "ECDHE-ECDSA-AES256-GCM-SHA384");
RECORD_BENCH(BM_RecordSeal, tls12_chacha20, "ECDHE-ECDSA-CHACHA20-POLY1305");
RECORD_BENCH(BM_RecordSealOpen, tls13_aes128gcm, "TLS13-AES128-GCM-SHA256");
RECORD_BENCH(BM_RecordSealOpen, tls13_aes256gcm, "TLS13-AES256-GCM-SHA384");
RECORD_BENCH(BM_RecordSealOpen, tls13_chacha20, "TLS13-CHACHA20-POLY1305-SHA256");
RECORD_BENCH(BM_RecordSealOpen, tls12_aes128gcm, "ECDHE-ECDSA-AES128-GCM-SHA256");
RECORD_BENCH(BM_RecordSealOpen, tls12_aes256gcm, "ECDHE-ECDSA-AES256-GCM-SHA384");
RECORD_BENCH(BM_RecordSealOpen, tls12_chacha20, "ECDHE-ECDSA-CHACHA20-POLY1305");

}  // namespace

BENCHMARK_MAIN();
