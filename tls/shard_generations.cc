// SPDX-License-Identifier: Apache-2.0
// The shard's slow path, kept out of the per-query file (shard.cc): adopting a new pin generation,
// draining connections (pin change, operator drain, retired upstream) and re-judging established
// connections against their pins' windows. It runs on the owner thread, once per generation or
// per pin_recheck_interval, never per query.
#include "common/time_util.h"
#include "pinning/verifier.h"
#include "tls/shard.h"
#include "tls/shard_state.h"

namespace dotpin::tls {

using dns::EdeCode;
using shard_detail::kNone;
using shard_detail::log_line;

void DotShard::close_drained(Conn& c) {
  // Whatever is still in flight was given up on (abandoned): its slots go with the connection.
  for (const std::uint32_t slot : c.inflight) {
    c.by_id[slots_[slot].wire_id] = kNone;
    slots_[slot].conn = nullptr;
    free_slot(slot);
  }
  c.inflight.clear();
  c.abandoned = 0;
  if (c.link->ready()) c.link->close_gracefully();
  else c.link->close();
}

void DotShard::start_drain(Upstream& u, Conn& c, Clock::time_point now) {
  if (c.draining) return;
  c.draining = true;
  ++u.stats.drained_connections;
  // Queries queued but never written move to a connection of the new generation (any upstream,
  // this one first if it may still be used); what was written is answered here.
  std::vector<std::uint32_t> queued;
  queued.swap(c.queue);  // taken, not copied; detach() finds nothing left to erase there
  for (const std::uint32_t slot : queued) {
    detach(c, slot);
    Slot& s = slots_[slot];
    Upstream* to = (!u.retired && !u.stats.drained) ? &u : choose_upstream(&u, now);
    if (!to || !enqueue(slot, to, now)) {
      --s.attempts;  // a move is not an attempt: the query keeps its retry
      fail_query(slot, EdeCode::kNoReachableAuthority, "dotpin: no pinned upstream available", now, true, &u);
    }
  }
}

std::size_t DotShard::update_pins(std::vector<ShardUpstream> upstreams, std::uint64_t generation,
                                  Clock::time_point now, UnixTime wall) {
  generation_ = generation;
  std::size_t drained = 0;
  std::vector<Upstream*> next;
  for (ShardUpstream& cfg : upstreams) {
    Upstream* u = nullptr;
    for (Upstream* old : active_)
      if (old->cfg.pins->name == cfg.pins->name) u = old;
    if (!u) {
      auto fresh = std::make_unique<Upstream>();
      u = fresh.get();
      upstreams_.push_back(std::move(fresh));
    }
    // Same address, name and trust profile (CA file, TLS floor): otherwise the connection was
    // authenticated under other rules, and drains.
    const bool same_place = u->cfg.pins && u->cfg.pins->address == cfg.pins->address &&
                            u->cfg.pins->auth_name == cfg.pins->auth_name && u->cfg.ctx == cfg.ctx;
    u->cfg = std::move(cfg);
    for (auto& c : u->conns) {
      if (c->draining) continue;
      // An established connection stays only if the chain it authenticated still satisfies the
      // new pin set; one still handshaking would authenticate against the old set, so it drains.
      const bool keep = same_place && c->link->ready() && still_admitted(*u, *c, wall);
      if (!keep) {
        start_drain(*u, *c, now);
        ++drained;
      }
    }
    // Tickets verified under the old generation are dropped by the next TicketCache::usable().
    u->stats.health = UpstreamHealth::kUp;  // a new pin set deserves a fresh attempt
    u->retry_at = now;
    u->backoff = std::chrono::milliseconds{0};
    next.push_back(u);
  }
  for (Upstream* old : active_) {
    if (std::find(next.begin(), next.end(), old) != next.end()) continue;
    old->retired = true;
    for (auto& c : old->conns) {
      if (!c->draining) ++drained;
      start_drain(*old, *c, now);
    }
  }
  active_ = std::move(next);
  return drained;
}

bool DotShard::still_admitted(const Upstream& u, const Conn& c, UnixTime wall) const {
  return admits(u.cfg.pins->mode, reverify(c.link->verdict(), u.cfg.pins->pins, wall));
}

std::size_t DotShard::recheck_pins(Clock::time_point now, UnixTime wall) {
  std::size_t drained = 0;
  for (Upstream* u : active_) {
    for (auto& c : u->conns) {
      if (c->draining || !c->link->ready() || still_admitted(*u, *c, wall)) continue;
      start_drain(*u, *c, now);
      ++drained;
    }
  }
  return drained;
}

bool DotShard::set_drained(std::string_view name, bool drained, Clock::time_point now) {
  for (Upstream* u : active_) {
    if (u->cfg.pins->name != name) continue;
    u->stats.drained = drained;
    if (drained)
      for (auto& c : u->conns) start_drain(*u, *c, now);
    return true;
  }
  return false;
}

}  // namespace dotpin::tls
