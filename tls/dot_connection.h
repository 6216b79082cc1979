// SPDX-License-Identifier: Apache-2.0
/// @file dot_connection.h
/// @brief One DNS-over-TLS connection to a pinned upstream, as a non-blocking state machine over
/// memory buffers (see memory_tls.h): handshake, authentication, framed queries and responses.
///
/// Authentication happens when the handshake completes and before anything is written:
///  1. the negotiated version, suite and ALPN must be on the strict client's list (client_context.h);
///  2. PKIX (only when the context has a CA file): wolfSSL validates the chain;
///  3. pinning/authenticate.h judges the chain: the pins on the verified path (in CA mode a path
///     to one of the same anchors) and the authentication domain name on the leaf (RFC 8310:
///     when a name and pins are both configured, both must pass).
/// A refused connection writes no application data; the verdict with the observed pins stays
/// available for logging and counting. A resumed session skips 3 only because its ticket was
/// stored after a full handshake that passed it under the same pin-set generation (ticket_cache.h),
/// and only if that handshake's recorded path still satisfies the pins at the time it is offered.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "common/result.h"
#include "pinning/pin_set.h"
#include "pinning/verifier.h"
#include "tls/client_context.h"
#include "tls/dns_framing.h"
#include "tls/failure_reason.h"
#include "tls/memory_tls.h"
#include "tls/ticket_cache.h"

namespace dotpin::tls {

class DotConnection {
 public:
  enum class State { kHandshaking, kReady, kFailed };

  /// @p ctx, @p upstream and @p tickets must outlive the connection; @p generation is the pin-set
  /// generation @p upstream belongs to. Whether chains are also validated (PKIX) is a property of
  /// @p ctx (make_client_context with a CA file). A cached ticket is offered only if its recorded
  /// path still satisfies the pins at @p now.
  DotConnection(const ClientContext& ctx, const UpstreamPins& upstream, std::uint64_t generation,
                TicketCache* tickets, UnixTime now = now_utc());

  /// Advances the handshake. kNeedRead: feed inbound() and call again; kDone: ready, or refused
  /// (state() says which); kError: failed (failure() says why).
  IoState handshake(UnixTime now);

  /// Frames @p messages and encrypts them in one TLS write (queries that arrive together leave
  /// together). False, and nothing written, unless the connection is ready. Throws std::bad_alloc
  /// when its staging buffer cannot grow (the link fails itself with kLocalResources).
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
  /// Part of a DNS message has been decrypted and the rest has not arrived.
  [[nodiscard]] bool partial_message() const noexcept { return decoder_.partial(); }
  [[nodiscard]] bool offered_resumption() const noexcept { return offered_resumption_; }
  [[nodiscard]] int tls_error() const noexcept { return tls_error_; }
  /// "TLSv1.3" once the handshake is done.
  [[nodiscard]] std::string protocol() const;
  MemoryTls& io() noexcept { return tls_; }

 private:
  void authenticate(UnixTime now);
  void fail(FailureReason reason) noexcept;
  /// The reason for a failed wolfSSL call: kLocalResources when a record found no memory.
  [[nodiscard]] FailureReason classify(int wolfssl_error, int alert = -1) const noexcept;
  void maybe_store_ticket();

  void maybe_offer_ticket(UnixTime now);

  MemoryTls tls_;
  const ClientContext& ctx_;
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
