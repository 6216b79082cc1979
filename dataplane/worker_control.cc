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
            return c.name.empty() ? cache_.flush() : cache_.flush_name(c.name);
          },
          [this](const SetUpstreamDrained& c) -> std::uint64_t {
            return shard_->set_drained(c.upstream, c.drained, Clock::now()) ? 1 : 0;
          },
      },
      command);
}

void Worker::check_pins(Clock::time_point now) {
  PinFeed* feed = setup_.pins;
  if (!feed) return;
  const PinSnapshot* s = feed->current();
  if (s->generation != shard_->generation()) {
    // Answers fetched under pins that are gone (a revoked key) are never served stale. Before the
    // first change, the generation this lcore started with is the one in setup_ (kept alive there).
    PinTable started;
    if (!pins_)
      for (const auto& u : setup_.upstreams)
        if (u.pins) started.upstreams.push_back(*u.pins);
    if (trust_narrowed(pins_ ? pins_->table : started, s->table)) cache_.revoke_stale();
    // Safe: the feed keeps its own reference until this lcore reports quiescent below.
    pins_ = s->shared_from_this();
    std::vector<tls::ShardUpstream> ups;
    ups.reserve(pins_->table.upstreams.size());
    for (const auto& up : pins_->table.upstreams) ups.push_back({&up, setup_.tls_ctx, pins_});
    shard_->update_pins(std::move(ups), pins_->generation, now, now_utc());
    counters_[Counter::kPinGenerations].add();
    feed->adopted(setup_.pin_reader, pins_->generation);
    publish();
  }
  feed->quiescent(setup_.pin_reader);
}

void Worker::publish() {
  std::unique_lock lock(published_mu_, std::try_to_lock);
  if (!lock.owns_lock()) return;
  published_.cache = cache_.stats();
  published_.inflight = inflight_.size();
  const std::size_t n = shard_->upstream_count();
  if (published_.pin_generation != shard_->generation() || published_.upstream_names.size() != n) {
    // Sized (and named) once per pin generation: no allocation between changes.
    published_.pin_generation = shard_->generation();
    published_.upstreams.resize(n);
    published_.latency.resize(n);
    published_.upstream_names.resize(n);
    for (std::size_t i = 0; i < n; ++i) published_.upstream_names[i] = shard_->upstream_name(i);
  }
  for (std::size_t i = 0; i < n; ++i) {
    published_.upstreams[i] = shard_->stats(i);
    published_.latency[i] = shard_->latency(i);
  }
  published_.top_limited = limiter_.top();
  ++published_.published;
}

PublishedStats Worker::published() const {
  std::lock_guard lock(published_mu_);
  return published_;
}

}  // namespace dotpin::dataplane
