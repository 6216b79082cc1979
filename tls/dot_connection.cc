// SPDX-License-Identifier: Apache-2.0
#include "tls/dot_connection.h"

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <algorithm>
#include <array>
#include <vector>

#include "pinning/authenticate.h"
#include "tls/wolfssl_init.h"

namespace dotpin::tls {

DotConnection::DotConnection(const ClientContext& ctx, const UpstreamPins& upstream, std::uint64_t generation,
                             TicketCache* tickets, UnixTime now)
    : tls_(ctx.get()), ctx_(ctx), upstream_(upstream), generation_(generation), tickets_(tickets) {
  WOLFSSL* ssl = tls_.ssl();
  if (!upstream_.auth_name.empty()) {
    wolfSSL_UseSNI(ssl, WOLFSSL_SNI_HOST_NAME, upstream_.auth_name.data(),
                   static_cast<unsigned short>(upstream_.auth_name.size()));
  }
  offer_dot_alpn(ssl);
  maybe_offer_ticket(now);
}

void DotConnection::maybe_offer_ticket(UnixTime now) {
  if (!tickets_) return;
  WOLFSSL_SESSION* s = tickets_->usable(generation_);
  if (!s) return;
  // The ticket's handshake passed under this generation; its recorded path must still satisfy the
  // pins now (a pin window may have closed, a certificate on the path may have expired since).
  const PinVerdict again = reverify(tickets_->verdict(), upstream_.pins, now);
  if (!again.matched()) {
    tickets_->clear();
    return;
  }
  offered_resumption_ = wolfSSL_set_session(tls_.ssl(), s) == WOLFSSL_SUCCESS;
  if (offered_resumption_) resumed_verdict_ = again;
}

std::string DotConnection::protocol() const { return wolfSSL_get_version(tls_.ssl()); }

void DotConnection::close_notify() {
  if (state_ == State::kReady) wolfSSL_shutdown(tls_.ssl());
}

void DotConnection::fail(FailureReason reason) noexcept {
  state_ = State::kFailed;
  failure_ = reason;
}

FailureReason DotConnection::classify(int wolfssl_error, int alert) const noexcept {
  return tls_.exhausted() ? FailureReason::kLocalResources : classify_tls_error(wolfssl_error, alert);
}

IoState DotConnection::handshake(UnixTime now) {
  if (state_ != State::kHandshaking) return state_ == State::kFailed ? IoState::kError : IoState::kDone;
  const int ret = wolfSSL_connect(tls_.ssl());
  if (ret != WOLFSSL_SUCCESS) {
    const IoState st = tls_.state_after(ret);
    if (st == IoState::kNeedRead || st == IoState::kNeedWrite) return st;
    tls_error_ = tls_.last_error(ret);
    // A ticket that led to a failed handshake is not offered again (a server that restarted with
    // a new ticket key may fail every resumption attempt instead of falling back).
    if (offered_resumption_ && tickets_) tickets_->clear();
    WOLFSSL_ALERT_HISTORY alerts{};
    const int alert = wolfSSL_get_alert_history(tls_.ssl(), &alerts) == WOLFSSL_SUCCESS ? alerts.last_rx.code : -1;
    fail(classify(tls_error_, alert));
    return IoState::kError;
  }
  resumed_ = wolfSSL_session_reused(tls_.ssl()) == 1;
  if (!negotiated_parameters_problem(tls_.ssl(), ctx_.floor()).empty()) {
    // Never reached with wolfSSL's own checks in place (the server must pick what we offered),
    // but a library default must not be able to widen the list.
    fail(FailureReason::kTlsParameters);
  } else if (resumed_) {
    // The ticket was stored after a full handshake that passed authentication under this very
    // generation (TicketCache::usable() checked it), and the server proved it holds the ticket key.
    // It inherits that handshake's verdict, so a later pin change can re-check the chain.
    verdict_ = resumed_verdict_;
    state_ = State::kReady;
  } else {
    authenticate(now);
  }
  if (state_ == State::kFailed) {
    // Tell the server we are done; nothing but this alert is written.
    wolfSSL_shutdown(tls_.ssl());
    return IoState::kError;
  }
  return IoState::kDone;
}

void DotConnection::authenticate(UnixTime now) {
  WOLFSSL* ssl = tls_.ssl();
  WOLFSSL_X509_CHAIN* chain = wolfSSL_get_peer_chain(ssl);
  const int count = chain ? wolfSSL_get_chain_count(chain) : 0;
  // wolfSSL (built with SESSION_CERTS) copies an offered session's chain into the connection, and
  // when the server declines the ticket and does a full handshake it *appends* the new chain: the
  // peer chain can then begin with the certificates of the server the ticket came from, while an
  // impostor's key signed this handshake. The chain this handshake presented begins at the last
  // entry equal to the certificate whose key signed it (wolfSSL_get_peer_certificate); if there
  // is none, nothing is judged and the connection is refused.
  std::vector<std::uint8_t> leaf;
  if (WOLFSSL_X509* peer = wolfSSL_get_peer_certificate(ssl)) {
    int len = 0;
    const unsigned char* der = wolfSSL_X509_get_der(peer, &len);
    if (der && len > 0) leaf.assign(der, der + len);
    wolfSSL_X509_free(peer);  // a copy (OPENSSL_EXTRA)
  }
  int first = -1;
  for (int i = 0; i < count; ++i) {
    const unsigned char* der = wolfSSL_get_chain_cert(chain, i);
    const int len = wolfSSL_get_chain_length(chain, i);
    if (der && len > 0 && static_cast<std::size_t>(len) == leaf.size() && std::equal(leaf.begin(), leaf.end(), der))
      first = i;
  }
  std::array<DerBytes, kMaxChainLength + 1> ders{};
  std::size_t n = 0;
  for (int i = first; first >= 0 && i < count && n < ders.size(); ++i)
    ders[n++] = DerBytes(wolfSSL_get_chain_cert(chain, i), static_cast<std::size_t>(wolfSSL_get_chain_length(chain, i)));
  // A chain longer than kMaxChainLength arrives as kMaxChainLength + 1 elements: refused as such;
  // no element found (n == 0) is an empty chain, refused in every mode.
  verdict_ = authenticate_chain({ders.data(), n}, upstream_, now, ctx_.anchors());
  if (verdict_.matched()) {
    state_ = State::kReady;
  } else if (admits(upstream_.mode, verdict_)) {
    report_mismatch_ = true;
    state_ = State::kReady;
  } else {
    fail(reason_for(verdict_, upstream_));
  }
}

bool DotConnection::send(std::span<const std::span<const std::uint8_t>> messages) {
  if (state_ != State::kReady) return false;
  framed_.clear();
  for (const auto& m : messages)
    if (!append_framed(framed_, m)) return false;
  const auto data = framed_.data();
  std::size_t off = 0;
  while (off < data.size()) {
    const int ret = wolfSSL_write(tls_.ssl(), data.data() + off, static_cast<int>(data.size() - off));
    if (ret <= 0) {
      tls_error_ = tls_.last_error(ret);
      fail(classify(tls_error_));
      return false;
    }
    off += static_cast<std::size_t>(ret);
  }
  return true;
}

void DotConnection::maybe_store_ticket() {
  // Only sessions from a full handshake whose chain matched a pin are worth resuming; a session
  // admitted by report mode is not, and a resumed one already is the cached one.
  if (ticket_stored_ || !tickets_ || resumed_ || !verdict_.matched()) return;
  if (WOLFSSL_SESSION* s = wolfSSL_get1_session(tls_.ssl())) {
    tickets_->store(s, generation_, verdict_);
    ticket_stored_ = true;
  }
}

IoState DotConnection::receive(const std::function<void(std::span<const std::uint8_t>)>& on_message) {
  if (state_ != State::kReady) return IoState::kError;
  std::array<std::uint8_t, 16384> buf;
  for (;;) {
    const int ret = wolfSSL_read(tls_.ssl(), buf.data(), static_cast<int>(buf.size()));
    if (ret <= 0) {
      const IoState st = tls_.state_after(ret);
      if (st == IoState::kNeedRead || st == IoState::kNeedWrite) break;
      tls_error_ = tls_.last_error(ret);
      fail(tls_error_ == WOLFSSL_ERROR_ZERO_RETURN ? FailureReason::kReset : classify(tls_error_));
      return IoState::kError;
    }
    decoder_.feed({buf.data(), static_cast<std::size_t>(ret)});
  }
  // TLS 1.3 tickets arrive after the handshake, so the session is captured once data has flowed.
  maybe_store_ticket();
  std::span<const std::uint8_t> msg;
  for (;;) {
    const auto st = decoder_.next(msg);
    if (st == FrameDecoder::Status::kNeedMore) break;
    if (st == FrameDecoder::Status::kMalformed) {
      fail(FailureReason::kProtocol);
      return IoState::kError;
    }
    on_message(msg);
  }
  return IoState::kNeedRead;
}

}  // namespace dotpin::tls
