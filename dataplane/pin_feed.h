// SPDX-License-Identifier: Apache-2.0
/// @file pin_feed.h
/// @brief How new pin-set generations reach the worker lcores: an atomic pointer swap of the set
/// of every view's snapshot, with reclamation by DPDK's quiescent-state RCU (rte_rcu_qsbr).
///
/// Writer (the control thread): publish(view, snapshot) builds a new ViewPins that shares every
/// other view's snapshot, stores its pointer and keeps the old set as "retired" with an RCU token;
/// reclaim() drops retired sets once every online lcore has reported a quiescent state since they
/// were retired. Readers (lcores): once per loop pass, current() (one acquire load); when its epoch
/// differs from the one they run, they compare each view's snapshot with the one they run and
/// adopt only those that changed, copying the set's shared pointer (the set is alive until they
/// report quiescent()). That reference is what their old-generation connections keep while they
/// drain; RCU only has to cover the moment between reading the pointer and copying it, so no reader
/// ever waits and no writer frees a set an lcore is still looking at. A reload of one view's pins
/// therefore never touches another view's shard: its snapshot pointer is the same.
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

/// Every view's pins, immutable once published (index = the view's position in the config).
struct ViewPins {
  std::vector<std::shared_ptr<const PinSnapshot>> views;
  std::uint64_t epoch = 1;  ///< +1 per publication (of any view)
};

class PinFeed {
 public:
  /// @p readers: how many lcores will register (ids 0..readers-1); @p first: each view's first
  /// generation.
  static Result<std::unique_ptr<PinFeed>> create(unsigned readers, std::vector<std::shared_ptr<const PinSnapshot>> first);
  ~PinFeed();
  PinFeed(const PinFeed&) = delete;
  PinFeed& operator=(const PinFeed&) = delete;

  // --- lcore side ---
  /// Registers reader @p id and marks it online (call on its own thread before its loop).
  void online(unsigned id) noexcept;
  /// Marks reader @p id offline (after its loop): writers stop waiting for it.
  void offline(unsigned id) noexcept;
  /// The set in force; valid until the caller's next quiescent().
  [[nodiscard]] const ViewPins* current() const noexcept { return current_.load(std::memory_order_acquire); }
  /// Reader @p id holds no pointer obtained from current() any more.
  void quiescent(unsigned id) noexcept;
  /// The epoch each reader last adopted (for status and tests).
  void adopted(unsigned id, std::uint64_t epoch) noexcept { adopted_[id].value.store(epoch, std::memory_order_release); }
  [[nodiscard]] std::uint64_t adopted_by(unsigned id) const noexcept {
    return adopted_[id].value.load(std::memory_order_acquire);
  }

  // --- control side (one writer at a time; serialised here) ---
  /// Publishes @p next as view @p view's pins; returns the new epoch.
  std::uint64_t publish(std::size_t view, std::shared_ptr<const PinSnapshot> next);
  /// Frees retired sets whose grace period is over; returns how many are still waiting.
  std::size_t reclaim();
  /// Waits (polling, up to @p timeout) until every online reader has adopted @p epoch.
  bool wait_adopted(std::uint64_t epoch, const std::vector<unsigned>& readers, std::chrono::milliseconds timeout);
  /// View @p view's snapshot in force (null: no such view).
  [[nodiscard]] std::shared_ptr<const PinSnapshot> snapshot(std::size_t view = 0) const;
  [[nodiscard]] std::size_t view_count() const;

 private:
  struct alignas(64) Adopted {
    std::atomic<std::uint64_t> value{0};
  };
  PinFeed() = default;
  rte_rcu_qsbr* qsv_ = nullptr;
  unsigned readers_ = 0;
  std::unique_ptr<Adopted[]> adopted_;
  alignas(64) std::atomic<const ViewPins*> current_{nullptr};
  mutable std::mutex writer_;
  std::shared_ptr<const ViewPins> held_;  // owns what current_ points to
  struct Retired {
    std::shared_ptr<const ViewPins> set;
    std::uint64_t token;
  };
  std::vector<Retired> retired_;
};

}  // namespace dotpin::dataplane
