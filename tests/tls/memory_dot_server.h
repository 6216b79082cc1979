// SPDX-License-Identifier: Apache-2.0
/// @file memory_dot_server.h
/// @brief A wolfSSL DoT server over memory buffers for in-process tests: it answers every framed
/// query with the same message, QR bit set, and counts what it received.
#pragma once

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "tls/dns_framing.h"
#include "tls/dot_connection.h"
#include "tls/memory_tls.h"

namespace dotpin::test {

class MemoryDotServer {
 public:
  MemoryDotServer(const std::string& key_file, const std::string& chain_file) {
    ctx_.reset(wolfSSL_CTX_new(wolfSSLv23_server_method()));
    if (!ctx_ || wolfSSL_CTX_use_PrivateKey_file(ctx_.get(), key_file.c_str(), WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS ||
        wolfSSL_CTX_use_certificate_chain_file(ctx_.get(), chain_file.c_str()) != WOLFSSL_SUCCESS)
      throw std::runtime_error("cannot load " + key_file + " / " + chain_file);
  }

  /// One accepted session.
  struct Session {
    explicit Session(WOLFSSL_CTX* ctx) : tls(ctx) {}
    tls::MemoryTls tls;
    tls::FrameDecoder decoder;
    std::size_t queries = 0;       ///< DNS messages received
    std::size_t app_bytes = 0;     ///< application bytes received
    bool malformed_reply = false;  ///< answer with a frame too short to be DNS
  };

  std::unique_ptr<Session> accept() { return std::make_unique<Session>(ctx_.get()); }
  /// The server's context, for tests that make it offer other TLS parameters.
  WOLFSSL_CTX* ctx() { return ctx_.get(); }

  /// Runs the server side as far as the bytes it has allow.
  static void serve(Session& s) {
    WOLFSSL* ssl = s.tls.ssl();
    if (!wolfSSL_is_init_finished(ssl)) {
      if (wolfSSL_accept(ssl) != WOLFSSL_SUCCESS) return;
    }
    std::vector<std::uint8_t> buf(16384);
    for (;;) {
      const int n = wolfSSL_read(ssl, buf.data(), static_cast<int>(buf.size()));
      if (n <= 0) break;
      s.app_bytes += static_cast<std::size_t>(n);
      s.decoder.feed({buf.data(), static_cast<std::size_t>(n)});
    }
    tls::ByteQueue out;
    std::span<const std::uint8_t> msg;
    while (s.decoder.next(msg) == tls::FrameDecoder::Status::kMessage) {
      ++s.queries;
      std::vector<std::uint8_t> answer(msg.begin(), msg.end());
      answer[2] |= 0x80;  // QR
      if (s.malformed_reply) answer.resize(5);
      const std::uint8_t len[2] = {static_cast<std::uint8_t>(answer.size() >> 8),
                                   static_cast<std::uint8_t>(answer.size())};
      out.append(len);
      out.append(answer);
    }
    if (!out.empty()) wolfSSL_write(ssl, out.data().data(), static_cast<int>(out.size()));
  }

  /// Moves bytes both ways and runs both sides until nothing moves any more.
  static void pump(tls::DotConnection& client, Session& server, UnixTime now) {
    for (int round = 0; round < 64; ++round) {
      bool moved = false;
      if (!client.io().outbound().empty()) {
        server.tls.inbound().append(client.io().outbound().data());
        client.io().outbound().clear();
        moved = true;
      }
      serve(server);
      if (!server.tls.outbound().empty()) {
        client.io().inbound().append(server.tls.outbound().data());
        server.tls.outbound().clear();
        moved = true;
      }
      if (client.state() == tls::DotConnection::State::kHandshaking) client.handshake(now);
      if (!moved && client.io().outbound().empty()) return;
    }
  }

 private:
  tls::CtxPtr ctx_;
};

}  // namespace dotpin::test
