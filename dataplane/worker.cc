// SPDX-License-Identifier: Apache-2.0
#include "dataplane/worker.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include <unistd.h>

#include <bit>
#include <cstring>

#include "common/time_util.h"
#include "dataplane/pass_clock.h"
#include "dataplane/dns_reply.h"

namespace dotpin::dataplane {

namespace {
// Bytes from a position in the mbuf's data to the end of its buffer: what a reply may use.
inline std::size_t room_from(const rte_mbuf* m, std::size_t offset) noexcept {
  const std::size_t room = static_cast<std::size_t>(m->buf_len) - m->data_off;
  return room > offset ? room - offset : 0;
}
}  // namespace

struct Worker::Pending {
  PacketView view;
  QueryInfo q;
  CacheKey key;
  bool lookup = false;
  std::uint16_t vi = 0;  // the client's view
};

Worker::Worker(WorkerSetup setup)
    : setup_(std::move(setup)),
      inflight_(setup_.inflight),
      start_(Clock::now()),
      limiter_(setup_.ratelimit),
      pending_(std::make_unique<Pending[]>(kBurst)) {
  leaders_.assign(std::bit_ceil(std::max<std::size_t>(2 * setup_.inflight, 2)), 0);
  // Answers from upstream are prepared here at any size without allocating: a DNS message over
  // TCP is at most 65535 bytes, with at most one record per 11 of them.
  prepared_.message.reserve(65535);
  prepared_.ttl_offsets.reserve(65535 / 11 + 1);
  leader_mask_ = leaders_.size() - 1;
  if (setup_.views.empty()) throw std::invalid_argument("a worker needs at least one view");
  if (setup_.views.size() > ViewMap::kMaxViews) throw std::invalid_argument("too many views");
  one_view_ = setup_.views.size() == 1 && (setup_.view_map == nullptr || setup_.view_map->trivial());
  if (!one_view_ && setup_.view_map == nullptr) throw std::invalid_argument("views without a view map");
  // One shard per view, all on this lcore's one io_uring: a view's pool, pins, tickets and
  // connections are its own, so a change of one view's pins never touches another's.
  for (const WorkerView& v : setup_.views) {
    auto state = std::make_unique<ViewState>(v);
    // A view's shard never holds more than its share of the in-flight table: its buffers are
    // sized for that (most of a view's fixed memory on an lcore).
    // Twice the share: a query that timed out keeps its slot until its answer or its connection
    // goes, so the slots of a slow upstream's abandoned queries do not eat the live share.
    tls::ShardOptions options = setup_.shard;
    options.policy = v.policy;
    options.max_pending = std::min<std::size_t>(options.max_pending, 2 * std::size_t{v.inflight});
    state->shard = std::make_unique<tls::DotShard>(
        reactor_, v.upstreams, v.pin_generation, options,
        [this](std::uint64_t cookie, tls::DotShard::Outcome outcome, std::span<const std::uint8_t> response,
               const dns::Ede& ede) { on_complete(cookie, outcome, response, ede); });
    views_.push_back(std::move(state));
  }
  if (!one_view_) {
    std::vector<std::uint32_t> caps;
    for (const WorkerView& v : setup_.views) caps.push_back(v.inflight);
    inflight_.set_view_caps(std::move(caps));
  }
}

Worker::~Worker() {
  flush();
  views_.clear();
}

std::uint16_t Worker::view_of(const std::uint8_t* frame, const PacketView& v, const std::uint8_t* client) const noexcept {
  // 802.1Q: the VLAN ID of a tagged frame (classify() took one tag at most); 0: untagged.
  const std::uint16_t vlan = v.l3 == 18 ? static_cast<std::uint16_t>((frame[14] << 8 | frame[15]) & 0x0FFF) : 0;
  return setup_.view_map->match(vlan, client, v.ipv6);
}

void Worker::refuse_unmatched(rte_mbuf* m, const PacketView& v, const QueryInfo& q, bool answerable) {
  if (setup_.acl_refuse && answerable) {
    counters_[Counter::kViewUnmatchedRefused].add();
    std::uint8_t* dns = rte_pktmbuf_mtod(m, std::uint8_t*) + v.payload;
    const dns::Ede ede{dns::EdeCode::kProhibited, {}};
    reply_checked(m, v, write_error_reply(dns, room_from(m, v.payload), q, kRcodeRefused, setup_.max_udp, &ede),
                  q.question_end, kUnmatchedView);
    return;
  }
  counters_[Counter::kViewUnmatchedDropped].add();
  rte_pktmbuf_free(m);
}

void Worker::set_time(Clock::time_point now) noexcept {
  now_s_ = static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(now - start_).count());
  now_ns_ = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now - start_).count());
}

void Worker::tx(rte_mbuf* m) {
  tx_[tx_count_++] = m;
  if (tx_count_ == kTxBuffer) flush();
}

void Worker::flush() {
  flush_kernel();
  if (tx_count_ == 0) return;
  worked_ = true;
  const std::uint16_t sent = rte_eth_tx_burst(setup_.port, setup_.queue, tx_, static_cast<std::uint16_t>(tx_count_));
  counters_[Counter::kTxPackets].add(sent);
  if (sent < tx_count_) {
    counters_[Counter::kTxDropped].add(tx_count_ - sent);
    rte_pktmbuf_free_bulk(tx_ + sent, tx_count_ - sent);
  }
  tx_count_ = 0;
}

void Worker::reply_in_place(rte_mbuf* m, const PacketView& v, std::uint16_t dns_len) {
  auto* data = rte_pktmbuf_mtod(m, std::uint8_t*);
  const std::uint16_t len = finish_udp_reply(data, v, dns_len, setup_.local->mac);
  m->data_len = len;
  m->pkt_len = len;
  tx(m);
}

void Worker::reply_checked(rte_mbuf* m, const PacketView& v, std::uint16_t dns_len, std::uint16_t question_end,
                           std::uint8_t rl_view) {
  if (limiter_.limits_errors()) {
    auto* data = rte_pktmbuf_mtod(m, std::uint8_t*);
    const std::uint8_t* client = data + v.l3 + (v.ipv6 ? 8 : 12);  // the query's source, not yet swapped
    if (!error_response_allowed(data + v.payload, dns_len, client, v.ipv6, question_end, rl_view)) {
      rte_pktmbuf_free(m);
      return;
    }
  }
  reply_in_place(m, v, dns_len);
}

bool Worker::error_response_allowed(std::uint8_t* dns, std::uint16_t& len, const std::uint8_t* client, bool ipv6,
                                    std::uint16_t question_end, std::uint8_t rl_view) noexcept {
  if (!limiter_.limits_errors() || len < 12 || (dns[3] & 0x0F) == 0) return true;
  switch (limiter_.error_response(client, ipv6, now_ns_, rl_view)) {
    case RateLimiter::Verdict::kPass: return true;
    case RateLimiter::Verdict::kDrop:
      counters_[Counter::kRrlDropped].add();
      return false;
    case RateLimiter::Verdict::kSlip: break;
  }
  counters_[Counter::kRrlSlipped].add();
  // Header and question only, TC=1: never larger than the query, so no amplification.
  const bool question = question_end != 0 && question_end <= len;
  dns[2] |= 0x02;
  dns[4] = 0;
  dns[5] = question ? 1 : 0;
  std::memset(dns + 6, 0, 6);
  len = question ? question_end : 12;
  return true;
}

void Worker::process_burst(rte_mbuf** pkts, unsigned n, Clock::time_point now) {
  set_time(now);
  counters_[Counter::kRxPackets].add(n);
  for (unsigned i = 0; i < n && i < kPrefetch; ++i) rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));

  // Pass 1: classify every frame, answer what needs no cache, parse the queries, prefetch buckets.
  for (unsigned i = 0; i < n; ++i) {
    if (i + kPrefetch < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + kPrefetch], void*));
    rte_mbuf* m = pkts[i];
    Pending& p = pending_[i];
    p.lookup = false;
    if (m->nb_segs != 1) {
      counters_[Counter::kMultiSegment].add();
      rte_pktmbuf_free(m);
      continue;
    }
    auto* data = rte_pktmbuf_mtod(m, std::uint8_t*);
    p.view = classify({data, m->data_len}, *setup_.local, setup_.verify_udp_checksum);
    std::uint16_t len = 0;
    switch (p.view.kind) {
      case PacketKind::kDnsQuery: break;
      case PacketKind::kArpRequest:
        len = make_arp_reply(data, p.view, setup_.local->mac);
        counters_[Counter::kArpReplies].add();
        break;
      case PacketKind::kNeighborSolicit:
        len = make_neighbor_advert(data, room_from(m, 0), p.view, setup_.local->mac);
        counters_[Counter::kNdReplies].add();
        break;
      case PacketKind::kIcmpEcho:
      case PacketKind::kIcmp6Echo:
        len = make_echo_reply(data, p.view, setup_.local->mac);
        counters_[Counter::kEchoReplies].add();
        break;
      case PacketKind::kException: {
        // TCP to our DNS ports: the kernel's (its stack, our TCP service). The ACL's "drop" holds
        // here already (for the client's view; a client in no view is dropped here too); "refuse"
        // is answered per query by the service's lcore, as for UDP.
        const std::uint8_t* src = data + p.view.l3 + (p.view.ipv6 ? 8 : 12);
        if (!setup_.acl_refuse) {
          const std::uint16_t vi = one_view_ ? 0 : view_of(data, p.view, src);
          if (vi == ViewMap::kNoView) {
            counters_[Counter::kViewUnmatchedDropped].add();
            rte_pktmbuf_free(m);
            continue;
          }
          if (!(p.view.ipv6 ? views_[vi]->acl->allows_ipv6(src) : views_[vi]->acl->allows_ipv4(src))) {
            counters_[Counter::kAclDropped].add();
            (*views_[vi])[ViewCounter::kAclDropped].add();
            rte_pktmbuf_free(m);
            continue;
          }
        }
        to_kernel(m, p.view);
        continue;
      }
      case PacketKind::kDrop:
        counters_[p.view.drop].add();
        break;
    }
    if (p.view.kind != PacketKind::kDnsQuery) {
      if (len == 0) {
        rte_pktmbuf_free(m);
      } else {
        m->data_len = len;
        m->pkt_len = len;
        tx(m);
      }
      continue;
    }

    std::uint8_t* dns = data + p.view.payload;
    const QueryVerdict verdict = parse_query({dns, p.view.payload_len}, p.q, p.key);
    const std::uint8_t* client = data + p.view.l3 + (p.view.ipv6 ? 8 : 12);
    const bool answerable = verdict != QueryVerdict::kDropShort && verdict != QueryVerdict::kDropResponse;
    // The client's view (tenant): its ACL, cache partition and pinned pool from here on.
    p.vi = one_view_ ? 0 : view_of(data, p.view, client);
    if (p.vi == ViewMap::kNoView) {
      refuse_unmatched(m, p.view, p.q, answerable);
      continue;
    }
    ViewState& vs = *views_[p.vi];
    const bool allowed = p.view.ipv6 ? vs.acl->allows_ipv6(client) : vs.acl->allows_ipv4(client);
    if (!allowed) {
      if (setup_.acl_refuse && answerable) {
        counters_[Counter::kAclRefused].add();
        vs[ViewCounter::kAclRefused].add();
        // EDE 18 without text: the reply to a (possibly spoofed) outsider stays within 6 bytes of
        // the query's size, so the appliance is no amplifier.
        const dns::Ede ede{dns::EdeCode::kProhibited, {}};
        reply_checked(m, p.view, write_error_reply(dns, room_from(m, p.view.payload), p.q, kRcodeRefused, setup_.max_udp, &ede),
                      p.q.question_end, static_cast<std::uint8_t>(p.vi));
      } else {
        counters_[Counter::kAclDropped].add();
        vs[ViewCounter::kAclDropped].add();
        rte_pktmbuf_free(m);
      }
      continue;
    }
    switch (verdict) {
      case QueryVerdict::kOk:
        // The client's rate-limit bucket is prefetched with the cache bucket; pass 3 decides.
        // (family 0: not limited, an exempt client.)
        if (limiter_.limits_queries())
          limit_[i] = limiter_.exempt(client, p.view.ipv6) || !limiter_.limits_queries_of(static_cast<std::uint8_t>(p.vi))
                          ? RateLimiter::Ref{}
                          : limiter_.locate(client, p.view.ipv6, static_cast<std::uint8_t>(p.vi));
        vs.cache.prefetch(p.key);
        p.lookup = true;
        continue;
      case QueryVerdict::kDropShort:
      case QueryVerdict::kDropResponse:
        counters_[verdict_counter(verdict)].add();
        rte_pktmbuf_free(m);
        continue;
      default: counters_[verdict_counter(verdict)].add(); break;
    }
    // Malformed or unsupported queries count against the query limit too: otherwise a flood of
    // FORMERR/NOTIMP bait would pass a client's qps untouched (rare path: no prefetch).
    if (limiter_.limits_queries() &&
        limiter_.query(client, p.view.ipv6, now_ns_, static_cast<std::uint8_t>(p.vi)) != RateLimiter::Verdict::kPass) {
      counters_[Counter::kRateLimited].add();
      vs[ViewCounter::kRateLimited].add();
      rte_pktmbuf_free(m);
      continue;
    }
    reply_checked(m, p.view, write_error_reply(dns, room_from(m, p.view.payload), p.q, rcode_for(verdict), setup_.max_udp),
                  p.q.question_end, static_cast<std::uint8_t>(p.vi));
  }

  // Pass 2: with the buckets in, prefetch each matching record (a second dependent miss in DRAM).
  for (unsigned i = 0; i < n; ++i)
    if (pending_[i].lookup) views_[pending_[i].vi]->cache.prefetch_record(pending_[i].key);

  // Pass 3: cache lookups; hits are answered in place, misses dispatched.
  for (unsigned i = 0; i < n; ++i) {
    Pending& p = pending_[i];
    if (!p.lookup) continue;
    rte_mbuf* m = pkts[i];
    if (limiter_.limits_queries() && limit_[i].family != 0) {
      // Over its prefix's rate: dropped, or every slip-th answered TC=1 (a real client retries
      // over TCP; a spoofed victim gets no more than the query's size). Not counted as queries.
      const RateLimiter::Verdict rl = limiter_.query(limit_[i], now_ns_);
      if (rl != RateLimiter::Verdict::kPass) {
        (*views_[p.vi])[ViewCounter::kRateLimited].add();
        if (rl == RateLimiter::Verdict::kDrop) {
          counters_[Counter::kRateLimited].add();
          rte_pktmbuf_free(m);
          continue;
        }
        counters_[Counter::kRateLimitSlipped].add();
        std::uint8_t* q = rte_pktmbuf_mtod(m, std::uint8_t*) + p.view.payload;
        const std::uint16_t tc = write_error_reply(q, room_from(m, p.view.payload), p.q, 0, setup_.max_udp);
        if (tc >= 12) q[2] |= 0x02;
        reply_in_place(m, p.view, tc);
        continue;
      }
    }
    ViewState& vs = *views_[p.vi];
    counters_[Counter::kQueries].add();
    vs[ViewCounter::kQueries].add();
    AnswerCache::Hit hit;
    if (!vs.cache.lookup(p.key, now_s_, hit)) {
      counters_[Counter::kCacheMisses].add();
      vs[ViewCounter::kCacheMisses].add();
      handle_miss(m, p, now);
      continue;
    }
    counters_[Counter::kCacheHits].add();
    vs[ViewCounter::kCacheHits].add();
    std::uint8_t* dns = rte_pktmbuf_mtod(m, std::uint8_t*) + p.view.payload;
    std::uint16_t len =
        write_answer(dns, room_from(m, p.view.payload), hit.answer, hit.age, p.q, dns + 12, setup_.max_udp);
    if (len == 0) {
      rte_pktmbuf_free(m);
      continue;
    }
    if (dns[2] & 0x02) counters_[Counter::kTruncated].add();
    if (limiter_.limits_errors() && (dns[3] & 0x0F) != 0 &&
        !error_response_allowed(dns, len, rte_pktmbuf_mtod(m, std::uint8_t*) + p.view.l3 + (p.view.ipv6 ? 8 : 12),
                                p.view.ipv6, p.q.question_end, static_cast<std::uint8_t>(p.vi))) {
      rte_pktmbuf_free(m);
      continue;
    }
    reply_in_place(m, p.view, len);
  }
}

Counter Worker::verdict_counter(QueryVerdict v) noexcept {
  switch (v) {
    case QueryVerdict::kDropShort: return Counter::kDropShort;
    case QueryVerdict::kDropResponse: return Counter::kDropResponse;
    case QueryVerdict::kFormErr: return Counter::kFormErr;
    case QueryVerdict::kNotImp: return Counter::kNotImp;
    case QueryVerdict::kRefused: return Counter::kRefused;
    case QueryVerdict::kBadVers: return Counter::kBadVers;
    default: return Counter::kQueries;  // kOk: not an error (callers count it themselves)
  }
}

bool Worker::forward_or_join(std::uint64_t cookie, std::span<const std::uint8_t> query, Clock::time_point now) {
  InflightEntry& e = *inflight_.find(cookie);
  // The same question of the same view already on its way upstream: wait for that answer instead
  // of asking again (another view's identical question goes to its own pool).
  std::uint64_t& slot = leaders_[(e.key.hash ^ e.vi) & leader_mask_];
  if (InflightEntry* leader = inflight_.find(slot);
      leader != nullptr && leader->vi == e.vi && leader->key.hash == e.key.hash && leader->key.len == e.key.len &&
      std::memcmp(leader->key.bytes, e.key.bytes, e.key.len) == 0) {
    e.next_waiter = leader->next_waiter;
    leader->next_waiter = cookie;
    counters_[Counter::kMerged].add();
    return true;
  }
  slot = cookie;
  if (views_[e.vi]->shard->submit(cookie, query, now)) {
    counters_[Counter::kForwarded].add();
    return true;
  }
  slot = 0;
  inflight_.release(cookie);
  counters_[Counter::kShardFull].add();
  return false;
}

void Worker::handle_miss(rte_mbuf* m, Pending& p, Clock::time_point now) {
  auto* data = rte_pktmbuf_mtod(m, std::uint8_t*);
  std::uint8_t* dns = data + p.view.payload;
  std::uint64_t cookie = 0;
  dns::Ede ede{dns::EdeCode::kOther, "dotpin: too many queries in flight"};
  if (inflight_.acquire(cookie, p.vi)) {
    // Everything needed to answer later, before submit(): the shard may complete within it.
    InflightEntry& e = *inflight_.find(cookie);
    e.view = p.view;
    e.q = p.q;
    e.key.hash = p.key.hash;  // the key's used bytes only: a miss need not copy all 272
    e.key.len = p.key.len;
    std::memcpy(e.key.bytes, p.key.bytes, p.key.len);
    std::memcpy(e.header, data, p.view.payload);
    swap_udp_addresses(e.header, e.view, setup_.local->mac);
    std::memcpy(e.qname, dns + 12, p.q.qname_len);
    if (forward_or_join(cookie, {dns, p.view.payload_len}, now)) {
      rte_pktmbuf_free(m);  // the shard keeps its own copy of the query; a waiter needs none
      return;
    }
    ede.text = "dotpin: upstream queue full";
  } else {
    counters_[Counter::kInflightFull].add();
  }
  reply_checked(m, p.view, write_error_reply(dns, room_from(m, p.view.payload), p.q, kRcodeServFail, setup_.max_udp, &ede),
                p.q.question_end, static_cast<std::uint8_t>(p.vi));
}

void Worker::on_complete(std::uint64_t cookie, tls::DotShard::Outcome outcome, std::span<const std::uint8_t> response,
                         const dns::Ede& shard_ede) {
  worked_ = true;
  InflightEntry* e = inflight_.find(cookie);
  if (e == nullptr) return;
  std::uint64_t& slot = leaders_[(e->key.hash ^ e->vi) & leader_mask_];
  if (slot == cookie) slot = 0;
  ViewState& vs = *views_[e->vi];
  bool answer = false;
  // A SERVFAIL carries the shard's reason; an answer that cannot be read or written, this one.
  dns::Ede ede{dns::EdeCode::kNetworkError, "dotpin: unreadable answer from upstream"};
  if (outcome == tls::DotShard::Outcome::kAnswer) {
    answer = prepare_answer(response, setup_.limits, prepared_);
    if (answer && prepared_.ttl > 0 && vs.cache.insert(e->key, prepared_, now_s_)) counters_[Counter::kCacheInserts].add();
  } else {
    ede = shard_ede;
  }
  // No pinned upstream answered: an entry that expired less than stale_max ago answers instead
  // (RFC 8767), marked with EDE 3 — pinning's hard fail degrades to what pinned upstreams said
  // before, never to an unpinned path.
  AnswerCache::Hit stale;
  const bool serve_stale = outcome == tls::DotShard::Outcome::kServfail && setup_.limits.stale_max > 0 &&
                           vs.cache.lookup_stale(e->key, now_s_, setup_.limits.stale_max, stale);
  // A SERVFAIL for an answer that came but cannot be given to a client is counted once per client,
  // as a bad answer; upstream_servfails counts the queries no pinned upstream answered.
  const Counter servfail =
      outcome == tls::DotShard::Outcome::kAnswer ? Counter::kUpstreamBadAnswer : Counter::kUpstreamServfails;
  // The query that went upstream, then every client that joined it.
  while (cookie != 0) {
    const std::uint64_t next = inflight_.find(cookie)->next_waiter;
    deliver(cookie, answer, ede, servfail, serve_stale ? &stale.answer : nullptr);
    cookie = next;
  }
}

std::uint16_t Worker::write_delivery(std::uint8_t* dns, std::size_t room, const QueryInfo& q, const std::uint8_t* qname,
                                     bool answer, const StoredAnswer* stale, std::uint16_t vi) noexcept {
  std::uint16_t len = 0;
  if (answer) {
    len = write_answer(dns, room, {prepared_.message, prepared_.ttl_offsets}, 0, q, qname, setup_.max_udp);
    if (len != 0) {
      counters_[Counter::kUpstreamAnswers].add();
      (*views_[vi])[ViewCounter::kUpstreamAnswers].add();
    }
  }
  if (len == 0 && stale) {
    static constexpr dns::Ede kStale{dns::EdeCode::kStaleAnswer, "dotpin: no pinned upstream answered; served stale"};
    len = write_stale_answer(dns, room, *stale, q, qname, setup_.max_udp, kStale);
    if (len != 0) {
      counters_[Counter::kStaleAnswers].add();
      (*views_[vi])[ViewCounter::kStaleAnswers].add();
    }
  }
  if (len != 0 && (dns[2] & 0x02)) counters_[Counter::kTruncated].add();
  return len;
}

void Worker::deliver(std::uint64_t cookie, bool answer, const dns::Ede& ede, Counter servfail, const StoredAnswer* stale) {
  InflightEntry& e = *inflight_.find(cookie);
  if (e.stream != nullptr) {
    deliver_stream(e, answer, ede, servfail, stale);
    inflight_.release(cookie);
    return;
  }
  rte_mbuf* m = rte_pktmbuf_alloc(setup_.pool);
  if (m == nullptr) {
    counters_[Counter::kNoMbuf].add();
    inflight_.release(cookie);
    return;
  }
  auto* data = rte_pktmbuf_mtod(m, std::uint8_t*);
  std::memcpy(data, e.header, e.view.payload);
  std::uint8_t* dns = data + e.view.payload;
  const std::size_t room = room_from(m, e.view.payload);
  std::uint16_t len = write_delivery(dns, room, e.q, e.qname, answer, stale, e.vi);
  if (len == 0 && write_question(dns, room, e.q, e.qname)) {
    QueryInfo q = e.q;
    q.question_end = static_cast<std::uint16_t>(12 + q.qname_len + 4);
    len = write_error_reply(dns, room, q, kRcodeServFail, setup_.max_udp, &ede);
    counters_[servfail].add();
    if (servfail == Counter::kUpstreamServfails) (*views_[e.vi])[ViewCounter::kUpstreamServfails].add();
  }
  const PacketView view = e.view;
  const auto question_end = static_cast<std::uint16_t>(12 + e.q.qname_len + 4);  // as write_question writes it
  const auto rl_view = static_cast<std::uint8_t>(e.vi);
  inflight_.release(cookie);
  // The header was swapped when the query went upstream: the client is the destination now.
  if (len != 0 &&
      !error_response_allowed(dns, len, data + view.l3 + (view.ipv6 ? 24 : 16), view.ipv6, question_end, rl_view))
    len = 0;
  if (len == 0) {
    rte_pktmbuf_free(m);
    return;
  }
  const std::uint16_t frame = finish_udp_template(data, view, len);
  m->data_len = frame;
  m->pkt_len = frame;
  tx(m);
}

void Worker::poll_and_flush(Clock::time_point now) {
  // I/O completions (handshakes, records read and written) are work even when no answer comes of
  // them in this pass (LoopCycles).
  if (views_.size() == 1) {
    if (views_[0]->shard->poll(now) > 0) worked_ = true;
  } else {
    // One reactor for every view's shard: its completions once, then each shard's own work.
    for (auto& v : views_) v->shard->begin_pass(now);
    if (reactor_.poll() > 0) worked_ = true;
    for (auto& v : views_) v->shard->service(now);
  }
  flush();
  if (streams_answered_) {
    streams_answered_ = false;
    // The service said it sleeps: one eventfd write wakes it (never while it is busy).
    if (setup_.streams->service_sleeping->exchange(false)) {
      const std::uint64_t one = 1;
      [[maybe_unused]] const auto rc = ::write(setup_.streams->wake_fd, &one, sizeof one);
    }
  }
}

unsigned Worker::run_once(Clock::time_point now) {
  mailbox_.run_posted([this](const LcoreCommand& c) { return execute(c); });
  check_pins(now);
  rte_mbuf* pkts[kBurst];
  const std::uint16_t n = rte_eth_rx_burst(setup_.port, setup_.queue, pkts, kBurst);
  if (n > 0) process_burst(pkts, n, now);
  else set_time(now);
  // The tap's rx_burst is a read() system call even when empty: the kernel side is polled every
  // kKernelPoll, not every pass (at most that much latency on a TCP segment; UDP pays nothing).
  if (setup_.exception_port >= 0 && now >= next_kernel_poll_)
    next_kernel_poll_ = poll_kernel() == kBurst ? now : now + kKernelPoll;
  if (setup_.streams != nullptr) poll_streams(now);
  poll_and_flush(now);
  if (now >= next_publish_) {
    publish();
    next_publish_ = now + kPublishInterval;
  }
  return n;
}

bool Worker::run(const std::atomic<bool>& stop, std::chrono::milliseconds drain) {
  if (setup_.pins) setup_.pins->online(setup_.pin_reader);
  bool clean = true;
  try {
    // One TSC read per pass: its cycles are busy when the pass received, sent or completed
    // something, idle otherwise (counters.h LoopCycles), and the same reading is the next pass's
    // time (pass_clock.h): no clock_gettime per pass.
    LoopCycles& cycles = counters_.cycles;
    std::uint64_t last = rte_rdtsc();
    PassClock<Clock> clock(rte_get_tsc_hz(), last);
    while (!stop.load(std::memory_order_relaxed)) {
      worked_ = false;
      const bool received = run_once(clock.at(last)) > 0;
      const std::uint64_t t = rte_rdtsc();
      cycles.account(received || worked_, last, t);
      last = t;
    }
  } catch (...) {
    // Last resort: whatever threw left this pass unfinished. The lcore takes no more packets; it
    // leaves the pin feed (so that no reclamation waits for it), says why once, and drains.
    clean = false;
    counters_[Counter::kLoopAborted].add();
    if (setup_.shard.log) {
      try {
        std::string what = "unknown exception";
        try {
          throw;
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        setup_.shard.log("worker loop stopped by an exception: " + what +
                         "; this lcore takes no more packets (queries in flight drained, the rest counted)");
      } catch (...) {
      }
    }
  }
  if (setup_.pins) setup_.pins->offline(setup_.pin_reader);
  drain_and_publish(drain);
  return clean;
}

void Worker::drain_and_publish(std::chrono::milliseconds drain) noexcept {
  try {
    const auto deadline = Clock::now() + drain;
    while (inflight_.size() > 0 && Clock::now() < deadline) {
      for (auto& v : views_) v->shard->begin_pass(Clock::now());
      reactor_.poll(std::chrono::milliseconds(1));
      poll_and_flush(Clock::now());
    }
  } catch (...) {
    // A completion threw while draining: what is still in flight is counted below.
  }
  counters_[Counter::kShutdownUnanswered].add(inflight_.size());
  try {
    publish();
  } catch (...) {
  }
}

}  // namespace dotpin::dataplane
