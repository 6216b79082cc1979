// SPDX-License-Identifier: Apache-2.0
/// @file lcore_mailbox.h
/// @brief Slow path into one lcore: the control thread posts a task (flush the cache, drain an
/// upstream) and waits for it with a timeout; the lcore runs posted tasks at the start of a loop
/// pass. The lcore's side costs one relaxed load per pass when the box is empty, only ever
/// try-locks, and never waits for the control thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace dotpin::dataplane {

class LcoreMailbox {
 public:
  /// Control thread: runs @p task on the lcore and waits up to @p timeout for it to finish. False
  /// on timeout (the lcore is stopped or stuck); the task may still run later, so it must own
  /// everything it touches.
  bool call(std::function<void()> task, std::chrono::milliseconds timeout) {
    auto state = std::make_shared<Posted>();
    state->task = std::move(task);
    {
      std::lock_guard lock(mu_);
      posted_.push_back(state);
    }
    has_mail_.store(true, std::memory_order_release);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!state->done.load(std::memory_order_acquire)) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return true;
  }

  /// Lcore: runs whatever was posted (if the lock is free right now; else next pass).
  void run_posted() {
    if (!has_mail_.load(std::memory_order_relaxed)) return;
    std::unique_lock lock(mu_, std::try_to_lock);
    if (!lock.owns_lock()) return;
    running_.swap(posted_);
    has_mail_.store(false, std::memory_order_relaxed);
    lock.unlock();
    for (auto& p : running_) {
      p->task();
      p->done.store(true, std::memory_order_release);
    }
    running_.clear();
  }

 private:
  struct Posted {
    std::function<void()> task;
    std::atomic<bool> done{false};
  };
  std::atomic<bool> has_mail_{false};
  std::mutex mu_;
  std::vector<std::shared_ptr<Posted>> posted_;
  std::vector<std::shared_ptr<Posted>> running_;  // the lcore's; keeps its capacity
};

}  // namespace dotpin::dataplane
