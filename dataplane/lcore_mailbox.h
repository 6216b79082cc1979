// SPDX-License-Identifier: Apache-2.0
/// @file lcore_mailbox.h
/// @brief Slow path into one lcore: the control thread posts a typed command (api.h's LcoreCommand:
/// flush the cache, drain an upstream) and waits for its result with a timeout; the lcore runs
/// posted commands at the start of a loop pass. The lcore's side costs one relaxed load per pass
/// when the box is empty, only ever try-locks, and never waits for the control thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "dataplane/api.h"

namespace dotpin::dataplane {

class LcoreMailbox {
 public:
  /// Control thread: has the lcore run @p command and waits up to @p timeout for its result.
  /// nullopt on timeout (the lcore is stopped or stuck); the command may still run later: it is
  /// held by the box, not by the caller.
  std::optional<std::uint64_t> call(LcoreCommand command, std::chrono::milliseconds timeout) {
    auto state = std::make_shared<Posted>();
    state->command = std::move(command);
    {
      std::lock_guard lock(mu_);
      posted_.push_back(state);
    }
    has_mail_.store(true, std::memory_order_release);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!state->done.load(std::memory_order_acquire)) {
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return state->result;
  }

  /// Lcore: runs whatever was posted (if the lock is free right now; else next pass) with
  /// @p run(const LcoreCommand&) -> std::uint64_t.
  template <class Run>
  void run_posted(Run&& run) {
    if (!has_mail_.load(std::memory_order_relaxed)) return;
    std::unique_lock lock(mu_, std::try_to_lock);
    if (!lock.owns_lock()) return;
    running_.swap(posted_);
    has_mail_.store(false, std::memory_order_relaxed);
    lock.unlock();
    for (auto& p : running_) {
      p->result = run(p->command);
      p->done.store(true, std::memory_order_release);  // publishes result
    }
    running_.clear();
  }

 private:
  struct Posted {
    LcoreCommand command;
    std::uint64_t result = 0;
    std::atomic<bool> done{false};
  };
  std::atomic<bool> has_mail_{false};
  std::mutex mu_;
  std::vector<std::shared_ptr<Posted>> posted_;
  std::vector<std::shared_ptr<Posted>> running_;  // the lcore's; keeps its capacity
};

}  // namespace dotpin::dataplane
