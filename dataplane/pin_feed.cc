// SPDX-License-Identifier: Apache-2.0
#include "dataplane/pin_feed.h"

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <cstdlib>
#include <thread>

namespace dotpin::dataplane {

Result<std::unique_ptr<PinFeed>> PinFeed::create(unsigned readers, std::shared_ptr<const PinSnapshot> first) {
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
  f->held_ = std::move(first);
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

void PinFeed::publish(std::shared_ptr<const PinSnapshot> next) {
  std::lock_guard lock(writer_);
  std::shared_ptr<const PinSnapshot> old = std::move(held_);
  held_ = std::move(next);
  current_.store(held_.get(), std::memory_order_release);
  // Readers that loaded the old pointer before the swap may still be about to take a reference:
  // keep ours until each has been quiescent once since now.
  if (old) retired_.push_back({std::move(old), rte_rcu_qsbr_start(qsv_)});
}

std::size_t PinFeed::reclaim() {
  std::lock_guard lock(writer_);
  std::erase_if(retired_, [this](const Retired& r) { return rte_rcu_qsbr_check(qsv_, r.token, false) == 1; });
  return retired_.size();
}

bool PinFeed::wait_adopted(std::uint64_t generation, const std::vector<unsigned>& readers,
                           std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    bool all = true;
    for (const unsigned id : readers) all = all && adopted_by(id) >= generation;
    reclaim();
    if (all) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

std::shared_ptr<const PinSnapshot> PinFeed::snapshot() const {
  std::lock_guard lock(writer_);
  return held_;
}

}  // namespace dotpin::dataplane
