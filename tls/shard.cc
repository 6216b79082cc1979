// SPDX-License-Identifier: Apache-2.0
#include "tls/shard.h"
#include "tls/shard_state.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>

#include "common/dns_question.h"
#include "common/time_util.h"
#include "pinning/verifier.h"
#include "tls/edns_options.h"
#include "tls/upstream_answer.h"

namespace dotpin::tls {

using dns::EdeCode;
using shard_detail::kNone;
using shard_detail::log_line;
using shard_detail::FailureText;
using shard_detail::upstream_failure_text;

DotShard::DotShard(UringReactor& reactor, std::vector<ShardUpstream> upstreams, std::uint64_t pin_generation,
                   ShardOptions options, CompletionFn on_complete)
    : reactor_(reactor), generation_(pin_generation), options_(options), on_complete_(std::move(on_complete)) {
  options_.max_inflight_per_connection = std::clamp<std::size_t>(options_.max_inflight_per_connection, 1, 65536);
  // Sized once, at their bounds: submit() and poll() never grow them. slots_ holds at most
  // max_pending (submit refuses beyond), a connection's batch at most its in-flight bound, and an
  // answer at most 65535 bytes (its length prefix).
  slots_.reserve(options_.max_pending);
  free_slots_.reserve(options_.max_pending);
  batch_.reserve(options_.max_inflight_per_connection);
  answer_.reserve(65535);
  for (auto& cfg : upstreams) {
    auto u = std::make_unique<Upstream>();
    u->cfg = cfg;
    active_.push_back(u.get());
    upstreams_.push_back(std::move(u));
  }
}

DotShard::~DotShard() {
  // Links drain their own I/O in their destructors; the slots simply go away.
  for (auto& u : upstreams_) {
    for (auto& c : u->conns) c->link->close();
    u->conns.clear();
    u->graveyard.clear();
  }
}

const UpstreamStats& DotShard::stats(std::size_t upstream) const { return active_.at(upstream)->stats; }
const LatencyHistogram& DotShard::latency(std::size_t upstream) const { return active_.at(upstream)->latency; }
const std::string& DotShard::upstream_name(std::size_t upstream) const { return active_.at(upstream)->cfg.pins->name; }

DotShard::Upstream* DotShard::choose_upstream(const Upstream* exclude, Clock::time_point now) {
  const int n = static_cast<int>(active_.size());
  auto usable = [&](int i) {
    const Upstream& u = *active_[static_cast<std::size_t>(i)];
    return &u != exclude && !u.stats.drained && (u.stats.health == UpstreamHealth::kUp || u.retry_at <= now);
  };
  // Lowest latency exploits its measurements, but every 16th pick goes round robin so that an
  // upstream with one bad sample (a slow first answer) is measured again instead of starved.
  if (options_.policy == ShardOptions::Policy::kLowestLatency && (++picks_ % 16) != 0) {
    int best = -1;
    for (int i = 0; i < n; ++i) {
      if (!usable(i)) continue;
      // An upstream without a measurement yet is tried first, so that every one gets measured.
      if (best < 0 || active_[static_cast<std::size_t>(i)]->stats.rtt_ewma_us <
                          active_[static_cast<std::size_t>(best)]->stats.rtt_ewma_us)
        best = i;
    }
    return best < 0 ? nullptr : active_[static_cast<std::size_t>(best)];
  }
  for (int k = 0; k < n; ++k) {
    const int i = static_cast<int>((next_rr_ + static_cast<std::size_t>(k)) % static_cast<std::size_t>(n));
    if (usable(i)) {
      next_rr_ = static_cast<std::size_t>(i) + 1;
      return active_[static_cast<std::size_t>(i)];
    }
  }
  return nullptr;
}

DotShard::Conn* DotShard::usable_conn(Upstream& u, Clock::time_point now) noexcept {
  Conn* best = nullptr;
  std::size_t open = 0;
  for (auto& c : u.conns) {
    if (c->draining) continue;
    ++open;
    if (c->ids.in_flight() >= options_.max_inflight_per_connection) continue;
    if (!best || c->inflight.size() < best->inflight.size()) best = c.get();
  }
  if (open < options_.connections_per_upstream && (!best || !best->inflight.empty())) {
    if (Conn* fresh = open_conn(u, now)) best = fresh;
  }
  return best;
}

DotShard::Conn* DotShard::open_conn(Upstream& u, Clock::time_point now) noexcept {
  // Everything a connection will ever hold is allocated here, at once: its ID tables, its
  // in-flight and queue lists at their bound, its place in u.conns and, for later, in the
  // graveyard. Nothing it does afterwards allocates in the shard.
  Conn* raw = nullptr;
  try {
    const std::size_t cap = options_.max_inflight_per_connection;
    u.conns.reserve(u.conns.size() + 1);
    u.graveyard.reserve(u.conns.size() + u.graveyard.size() + 1);
    auto c = std::make_unique<Conn>(cap);
    c->inflight.reserve(cap);
    c->queue.reserve(cap);
    const LinkTarget target{reactor_, *u.cfg.ctx, *u.cfg.pins, generation_, &u.tickets, options_.wall_clock};
    // UpstreamLink's constructor throws when wolfSSL_new fails (no memory, no context).
    c->link = options_.link_factory ? options_.link_factory(target)
                                    : std::make_unique<UpstreamLink>(reactor_, *u.cfg.ctx, *u.cfg.pins, generation_,
                                                                     &u.tickets, options_.wall_clock);
    if (c->link) {
      Upstream* up = &u;
      Conn* self = c.get();
      c->link->on_message([this, up, self](std::span<const std::uint8_t> m) { on_response(*up, *self, m); });
      c->keep = u.cfg.keep;
      u.conns.push_back(std::move(c));  // reserved above
      raw = self;
    }
  } catch (...) {
    raw = nullptr;
  }
  if (!raw) {
    ++u.stats.failures[static_cast<std::size_t>(FailureReason::kLocalResources)];
    // Once per run of failures: each query that needs a connection tries again, and logs nothing.
    if (!u.open_failed)
      log_line(options_.log, [&](std::string& line) {
        line = "upstream " + u.cfg.pins->name + ": cannot open a connection: " +
               std::string(to_string(FailureReason::kLocalResources));
      });
    u.open_failed = true;
    return nullptr;
  }
  u.open_failed = false;
  ++u.stats.connections;
  if (raw->link->offered_resumption()) ++u.stats.resumptions_offered;
  raw->link->start(now + options_.handshake_timeout);
  return raw;
}

void DotShard::retire_conn(Upstream& u, std::size_t i) noexcept {
  // open_conn reserved the graveyard's room for every connection: this push_back does not allocate.
  u.graveyard.push_back(std::move(u.conns[i]));
  u.conns.erase(u.conns.begin() + static_cast<std::ptrdiff_t>(i));
}

bool DotShard::enqueue(std::uint32_t slot, Upstream* upstream, Clock::time_point now) {
  Upstream& u = *upstream;
  Conn* c = usable_conn(u, now);
  if (!c) return false;
  const auto id = c->ids.alloc();
  if (!id) return false;
  Slot& s = slots_[slot];
  s.upstream = upstream;
  s.conn = c;
  s.wire_id = *id;
  s.query[0] = static_cast<std::uint8_t>(*id >> 8);
  s.query[1] = static_cast<std::uint8_t>(*id);
  c->by_id[*id] = slot;
  s.conn_pos = c->inflight.size();
  c->inflight.push_back(slot);
  c->queue.push_back(slot);
  s.queued = true;
  ++u.stats.queries;
  return true;
}

bool DotShard::submit(std::uint64_t cookie, std::span<const std::uint8_t> query, Clock::time_point now) noexcept {
  if (slots_.size() - free_slots_.size() >= options_.max_pending) return false;
  if (dns::question_of(query).empty()) return false;
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();  // within the capacity reserved for max_pending
  }
  Slot& s = slots_[slot];
  // The slot's buffer keeps its capacity from earlier queries: no allocation per query once warm.
  std::vector<std::uint8_t> buffer = std::move(s.query);
  s = Slot{};
  s.query = std::move(buffer);
  bool added_opt = false;
  bool copied = false;
  try {  // the slot's buffer grows only for a query longer than any it held before
    if (options_.pad_block > 0) {
      copied = pad_query(query, options_.pad_block, s.query, added_opt, options_.keepalive);
    } else {
      s.query.assign(query.begin(), query.end());
      copied = true;
    }
  } catch (...) {
    copied = false;  // no memory for the copy: refused like a full shard
  }
  if (!copied) {
    free_slots_.push_back(slot);
    return false;
  }
  s.live = true;
  s.cookie = cookie;
  s.added_opt = added_opt;
  s.client_id = static_cast<std::uint16_t>(query[0] << 8 | query[1]);
  s.deadline = now + options_.query_timeout;
  ++pending_count_;
  Upstream* u = choose_upstream(nullptr, now);
  if (!u) {
    fail_query(slot, EdeCode::kNoReachableAuthority, "dotpin: no pinned upstream available", now, false, nullptr);
  } else if (!enqueue(slot, u, now)) {
    if (u->open_failed) {
      FailureText text;
      fail_query(slot, EdeCode::kOther, upstream_failure_text(text, u->cfg.pins->name, FailureReason::kLocalResources),
                 now, true, u);
    } else {
      fail_query(slot, EdeCode::kNoReachableAuthority, "dotpin: upstream connections full", now, true, u);
    }
  }
  return true;
}

void DotShard::detach(Conn& c, std::uint32_t slot) {
  Slot& s = slots_[slot];
  const std::uint32_t last = c.inflight.back();
  c.inflight[s.conn_pos] = last;
  slots_[last].conn_pos = s.conn_pos;
  c.inflight.pop_back();
  c.by_id[s.wire_id] = kNone;
  c.ids.release(s.wire_id);
  if (s.queued) {
    c.queue.erase(std::remove(c.queue.begin(), c.queue.end(), slot), c.queue.end());
    s.queued = false;
  }
  s.conn = nullptr;
}

void DotShard::free_slot(std::uint32_t slot) {
  Slot& s = slots_[slot];
  if (!s.abandoned) --pending_count_;
  s.live = false;
  s.abandoned = false;
  s.query.clear();
  free_slots_.push_back(slot);
}

void DotShard::complete_answer(std::uint32_t slot, std::span<const std::uint8_t> response) {
  on_complete_(slots_[slot].cookie, Outcome::kAnswer, response, dns::Ede{});
}

void DotShard::fail_query(std::uint32_t slot, EdeCode code, std::string_view why, Clock::time_point now,
                          bool may_retry, Upstream* failed_upstream) {
  Slot& s = slots_[slot];
  ++s.attempts;
  if (may_retry && options_.retry_once && s.attempts < 2 && now < s.deadline) {
    Upstream* other = choose_upstream(failed_upstream, now);
    if (other && enqueue(slot, other, now)) {
      if (failed_upstream) ++failed_upstream->stats.retries;
      return;
    }
  }
  if (failed_upstream) ++failed_upstream->stats.servfails;
  complete_servfail(slot, code, why);
  free_slot(slot);
}

void DotShard::complete_servfail(std::uint32_t slot, EdeCode code, std::string_view why) {
  on_complete_(slots_[slot].cookie, Outcome::kServfail, {}, dns::Ede{code, why});
}

void DotShard::on_response(Upstream& u, Conn& c, std::span<const std::uint8_t> msg) {
  const auto id = response_id(msg);
  const std::uint32_t slot = id ? c.by_id[*id] : kNone;
  if (slot == kNone) {
    // Not a response, or one to an ID this connection never sent (or already had answered): the
    // stream carries no DNS we can trust. Close it as a protocol fault; what is in flight on it
    // fails over like any failed connection, instead of waiting for a timeout as "unresponsive".
    ++u.stats.unmatched;
    c.link->abort(FailureReason::kProtocol);
    return;
  }
  Slot& s = slots_[slot];
  detach(c, slot);
  if (s.abandoned) {  // its client already got SERVFAIL on timeout
    --c.abandoned;
    free_slot(slot);
    return;
  }
  const auto now = now_;
  if (!answers_question(msg, s.query)) {
    ++u.stats.unmatched;
    fail_query(slot, EdeCode::kNetworkError, "dotpin: upstream answered another question", now, true, s.upstream);
    return;
  }
  // Walking a response's records costs; a server's keepalive timeout is learned once per connection.
  if (options_.keepalive && !c.keepalive && dns::load_be16(msg.data() + 10) > 0) {
    if (const auto t = keepalive_timeout(msg)) c.keepalive = *t;
  }
  const double rtt = std::chrono::duration<double, std::micro>(now - s.sent_at).count();
  u.stats.rtt_ewma_us = u.stats.rtt_ewma_us == 0 ? rtt : 0.9 * u.stats.rtt_ewma_us + 0.1 * rtt;
  u.latency.record(static_cast<std::uint64_t>(rtt));
  ++u.stats.answers;
  if (!c.draining) {  // a connection of an old pin generation says nothing about the current one
    u.stats.health = UpstreamHealth::kUp;
    u.backoff = std::chrono::milliseconds{0};
    // Answering, not merely handshaking: only now does the next outage log its first failure
    // again (a server that completes handshakes and then fails cannot defeat the log limit).
    u.logged_reason = FailureReason::kNone;
  }
  client_copy(msg, s.client_id, s.added_opt, answer_);  // reserved for the largest answer: no allocation
  complete_answer(slot, answer_);
  free_slot(slot);
}

void DotShard::handle_failed(Upstream& u, Conn& c, Clock::time_point now) {
  const FailureReason reason = c.link->failure();
  ++u.stats.failures[static_cast<std::size_t>(reason)];
  const bool auth = is_authentication_failure(reason);
  if (auth) {
    u.stats.last_refusal = c.link->verdict();
    u.stats.last_refusal_at = now_utc();
  }
  u.backoff = u.backoff.count() == 0 ? options_.backoff_initial : std::min(u.backoff * 2, options_.backoff_max);
  std::uniform_real_distribution<double> jitter(0.5, 1.5);
  u.retry_at = now + std::chrono::duration_cast<Clock::duration>(u.backoff * jitter(rng_));
  u.stats.health = auth ? UpstreamHealth::kPinFailed : UpstreamHealth::kBackingOff;
  // A refused chain does not heal by itself (a pin change or the genuine server back): probing it
  // faster than the backoff would only repeat full handshakes with whoever answers. Other faults
  // are probed every probe_interval (jittered, so the lcores do not probe in step).
  std::uniform_real_distribution<double> probe_jitter(0.75, 1.25);
  u.probe_at = auth ? u.retry_at
                    : now + std::chrono::duration_cast<Clock::duration>(options_.probe_interval * probe_jitter(rng_));
  // Probes fail as often as they run while the upstream is down: log the first failure of each
  // reason, then one line per 30 s with how many went unlogged.
  if (reason != u.logged_reason || now - u.logged_at >= std::chrono::seconds(30)) {
    const std::uint64_t unlogged = std::exchange(u.unlogged, 0);
    u.logged_reason = reason;
    u.logged_at = now;
    log_line(options_.log, [&](std::string& line) {
      line = "upstream " + u.cfg.pins->name + " (" + u.cfg.pins->address.to_string() +
             "): connection failed: " + std::string(to_string(reason));
      if (auth) {
        const PinVerdict& v = u.stats.last_refusal;
        line += "; observed pins: " + describe_observed(v);
      }
      line += "; backing off " + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(u.retry_at - now).count()) + " ms";
      if (unlogged) line += " (" + std::to_string(unlogged) + " more failure(s) since the last line)";
    });
  } else {
    ++u.unlogged;
  }

  FailureText text;
  const std::string_view why = upstream_failure_text(text, u.cfg.pins->name, reason);
  const EdeCode code = auth                                         ? EdeCode::kNoReachableAuthority
                       : reason == FailureReason::kLocalResources ? EdeCode::kOther
                                                                    : EdeCode::kNetworkError;
  std::vector<std::uint32_t> slots;
  slots.swap(c.inflight);  // taken, not copied: the connection is done with them
  for (const std::uint32_t slot : slots) {
    Slot& s = slots_[slot];
    c.by_id[s.wire_id] = kNone;
    s.conn = nullptr;
    s.queued = false;
    if (s.abandoned) {
      free_slot(slot);
      continue;
    }
    fail_query(slot, code, why, now, true, &u);
  }
  c.queue.clear();
}

void DotShard::expire(Clock::time_point now) {
  for (std::uint32_t slot = 0; slot < slots_.size(); ++slot) {
    Slot& s = slots_[slot];
    if (!s.live || s.abandoned || s.deadline > now) continue;
    if (s.upstream) ++s.upstream->stats.timeouts;
    Conn* c = s.conn;
    if (c && s.queued) {
      detach(*c, slot);  // never written: its ID can go back at once
    }
    if (s.upstream) ++s.upstream->stats.servfails;
    complete_servfail(slot, EdeCode::kNetworkError, "dotpin: upstream timed out");
    if (s.conn) {
      // Written and unanswered: keep the wire ID reserved so a late answer cannot be taken for
      // the answer to another query that reuses the ID.
      --pending_count_;
      s.abandoned = true;
      ++s.conn->abandoned;
    } else {
      free_slot(slot);
    }
  }
}

unsigned DotShard::poll(Clock::time_point now, std::chrono::microseconds wait) noexcept {
  now_ = now;
  const unsigned completions = reactor_.poll(wait);
  service(now);
  return completions;
}

void DotShard::service(Clock::time_point now) noexcept {
  now_ = now;
  if (now >= next_pin_recheck_) {
    // Pin windows close and certificates expire while connections stay up: once a second every
    // established connection's recorded path is judged again, and drained if nothing matches now.
    next_pin_recheck_ = now + options_.pin_recheck_interval;
    recheck_pins(now, options_.wall_clock ? options_.wall_clock() : now_utc());
  }
  for (auto& up : upstreams_) {
    Upstream& u = *up;
    std::erase_if(u.graveyard, [](const auto& c) { return !c->link->busy(); });
    // The health probe: an upstream that is down and has no connection gets one, query or not.
    // Its handshake (resumed with a ticket when the server offers one: cheap) is the probe; once
    // ready, the upstream is up again (below) and queries go to it.
    if (options_.probe_interval.count() > 0 && u.stats.health != UpstreamHealth::kUp && !u.stats.drained &&
        !u.retired && u.conns.empty() && now >= u.probe_at) {
      std::uniform_real_distribution<double> probe_jitter(0.75, 1.25);
      u.probe_at = now + std::chrono::duration_cast<Clock::duration>(options_.probe_interval * probe_jitter(rng_));
      if (open_conn(u, now)) ++u.stats.probes;
    }
    for (std::size_t i = 0; i < u.conns.size();) {
      Conn& c = *u.conns[i];
      c.link->tick(now);
      // Everything in flight has timed out and nothing has arrived for a whole query timeout:
      // the upstream accepts but does not answer. Close it (its abandoned IDs go with it) and let
      // the upstream back off, instead of piling up reserved IDs on a dead connection.
      // A message that began and never completed in that time is no pause: the server speaks
      // something that is not DNS framing (a length it never fills), so the reason is protocol.
      if (c.link->ready() && !c.inflight.empty() && c.abandoned == c.inflight.size() &&
          now - c.link->last_activity() >= options_.query_timeout)
        c.link->abort(c.link->partial_message() ? FailureReason::kProtocol : FailureReason::kUnresponsive);
      if (c.link->state() == Link::State::kFailed) {
        handle_failed(u, c, now);
        retire_conn(u, i);
        continue;
      }
      if (c.draining && c.inflight.size() == c.abandoned) {
        // Drained: everything it wrote is answered (or given up on). Close it in order.
        close_drained(c);
        retire_conn(u, i);
        continue;
      }
      if (c.link->ready() && c.inflight.empty() && now - c.link->last_activity() >= c.keepalive.value_or(options_.idle_timeout)) {
        // Idle: close in order (close_notify). The ticket stays, so the next connection resumes.
        c.link->close_gracefully();
        ++u.stats.idle_closes;
        retire_conn(u, i);
        continue;
      }
      if (c.link->ready()) {
        if (!c.counted) {
          c.counted = true;
          const Link& conn = *c.link;
          ++(conn.resumed() ? u.stats.resumptions : u.stats.full_handshakes);
          if (!conn.resumed()) u.stats.last_accepted = conn.verdict();
          if (conn.admitted_by_report_mode()) {
            ++u.stats.report_mode_mismatches;
            log_line(options_.log, [&](std::string& line) {
              line = "upstream " + u.cfg.pins->name + ": report mode: chain matches no pin (" +
                     std::string(to_string(conn.verdict().code)) + "), connected anyway; observed pins: " +
                     describe_observed(conn.verdict());
            });
          }
          u.stats.health = UpstreamHealth::kUp;
          u.backoff = std::chrono::milliseconds{0};
        }
        if (!c.queue.empty()) {
          auto& batch = batch_;  // reused across passes; never longer than its reserved bound
          batch.clear();
          for (const std::uint32_t slot : c.queue) {
            batch.emplace_back(slots_[slot].query);
            slots_[slot].sent_at = now;
            slots_[slot].queued = false;
          }
          c.queue.clear();
          // On failure the link is failed and its queries are handled on the next pass.
          if (options_.coalesce) {
            c.link->send(batch);
          } else {
            for (const auto& q : batch)
              if (!c.link->send(std::span(&q, 1))) break;
          }
        }
      }
      ++i;
    }
  }
  std::erase_if(upstreams_, [](const auto& u) { return u->retired && u->conns.empty() && u->graveyard.empty(); });
  if (now >= next_expiry_scan_) {
    expire(now);
    next_expiry_scan_ = now + std::chrono::milliseconds(10);
  }
}

}  // namespace dotpin::tls
