// SPDX-License-Identifier: Apache-2.0
/// @file pin_feed.h
/// @brief How a new pin-set generation reaches the worker lcores: an atomic pointer swap, with
/// reclamation by DPDK's quiescent-state RCU (rte_rcu_qsbr).
///
/// Writer (the control thread): publish() stores the new snapshot's pointer and keeps the old one
/// as "retired" with an RCU token; reclaim() drops retired snapshots once every online lcore has
/// reported a quiescent state since they were retired. Readers (lcores): once per loop pass,
/// current() (one acquire load) and, when its generation differs from the one they run, they take
/// their own reference (PinSnapshot::shared_from_this) before reporting quiescent(). That reference
/// is what their old-generation connections keep while they drain; RCU only has to cover the
/// moment between reading the pointer and taking it, so no reader ever waits and no writer frees a
/// table an lcore is still looking at.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "common/result.h"
#include "pinning/pin_store.h"

struct rte_rcu_qsbr;

namespace dotpin::dataplane {

class PinFeed {
 public:
  /// @p readers: how many lcores will register (ids 0..readers-1).
  static Result<std::unique_ptr<PinFeed>> create(unsigned readers, std::shared_ptr<const PinSnapshot> first);
  ~PinFeed();
  PinFeed(const PinFeed&) = delete;
  PinFeed& operator=(const PinFeed&) = delete;

  // --- lcore side ---
  /// Registers reader @p id and marks it online (call on its own thread before its loop).
  void online(unsigned id) noexcept;
  /// Marks reader @p id offline (after its loop): writers stop waiting for it.
  void offline(unsigned id) noexcept;
  /// The snapshot in force; valid until the caller's next quiescent().
  [[nodiscard]] const PinSnapshot* current() const noexcept { return current_.load(std::memory_order_acquire); }
  /// Reader @p id holds no pointer obtained from current() any more.
  void quiescent(unsigned id) noexcept;
  /// The generation each reader last adopted (for status and tests).
  void adopted(unsigned id, std::uint64_t generation) noexcept {
    adopted_[id].value.store(generation, std::memory_order_release);
  }
  [[nodiscard]] std::uint64_t adopted_by(unsigned id) const noexcept {
    return adopted_[id].value.load(std::memory_order_acquire);
  }

  // --- control side (one writer at a time; serialised here) ---
  void publish(std::shared_ptr<const PinSnapshot> next);
  /// Frees retired snapshots whose grace period is over; returns how many are still waiting.
  std::size_t reclaim();
  /// Waits (polling, up to @p timeout) until every online reader has adopted @p generation.
  bool wait_adopted(std::uint64_t generation, const std::vector<unsigned>& readers, std::chrono::milliseconds timeout);
  [[nodiscard]] std::shared_ptr<const PinSnapshot> snapshot() const;

 private:
  struct alignas(64) Adopted {
    std::atomic<std::uint64_t> value{0};
  };
  PinFeed() = default;
  rte_rcu_qsbr* qsv_ = nullptr;
  unsigned readers_ = 0;
  std::unique_ptr<Adopted[]> adopted_;
  alignas(64) std::atomic<const PinSnapshot*> current_{nullptr};
  mutable std::mutex writer_;
  std::shared_ptr<const PinSnapshot> held_;  // owns what current_ points to
  struct Retired {
    std::shared_ptr<const PinSnapshot> snapshot;
    std::uint64_t token;
  };
  std::vector<Retired> retired_;
};

}  // namespace dotpin::dataplane
