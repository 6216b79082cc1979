// SPDX-License-Identifier: Apache-2.0
// The one rule of every pin change (pin_safety.h): what strands an upstream or the pool, what is
// only a warning, and what the operator is told. The paths that apply it are tested in
// tests/control/{daemon_admin,tofu,dane_sources}_test.cc and, through dotpind, in
// tests/integration/test_dotpind_control.py.
#include "pinning/pin_safety.h"

#include <gtest/gtest.h>

#include "tests/pinning/pin_builders.h"

namespace dotpin {
namespace {

const UnixTime kNow = *parse_utc("2026-12-01T12:00:00Z");

using test::make_pin;

UpstreamPins upstream(std::string name, std::vector<Pin> pins, PinsFrom from = PinsFrom::kFile,
                      PinMode mode = PinMode::kEnforce) {
  UpstreamPins u;
  u.name = std::move(name);
  u.pins = std::move(pins);
  u.pins_from = from;
  u.mode = mode;
  return u;
}

PinTable table(std::vector<UpstreamPins> ups) {
  PinTable t;
  t.upstreams = std::move(ups);
  return t;
}

TEST(PinSafety, AnUpstreamLeftWithoutAValidPinIsUnsafeAndTheReasonNamesItsPins) {
  const auto before = table({upstream("a", {make_pin(1, "old")}), upstream("b", {make_pin(2, "b1")})});
  // The reload's only pin for a starts next year.
  const auto after = table({upstream("a", {make_pin(3, "next", kNow + std::chrono::hours(24 * 30))}), upstream("b", {make_pin(2, "b1")})});
  const PinSafety s = check_pin_change(before, after, kNow);
  ASSERT_EQ(s.unsafe.size(), 1u);
  EXPECT_NE(s.unsafe[0].find("upstream 'a' would have no pin valid now"), std::string::npos) << s.unsafe[0];
  EXPECT_NE(s.unsafe[0].find("'next'"), std::string::npos) << s.unsafe[0];
  EXPECT_NE(s.unsafe[0].find("counts from 2026-12-31"), std::string::npos) << s.unsafe[0];
  EXPECT_NE(s.refusal().find("pins in force are unchanged"), std::string::npos);
  EXPECT_NE(s.refusal().find("--force"), std::string::npos);
  // The other way round is safe.
  EXPECT_TRUE(check_pin_change(after, before, kNow).safe());
}

TEST(PinSafety, AnExpiredWindowCountsAsNoPin) {
  const auto before = table({upstream("a", {make_pin(1, "p"), make_pin(2, "q")})});
  const auto after = table({upstream("a", {make_pin(2, "q", {}, kNow - std::chrono::hours(1))})});
  const PinSafety s = check_pin_change(before, after, kNow);
  ASSERT_FALSE(s.safe());
  EXPECT_NE(s.unsafe[0].find("stopped counting at"), std::string::npos) << s.unsafe[0];
}

TEST(PinSafety, ANewFileUpstreamMustStartWithAValidPinButTofuAndDaneMayWait) {
  const auto before = table({upstream("a", {make_pin(1, "p")})});
  auto with_new = before;
  with_new.upstreams.push_back(upstream("n", {make_pin(5, "later", kNow + std::chrono::hours(1))}));
  EXPECT_FALSE(check_pin_change(before, with_new, kNow).safe());
  for (const PinsFrom from : {PinsFrom::kTofu, PinsFrom::kDane}) {
    auto waiting = before;
    waiting.upstreams.push_back(upstream("w", {}, from));
    const PinSafety s = check_pin_change(before, waiting, kNow);
    EXPECT_TRUE(s.safe()) << to_string(from);
    ASSERT_EQ(s.warnings.size(), 1u) << to_string(from);
    EXPECT_NE(s.warnings[0].find("upstream 'w' has no pin valid now (it has no pin"), std::string::npos) << s.warnings[0];
  }
}

TEST(PinSafety, LosingLearnedOrTlsaPinsIsUnsafeToo) {
  // Forgetting a TOFU key or withdrawing TLSA pins strands the upstream just like a file edit.
  for (const PinsFrom from : {PinsFrom::kTofu, PinsFrom::kDane}) {
    const auto before = table({upstream("t", {make_pin(1, "")}, from), upstream("f", {make_pin(2, "f")})});
    const auto after = table({upstream("t", {}, from), upstream("f", {make_pin(2, "f")})});
    const PinSafety s = check_pin_change(before, after, kNow);
    ASSERT_EQ(s.unsafe.size(), 1u) << to_string(from);
    EXPECT_NE(s.unsafe[0].find("upstream 't'"), std::string::npos);
  }
  // ...unless the operator's own pins still cover it.
  auto before = table({upstream("t", {make_pin(1, ""), make_pin(9, "own")}, PinsFrom::kDane)});
  auto after = table({upstream("t", {make_pin(9, "own")}, PinsFrom::kDane)});
  EXPECT_TRUE(check_pin_change(before, after, kNow).safe());
}

TEST(PinSafety, AnUpstreamThatAlreadyHadNoValidPinDoesNotBlockAnUnrelatedChange) {
  const auto expired = make_pin(1, "gone", {}, kNow - std::chrono::hours(1));
  const auto before = table({upstream("a", {expired}), upstream("b", {make_pin(2, "b1")})});
  const auto after = table({upstream("a", {expired}), upstream("b", {make_pin(2, "b1"), make_pin(3, "b2")})});
  const PinSafety s = check_pin_change(before, after, kNow);
  EXPECT_TRUE(s.safe());
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_NE(s.warnings[0].find("upstream 'a'"), std::string::npos);
}

TEST(PinSafety, RemovingTheLastConnectableUpstreamStrandsThePool) {
  const auto expired = make_pin(1, "gone", {}, kNow - std::chrono::hours(1));
  const auto before = table({upstream("a", {expired}), upstream("b", {make_pin(2, "b1")})});
  const auto after = table({upstream("a", {expired})});  // b removed from the file
  const PinSafety s = check_pin_change(before, after, kNow);
  ASSERT_EQ(s.unsafe.size(), 1u);
  EXPECT_NE(s.unsafe[0].find("no upstream of the pool"), std::string::npos) << s.unsafe[0];
  // Removing one of two good upstreams is fine.
  const auto two = table({upstream("a", {make_pin(1, "a")}), upstream("b", {make_pin(2, "b")})});
  EXPECT_TRUE(check_pin_change(two, table({upstream("a", {make_pin(1, "a")})}), kNow).safe());
}

TEST(PinSafety, ReportModeNeverStrands) {
  // A report-mode upstream connects whatever its pins (it only reports), so it keeps the pool alive.
  const auto before = table({upstream("r", {make_pin(1, "p")}, PinsFrom::kFile, PinMode::kReport)});
  const auto after = table({upstream("r", {make_pin(1, "p", {}, kNow - std::chrono::hours(1))}, PinsFrom::kFile, PinMode::kReport)});
  const PinSafety s = check_pin_change(before, after, kNow);
  EXPECT_TRUE(s.safe());
  EXPECT_TRUE(s.warnings.empty());
}

TEST(PinSafety, SwitchingToReportModeIsADowngradeTheOperatorMustForce) {
  const auto enforcing = table({upstream("a", {make_pin(1, "p")}), upstream("b", {make_pin(2, "b")})});
  auto reporting = enforcing;
  reporting.upstreams[0].mode = PinMode::kReport;
  const PinSafety s = check_pin_change(enforcing, reporting, kNow);
  ASSERT_EQ(s.unsafe.size(), 1u);
  EXPECT_NE(s.unsafe[0].find("upstream 'a' would be in mode 'report' (it enforces its pins now)"), std::string::npos)
      << s.unsafe[0];
  // A new upstream that starts in report mode is the same downgrade.
  auto added = enforcing;
  added.upstreams.push_back(upstream("n", {make_pin(3, "n")}, PinsFrom::kFile, PinMode::kReport));
  const PinSafety t = check_pin_change(enforcing, added, kNow);
  ASSERT_EQ(t.unsafe.size(), 1u);
  EXPECT_NE(t.unsafe[0].find("upstream 'n' would be in mode 'report' (new)"), std::string::npos) << t.unsafe[0];
  // Staying in report mode (the staging continues) and going back to enforce are not.
  EXPECT_TRUE(check_pin_change(reporting, reporting, kNow).safe());
  EXPECT_TRUE(check_pin_change(reporting, enforcing, kNow).safe());
}

TEST(PinSafety, TrustNarrowsWhenAPinOrAnUpstreamGoesButNotWhenPinsAreAddedOrRewindowed) {
  const auto before = table({upstream("a", {make_pin(1, "p"), make_pin(2, "q")}), upstream("b", {make_pin(3, "b")})});
  auto added = before;
  added.upstreams[0].pins.push_back(make_pin(4, "next"));
  EXPECT_FALSE(trust_narrowed(before, added));
  auto rewindowed = before;
  rewindowed.upstreams[0].pins[0].not_after = kNow + std::chrono::hours(48);  // a DANE re-sign, say
  EXPECT_FALSE(trust_narrowed(before, rewindowed));
  auto removed = before;
  removed.upstreams[0].pins.pop_back();
  EXPECT_TRUE(trust_narrowed(before, removed));
  EXPECT_TRUE(trust_narrowed(before, table({upstream("a", {make_pin(1, "p"), make_pin(2, "q")})})));  // b left
  auto report = before;
  report.upstreams[1].mode = PinMode::kReport;
  EXPECT_TRUE(trust_narrowed(before, report));
  auto scoped = before;
  scoped.upstreams[1].pins[0].scope = PinScope::kLeaf;  // the same key, narrower: still a change
  EXPECT_TRUE(trust_narrowed(before, scoped));
}

}  // namespace
}  // namespace dotpin
