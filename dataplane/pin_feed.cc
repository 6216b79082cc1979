// SPDX-License-Identifier: Apache-2.0
#include "dataplane/pin_feed.h"

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <cstdlib>
#include <thread>

namespace dotpin::dataplane {

Result<std::unique_ptr<PinFeed>> PinFeed::create(unsigned readers,
                                                 std::vector<std::shared_ptr<const PinSnapshot>> first) {
  if (first.empty()) return fail("no view to feed");
  for (const auto& s : first)
    if (!s) return fail("a view without a first pin generation");
  std::unique_ptr<PinFeed> f(new PinFeed());
  const std::size_t size = rte_rcu_qsbr_get_memsize(readers == 0 ? 1 : readers);
  // Plain aligned memory: the QS variable is shared by threads of this process only, and this
  // keeps it working under --no-huge and in tests.
  void* mem = std::aligned_alloc(RTE_CACHE_LINE_SIZE, (size + RTE_CACHE_LINE_SIZE - 1) / RTE_CACHE_LINE_SIZE * RTE_CACHE_LINE_SIZE);
  if (!mem) return fail("cannot allocate the RCU variable");
  f->qsv_ = static_cast<rte_rcu_qsbr*>(mem);
  if (rte_rcu_qsbr_init(f->qsv_, readers == 0 ? 1 : readers) != 0) return fail("rte_rcu_qsbr_init failed");
  f->readers_ = readers;
  f->adopted_ = std::make_unique<Adopted[]>(readers == 0 ? 1 : readers);
  auto set = std::make_shared<ViewPins>();
  set->views = std::move(first);
  f->held_ = std::move(set);
  f->current_.store(f->held_.get(), std::memory_order_release);
  return f;
}

PinFeed::~PinFeed() { std::free(qsv_); }

void PinFeed::online(unsigned id) noexcept {
  rte_rcu_qsbr_thread_register(qsv_, id);
  rte_rcu_qsbr_thread_online(qsv_, id);
}

void PinFeed::offline(unsigned id) noexcept {
  rte_rcu_qsbr_thread_offline(qsv_, id);
  rte_rcu_qsbr_thread_unregister(qsv_, id);
}

void PinFeed::quiescent(unsigned id) noexcept { rte_rcu_qsbr_quiescent(qsv_, id); }

std::uint64_t PinFeed::publish(std::size_t view, std::shared_ptr<const PinSnapshot> next) {
  std::lock_guard lock(writer_);
  auto set = std::make_shared<ViewPins>(*held_);  // every other view keeps its snapshot (same pointer)
  set->views.at(view) = std::move(next);
  ++set->epoch;
  const std::uint64_t epoch = set->epoch;
  std::shared_ptr<const ViewPins> old = std::move(held_);
  held_ = std::move(set);
  current_.store(held_.get(), std::memory_order_release);
  // Readers that loaded the old pointer before the swap may still be about to copy from it:
  // keep ours until each has been quiescent once since now.
  if (old) retired_.push_back({std::move(old), rte_rcu_qsbr_start(qsv_)});
  return epoch;
}

std::size_t PinFeed::reclaim() {
  std::lock_guard lock(writer_);
  std::erase_if(retired_, [this](const Retired& r) { return rte_rcu_qsbr_check(qsv_, r.token, false) == 1; });
  return retired_.size();
}

bool PinFeed::wait_adopted(std::uint64_t epoch, const std::vector<unsigned>& readers,
                           std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    bool all = true;
    for (const unsigned id : readers) all = all && adopted_by(id) >= epoch;
    reclaim();
    if (all) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

std::shared_ptr<const PinSnapshot> PinFeed::snapshot(std::size_t view) const {
  std::lock_guard lock(writer_);
  return view < held_->views.size() ? held_->views[view] : nullptr;
}

std::size_t PinFeed::view_count() const {
  std::lock_guard lock(writer_);
  return held_->views.size();
}

}  // namespace dotpin::dataplane
