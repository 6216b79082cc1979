// SPDX-License-Identifier: Apache-2.0
#include "tls/upstream_link.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dotpin::tls {

UpstreamLink::UpstreamLink(UringReactor& reactor, const ClientContext& ctx, const UpstreamPins& upstream,
                           std::uint64_t generation, TicketCache* tickets, std::function<UnixTime()> wall_clock)
    : reactor_(reactor),
      upstream_(upstream),
      wall_(wall_clock ? std::move(wall_clock) : std::function<UnixTime()>(now_utc)),
      conn_(ctx, upstream, generation, tickets, wall_()) {
  connect_req_ = {{connect_done, false}, this};
  send_req_ = {{send_done, false}, this};
  recv_req_ = {{recv_done, false}, this};
}

UpstreamLink::~UpstreamLink() {
  close();
  // shutdown() ends pending send/recv, and on Linux also a connect in SYN_SENT; cancelling the
  // connect as well costs nothing and does not rely on that.
  reactor_.cancel(&connect_req_.r);
  // Completions reference this object: let them run before it goes away (bounded: shutdown()
  // makes every pending socket operation complete promptly).
  for (int i = 0; i < 1000 && busy(); ++i) reactor_.poll(std::chrono::milliseconds(1));
  if (fd_ >= 0) ::close(fd_);
}

bool UpstreamLink::start(Clock::time_point handshake_deadline) noexcept {
  handshake_deadline_ = handshake_deadline;
  const Endpoint& ep = upstream_.address;
  if (ep.family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr_);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(ep.port);
    inet_pton(AF_INET6, ep.host.c_str(), &a->sin6_addr);
    addr_len_ = sizeof(sockaddr_in6);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr_);
    a->sin_family = AF_INET;
    a->sin_port = htons(ep.port);
    inet_pton(AF_INET, ep.host.c_str(), &a->sin_addr);
    addr_len_ = sizeof(sockaddr_in);
  }
  fd_ = ::socket(ep.family == AF_INET6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    fail(FailureReason::kConnectRefused);
    return false;
  }
  // Queries are small and latency matters more than segment count: without TCP_NODELAY a small
  // write waits behind Nagle for the peer's delayed ACK (tens of ms).
  const int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  state_ = State::kConnecting;
  last_activity_ = Clock::now();
  return reactor_.connect(fd_, reinterpret_cast<const sockaddr*>(&addr_), addr_len_, &connect_req_.r);
}

void UpstreamLink::tick(Clock::time_point now) noexcept {
  if ((state_ == State::kConnecting || state_ == State::kHandshaking) && now >= handshake_deadline_)
    fail(FailureReason::kHandshakeTimeout);
}

void UpstreamLink::fail(FailureReason reason) noexcept {
  if (state_ == State::kFailed || state_ == State::kClosed) return;
  failure_ = reason;
  state_ = State::kFailed;
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

void UpstreamLink::close() noexcept {
  if (state_ != State::kFailed && state_ != State::kClosed && fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
  if (state_ != State::kFailed) state_ = State::kClosed;
}

void UpstreamLink::close_gracefully() noexcept {
  if (state_ != State::kReady) {
    close();
    return;
  }
  conn_.close_notify();
  closing_ = true;
  state_ = State::kClosed;
  try {
    flush();
  } catch (...) {
    // The close_notify cannot be staged: the socket is shut down without it.
  }
  if (!send_req_.r.busy && fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);  // nothing left to send
}

// Completions run inside the reactor's poll, on the owner's loop: nothing may leave them. What
// they do that can throw is buffer growth (std::bad_alloc), which fails the link as local.

void UpstreamLink::connect_done(IoRequest* r, int res) noexcept {
  auto* self = reinterpret_cast<Req*>(r)->link;
  if (self->state_ != State::kConnecting) return;
  if (res < 0) {
    self->fail(res == -ECONNREFUSED ? FailureReason::kConnectRefused
               : res == -ETIMEDOUT  ? FailureReason::kHandshakeTimeout
                                    : FailureReason::kReset);
    return;
  }
  self->state_ = State::kHandshaking;
  try {
    self->conn_.handshake(self->wall_());  // produces the ClientHello
    self->flush();
  } catch (...) {
    self->fail(FailureReason::kLocalResources);
    return;
  }
  self->arm_recv();
}

void UpstreamLink::send_done(IoRequest* r, int res) noexcept {
  auto* self = reinterpret_cast<Req*>(r)->link;
  if (res < 0) {
    self->fail(FailureReason::kReset);
    return;
  }
  self->send_off_ += static_cast<std::size_t>(res);
  self->last_activity_ = Clock::now();
  try {
    self->flush();
  } catch (...) {
    self->fail(FailureReason::kLocalResources);
    return;
  }
  if (self->closing_ && !self->send_req_.r.busy && self->fd_ >= 0) ::shutdown(self->fd_, SHUT_RDWR);
}

void UpstreamLink::recv_done(IoRequest* r, int res) noexcept {
  auto* self = reinterpret_cast<Req*>(r)->link;
  if (self->state_ == State::kFailed || self->state_ == State::kClosed) return;
  if (res <= 0) {
    // 0: the server closed the connection; <0: reset or another socket error.
    self->fail(FailureReason::kReset);
    return;
  }
  self->last_activity_ = Clock::now();
  try {
    self->conn_.io().inbound().append({self->recv_buf_.data(), static_cast<std::size_t>(res)});
    self->after_input();
  } catch (...) {
    self->fail(FailureReason::kLocalResources);
    return;
  }
  if (self->state_ == State::kHandshaking || self->state_ == State::kReady) self->arm_recv();
}

void UpstreamLink::after_input() {
  if (state_ == State::kHandshaking) {
    const IoState st = conn_.handshake(wall_());
    if (st == IoState::kError) {
      flush();  // the close_notify/alert, if any
      fail(conn_.failure());
      return;
    }
    if (st == IoState::kDone) state_ = State::kReady;
  }
  if (state_ == State::kReady) {
    const IoState st = conn_.receive([this](std::span<const std::uint8_t> m) {
      if (on_message_) on_message_(m);
    });
    if (st == IoState::kError) {
      fail(conn_.failure());
      return;
    }
  }
  flush();
}

void UpstreamLink::flush() {
  if (send_req_.r.busy || fd_ < 0) return;
  if (send_off_ == send_buf_.size()) {
    send_buf_.clear();
    send_off_ = 0;
    auto& out = conn_.io().outbound();
    if (out.empty()) return;
    send_buf_.assign(out.data().begin(), out.data().end());
    out.clear();
  }
  reactor_.send(fd_, send_buf_.data() + send_off_, send_buf_.size() - send_off_, &send_req_.r);
}

void UpstreamLink::arm_recv() noexcept {
  if (!recv_req_.r.busy) reactor_.recv(fd_, recv_buf_.data(), recv_buf_.size(), &recv_req_.r);
}

bool UpstreamLink::send(std::span<const std::span<const std::uint8_t>> messages) noexcept {
  if (state_ != State::kReady) return false;
  try {
    if (!conn_.send(messages)) {
      if (conn_.state() == DotConnection::State::kFailed) fail(conn_.failure());
      return false;
    }
    flush();
  } catch (...) {
    fail(FailureReason::kLocalResources);
    return false;
  }
  return true;
}

}  // namespace dotpin::tls
