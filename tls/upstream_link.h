// SPDX-License-Identifier: Apache-2.0
/// @file upstream_link.h
/// @brief One DoT connection to an upstream over a kernel TCP socket, all I/O through the owner's
/// io_uring: connect, handshake, authentication (dot_connection.h), queries and responses.
///
/// Single-threaded: the owner thread calls poll() on its reactor and tick() on its links. No
/// blocking call anywhere; at most one send and one recv are in flight per link. Nothing after the
/// constructor throws: a buffer that cannot grow fails the link with kLocalResources.
#pragma once

#include <netinet/in.h>

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "tls/dot_connection.h"
#include "tls/link.h"
#include "tls/uring_reactor.h"

namespace dotpin::tls {

class UpstreamLink final : public Link {
 public:
  /// Throws when the TLS session cannot be created (MemoryTls: no memory, or no context).
  UpstreamLink(UringReactor& reactor, const ClientContext& ctx, const UpstreamPins& upstream, std::uint64_t generation,
               TicketCache* tickets, std::function<UnixTime()> wall_clock = {});
  ~UpstreamLink() override;
  UpstreamLink(const UpstreamLink&) = delete;
  UpstreamLink& operator=(const UpstreamLink&) = delete;

  /// Opens the socket (TCP_NODELAY) and queues the connect; the handshake must finish by
  /// @p handshake_deadline. False (with failure()) if the socket cannot be created.
  bool start(Clock::time_point handshake_deadline) noexcept override;

  /// Fails the link if its handshake deadline has passed. Call once per loop pass.
  void tick(Clock::time_point now) noexcept override;

  /// Fails the link with @p reason (closing its socket); for its owner's own deadlines.
  void abort(FailureReason reason) noexcept override { fail(reason); }

  /// Sends @p messages in one TLS write. Only when ready().
  bool send(std::span<const std::span<const std::uint8_t>> messages) noexcept override;

  /// Called for each DNS message the upstream sends.
  void on_message(MessageHandler handler) noexcept override { on_message_ = std::move(handler); }

  /// Shuts the socket down; completions still in flight finish with errors (busy() until then).
  void close() noexcept override;
  /// Orderly close of an idle connection: sends close_notify, then shuts the socket down once it
  /// has left. The link ends in kClosed (not a failure).
  void close_gracefully() noexcept override;
  /// When bytes last moved in either direction.
  [[nodiscard]] Clock::time_point last_activity() const noexcept override { return last_activity_; }

  [[nodiscard]] State state() const noexcept override { return state_; }
  [[nodiscard]] bool busy() const noexcept override {
    return connect_req_.r.busy || send_req_.r.busy || recv_req_.r.busy;
  }
  [[nodiscard]] FailureReason failure() const noexcept override { return failure_; }
  [[nodiscard]] const PinVerdict& verdict() const noexcept override { return conn_.verdict(); }
  [[nodiscard]] bool resumed() const noexcept override { return conn_.resumed(); }
  [[nodiscard]] bool offered_resumption() const noexcept override { return conn_.offered_resumption(); }
  [[nodiscard]] bool admitted_by_report_mode() const noexcept override { return conn_.admitted_by_report_mode(); }
  [[nodiscard]] bool partial_message() const noexcept override { return conn_.partial_message(); }
  [[nodiscard]] const DotConnection& connection() const noexcept { return conn_; }

 private:
  // Each request knows its link, so completions find their way back without a lookup.
  struct Req {
    IoRequest r;
    UpstreamLink* link = nullptr;
  };
  static void connect_done(IoRequest* r, int res) noexcept;
  static void send_done(IoRequest* r, int res) noexcept;
  static void recv_done(IoRequest* r, int res) noexcept;

  void fail(FailureReason reason) noexcept;
  void after_input();
  void flush();
  void arm_recv() noexcept;

  UringReactor& reactor_;
  const UpstreamPins& upstream_;
  std::function<UnixTime()> wall_;  // the time certificates and pin windows are judged at
  DotConnection conn_;
  int fd_ = -1;
  sockaddr_storage addr_{};
  socklen_t addr_len_ = 0;
  State state_ = State::kIdle;
  FailureReason failure_ = FailureReason::kNone;
  Clock::time_point handshake_deadline_{};
  Clock::time_point last_activity_{};
  bool closing_ = false;
  Req connect_req_, send_req_, recv_req_;
  std::vector<std::uint8_t> send_buf_;
  std::size_t send_off_ = 0;
  std::array<std::uint8_t, 16384> recv_buf_{};
  MessageHandler on_message_;
};

}  // namespace dotpin::tls
