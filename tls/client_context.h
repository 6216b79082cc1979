// SPDX-License-Identifier: Apache-2.0
/// @file client_context.h
/// @brief The strict TLS client every upstream connection uses, and its trust profile.
///
/// Offered, and nothing else: TLS 1.3 with AES-GCM or ChaCha20-Poly1305; TLS 1.2 only with ECDHE
/// key exchange and an AEAD (AES-GCM, ChaCha20-Poly1305). Never NULL, anonymous, export, RC4,
/// 3DES, CBC or PSK-only suites, and no SHA-1 (or MD5) signature algorithms. ALPN "dot" (RFC
/// 7858 §3.2 via the IANA registry) is sent; a server that selects another protocol is refused.
/// After the handshake the negotiated version and suite are checked against the same list, so
/// a library default can never widen it. A policy may be made stricter (TLS 1.3 only), never weaker.
///
/// With a CA file the context is in CA mode: wolfSSL validates the chain (PKIX) and the pin
/// verifier's path must reach one of the same anchors (pinning/verifier.h).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "pinning/cert_view.h"
#include "tls/memory_tls.h"

namespace dotpin::tls {

enum class TlsFloor { kTls12, kTls13 };
std::string_view to_string(TlsFloor f);
/// "1.2" or "1.3".
std::optional<TlsFloor> tls_floor_from_string(std::string_view text);

/// Which AEAD the suite list names first within each TLS version. The set offered is the same;
/// only the preference differs, and a server that honours the client's order (OpenSSL's and
/// GnuTLS's by default; docs/architecture.md) then picks the suite that is cheaper here.
enum class SuiteOrder {
  kAuto,         ///< AES-GCM first if aes_gcm_accelerated(), else ChaCha20-Poly1305 first
  kAesGcmFirst,  ///< "aes-gcm"
  kChaChaFirst,  ///< "chacha20"
};
std::string_view to_string(SuiteOrder o);
/// "auto", "aes-gcm" or "chacha20".
std::optional<SuiteOrder> suite_order_from_string(std::string_view text);
/// Whether the linked wolfSSL was built with its AES-NI code (-Dwolfssl=aesni).
bool wolfssl_has_aesni() noexcept;
/// Whether AES-GCM runs on AES-NI here: the library has the code and this CPU has AES-NI and
/// PCLMULQDQ. Without it a 468-byte AES-GCM record costs about twice a ChaCha20-Poly1305 one.
bool aes_gcm_accelerated() noexcept;
/// kAuto resolved for this machine; other orders as they are.
SuiteOrder resolve(SuiteOrder order) noexcept;

/// One line for the start-up log: the order used and why ("AES-GCM first (auto: wolfSSL with
/// AES-NI on a CPU with AES-NI)").
std::string describe_suite_order(SuiteOrder configured);

struct ClientPolicy {
  std::string ca_file;                  ///< PEM trust anchors; empty: pins and name only
  TlsFloor min_version = TlsFloor::kTls12;
  SuiteOrder suite_order = SuiteOrder::kAuto;
};

/// The TLS 1.3 (and, with the 1.2 floor, 1.2) suites offered, in wolfSSL's names, colon-separated,
/// in @p order (resolved: kAuto means what resolve() gives).
std::string allowed_cipher_list(TlsFloor floor, SuiteOrder order = SuiteOrder::kAuto);
/// Whether a negotiated suite (wolfSSL_get_cipher_name) is one we offer under @p floor.
bool suite_allowed(std::string_view wolfssl_name, TlsFloor floor) noexcept;
/// Whether a key exchange group (wolfSSL_get_curve_name) is one we offer.
bool group_allowed(std::string_view wolfssl_curve_name) noexcept;
/// Whether a negotiated version (wolfSSL_get_version) is allowed under @p floor.
bool version_allowed(std::string_view wolfssl_version, TlsFloor floor) noexcept;

/// Applies the policy's version floor, suites, signature algorithms and key exchange groups
/// (X25519 first) to @p ctx (also used by the chain fetcher, so `pin fetch` sees what the resolver
/// would negotiate).
Status apply_client_policy(WOLFSSL_CTX* ctx, TlsFloor floor, SuiteOrder order = SuiteOrder::kAuto);

/// Sends ALPN "dot" on @p ssl (continuing if the server selects none).
bool offer_dot_alpn(WOLFSSL* ssl) noexcept;
/// After a handshake: empty when version, suite and ALPN are acceptable, else what is wrong.
std::string_view negotiated_parameters_problem(WOLFSSL* ssl, TlsFloor floor) noexcept;

class ClientContext {
 public:
  [[nodiscard]] WOLFSSL_CTX* get() const noexcept { return ctx_.get(); }
  /// Trust anchors from the CA file; empty when not in CA mode.
  [[nodiscard]] std::span<const CertView> anchors() const noexcept { return anchor_views_; }
  [[nodiscard]] bool ca_mode() const noexcept { return !anchors_.empty(); }
  [[nodiscard]] TlsFloor floor() const noexcept { return floor_; }
  /// The suite order offered (never kAuto: resolved when the context was made).
  [[nodiscard]] SuiteOrder suite_order() const noexcept { return order_; }

 private:
  friend Result<ClientContext> make_client_context(const ClientPolicy& policy);
  CtxPtr ctx_;
  std::vector<std::vector<std::uint8_t>> anchors_;
  std::vector<CertView> anchor_views_;  // point into anchors_
  TlsFloor floor_ = TlsFloor::kTls12;
  SuiteOrder order_ = SuiteOrder::kAesGcmFirst;
};

/// A client context for upstreams that share a trust profile. Session tickets on.
Result<ClientContext> make_client_context(const ClientPolicy& policy);

/// make_client_context with only a CA file (empty: pin-only) and the default TLS 1.2 floor.
Result<ClientContext> make_client_ctx(const std::string& ca_file);

}  // namespace dotpin::tls
