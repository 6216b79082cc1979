// SPDX-License-Identifier: Apache-2.0
/// @file pin_source_threads.h
/// @brief The two control-side threads that run every view's pin sources (pin_sources.h): one
/// for TOFU learning, one for DANE refreshes, so that a handshake timeout never delays a TLSA
/// refresh nor a DNS timeout a learning attempt. Each tick (1 s) a thread makes one pass over each
/// view's sources in [[view]] order; every attempt in a pass is bounded by its timeout, and a
/// view's sources only act on upstreams that are due (backoff, TTL schedule), so a view with a
/// failing upstream delays the others' passes by at most its timeouts. Two threads for any number
/// of views (not two per view: 255 tenants must not mean 510 threads).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "control/pin_sources.h"

namespace dotpin::ctl {

class PinSourceThreads {
 public:
  /// @p sources outlive this object; each gets a wake hook (pins forget runs a pass at once).
  explicit PinSourceThreads(std::vector<PinSources*> sources, std::chrono::milliseconds tick = std::chrono::seconds(1));
  ~PinSourceThreads();
  PinSourceThreads(const PinSourceThreads&) = delete;
  PinSourceThreads& operator=(const PinSourceThreads&) = delete;

  void start();
  /// Stops both threads after their current attempt (bounded by its timeout).
  void stop();
  /// Runs the next passes now rather than at the next tick.
  void wake();

 private:
  void loop(void (PinSources::*pass)());

  std::vector<PinSources*> sources_;
  std::chrono::milliseconds tick_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::uint64_t wakes_ = 0;  // each thread runs again when it changes
  std::thread tofu_, dane_;
};

}  // namespace dotpin::ctl
