// SPDX-License-Identifier: Apache-2.0
#include "dataplane/tcp_service.h"

#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_ring.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <future>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/edns.h"
#include "common/wire_cursor.h"
#include "dataplane/netlink_route.h"
#include "tls/memory_tls.h"
#include "tls/server_context.h"
#include "tls/uring_reactor.h"
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

namespace dotpin::dataplane {

namespace {

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

// The query's OPT record carries edns-tcp-keepalive (RFC 7828 §3.2.1: empty from a client).
bool asks_keepalive(std::span<const std::uint8_t> msg) {
  dns::OptRecord opt;
  if (!dns::find_opt(msg, opt) || !opt.found) return false;
  bool found = false;
  dns::for_each_option(msg.subspan(opt.rdata, opt.rdlen), [&](std::uint16_t code, std::span<const std::uint8_t>) {
    found = code == dns::kOptionKeepalive;
    return !found;
  });
  return found;
}

// DoT: ciphertext read per receive, and how much a connection may hold before it stops reading
// (undecrypted input) or stops taking queries (encrypted answers the client has not taken).
constexpr std::size_t kTlsReadChunk = 16384;
constexpr std::size_t kMaxTlsInbound = 2 * kTlsReadChunk;
constexpr std::size_t kMaxTlsPending = 2 * 65538;
// Records that carry no DNS data (KeyUpdate, empty records) cost a decryption each and may make
// the session answer: this much ciphertext taken by the session in a row without a byte of
// plaintext closes it (a client's own post-handshake messages are a few hundred bytes).
constexpr std::size_t kMaxTlsWithoutData = 16384;

}  // namespace

struct TcpService::Impl {
  struct Req : tls::IoRequest {
    Impl* impl = nullptr;
    std::uint32_t slot = 0;
  };
  struct Conn {
    std::uint32_t gen = 0;
    bool live = false, closing = false, eof = false, first = true, blocked = false;
    // DoT (port 853): the session, whose plaintext is what rbuf holds. The kernel's operations
    // never touch the session's queues: receives land in cbuf and are appended to inbound();
    // sends go from wire, refilled from outbound() only when no send is in flight.
    bool dot = false, handshaken = false;
    bool fin = false;              // DoT: the client's FIN arrived; what it sent before is still read
    std::size_t without_data = 0;  // DoT: ciphertext the session took since the last plaintext byte
    std::unique_ptr<tls::MemoryTls> tls;
    std::vector<std::uint8_t> cbuf, wire;
    std::size_t wsent = 0;
    std::uint64_t accepted_ns = 0;
    // Bad input after good: what was asked before it is answered, then the connection closes.
    std::optional<TcpCounter> finish_with;
    int fd = -1;
    bool ipv6 = false;
    std::uint8_t client[16] = {};
    std::string client_key;
    Req rreq, sreq;
    // rbuf[roff, rlen) is read and not yet taken. While a receive is in flight (it writes at the
    // rlen it was posted with) the buffer is never moved, compacted or grown: compact() runs only
    // when rreq is idle.
    std::vector<std::uint8_t> rbuf;
    std::size_t roff = 0, rlen = 0;
    unsigned inflight = 0;  // queries at an lcore plus answers not yet written
    StreamQuery* wq_head = nullptr;
    StreamQuery* wq_tail = nullptr;
    std::uint64_t last_ns = 0, write_since = 0;
  };
  struct Listener : tls::IoRequest {
    Impl* impl = nullptr;
    int fd = -1;
    bool dot = false;
    sockaddr_storage peer{};
    socklen_t peer_len = 0;
  };
  struct Wake : tls::IoRequest {
    Impl* impl = nullptr;
    std::uint64_t value = 0;
  };

  TcpOptions opt;
  std::optional<tls::ServerContext> server;  // [dot] configured
  std::vector<StreamChannel>* channels = nullptr;
  std::unique_ptr<StreamQuery[]> pool;
  StreamQuery* free_list = nullptr;
  std::atomic<bool> sleeping{false};
  std::atomic<bool> stopping{false};
  int wake_fd = -1;
  std::vector<Listener> listeners;
  Wake wake;
  std::vector<Conn> conns;
  // After the buffers its operations refer to: destroyed before them.
  std::unique_ptr<tls::UringReactor> reactor;
  std::vector<std::uint32_t> free_slots, blocked;
  std::unordered_map<std::string, unsigned> per_client;
  // [0] TCP on 53, [1] DoT on 853.
  std::array<std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(TcpCounter::kCount_)>, 2> counters{};
  std::array<std::atomic<std::size_t>, 2> active{};
  std::size_t open_total = 0;
  std::uint64_t now = 0;

  void count(bool dot, TcpCounter c, std::uint64_t n = 1) {
    auto& v = counters[dot ? 1 : 0][static_cast<std::size_t>(c)];
    v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void count(const Conn& c, TcpCounter why) { count(c.dot, why); }
  // Whether the connection still owes the client something: queries at an lcore, answers not yet
  // written (plain), or ciphertext not yet sent (DoT).
  static bool owed(const Conn& c) {
    return c.inflight > 0 || c.blocked || (c.dot && (c.sreq.busy || pending_out(c) > 0));
  }
  // DoT: sealed bytes not yet handed to the kernel.
  static std::size_t pending_out(const Conn& c) { return c.wire.size() - c.wsent + c.tls->outbound().size(); }
  StreamQuery* take() {
    StreamQuery* s = free_list;
    if (s) free_list = s->next;
    return s;
  }
  void give(StreamQuery* s) {
    s->next = free_list;
    free_list = s;
  }

  // --- connections ---
  // Moves what is left to the front and grows the buffer to the message being read (only to a
  // length announced). Never while a receive is in flight.
  void compact(Conn& c) {
    if (c.rreq.busy && !c.dot) return;
    if (c.roff > 0) {
      std::memmove(c.rbuf.data(), c.rbuf.data() + c.roff, c.rlen - c.roff);
      c.rlen -= c.roff;
      c.roff = 0;
    }
    if (c.rlen >= 2) {
      const std::size_t need = 2u + dns::load_be16(c.rbuf.data());
      if (c.rbuf.size() < need) c.rbuf.resize(need);
    }
  }
  void post_recv(Conn& c) {
    if (c.closing || c.eof || c.rreq.busy) return;
    if (c.dot) {
      // More ciphertext only once the session has taken what it has (it reads as rbuf has room),
      // and not while its output piles up (a client that makes it write without reading).
      if (c.fin || c.tls->inbound().size() >= kMaxTlsInbound || pending_out(c) > kMaxTlsPending) return;
      if (!reactor->recv(c.fd, c.cbuf.data(), c.cbuf.size(), &c.rreq)) close(c, TcpCounter::kClosedError);
      return;
    }
    compact(c);
    if (c.rlen == c.rbuf.size()) return;  // a complete message waits for room to be dispatched
    if (!reactor->recv(c.fd, c.rbuf.data() + c.rlen, c.rbuf.size() - c.rlen, &c.rreq)) close(c, TcpCounter::kClosedError);
  }
  void post_send(Conn& c) {
    if (c.dot) return post_send_tls(c);
    StreamQuery* s = c.wq_head;
    if (s == nullptr || c.closing || c.sreq.busy) return;
    if (c.write_since == 0) c.write_since = now;
    if (!reactor->send(c.fd, s->frame + s->sent, 2 + s->len - s->sent, &c.sreq)) close(c, TcpCounter::kClosedError);
  }
  void post_send_tls(Conn& c) {
    if (c.closing || c.sreq.busy) return;
    if (c.wsent == c.wire.size()) {
      tls::ByteQueue& out = c.tls->outbound();
      if (c.wire.capacity() > 2 * kMaxTlsPending) std::vector<std::uint8_t>().swap(c.wire);  // after a burst
      out.trim(2 * kMaxTlsPending);
      if (out.empty()) return;
      out.take_into(c.wire);  // swaps buffers: no copy
      c.wsent = 0;
    }
    if (c.write_since == 0) c.write_since = now;
    if (!reactor->send(c.fd, c.wire.data() + c.wsent, c.wire.size() - c.wsent, &c.sreq)) close(c, TcpCounter::kClosedError);
  }
  void close(Conn& c, TcpCounter why) {
    if (c.closing) return;
    if (c.dot && c.tls && !c.sreq.busy) {
      // Best effort, never waiting: a close_notify after a handshake (or the alert a failed one
      // left queued), sent only if nothing else is on its way.
      if (c.handshaken && why != TcpCounter::kClosedTlsError && why != TcpCounter::kClosedError)
        wolfSSL_shutdown(c.tls->ssl());
      if (c.wsent == c.wire.size() && !c.tls->outbound().empty()) {
        const auto d = c.tls->outbound().data();
        [[maybe_unused]] const auto rc = ::send(c.fd, d.data(), d.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      }
    }
    c.closing = true;
    count(c, why);
    ::shutdown(c.fd, SHUT_RDWR);  // pending receives and sends complete now
    reactor->cancel(&c.rreq);
    reactor->cancel(&c.sreq);
    finalize(c);
  }
  // The slot is free once no operation of the kernel's still refers to its buffers.
  void finalize(Conn& c) {
    if (!c.closing || !c.live || c.rreq.busy || c.sreq.busy) return;
    ::close(c.fd);
    c.fd = -1;
    while (StreamQuery* s = c.wq_head) {
      c.wq_head = s->next;
      give(s);
    }
    c.wq_tail = nullptr;
    if (c.dot) {
      c.tls.reset();
      c.cbuf = {};
      c.wire = {};
      c.wsent = 0;
    }
    if (auto it = per_client.find(c.client_key); it != per_client.end() && --it->second == 0) per_client.erase(it);
    c.live = false;
    auto& a = active[c.dot ? 1 : 0];
    a.store(a.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
    --open_total;
    free_slots.push_back(static_cast<std::uint32_t>(&c - conns.data()));
  }

  void dispatch(Conn& c, std::uint32_t slot, const std::uint8_t* msg, std::uint16_t len, StreamQuery* s) {
    s->conn = slot;
    s->conn_gen = c.gen;
    s->len = len;
    s->ipv6 = c.ipv6;
    std::memcpy(s->client, c.client, 16);
    std::memcpy(s->message(), msg, len);
    s->keepalive = asks_keepalive({msg, len});
    s->sent = 0;
    s->next = nullptr;
    // One client's queries go to one lcore (its merges and cache warmth stay together).
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned i = 0; i < (c.ipv6 ? 16u : 4u); ++i) h = (h ^ c.client[i]) * 1099511628211ull;
    StreamChannel& ch = (*channels)[h % channels->size()];
    rte_ring_sp_enqueue(ch.to_lcore, s);  // as large as the pool: never full
    ++c.inflight;
    c.last_ns = now;
    count(c, TcpCounter::kQueries);
  }

  // Takes every complete message from the read buffer that may be dispatched now.
  void parse(Conn& c) {
    if (c.closing) return;
    const auto slot = static_cast<std::uint32_t>(&c - conns.data());
    while (c.rlen - c.roff >= 2) {
      const std::uint8_t* p = c.rbuf.data() + c.roff;
      // A TLS record header (handshake, version 3.x) where the first length should be: a DoT
      // client on the plain port. Closed at once rather than waiting for 5.6 kB that never come.
      if (c.first && !c.dot && p[0] == 0x16 && p[1] == 0x03) return end_after_answers(c, TcpCounter::kClosedTlsOnPlain);
      const std::uint16_t len = dns::load_be16(p);
      if (len < 12) return end_after_answers(c, TcpCounter::kClosedBadLength);
      if (c.rlen - c.roff < 2u + len) break;
      if (c.inflight >= opt.max_inflight_per_connection) break;  // resumes as answers go out
      StreamQuery* s = take();
      if (s == nullptr) {
        if (!c.blocked) blocked.push_back(slot);
        c.blocked = true;
        break;
      }
      dispatch(c, slot, p + 2, len, s);
      c.first = false;
      c.roff += 2u + len;
    }
    compact(c);
  }

  void end_after_answers(Conn& c, TcpCounter why) {
    c.finish_with = why;
    c.roff = c.rlen;  // the rest is dropped (compacted away once no receive is in flight)
    c.eof = true;     // nothing more is read
    if (!owed(c)) close(c, why);
  }

  // --- DoT ---
  // Drives the session with what has arrived: the handshake, then plaintext into rbuf while it
  // has room. Whatever the session wants to send goes out.
  void tls_input(Conn& c) {
    if (c.closing) return;
    tls::MemoryTls& t = *c.tls;
    if (!c.handshaken) {
      if (c.first) {
        // A TLS connection starts with a handshake record (0x16, version 3.x); a DNS length
        // prefix there is a port-53 client on port 853: closed at once, not after a timeout.
        const auto in = t.inbound().data();
        if (in.empty()) return;
        if (in[0] != 0x16 || (in.size() >= 2 && in[1] != 0x03)) return close(c, TcpCounter::kClosedPlainOnTls);
        c.first = false;
      }
      const int ret = wolfSSL_accept(t.ssl());
      if (ret != WOLFSSL_SUCCESS) {
        if (t.state_after(ret) != tls::IoState::kNeedRead || t.exhausted())
          return close(c, TcpCounter::kClosedTlsHandshake);  // the alert, if any, goes out best effort
        if (c.fin) return close(c, TcpCounter::kClosedByClient);  // gone before the handshake ended
        return post_send(c);
      }
      if (!tls::server_parameters_problem(t.ssl(), server->floor()).empty())
        return close(c, TcpCounter::kClosedTlsHandshake);
      c.handshaken = true;
      c.last_ns = now;
      count(c, TcpCounter::kTlsHandshakes);
      if (wolfSSL_session_reused(t.ssl())) count(c, TcpCounter::kTlsResumed);
      post_send(c);  // the server's last flight and its session ticket
      if (c.closing) return;  // (close() may have freed the session)
      c.without_data = 0;
    }
    compact(c);  // also grows rbuf to the message being read
    // Plaintext while rbuf has room, and not while output piles up (a record may make the
    // session write: a KeyUpdate is answered with one).
    while (!c.eof && c.rlen < c.rbuf.size() && pending_out(c) <= kMaxTlsPending) {
      const std::size_t had = t.inbound().size();
      const int n = wolfSSL_read(t.ssl(), c.rbuf.data() + c.rlen, static_cast<int>(c.rbuf.size() - c.rlen));
      if (n > 0) {
        c.rlen += static_cast<std::size_t>(n);
        c.without_data = 0;
        continue;
      }
      c.without_data += had - t.inbound().size();
      if (t.state_after(n) == tls::IoState::kNeedRead && !t.exhausted()) {
        if (c.fin && t.inbound().empty()) c.eof = true;  // all the client sent before its FIN is read
        break;
      }
      if (t.last_error(n) == WOLFSSL_ERROR_ZERO_RETURN) {  // close_notify: answers owed still go out
        c.eof = true;
        break;
      }
      return close(c, TcpCounter::kClosedTlsError);
    }
    if (c.without_data > kMaxTlsWithoutData) return close(c, TcpCounter::kClosedTlsNoData);
    post_send(c);
  }

  // DoT: seals answers waiting in the connection's queue into the session while its sealed output
  // is under kMaxTlsPending (the rest wait in their pool buffers, like plain TCP's).
  void seal_answers(Conn& c) {
    while (StreamQuery* s = c.wq_head) {
      if (c.closing || pending_out(c) > kMaxTlsPending) return;
      c.wq_head = s->next;
      if (c.wq_head == nullptr) c.wq_tail = nullptr;
      const int want = static_cast<int>(2 + s->len);
      const int n = wolfSSL_write(c.tls->ssl(), s->frame, want);
      give(s);
      --c.inflight;
      if (n != want) return close(c, TcpCounter::kClosedTlsError);
      count(c, TcpCounter::kAnswers);
      c.last_ns = now;
    }
  }

  // Reads and dispatches what may be dispatched now, and reads on.
  void advance(Conn& c) {
    if (c.dot) tls_input(c);
    parse(c);
    post_recv(c);
    if (c.eof && !c.closing && !owed(c)) close(c, c.finish_with.value_or(TcpCounter::kClosedByClient));
  }

  void on_recv(Conn& c, int result) {
    if (c.closing) return finalize(c);
    if (result < 0) return close(c, TcpCounter::kClosedError);
    if (c.finish_with) {  // bytes after bad input are not read
      if (!owed(c)) close(c, *c.finish_with);
      return;
    }
    if (result == 0 && c.dot) {
      c.fin = true;  // records already received are still read and answered
      return advance(c);
    }
    if (result == 0) {
      c.eof = true;  // answers still owed are written first
      if (!owed(c)) close(c, c.finish_with.value_or(TcpCounter::kClosedByClient));
      return;
    }
    if (c.dot) {
      try {
        c.tls->inbound().append({c.cbuf.data(), static_cast<std::size_t>(result)});
      } catch (...) {
        return close(c, TcpCounter::kClosedError);
      }
    } else {
      c.rlen += static_cast<std::size_t>(result);
    }
    advance(c);
  }

  void on_send(Conn& c, int result) {
    if (c.closing) return finalize(c);
    if (result <= 0) return close(c, TcpCounter::kClosedError);
    if (c.dot) {
      c.wsent += static_cast<std::size_t>(result);
      // The write timeout runs from the last progress, not from the first byte queued.
      c.write_since = 0;
      seal_answers(c);
      post_send(c);
      return advance(c);
    }
    StreamQuery* s = c.wq_head;
    s->sent += static_cast<std::uint32_t>(result);
    c.write_since = now;  // progress: the write timeout runs from here
    if (s->sent < 2 + s->len) return post_send(c);
    c.wq_head = s->next;
    if (c.wq_head == nullptr) c.wq_tail = nullptr;
    give(s);
    count(c, TcpCounter::kAnswers);
    --c.inflight;
    c.last_ns = now;
    c.write_since = c.wq_head ? now : 0;
    post_send(c);
    advance(c);
  }

  void on_answer(StreamQuery* s) {
    Conn* c = s->conn < conns.size() ? &conns[s->conn] : nullptr;
    if (c == nullptr || !c->live || c->closing || c->gen != s->conn_gen) {
      count(c != nullptr && c->dot, TcpCounter::kAnswersDropped);
      give(s);
      return;
    }
    if (s->len == 0) {  // the lcore found nothing to answer (a response, a runt)
      give(s);
      --c->inflight;
      close(*c, TcpCounter::kClosedBadMessage);
      return;
    }
    if (s->keepalive) add_keepalive(*c, s);
    s->next = nullptr;
    if (c->wq_tail) c->wq_tail->next = s;
    else c->wq_head = s;
    c->wq_tail = s;
    if (c->dot) {
      // Sealed into the session's output while that is under kMaxTlsPending; the query's buffer
      // then goes back to the pool.
      seal_answers(*c);
      post_send(*c);
      return advance(*c);
    }
    post_send(*c);
  }

  // RFC 7828 §3.3.2: to a client that asked, the idle timeout in units of 100 ms.
  void add_keepalive(const Conn& c, StreamQuery* s) {
    dns::OptRecord o;
    std::span<const std::uint8_t> msg{s->message(), s->len};
    if (!dns::find_opt(msg, o) || !o.found || !o.last || s->len + 6 > StreamQuery::kMaxMessage) return;
    std::uint8_t* p = s->message() + s->len;
    dns::store_be16(p, dns::kOptionKeepalive);
    dns::store_be16(p + 2, 2);
    dns::store_be16(p + 4, static_cast<std::uint16_t>(std::min<std::int64_t>(opt.idle_timeout.count() / 100, 65535)));
    std::uint8_t* rdlen = s->message() + o.start + 9;
    dns::store_be16(rdlen, static_cast<std::uint16_t>(dns::load_be16(rdlen) + 6));
    s->len += 6;
    dns::store_be16(s->frame, static_cast<std::uint16_t>(s->len));
    count(c, TcpCounter::kKeepalive);
  }

  void on_accept(Listener& l, int result) {
    if (stopping.load(std::memory_order_relaxed)) {
      if (result >= 0) ::close(result);
      return;
    }
    if (result >= 0) accept_fd(result, l.peer, l.dot);
    l.peer_len = sizeof l.peer;
    // EMFILE and the like: the next sweep re-arms it (no busy loop on a full fd table).
    if (result >= 0 || result == -EAGAIN || result == -EINTR || result == -ECONNABORTED)
      reactor->accept(l.fd, reinterpret_cast<sockaddr*>(&l.peer), &l.peer_len, &l);
  }

  void accept_fd(int fd, const sockaddr_storage& peer, bool dot) {
    count(dot, TcpCounter::kAccepted);
    std::uint8_t client[16] = {};
    bool v6 = peer.ss_family == AF_INET6;
    if (v6) {
      std::memcpy(client, &reinterpret_cast<const sockaddr_in6&>(peer).sin6_addr, 16);
    } else {
      std::memcpy(client, &reinterpret_cast<const sockaddr_in&>(peer).sin_addr, 4);
    }
    if (open_total >= opt.max_connections || free_slots.empty()) {
      count(dot, TcpCounter::kRefusedLimit);
      ::close(fd);
      return;
    }
    std::string key(reinterpret_cast<const char*>(client), v6 ? 16 : 4);
    if (auto it = per_client.find(key); it != per_client.end() && it->second >= opt.max_connections_per_client) {
      count(dot, TcpCounter::kRefusedClientLimit);
      ::close(fd);
      return;
    }
    std::unique_ptr<tls::MemoryTls> session;
    if (dot) {
      try {
        session = std::make_unique<tls::MemoryTls>(server->get());
      } catch (...) {
        count(dot, TcpCounter::kClosedError);
        ::close(fd);
        return;
      }
      if (!tls::prepare_server_session(session->ssl())) {
        count(dot, TcpCounter::kClosedError);
        ::close(fd);
        return;
      }
    }
    ++per_client[key];
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const std::uint32_t slot = free_slots.back();
    free_slots.pop_back();
    Conn& c = conns[slot];
    ++c.gen;
    c.live = true;
    c.closing = c.eof = c.blocked = false;
    c.first = true;
    c.finish_with.reset();
    c.fd = fd;
    c.ipv6 = v6;
    std::memcpy(c.client, client, 16);
    c.client_key = std::move(key);
    c.roff = c.rlen = 0;
    if (c.rbuf.size() != 4096) {
      c.rbuf.resize(4096);
      c.rbuf.shrink_to_fit();
    }
    c.inflight = 0;
    c.wq_head = c.wq_tail = nullptr;
    c.last_ns = c.accepted_ns = now;
    c.write_since = 0;
    c.dot = dot;
    c.handshaken = c.fin = false;
    c.without_data = 0;
    c.tls = std::move(session);
    if (dot) c.cbuf.resize(kTlsReadChunk);
    c.wire.clear();
    c.wsent = 0;
    auto& a = active[dot ? 1 : 0];
    a.store(a.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    ++open_total;
    post_recv(c);
  }

  void sweep() {
    const auto idle = static_cast<std::uint64_t>(std::chrono::nanoseconds(opt.idle_timeout).count());
    const auto write = static_cast<std::uint64_t>(std::chrono::nanoseconds(opt.write_timeout).count());
    const auto handshake = static_cast<std::uint64_t>(std::chrono::nanoseconds(opt.dot.handshake_timeout).count());
    for (Conn& c : conns) {
      if (!c.live || c.closing) continue;
      if (c.write_since != 0 && now - c.write_since > write) close(c, TcpCounter::kClosedSlowReader);
      else if (c.dot && !c.handshaken && now - c.accepted_ns > handshake) close(c, TcpCounter::kClosedHandshakeTimeout);
      else if (!owed(c) && now - c.last_ns > idle) close(c, TcpCounter::kClosedIdle);
    }
    for (Listener& l : listeners)
      if (!l.busy && !stopping.load(std::memory_order_relaxed)) {
        l.peer_len = sizeof l.peer;
        reactor->accept(l.fd, reinterpret_cast<sockaddr*>(&l.peer), &l.peer_len, &l);
      }
  }

  unsigned drain_answers() {
    unsigned total = 0;
    for (StreamChannel& ch : *channels) {
      void* got[64];
      unsigned n;
      while ((n = rte_ring_sc_dequeue_burst(ch.to_service, got, 64, nullptr)) > 0) {
        for (unsigned i = 0; i < n; ++i) on_answer(static_cast<StreamQuery*>(got[i]));
        total += n;
      }
    }
    return total;
  }

  void resume_blocked() {
    while (!blocked.empty() && free_list != nullptr) {
      Conn& c = conns[blocked.back()];
      blocked.pop_back();
      c.blocked = false;
      if (!c.live || c.closing) continue;
      advance(c);
    }
  }

  [[nodiscard]] bool answers_waiting() const {
    for (const StreamChannel& ch : *channels)
      if (rte_ring_count(ch.to_service) != 0) return true;
    return false;
  }

  Status listen_on(int family, std::uint16_t port, bool dot) {
    const int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail("TCP listener: ", std::strerror(errno));
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_storage ss{};
    socklen_t len;
    if (family == AF_INET6) {
      ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
      auto& a = reinterpret_cast<sockaddr_in6&>(ss);
      a.sin6_family = AF_INET6;
      a.sin6_port = htons(port);
      a.sin6_addr = in6addr_any;
      len = sizeof a;
    } else {
      auto& a = reinterpret_cast<sockaddr_in&>(ss);
      a.sin_family = AF_INET;
      a.sin_port = htons(port);
      a.sin_addr.s_addr = htonl(INADDR_ANY);
      len = sizeof a;
    }
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd, 1024) != 0) {
      const int e = errno;
      ::close(fd);
      return fail("TCP listener on port ", std::to_string(port), ": ", std::strerror(e));
    }
    Listener& l = listeners.emplace_back();
    l.impl = this;
    l.fd = fd;
    l.dot = dot;
    l.on_complete = [](tls::IoRequest* r, int res) {
      auto* self = static_cast<Listener*>(r);
      self->impl->on_accept(*self, res);
    };
    return ok_status();
  }

  // In the service thread: its own network namespace, the tap moved there and configured.
  Status set_up_namespace(const std::string& interface, const LocalAddresses& local) {
    auto outside = RouteSocket::open();
    if (!outside) return Error{outside.error()};
    const int ifindex = static_cast<int>(if_nametoindex(interface.c_str()));
    if (ifindex == 0) return fail("exception interface ", interface, ": ", std::strerror(errno));
    if (::unshare(CLONE_NEWNET) != 0) return fail("a network namespace for the TCP service: ", std::strerror(errno));
    const int ns = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (ns < 0) return fail("the TCP service's namespace: ", std::strerror(errno));
    Status moved = outside->move_to_netns(ifindex, ns);
    ::close(ns);
    if (!moved) return moved;
    auto inside = RouteSocket::open();
    if (!inside) return Error{inside.error()};
    if (const int lo = static_cast<int>(if_nametoindex("lo")); lo != 0)
      if (Status s = inside->set_up(lo); !s) return s;
    const int tap = static_cast<int>(if_nametoindex(interface.c_str()));
    if (tap == 0) return fail("exception interface ", interface, " not found in its namespace");
    if (Status s = inside->set_up_noarp(tap, local.mac); !s) return s;
    for (const auto& a : local.ipv4)
      if (Status s = inside->add_address(tap, a, 32); !s) return s;
    for (const auto& a : local.ipv6)
      if (Status s = inside->add_address(tap, a, 128); !s) return s;
    if (!local.ipv4.empty())
      if (Status s = inside->add_default_route(tap, false); !s) return s;
    if (!local.ipv6.empty())
      if (Status s = inside->add_default_route(tap, true); !s) return s;
    for (const bool dot : {false, true}) {
      if (dot ? !server.has_value() : !opt.enabled) continue;
      const std::uint16_t port = dot ? kDotPort : kDnsPort;
      if (!local.ipv4.empty())
        if (Status s = listen_on(AF_INET, port, dot); !s) return s;
      if (!local.ipv6.empty())
        if (Status s = listen_on(AF_INET6, port, dot); !s) return s;
    }
    return ok_status();
  }

  void run(const std::string& interface, const LocalAddresses& local, std::promise<Status>& ready) {  // NOLINT
    try {
      reactor = std::make_unique<tls::UringReactor>(1024);
    } catch (const std::exception& e) {
      ready.set_value(fail("TCP service: ", e.what()));
      return;
    }
    if (Status s = set_up_namespace(interface, local); !s) {
      for (Listener& l : listeners) ::close(l.fd);
      listeners.clear();
      ready.set_value(s);
      return;
    }
    wake.impl = this;
    wake.on_complete = [](tls::IoRequest* r, int) {
      auto* w = static_cast<Wake*>(r);
      if (!w->impl->stopping.load(std::memory_order_relaxed))
        w->impl->reactor->read(w->impl->wake_fd, &w->value, sizeof w->value, w);
    };
    reactor->read(wake_fd, &wake.value, sizeof wake.value, &wake);
    now = now_ns();
    sweep();  // arms the listeners
    ready.set_value(ok_status());
    std::uint64_t next_sweep = now + 100'000'000;
    while (!stopping.load(std::memory_order_relaxed)) {
      now = now_ns();
      drain_answers();
      resume_blocked();
      if (now >= next_sweep) {
        sweep();
        next_sweep = now + 100'000'000;
      }
      // Dekker with the lcores (stream_query.h): say we sleep, then look once more.
      sleeping.store(true);
      if (answers_waiting()) {
        sleeping.store(false);
        reactor->poll();
        continue;
      }
      reactor->poll(std::chrono::milliseconds(100));
      sleeping.store(false);
    }
    shut_down();
  }

  void shut_down() {
    for (Conn& c : conns)
      if (c.live) close(c, TcpCounter::kClosedByClient);
    for (Listener& l : listeners) {
      ::shutdown(l.fd, SHUT_RDWR);
      reactor->cancel(&l);
    }
    reactor->cancel(&wake);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (reactor->in_flight() > 0 && std::chrono::steady_clock::now() < deadline)
      reactor->poll(std::chrono::milliseconds(10));
    for (Listener& l : listeners) ::close(l.fd);
  }
};

TcpService::TcpService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<TcpService>> TcpService::create(const TcpOptions& options, unsigned lcores) {
  auto impl = std::make_unique<Impl>();
  impl->opt = options;
  // The buffers are not touched until used: memory follows the load, not the pool's size.
  impl->pool.reset(new StreamQuery[options.inflight]);
  for (std::size_t i = options.inflight; i > 0; --i) impl->give(&impl->pool[i - 1]);
  impl->conns.resize(options.max_connections);
  for (std::size_t i = options.max_connections; i > 0; --i) {
    Impl::Conn& c = impl->conns[i - 1];
    c.rreq.impl = c.sreq.impl = impl.get();
    c.rreq.slot = c.sreq.slot = static_cast<std::uint32_t>(i - 1);
    c.rreq.on_complete = [](tls::IoRequest* r, int res) {
      auto* q = static_cast<Impl::Req*>(r);
      q->impl->on_recv(q->impl->conns[q->slot], res);
    };
    c.sreq.on_complete = [](tls::IoRequest* r, int res) {
      auto* q = static_cast<Impl::Req*>(r);
      q->impl->on_send(q->impl->conns[q->slot], res);
    };
    impl->free_slots.push_back(static_cast<std::uint32_t>(i - 1));
  }
  impl->listeners.reserve(4);
  if (options.dot.enabled()) {
    tls::ServerPolicy policy{options.dot.certificate, options.dot.key, options.dot.min_version, options.dot.ticket_rotation};
    auto server = tls::make_server_context(policy);
    if (!server) return fail("DoT: ", server.error());
    impl->server.emplace(std::move(*server));
  }
  impl->wake_fd = ::eventfd(0, EFD_CLOEXEC);
  if (impl->wake_fd < 0) return fail("TCP service eventfd: ", std::strerror(errno));
  std::unique_ptr<TcpService> svc(new TcpService(std::move(impl)));
  svc->channels_.resize(lcores);
  const unsigned size = std::bit_ceil(static_cast<unsigned>(options.inflight) + 1);
  for (unsigned i = 0; i < lcores; ++i) {
    StreamChannel& ch = svc->channels_[i];
    const std::string in = "dotpin_tcp_q" + std::to_string(i), out = "dotpin_tcp_a" + std::to_string(i);
    ch.to_lcore = rte_ring_create(in.c_str(), size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    ch.to_service = rte_ring_create(out.c_str(), size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (ch.to_lcore == nullptr || ch.to_service == nullptr)
      return fail("TCP service rings: ", rte_strerror(rte_errno));
    ch.service_sleeping = &svc->impl_->sleeping;
    ch.wake_fd = svc->impl_->wake_fd;
  }
  svc->impl_->channels = &svc->channels_;
  return svc;
}

TcpService::~TcpService() {
  stop();
  for (StreamChannel& ch : channels_) {
    rte_ring_free(ch.to_lcore);
    rte_ring_free(ch.to_service);
  }
  if (impl_->wake_fd >= 0) ::close(impl_->wake_fd);
}

Status TcpService::start(const std::string& interface, const LocalAddresses& local) {
  // Shared: the thread may still be inside set_value() when this frame returns.
  auto ready = std::make_shared<std::promise<Status>>();
  auto result = ready->get_future();
  thread_ = std::thread([this, interface, local, ready] { impl_->run(interface, local, *ready); });
  Status s = result.get();
  if (!s) thread_.join();  // it ended after saying why
  return s;
}

void TcpService::stop() {
  if (!thread_.joinable()) return;
  impl_->stopping.store(true);
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto rc = ::write(impl_->wake_fd, &one, sizeof one);
  thread_.join();
}

TcpStats TcpService::stats(bool dot) const {
  TcpStats s;
  const std::size_t t = dot ? 1 : 0;
  s.enabled = dot ? impl_->server.has_value() : impl_->opt.enabled;
  s.active = impl_->active[t].load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < s.counters.size(); ++i) s.counters[i] = impl_->counters[t][i].load(std::memory_order_relaxed);
  return s;
}

}  // namespace dotpin::dataplane
