// SPDX-License-Identifier: Apache-2.0
/// @file server_context.h
/// @brief The DoT server clients reach (RFC 7858 on port 853): the operator's certificate chain and
/// key under the same strict policy as the client side (client_context.h: TLS 1.3 preferred, 1.2
/// only with ECDHE and an AEAD, no SHA-1 signatures, X25519 first), ALPN "dot" when the client
/// offers it, and session tickets sealed with rotated keys (ticket_keys.h). No session cache:
/// resumption is by ticket only, so key rotation bounds how long a session can be resumed.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "tls/client_context.h"
#include "tls/memory_tls.h"
#include "tls/ticket_keys.h"

namespace dotpin::tls {

struct ServerPolicy {
  std::string certificate_file;  ///< PEM: the leaf first, then the intermediates to send
  std::string key_file;          ///< PEM private key of the leaf
  TlsFloor min_version = TlsFloor::kTls12;
  std::chrono::seconds ticket_rotation{3600};
};

class ServerContext {
 public:
  [[nodiscard]] WOLFSSL_CTX* get() const noexcept { return ctx_.get(); }
  [[nodiscard]] TlsFloor floor() const noexcept { return floor_; }
  [[nodiscard]] const TicketKeys& tickets() const noexcept { return *tickets_; }

 private:
  friend Result<ServerContext> make_server_context(const ServerPolicy& policy);
  CtxPtr ctx_;
  std::unique_ptr<TicketKeys> tickets_;  // wolfSSL holds its address
  TlsFloor floor_ = TlsFloor::kTls12;
};

/// Loads and checks the chain and key (they must match), applies the policy. Errors name the file.
Result<ServerContext> make_server_context(const ServerPolicy& policy);

/// A new server session's own settings (ALPN "dot"). False if wolfSSL refused them.
bool prepare_server_session(WOLFSSL* ssl) noexcept;

/// After the server's handshake: empty when the version, suite and (for a full handshake) key
/// exchange group are ones we allow, else what is wrong (wolfSSL's TLS 1.2 server takes any curve
/// the client lists; TLS 1.3 keeps to our groups).
std::string_view server_parameters_problem(WOLFSSL* ssl, TlsFloor floor) noexcept;

}  // namespace dotpin::tls
