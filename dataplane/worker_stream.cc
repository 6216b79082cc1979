// SPDX-License-Identifier: Apache-2.0
/// @file worker_stream.cc
/// @brief The worker's side of everything UDP's fast path does not serve: TCP segments to our DNS
/// ports go to the kernel's tap (the exception path) and the kernel's segments come back out to
/// clients; the TCP service's queries are answered from the same cache and shard as UDP.
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstring>

#include "common/wire_cursor.h"
#include "dataplane/dns_reply.h"
#include "dataplane/worker.h"

namespace dotpin::dataplane {

namespace {
constexpr std::uint16_t kEtherIpv4 = 0x0800, kEtherIpv6 = 0x86DD, kEtherVlan = 0x8100;
constexpr std::uint8_t kProtoTcp = 6;
}  // namespace

void Worker::to_kernel(rte_mbuf* m, const PacketView& v) {
  auto* data = rte_pktmbuf_mtod(m, std::uint8_t*);
  const std::uint8_t* src = data + v.l3 + (v.ipv6 ? 8 : 12);
  const std::uint16_t tci = v.l3 == 18 ? static_cast<std::uint16_t>(dns::load_be16(data + 14) & 0x0fff) : 0;
  const std::uint8_t flags = v.payload_len > 13 ? data[v.l4 + 13] : 0;
  const bool opening = (flags & 0x12) == 0x02;  // SYN without ACK
  setup_.neighbors->learn(src, v.ipv6, data + 6, tci, opening);
  if (v.l3 == 18) {  // the kernel's side has no VLAN: the tag is put back on the way out
    std::memmove(data + 4, data, 12);
    rte_pktmbuf_adj(m, 4);
    data = rte_pktmbuf_mtod(m, std::uint8_t*);
  }
  std::memcpy(data, setup_.local->mac.data(), 6);  // the kernel's side has the port's MAC
  kernel_tx_[kernel_tx_count_++] = m;
  if (kernel_tx_count_ == kBurst) flush_kernel();
}

void Worker::flush_kernel() {
  if (kernel_tx_count_ == 0) return;
  worked_ = true;
  const std::uint16_t sent = rte_eth_tx_burst(static_cast<std::uint16_t>(setup_.exception_port), setup_.queue,
                                              kernel_tx_, static_cast<std::uint16_t>(kernel_tx_count_));
  counters_[Counter::kToKernel].add(sent);
  if (sent < kernel_tx_count_) {
    counters_[Counter::kToKernelDropped].add(kernel_tx_count_ - sent);
    rte_pktmbuf_free_bulk(kernel_tx_ + sent, kernel_tx_count_ - sent);
  }
  kernel_tx_count_ = 0;
}

unsigned Worker::poll_kernel() {
  rte_mbuf* pkts[kBurst];
  const std::uint16_t n = rte_eth_rx_burst(static_cast<std::uint16_t>(setup_.exception_port), setup_.queue, pkts, kBurst);
  for (std::uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    auto* data = rte_pktmbuf_mtod(m, std::uint8_t*);
    const std::size_t len = m->data_len;
    // Only TCP from one of our addresses and DNS ports leaves: the kernel's own chatter (router
    // solicitations, MLD, resets for other ports) never reaches the client network.
    bool ok = m->nb_segs == 1 && len >= 14;
    bool ipv6 = false;
    std::size_t l4 = 0;
    const std::uint8_t* dst = nullptr;
    if (ok) {
      const std::uint16_t type = dns::load_be16(data + 12);
      if (type == kEtherIpv4 && len >= 14 + 20 + 4) {
        const std::uint8_t* ip = data + 14;
        ok = ip[9] == kProtoTcp && setup_.local->has_ipv4(ip + 12);
        l4 = 14 + static_cast<std::size_t>(ip[0] & 0x0f) * 4;
        dst = ip + 16;
      } else if (type == kEtherIpv6 && len >= 14 + 40 + 4) {
        const std::uint8_t* ip = data + 14;
        ok = ip[6] == kProtoTcp && setup_.local->has_ipv6(ip + 8);
        l4 = 14 + 40;
        dst = ip + 24;
        ipv6 = true;
      } else {
        ok = false;
      }
    }
    if (ok) {
      const std::uint16_t sport = l4 + 2 <= len ? dns::load_be16(data + l4) : 0;
      ok = sport != 0 && (sport == setup_.local->tcp_ports[0] || sport == setup_.local->tcp_ports[1]);
    }
    if (!ok) {
      counters_[Counter::kKernelOther].add();
      rte_pktmbuf_free(m);
      continue;
    }
    ClientNeighbors::Hop hop;
    if (!setup_.neighbors->find(dst, ipv6, hop)) {
      counters_[Counter::kKernelNoHop].add();
      rte_pktmbuf_free(m);
      continue;
    }
    if (hop.vlan != 0) {
      auto* tagged = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_prepend(m, 4));
      if (tagged == nullptr) {
        counters_[Counter::kKernelNoHop].add();
        rte_pktmbuf_free(m);
        continue;
      }
      std::memmove(tagged, tagged + 4, 12);
      dns::store_be16(tagged + 12, kEtherVlan);
      dns::store_be16(tagged + 14, hop.vlan);
      data = tagged;
    }
    std::memcpy(data, hop.mac, 6);
    std::memcpy(data + 6, setup_.local->mac.data(), 6);
    counters_[Counter::kFromKernel].add();
    tx(m);
  }
  return n;
}

void Worker::poll_streams(Clock::time_point now) {
  void* got[kBurst];
  const unsigned n = rte_ring_sc_dequeue_burst(setup_.streams->to_lcore, got, kBurst, nullptr);
  if (n > 0) worked_ = true;
  for (unsigned i = 0; i < n; ++i) handle_stream(static_cast<StreamQuery*>(got[i]), now);
}

void Worker::finish_stream(StreamQuery* s, std::uint32_t len) {
  s->len = len;
  dns::store_be16(s->frame, static_cast<std::uint16_t>(len));
  // The ring holds the whole pool: it cannot be full.
  rte_ring_sp_enqueue(setup_.streams->to_service, s);
  streams_answered_ = true;
}

void Worker::handle_stream(StreamQuery* s, Clock::time_point now) {
  std::uint8_t* dns = s->message();
  constexpr std::size_t room = StreamQuery::kMaxMessage;
  QueryInfo q;
  CacheKey key;
  const QueryVerdict verdict = parse_query({dns, s->len}, q, key);
  q.stream = true;
  if (verdict == QueryVerdict::kDropShort || verdict == QueryVerdict::kDropResponse) {
    counters_[verdict_counter(verdict)].add();
    finish_stream(s, 0);  // nothing to answer: the service closes the connection
    return;
  }
  // The view and its ACL exactly as for UDP, by address alone (the kernel's side does not tag: a
  // config with views by VLAN has no TCP); a TCP client's address is not spoofed, so REFUSED is
  // safe to send.
  const std::uint16_t vi = one_view_ ? 0 : setup_.view_map->match(ViewMap::kAnyVlan, s->client, s->ipv6);
  if (vi == ViewMap::kNoView || !(s->ipv6 ? views_[vi]->acl->allows_ipv6(s->client) : views_[vi]->acl->allows_ipv4(s->client))) {
    counters_[vi == ViewMap::kNoView ? Counter::kViewUnmatchedRefused : Counter::kTcpRefused].add();
    if (vi != ViewMap::kNoView) (*views_[vi])[ViewCounter::kAclRefused].add();
    const dns::Ede ede{dns::EdeCode::kProhibited, {}};
    finish_stream(s, write_error_reply(dns, room, q, kRcodeRefused, setup_.max_udp, &ede));
    return;
  }
  ViewState& vs = *views_[vi];
  if (verdict != QueryVerdict::kOk) {
    counters_[verdict_counter(verdict)].add();
    finish_stream(s, write_error_reply(dns, room, q, rcode_for(verdict), setup_.max_udp));
    return;
  }
  counters_[Counter::kQueries].add();
  counters_[Counter::kTcpQueries].add();
  vs[ViewCounter::kQueries].add();
  AnswerCache::Hit hit;
  if (vs.cache.lookup(key, now_s_, hit)) {
    counters_[Counter::kCacheHits].add();
    vs[ViewCounter::kCacheHits].add();
    finish_stream(s, write_answer(dns, room, hit.answer, hit.age, q, dns + 12, setup_.max_udp));
    return;
  }
  counters_[Counter::kCacheMisses].add();
  vs[ViewCounter::kCacheMisses].add();
  std::uint64_t cookie = 0;
  dns::Ede ede{dns::EdeCode::kOther, "dotpin: too many queries in flight"};
  if (inflight_.acquire(cookie, vi)) {
    InflightEntry& e = *inflight_.find(cookie);
    e.stream = s;
    e.q = q;
    e.key.hash = key.hash;
    e.key.len = key.len;
    std::memcpy(e.key.bytes, key.bytes, key.len);
    if (forward_or_join(cookie, {dns, s->len}, now)) return;
    ede.text = "dotpin: upstream queue full";
  } else {
    counters_[Counter::kInflightFull].add();
  }
  finish_stream(s, write_error_reply(dns, room, q, kRcodeServFail, setup_.max_udp, &ede));
}

void Worker::deliver_stream(InflightEntry& e, bool answer, const dns::Ede& ede, Counter servfail,
                            const StoredAnswer* stale) {
  StreamQuery* s = e.stream;
  std::uint8_t* dns = s->message();
  constexpr std::size_t room = StreamQuery::kMaxMessage;
  std::uint16_t len = write_delivery(dns, room, e.q, dns + 12, answer, stale, e.vi);
  if (len == 0) {
    len = write_error_reply(dns, room, e.q, kRcodeServFail, setup_.max_udp, &ede);
    counters_[servfail].add();
    if (servfail == Counter::kUpstreamServfails) (*views_[e.vi])[ViewCounter::kUpstreamServfails].add();
  }
  finish_stream(s, len);
}

}  // namespace dotpin::dataplane
