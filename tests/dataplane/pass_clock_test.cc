// SPDX-License-Identifier: Apache-2.0
#include "dataplane/pass_clock.h"

#include <gtest/gtest.h>

namespace dotpin::dataplane {
namespace {

using namespace std::chrono_literals;

// A steady clock the test moves by hand.
struct FakeClock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<FakeClock>;
  static constexpr bool is_steady = true;
  static inline time_point t{std::chrono::seconds(1000)};
  static time_point now() noexcept { return t; }
};

constexpr std::uint64_t kHz = 2'600'000'000;  // 2.6 GHz: 2.6 ticks per ns

TEST(PassClock, ExtrapolatesFromTheTscBetweenAnchors) {
  FakeClock::t = FakeClock::time_point(1000s);
  PassClock<FakeClock> c(kHz, 1'000'000);
  EXPECT_EQ(c.at(1'000'000), FakeClock::time_point(1000s));
  FakeClock::t += 1h;  // the real clock is not read between anchors
  EXPECT_NEAR(static_cast<double>((c.at(1'000'000 + 2'600'000) - FakeClock::time_point(1000s)).count()), 1e6, 2.0);
  // Just under the 100 ms re-anchor interval (260M ticks): still extrapolated.
  EXPECT_NEAR(static_cast<double>((c.at(1'000'000 + 259'000'000) - FakeClock::time_point(1000s)).count()),
              259e6 / 2.6, 2.0);
  EXPECT_EQ(c.reanchors(), 0u);
}

TEST(PassClock, ReanchorsToTheRealClockAndNeverGoesBackwards) {
  FakeClock::t = FakeClock::time_point(1000s);
  PassClock<FakeClock> c(kHz, 0);
  // 0.2 s of TSC: beyond the interval, so the real clock is read; it says 1000.5 s.
  FakeClock::t = FakeClock::time_point(1000500ms);
  EXPECT_EQ(c.at(520'000'000), FakeClock::time_point(1000500ms));
  EXPECT_EQ(c.reanchors(), 1u);
  // A real clock behind what the TSC said (a rate estimate slightly high): time stands still.
  const auto before = c.at(520'000'000 + 100'000'000);  // +38.5 ms by the TSC
  FakeClock::t = FakeClock::time_point(1000500ms);        // the real clock did not move
  const auto after = c.at(520'000'000 + 100'000'000 + 200'000'000);
  EXPECT_GE(after, before);
  EXPECT_EQ(c.reanchors(), 2u);
  EXPECT_GE(c.at(520'000'000 + 300'000'000 + 1), after);
}

// DPDK may measure the TSC rate 0.2 % off (rounded to 10 MHz). Over a day of passes the pass time
// must stay within one re-anchor interval's error of the real clock, not drift away from it.
TEST(PassClock, AWrongRateDoesNotAccumulate) {
  for (double error : {-0.002, 0.002}) {
    FakeClock::t = FakeClock::time_point(1000s);
    const auto claimed = static_cast<std::uint64_t>(static_cast<double>(kHz) * (1 + error));
    PassClock<FakeClock> c(claimed, 0);
    std::uint64_t tsc = 0;
    auto prev = c.at(0);
    for (int step = 0; step < 864'000; ++step) {  // a day in 100 ms steps, real TSC at kHz
      tsc += kHz / 10;
      FakeClock::t += 100ms;
      const auto t = c.at(tsc);
      ASSERT_GE(t, prev) << step;
      prev = t;
      const auto lag = std::chrono::abs(t - FakeClock::t);
      ASSERT_LE(lag, 1ms) << "error " << error << " at step " << step;
    }
    // Midway between anchors too.
    FakeClock::t += 50ms;
    EXPECT_LE(std::chrono::abs(c.at(tsc + kHz / 20) - FakeClock::t), 1ms);
  }
}

TEST(PassClock, WithoutATscRateItReadsTheClockEveryTime) {
  FakeClock::t = FakeClock::time_point(5s);
  PassClock<FakeClock> c(0, 0);
  FakeClock::t = FakeClock::time_point(6s);
  EXPECT_EQ(c.at(123), FakeClock::time_point(6s));
  FakeClock::t = FakeClock::time_point(4s);  // a clock that stepped back is not followed
  EXPECT_EQ(c.at(124), FakeClock::time_point(6s));
}

}  // namespace
}  // namespace dotpin::dataplane
