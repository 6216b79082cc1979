// SPDX-License-Identifier: Apache-2.0
#include "tls/client_context.h"

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <algorithm>
#include <array>

#include "pinning/pem.h"
#include "tls/wolfssl_init.h"

namespace dotpin::tls {
namespace {

/// A suite we offer: wolfSSL's name and IANA code point (what wolfSSL_get_current_cipher_suite gives).
struct Suite {
  std::string_view name;
  std::uint16_t code;
  bool tls13;
};

constexpr std::array<Suite, 9> kSuites{{
    {"TLS13-AES128-GCM-SHA256", 0x1301, true},
    {"TLS13-AES256-GCM-SHA384", 0x1302, true},
    {"TLS13-CHACHA20-POLY1305-SHA256", 0x1303, true},
    {"ECDHE-ECDSA-AES128-GCM-SHA256", 0xc02b, false},
    {"ECDHE-RSA-AES128-GCM-SHA256", 0xc02f, false},
    {"ECDHE-ECDSA-AES256-GCM-SHA384", 0xc02c, false},
    {"ECDHE-RSA-AES256-GCM-SHA384", 0xc030, false},
    {"ECDHE-ECDSA-CHACHA20-POLY1305", 0xcca9, false},
    {"ECDHE-RSA-CHACHA20-POLY1305", 0xcca8, false},
}};

// The order within each version's suites: the cheaper AEAD first (bench/record_bench.cc measures
// both, docs/benchmarks.md "TLS record cost"). The TLS 1.3 suites come before TLS 1.2's either way.
constexpr std::array<std::string_view, 3> kAesFirst13{"TLS13-AES128-GCM-SHA256", "TLS13-AES256-GCM-SHA384",
                                                      "TLS13-CHACHA20-POLY1305-SHA256"};
constexpr std::array<std::string_view, 3> kChaChaFirst13{"TLS13-CHACHA20-POLY1305-SHA256", "TLS13-AES128-GCM-SHA256",
                                                         "TLS13-AES256-GCM-SHA384"};
constexpr std::array<std::string_view, 6> kAesFirst12{
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",   "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",   "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305"};
constexpr std::array<std::string_view, 6> kChaChaFirst12{
    "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",   "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",   "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384"};

// Signature algorithms for the handshake (CertificateVerify / ServerKeyExchange): no SHA-1.
constexpr const char* kSigAlgs =
    "ECDSA+SHA256:ECDSA+SHA384:ECDSA+SHA512:ED25519:ED448:RSA-PSS+SHA256:RSA-PSS+SHA384:RSA-PSS+SHA512:"
    "RSA+SHA256:RSA+SHA384:RSA+SHA512";

constexpr std::string_view kAlpn = "dot";

// Key exchange groups, in preference order; the first is the ClientHello's key share. X25519
// first: besides being the faster exchange here, a P-256 share makes every handshake's ECDH run
// wolfSSL's fixed-point ECC cache (FP_ECC in Debian's build) on the server's fresh ephemeral point,
// which allocates a 256-point table (~0.8 MB) per new point and keeps 15 of them per thread: a
// reconnect storm grows each TLS thread by ~12 MB and churns the allocator. P-256, P-384 and X448
// stay offered (a TLS 1.3 server without X25519 answers with a HelloRetryRequest for one of them);
// finite-field groups are not offered.
constexpr std::array<int, 4> kGroups{WOLFSSL_ECC_X25519, WOLFSSL_ECC_SECP256R1, WOLFSSL_ECC_SECP384R1,
                                     WOLFSSL_ECC_X448};
// The same groups as wolfSSL_get_curve_name() names them, for the check after the handshake.
constexpr std::array<std::string_view, 4> kGroupNames{"X25519", "SECP256R1", "SECP384R1", "X448"};

}  // namespace

std::string_view to_string(TlsFloor f) { return f == TlsFloor::kTls13 ? "1.3" : "1.2"; }

std::optional<TlsFloor> tls_floor_from_string(std::string_view text) {
  if (text == "1.2") return TlsFloor::kTls12;
  if (text == "1.3") return TlsFloor::kTls13;
  return std::nullopt;
}

std::string_view to_string(SuiteOrder o) {
  switch (o) {
    case SuiteOrder::kAuto: return "auto";
    case SuiteOrder::kAesGcmFirst: return "aes-gcm";
    case SuiteOrder::kChaChaFirst: return "chacha20";
  }
  return "?";
}

std::optional<SuiteOrder> suite_order_from_string(std::string_view text) {
  for (SuiteOrder o : {SuiteOrder::kAuto, SuiteOrder::kAesGcmFirst, SuiteOrder::kChaChaFirst})
    if (to_string(o) == text) return o;
  return std::nullopt;
}

bool wolfssl_has_aesni() noexcept {
#if defined(WOLFSSL_AESNI)
  return true;
#else
  return false;
#endif
}

bool aes_gcm_accelerated() noexcept {
  // wolfSSL's AES-NI code checks the CPU itself and falls back to C without it: accelerated
  // only when both are there (AES rounds and the carry-less multiply GHASH needs).
#if defined(__x86_64__) || defined(__i386__)
  return wolfssl_has_aesni() && __builtin_cpu_supports("aes") && __builtin_cpu_supports("pclmul");
#else
  return false;  // no AES-NI build elsewhere (scripts/build-wolfssl.sh is x86-64 only)
#endif
}

SuiteOrder resolve(SuiteOrder order) noexcept {
  if (order != SuiteOrder::kAuto) return order;
  return aes_gcm_accelerated() ? SuiteOrder::kAesGcmFirst : SuiteOrder::kChaChaFirst;
}

std::string describe_suite_order(SuiteOrder configured) {
  const bool aes = resolve(configured) == SuiteOrder::kAesGcmFirst;
  std::string text = aes ? "AES-GCM suites first" : "ChaCha20-Poly1305 suites first";
  if (configured != SuiteOrder::kAuto) return text + " (suite_order = \"" + std::string(to_string(configured)) + "\")";
  if (!wolfssl_has_aesni()) return text + " (auto: this wolfSSL has no AES-NI code)";
  if (!aes) return text + " (auto: this CPU has no AES-NI/PCLMULQDQ)";
  return text + " (auto: wolfSSL with AES-NI on a CPU with AES-NI)";
}

std::string allowed_cipher_list(TlsFloor floor, SuiteOrder order) {
  const bool aes = resolve(order) == SuiteOrder::kAesGcmFirst;
  std::string list;
  auto add = [&](std::span<const std::string_view> names) {
    for (std::string_view n : names) {
      if (!list.empty()) list += ':';
      list += n;
    }
  };
  add(aes ? std::span<const std::string_view>(kAesFirst13) : std::span<const std::string_view>(kChaChaFirst13));
  if (floor == TlsFloor::kTls12)
    add(aes ? std::span<const std::string_view>(kAesFirst12) : std::span<const std::string_view>(kChaChaFirst12));
  return list;
}

bool suite_allowed(std::string_view name, TlsFloor floor) noexcept {
  return std::ranges::any_of(kSuites, [&](const Suite& s) {
    return s.name == name && (s.tls13 || floor == TlsFloor::kTls12);
  });
}

bool group_allowed(std::string_view name) noexcept {
  return std::ranges::any_of(kGroupNames, [&](std::string_view g) { return g == name; });
}

bool version_allowed(std::string_view v, TlsFloor floor) noexcept {
  return v == "TLSv1.3" || (v == "TLSv1.2" && floor == TlsFloor::kTls12);
}

Status apply_client_policy(WOLFSSL_CTX* ctx, TlsFloor floor, SuiteOrder order) {
  const int min = floor == TlsFloor::kTls13 ? WOLFSSL_TLSV1_3 : WOLFSSL_TLSV1_2;
  if (wolfSSL_CTX_SetMinVersion(ctx, min) != WOLFSSL_SUCCESS) return fail("cannot set the minimum TLS version");
  const std::string list = allowed_cipher_list(floor, order);
  if (wolfSSL_CTX_set_cipher_list(ctx, list.c_str()) != WOLFSSL_SUCCESS) return fail("cannot set the cipher suites");
  if (wolfSSL_CTX_set1_sigalgs_list(ctx, kSigAlgs) != WOLFSSL_SUCCESS)
    return fail("cannot set the signature algorithms");
  std::array<int, kGroups.size()> groups = kGroups;
  if (wolfSSL_CTX_set_groups(ctx, groups.data(), static_cast<int>(groups.size())) != WOLFSSL_SUCCESS)
    return fail("cannot set the key exchange groups");
  return ok_status();
}

bool offer_dot_alpn(WOLFSSL* ssl) noexcept {
  std::array<char, 4> name{'d', 'o', 't', '\0'};
  return wolfSSL_UseALPN(ssl, name.data(), static_cast<unsigned>(kAlpn.size()), WOLFSSL_ALPN_CONTINUE_ON_MISMATCH) ==
         WOLFSSL_SUCCESS;
}

std::string_view negotiated_parameters_problem(WOLFSSL* ssl, TlsFloor floor) noexcept {
  const char* version = wolfSSL_get_version(ssl);
  if (!version || !version_allowed(version, floor)) return "TLS version not allowed";
  const int code = wolfSSL_get_current_cipher_suite(ssl);
  const bool ok = std::ranges::any_of(kSuites, [&](const Suite& s) {
    return s.code == code && (s.tls13 || floor == TlsFloor::kTls12);
  });
  if (!ok) return "cipher suite not allowed";
  // The group too: a TLS 1.2 server's ServerKeyExchange may name any curve wolfSSL implements
  // (brainpool, secp256k1, P-521), offered or not, and wolfSSL's client only checks that it knows it.
  const char* group = wolfSSL_get_curve_name(ssl);
  if (!group || !std::ranges::any_of(kGroupNames, [&](std::string_view g) { return g == group; }))
    return "key exchange group not offered";
  char* proto = nullptr;
  unsigned short len = 0;
  if (wolfSSL_ALPN_GetProtocol(ssl, &proto, &len) == WOLFSSL_SUCCESS && proto &&
      std::string_view(proto, len) != kAlpn)
    return "server selected another ALPN protocol";
  return {};
}

Result<ClientContext> make_client_context(const ClientPolicy& policy) {
  ensure_wolfssl_initialised();
  ClientContext c;
  c.floor_ = policy.min_version;
  c.ctx_.reset(wolfSSL_CTX_new(wolfSSLv23_client_method()));
  if (!c.ctx_) return fail("wolfSSL_CTX_new failed");
  c.order_ = resolve(policy.suite_order);
  if (auto st = apply_client_policy(c.ctx_.get(), policy.min_version, c.order_); !st) return Error{st.error()};
  wolfSSL_CTX_UseSessionTicket(c.ctx_.get());
  if (policy.ca_file.empty()) {
    wolfSSL_CTX_set_verify(c.ctx_.get(), WOLFSSL_VERIFY_NONE, nullptr);
    return c;
  }
  if (wolfSSL_CTX_load_verify_locations(c.ctx_.get(), policy.ca_file.c_str(), nullptr) != WOLFSSL_SUCCESS)
    return fail(policy.ca_file, ": cannot load CA certificates");
  wolfSSL_CTX_set_verify(c.ctx_.get(), WOLFSSL_VERIFY_PEER, nullptr);
  // The same anchors for the pin verifier's path (CA mode).
  auto text = read_file(policy.ca_file);
  if (!text) return Error{text.error()};
  auto objects = read_key_objects(*text, policy.ca_file);
  if (!objects) return Error{objects.error()};
  for (auto& o : *objects) {
    if (o.kind != KeyObject::Kind::kCertificate) return fail(policy.ca_file, ": holds a bare public key, not a CA certificate");
    c.anchors_.push_back(std::move(o.der));
  }
  if (c.anchors_.empty()) return fail(policy.ca_file, ": no CA certificate");
  for (const auto& a : c.anchors_) {
    auto view = view_certificate(a);
    if (!view) return fail(policy.ca_file, ": a CA certificate that is not well-formed DER");
    c.anchor_views_.push_back(*view);
  }
  return c;
}

Result<ClientContext> make_client_ctx(const std::string& ca_file) {
  ClientPolicy p;
  p.ca_file = ca_file;
  return make_client_context(p);
}

}  // namespace dotpin::tls
