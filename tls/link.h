// SPDX-License-Identifier: Apache-2.0
/// @file link.h
/// @brief What a DoT shard needs of one connection to an upstream: the seam between the shard and
/// its transport. UpstreamLink (upstream_link.h) is the real one, over a TCP socket and io_uring;
/// the shard's tests give it scripted ones (tests/tls/scripted_link.h) through
/// ShardOptions::link_factory, so that they drive time and the peer themselves.
///
/// Every member is noexcept: a link that cannot get memory fails itself with
/// FailureReason::kLocalResources instead of throwing into its owner's loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>

#include "common/time_util.h"
#include "pinning/verifier.h"
#include "tls/failure_reason.h"

namespace dotpin {
struct UpstreamPins;
}

namespace dotpin::tls {

class ClientContext;
class TicketCache;
class UringReactor;

class Link {
 public:
  using Clock = std::chrono::steady_clock;
  enum class State { kIdle, kConnecting, kHandshaking, kReady, kFailed, kClosed };
  using MessageHandler = std::function<void(std::span<const std::uint8_t>)>;

  virtual ~Link() = default;

  /// Starts connecting; the handshake must finish by @p handshake_deadline. False (and failed,
  /// failure() says why) if it cannot even start.
  virtual bool start(Clock::time_point handshake_deadline) noexcept = 0;
  /// Advances the link to @p now (its handshake deadline). The owner calls it once per loop pass.
  virtual void tick(Clock::time_point now) noexcept = 0;
  /// Fails the link with @p reason; for its owner's own deadlines.
  virtual void abort(FailureReason reason) noexcept = 0;
  /// Sends @p messages (DNS messages, unframed) in one TLS write. Only when ready(); false, and
  /// the link failed, if they cannot be sent.
  virtual bool send(std::span<const std::span<const std::uint8_t>> messages) noexcept = 0;
  /// Called for each DNS message the upstream sends.
  virtual void on_message(MessageHandler handler) noexcept = 0;
  /// Closes at once; I/O still in flight finishes with errors (busy() until then).
  virtual void close() noexcept = 0;
  /// Orderly close of an idle link (TLS close_notify first); it ends in kClosed, not a failure.
  virtual void close_gracefully() noexcept = 0;

  /// When bytes last moved in either direction.
  [[nodiscard]] virtual Clock::time_point last_activity() const noexcept = 0;
  [[nodiscard]] virtual State state() const noexcept = 0;
  [[nodiscard]] bool ready() const noexcept { return state() == State::kReady; }
  /// I/O still in flight: the link must not be destroyed before it is idle (or it waits for it).
  [[nodiscard]] virtual bool busy() const noexcept = 0;
  [[nodiscard]] virtual FailureReason failure() const noexcept = 0;

  /// The pin verdict of the handshake (for a resumed session, of the full handshake it came from).
  [[nodiscard]] virtual const PinVerdict& verdict() const noexcept = 0;
  [[nodiscard]] virtual bool resumed() const noexcept = 0;
  [[nodiscard]] virtual bool offered_resumption() const noexcept = 0;
  /// True when the chain matched no pin but the upstream is in `report` mode.
  [[nodiscard]] virtual bool admitted_by_report_mode() const noexcept = 0;
  /// True while part of a DNS message has arrived and the rest has not (a frame in progress).
  [[nodiscard]] virtual bool partial_message() const noexcept { return false; }
};

std::string_view to_string(Link::State s);

/// What a new link is opened to, for a LinkFactory. Everything referenced outlives the link.
struct LinkTarget {
  UringReactor& reactor;
  const ClientContext& ctx;
  const UpstreamPins& pins;
  std::uint64_t generation;
  TicketCache* tickets;
  const std::function<UnixTime()>& wall_clock;  ///< empty: the system clock
};

/// Opens a link (not started yet). May throw or return null when resources are short: the shard
/// counts either as FailureReason::kLocalResources.
using LinkFactory = std::function<std::unique_ptr<Link>(const LinkTarget&)>;

}  // namespace dotpin::tls
