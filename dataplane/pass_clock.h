// SPDX-License-Identifier: Apache-2.0
/// @file pass_clock.h
/// @brief The worker loop's clock: steady_clock time derived from the TSC reading the loop takes
/// anyway for its busy-cycle accounting, so a pass costs one `rdtsc` instead of an `rdtsc` and a
/// `clock_gettime`.
///
/// Between anchors the time is extrapolated from the TSC with a fixed-point rate (32 fractional
/// bits); every @p reanchor (at most 1 s) it is anchored to steady_clock again — to the real time,
/// not to what was extrapolated — so the two never differ by more than the rate's error makes of
/// one interval (DPDK rounds a measured TSC rate to 10 MHz: up to 0.2 %, 0.2 ms per 100 ms), and
/// the error does not accumulate. It never goes backwards: when the extrapolation ran ahead, the
/// time it handed out stands still after the re-anchor until the real clock has caught up.
/// Header-only and free of DPDK, so a test can feed it any TSC sequence.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace dotpin::dataplane {

template <class Clock = std::chrono::steady_clock>
class PassClock {
 public:
  /// @p tsc_hz: the TSC's rate (rte_get_tsc_hz()); @p tsc_now: a TSC reading taken now.
  PassClock(std::uint64_t tsc_hz, std::uint64_t tsc_now,
            std::chrono::nanoseconds reanchor = std::chrono::milliseconds(100)) noexcept
      : ns_per_tick_q32_(tsc_hz > 0 ? static_cast<std::uint64_t>((1'000'000'000.0 / static_cast<double>(tsc_hz)) *
                                                                 4294967296.0)
                                    : 0),
        reanchor_ticks_(tsc_hz > 0 ? static_cast<std::uint64_t>(
                                         static_cast<double>(std::min<std::int64_t>(reanchor.count(), 1'000'000'000)) *
                                         static_cast<double>(tsc_hz) / 1e9)
                                   : 0) {
    anchor(tsc_now, Clock::now());
  }

  /// The time at TSC reading @p tsc (readings must not go backwards). With no TSC rate every
  /// call reads the clock.
  typename Clock::time_point at(std::uint64_t tsc) noexcept {
    if (ns_per_tick_q32_ == 0) return last_ = std::max(last_, Clock::now());
    const std::uint64_t ticks = tsc - anchor_tsc_;
    if (ticks >= reanchor_ticks_) {
      anchor(tsc, Clock::now());  // never before a time already handed out
      ++reanchors_;
      return last_;
    }
    return last_ = std::max(last_, extrapolate(ticks));
  }

  [[nodiscard]] std::uint64_t reanchors() const noexcept { return reanchors_; }

 private:
  typename Clock::time_point extrapolate(std::uint64_t ticks) const noexcept {
    // ticks < reanchor_ticks_, so ticks * rate < (re-anchor interval in ns) * 2^32 <= 2^62 for
    // any TSC rate: the interval is capped at 1 s.
    const std::uint64_t ns = (ticks * ns_per_tick_q32_) >> 32;
    return anchor_time_ + std::chrono::duration_cast<typename Clock::duration>(std::chrono::nanoseconds(ns));
  }
  void anchor(std::uint64_t tsc, typename Clock::time_point t) noexcept {
    anchor_tsc_ = tsc;
    anchor_time_ = t;              // the real time: errors of the rate do not carry over
    last_ = std::max(last_, t);    // what is handed out never steps back
  }

  std::uint64_t ns_per_tick_q32_;
  std::uint64_t reanchor_ticks_;
  std::uint64_t anchor_tsc_ = 0;
  typename Clock::time_point anchor_time_{};
  typename Clock::time_point last_{};
  std::uint64_t reanchors_ = 0;
};

}  // namespace dotpin::dataplane
