// SPDX-License-Identifier: Apache-2.0
/// @file dot_connection.h
/// @brief One DNS-over-TLS connection to a pinned upstream, as a non-blocking state machine over
/// memory buffers (see memory_tls.h): handshake, authentication, framed queries and responses.
///
/// Authentication happens when the handshake completes and before anything is written:
///  1. PKIX (only when the upstream's profile has a CA file): wolfSSL validates the chain;
///  2. the authentication domain name, when configured, must match the leaf (RFC 8310: when a name
///     and pins are both configured, both must pass);
///  3. the SPKI pins of the presented chain are checked with pinning/verifier.h.
/// A refused connection writes no application data; the verdict with the observed pins stays
/// available for logging and counting. A resumed session skips 2-3 only because its ticket was
/// stored after a full handshake that passed them under the same pin-set generation (ticket_cache.h).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "common/result.h"
#include "pinning/pin_set.h"
#include "pinning/verifier.h"
#include "tls/dns_framing.h"
#include "tls/failure_reason.h"
#include "tls/memory_tls.h"
#include "tls/ticket_cache.h"

namespace dotpin::tls {

/// A client context for upstreams that share a trust profile: with @p ca_file, chains are also
/// validated against it (PKIX); without, the pins alone authenticate (RFC 7858 SPKI profile).
/// TLS 1.2 minimum, session tickets on.
Result<CtxPtr> make_client_ctx(const std::string& ca_file);

class DotConnection {
 public:
  enum class State { kHandshaking, kReady, kFailed };

  /// @p upstream and @p tickets must outlive the connection; @p generation is the pin-set
  /// generation @p upstream belongs to. Whether chains are also validated (PKIX) is a property of
  /// @p ctx (make_client_ctx with a CA file).
  DotConnection(WOLFSSL_CTX* ctx, const UpstreamPins& upstream, std::uint64_t generation, TicketCache* tickets);

  /// Advances the handshake. kNeedRead: feed inbound() and call again; kDone: ready, or refused
  /// (state() says which); kError: failed (failure() says why).
  IoState handshake(UnixTime now);

  /// Frames @p messages and encrypts them in one TLS write (queries that arrive together leave
  /// together). False, and nothing written, unless the connection is ready.
  bool send(std::span<const std::span<const std::uint8_t>> messages);

  /// Decrypts whatever has arrived and calls @p on_message for each complete DNS message. Returns
  /// kNeedRead when all input is consumed, kError when the connection failed (failure() says why).
  IoState receive(const std::function<void(std::span<const std::uint8_t>)>& on_message);

  /// Queues a TLS close_notify (for an orderly close of an idle connection).
  void close_notify();

  [[nodiscard]] State state() const noexcept { return state_; }
  [[nodiscard]] FailureReason failure() const noexcept { return failure_; }
  /// The pin verdict: of this handshake, or for a resumed session of the full handshake it came from.
  [[nodiscard]] const PinVerdict& verdict() const noexcept { return verdict_; }
  /// True when the chain did not match but the upstream is in `report` mode.
  [[nodiscard]] bool admitted_by_report_mode() const noexcept { return report_mismatch_; }
  [[nodiscard]] bool resumed() const noexcept { return resumed_; }
  [[nodiscard]] bool offered_resumption() const noexcept { return offered_resumption_; }
  [[nodiscard]] int tls_error() const noexcept { return tls_error_; }
  /// "TLSv1.3" once the handshake is done.
  [[nodiscard]] std::string protocol() const;
  MemoryTls& io() noexcept { return tls_; }

 private:
  void authenticate(UnixTime now);
  void fail(FailureReason reason) noexcept;
  void maybe_store_ticket();

  MemoryTls tls_;
  const UpstreamPins& upstream_;
  std::uint64_t generation_;
  TicketCache* tickets_;
  State state_ = State::kHandshaking;
  FailureReason failure_ = FailureReason::kNone;
  PinVerdict verdict_{};
  PinVerdict resumed_verdict_{};  // of the full handshake the offered session came from
  bool report_mismatch_ = false;
  bool resumed_ = false;
  bool offered_resumption_ = false;
  bool ticket_stored_ = false;
  int tls_error_ = 0;
  FrameDecoder decoder_;
  ByteQueue framed_;  // send()'s staging buffer, reused so a batch costs no allocation once warm
};

}  // namespace dotpin::tls
