// SPDX-License-Identifier: Apache-2.0
// The worker lcore's slow path, kept out of the per-packet file (worker.cc): commands from the
// control plane, pin generations from the feed, and the stats it publishes for other threads.
// All of it runs on the lcore's own thread, at the start of a loop pass or every kPublishInterval.
#include "common/time_util.h"
#include "dataplane/worker.h"
#include "pinning/pin_safety.h"

namespace dotpin::dataplane {

namespace {
template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;
}  // namespace

std::uint64_t Worker::execute(const LcoreCommand& command) {
  return std::visit(
      Overloaded{
          [this](const FlushCache& c) -> std::uint64_t {
            std::uint64_t removed = 0;
            for (std::size_t v = 0; v < views_.size(); ++v) {
              if (c.view != FlushCache::kAllViews && c.view != v) continue;
              AnswerCache& cache = views_[v]->cache;
              removed += c.name.empty() ? cache.flush() : cache.flush_name(c.name);
            }
            return removed;
          },
          [this](const SetUpstreamDrained& c) -> std::uint64_t {
            if (c.view >= views_.size()) return 0;
            return views_[c.view]->shard->set_drained(c.upstream, c.drained, Clock::now()) ? 1 : 0;
          },
      },
      command);
}

void Worker::check_pins(Clock::time_point now) {
  PinFeed* feed = setup_.pins;
  if (!feed) return;
  const ViewPins* set = feed->current();
  if (set->epoch != pin_epoch_) {
    bool changed = false;
    for (std::size_t v = 0; v < views_.size() && v < set->views.size(); ++v) {
      ViewState& vs = *views_[v];
      const PinSnapshot* s = set->views[v].get();
      // Another view's change leaves this one's snapshot pointer as it was: nothing to adopt.
      if (s == vs.fed || s->generation == vs.shard->generation()) {
        vs.fed = s;
        continue;
      }
      // Answers fetched under pins that are gone (a revoked key) are never served stale. Before
      // the first change, the generation this view started with is the one in setup_.
      PinTable started;
      if (!vs.pins)
        for (const auto& u : setup_.views[v].upstreams)
          if (u.pins) started.upstreams.push_back(*u.pins);
      if (trust_narrowed(vs.pins ? vs.pins->table : started, s->table)) vs.cache.revoke_stale();
      // Safe: the set (and through it the snapshot) lives until this lcore reports quiescent below.
      vs.pins = set->views[v];
      vs.fed = s;
      std::vector<tls::ShardUpstream> ups;
      ups.reserve(vs.pins->table.upstreams.size());
      for (const auto& up : vs.pins->table.upstreams) ups.push_back({&up, setup_.views[v].tls_ctx, vs.pins});
      vs.shard->update_pins(std::move(ups), vs.pins->generation, now, now_utc());
      counters_[Counter::kPinGenerations].add();
      changed = true;
    }
    pin_epoch_ = set->epoch;
    feed->adopted(setup_.pin_reader, pin_epoch_);
    if (changed) publish();
  }
  feed->quiescent(setup_.pin_reader);
}

void Worker::publish() {
  std::unique_lock lock(published_mu_, std::try_to_lock);
  if (!lock.owns_lock()) return;
  published_.cache = {};
  published_.inflight = inflight_.size();
  published_.views.resize(views_.size());
  for (std::size_t v = 0; v < views_.size(); ++v) {
    const ViewState& vs = *views_[v];
    ViewPublished& out = published_.views[v];
    const tls::DotShard& shard = *vs.shard;
    out.cache = vs.cache.stats();
    published_.cache += out.cache;
    const std::size_t n = shard.upstream_count();
    if (out.pin_generation != shard.generation() || out.upstream_names.size() != n) {
      // Sized (and named) once per pin generation: no allocation between changes.
      out.pin_generation = shard.generation();
      out.upstreams.resize(n);
      out.latency.resize(n);
      out.upstream_names.resize(n);
      for (std::size_t i = 0; i < n; ++i) out.upstream_names[i] = shard.upstream_name(i);
    }
    for (std::size_t i = 0; i < n; ++i) {
      out.upstreams[i] = shard.stats(i);
      out.latency[i] = shard.latency(i);
    }
    for (std::size_t i = 0; i < kViewCounters; ++i) out.counters[i] = vs.counters[i].get();
  }
  published_.top_limited = limiter_.top();
  ++published_.published;
}

PublishedStats Worker::published() const {
  std::lock_guard lock(published_mu_);
  return published_;
}

}  // namespace dotpin::dataplane
