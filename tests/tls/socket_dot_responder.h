// SPDX-License-Identifier: Apache-2.0
/// @file socket_dot_responder.h
/// @brief A DoT responder on 127.0.0.1 for in-process tests of the shard: wolfSSL over blocking
/// sockets, one thread per connection; it answers each query with its own bytes, QR set. Knobs:
/// a delay before answering, silence (read, never answer), hold (answer what was read only once
/// released), answers padded like unbound's (pad_block), and kill() to drop everything at once.
#pragma once

#include <arpa/inet.h>
#include <csignal>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/ecc.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/edns.h"
#include "tls/dns_framing.h"
#include "tls/edns_options.h"
#include "tls/memory_tls.h"
#include "tls/wolfssl_init.h"

namespace dotpin::test {

class SocketDotResponder {
 public:
  SocketDotResponder(const std::string& key_file, const std::string& chain_file) {
    tls::ensure_wolfssl_initialised();
    // wolfSSL writes with plain send(): a peer that went away must not kill the test process.
    std::signal(SIGPIPE, SIG_IGN);
    ctx_.reset(wolfSSL_CTX_new(wolfSSLv23_server_method()));
    if (!ctx_ || wolfSSL_CTX_use_PrivateKey_file(ctx_.get(), key_file.c_str(), WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS ||
        wolfSSL_CTX_use_certificate_chain_file(ctx_.get(), chain_file.c_str()) != WOLFSSL_SUCCESS)
      throw std::runtime_error("cannot load " + key_file);
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listener_, 64) != 0)
      throw std::runtime_error("cannot listen");
    socklen_t len = sizeof a;
    getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~SocketDotResponder() {
    kill();
    stop_ = true;
    acceptor_.join();
    ::close(listener_);
    std::lock_guard lock(mu_);
    for (auto& t : threads_) t.join();
    for (const int fd : fds_) ::close(fd);
  }

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::atomic<int> delay_ms{0};
  std::atomic<bool> silent{false};
  /// True: after each read, wait to answer until it is false again (or the responder is killed).
  /// Queries are counted when read, so a test knows what is in flight.
  std::atomic<bool> hold{false};
  /// True: every answer announces an answer record it does not carry (an unreadable answer).
  std::atomic<bool> broken_answer{false};
  /// Non-zero: answer with one A record (198.18.0.10) of this TTL instead of an empty answer.
  std::atomic<std::uint32_t> answer_ttl{0};
  /// Non-zero: pad each answer that carries an OPT record with an EDNS Padding option to a multiple
  /// of this many bytes, as unbound does (pad-responses, pad-responses-block-size: 468).
  std::atomic<std::size_t> pad_block{0};
  std::atomic<long> queries{0};
  std::atomic<long> connections{0};

  /// Pads @p msg to a multiple of @p block bytes with the Padding option of its OPT record
  /// (tls::pad_query works on any message: it rewrites the OPT record, keeping its other options).
  /// False (unchanged) when the message has no OPT record: a server pads only EDNS answers.
  static bool pad_answer(std::vector<std::uint8_t>& msg, std::size_t block) {
    dns::OptRecord opt;
    if (!dns::find_opt(msg, opt) || !opt.found) return false;
    std::vector<std::uint8_t> out;
    bool added = false;
    if (!tls::pad_query(msg, block, out, added)) return false;
    msg.swap(out);
    return true;
  }

  /// Closes every connection and refuses new ones from now on (the upstream "dies").
  void kill() {
    dead_ = true;
    std::lock_guard lock(mu_);
    for (const int fd : fds_) ::shutdown(fd, SHUT_RDWR);
  }

 private:
  void accept_loop() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      if (dead_) {
        ::close(fd);
        continue;
      }
      ++connections;
      const int nodelay = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, sizeof nodelay);
      std::lock_guard lock(mu_);
      fds_.push_back(fd);
      threads_.emplace_back([this, fd] { serve(fd); });
    }
  }

  void serve(int fd) {
    WOLFSSL* ssl = wolfSSL_new(ctx_.get());
    wolfSSL_set_fd(ssl, fd);
    if (wolfSSL_accept(ssl) == WOLFSSL_SUCCESS) {
      tls::FrameDecoder dec;
      std::vector<std::uint8_t> buf(16384);
      for (;;) {
        const int n = wolfSSL_read(ssl, buf.data(), static_cast<int>(buf.size()));
        if (n <= 0) break;
        dec.feed({buf.data(), static_cast<std::size_t>(n)});
        tls::ByteQueue out;
        std::span<const std::uint8_t> m;
        while (dec.next(m) == tls::FrameDecoder::Status::kMessage) {
          ++queries;
          if (silent) continue;
          std::vector<std::uint8_t> a(m.begin(), m.end());
          a[2] |= 0x80;
          if (const std::uint32_t ttl = answer_ttl.load(); ttl != 0 && a.size() > 12) {
            std::size_t q = 12;
            while (q < a.size() && a[q] != 0) q += a[q] + 1u;
            q += 5;
            const std::uint8_t rr[] = {0xc0, 0x0c, 0, 1, 0, 1, static_cast<std::uint8_t>(ttl >> 24),
                                       static_cast<std::uint8_t>(ttl >> 16), static_cast<std::uint8_t>(ttl >> 8),
                                       static_cast<std::uint8_t>(ttl), 0, 4, 198, 18, 0, 10};
            if (q <= a.size()) {
              a.insert(a.begin() + static_cast<std::ptrdiff_t>(q), std::begin(rr), std::end(rr));
              a[7] = 1;
            }
          }
          if (const std::size_t block = pad_block.load(); block != 0) pad_answer(a, block);
          if (broken_answer) a[7] = static_cast<std::uint8_t>(a[7] + 1);  // ANCOUNT + 1, no record
          tls::append_framed(out, a);
        }
        if (const int d = delay_ms.load(); d > 0) std::this_thread::sleep_for(std::chrono::milliseconds(d));
        while (hold && !dead_ && !stop_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        if (!out.empty() && wolfSSL_write(ssl, out.data().data(), static_cast<int>(out.size())) <= 0) break;
      }
    }
    wolfSSL_free(ssl);
    ::shutdown(fd, SHUT_RDWR);
    // Debian's wolfSSL keeps a per-thread ECC fixed-point cache (FP_ECC): a thread that did ECC
    // must free it before it exits.
    wc_ecc_fp_free();
  }

  tls::CtxPtr ctx_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false}, dead_{false};
  std::mutex mu_;
  std::vector<int> fds_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace dotpin::test
