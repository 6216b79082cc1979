// SPDX-License-Identifier: Apache-2.0
/// @file upstream_link.h
/// @brief One DoT connection to an upstream over a kernel TCP socket, all I/O through the owner's
/// io_uring: connect, handshake, authentication (dot_connection.h), queries and responses.
///
/// Single-threaded: the owner thread calls poll() on its reactor and tick() on its links. No
/// blocking call anywhere; at most one send and one recv are in flight per link.
#pragma once

#include <netinet/in.h>

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "tls/dot_connection.h"
#include "tls/uring_reactor.h"

namespace dotpin::tls {

class UpstreamLink {
 public:
  using Clock = std::chrono::steady_clock;
  enum class State { kIdle, kConnecting, kHandshaking, kReady, kFailed, kClosed };
  using MessageHandler = std::function<void(std::span<const std::uint8_t>)>;

  UpstreamLink(UringReactor& reactor, const ClientContext& ctx, const UpstreamPins& upstream, std::uint64_t generation,
               TicketCache* tickets, std::function<UnixTime()> wall_clock = {});
  ~UpstreamLink();
  UpstreamLink(const UpstreamLink&) = delete;
  UpstreamLink& operator=(const UpstreamLink&) = delete;

  /// Opens the socket (TCP_NODELAY) and queues the connect; the handshake must finish by
  /// @p handshake_deadline. False (with failure()) if the socket cannot be created.
  bool start(Clock::time_point handshake_deadline);

  /// Fails the link if its handshake deadline has passed. Call once per loop pass.
  void tick(Clock::time_point now);

  /// Fails the link with @p reason (closing its socket); for its owner's own deadlines.
  void abort(FailureReason reason) { fail(reason); }

  /// Sends @p messages in one TLS write. Only when ready().
  bool send(std::span<const std::span<const std::uint8_t>> messages);

  /// Called for each DNS message the upstream sends.
  void on_message(MessageHandler handler) { on_message_ = std::move(handler); }

  /// Shuts the socket down; completions still in flight finish with errors (busy() until then).
  void close();
  /// Orderly close of an idle connection: sends close_notify, then shuts the socket down once it
  /// has left. The link ends in kClosed (not a failure).
  void close_gracefully();
  /// When bytes last moved in either direction.
  [[nodiscard]] Clock::time_point last_activity() const noexcept { return last_activity_; }

  [[nodiscard]] State state() const noexcept { return state_; }
  [[nodiscard]] bool ready() const noexcept { return state_ == State::kReady; }
  [[nodiscard]] bool busy() const noexcept { return connect_req_.r.busy || send_req_.r.busy || recv_req_.r.busy; }
  [[nodiscard]] FailureReason failure() const noexcept { return failure_; }
  [[nodiscard]] const DotConnection& connection() const noexcept { return conn_; }

 private:
  // Each request knows its link, so completions find their way back without a lookup.
  struct Req {
    IoRequest r;
    UpstreamLink* link = nullptr;
  };
  static void connect_done(IoRequest* r, int res);
  static void send_done(IoRequest* r, int res);
  static void recv_done(IoRequest* r, int res);

  void fail(FailureReason reason);
  void after_input();
  void flush();
  void arm_recv();

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

std::string_view to_string(UpstreamLink::State s);

}  // namespace dotpin::tls
