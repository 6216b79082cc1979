// SPDX-License-Identifier: Apache-2.0
#include "pinning/pin_lint.h"

#include <gtest/gtest.h>

#include "tests/pinning/pin_builders.h"

namespace dotpin {
namespace {

using namespace std::chrono_literals;

const UnixTime kNow = *parse_utc("2027-01-01T00:00:00Z");

using test::make_pin;

UpstreamPins make_upstream(std::string name, std::vector<Pin> pins, std::string addr = "192.0.2.1") {
  UpstreamPins u;
  u.name = std::move(name);
  u.address = *parse_endpoint(addr, 853, false);
  u.pins = std::move(pins);
  u.line = 3;
  return u;
}

std::vector<std::string> lint(const PinTable& t, int warn_days = 30) {
  std::vector<std::string> out;
  for (const auto& d : lint_pin_table(t, kNow, LintOptions{warn_days})) {
    EXPECT_EQ(d.severity, Severity::kWarning);
    out.push_back(d.upstream + "@" + std::to_string(d.line) + ": " + d.message);
  }
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& needle) {
  for (const auto& s : v)
    if (s.find(needle) != std::string::npos) return true;
  return false;
}

TEST(PinLint, CaModeNeedsAnAuthNameOnEveryUpstream) {
  PinTable t;
  t.source = "pins.toml";
  t.upstreams.push_back(make_upstream("named", {make_pin(1, "a"), make_pin(2, "b")}));
  t.upstreams.back().auth_name = "dns.example.net";
  t.upstreams.push_back(make_upstream("nameless", {make_pin(3, "a"), make_pin(4, "b")}, "192.0.2.2"));
  EXPECT_TRUE(trust_profile_errors(t, /*ca_mode=*/false).empty());  // pins alone authenticate
  const auto errors = trust_profile_errors(t, /*ca_mode=*/true);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].severity, Severity::kError);
  EXPECT_EQ(errors[0].upstream, "nameless");
  EXPECT_EQ(errors[0].to_string().rfind("pins.toml:3:", 0), 0u) << errors[0].to_string();
  EXPECT_NE(errors[0].message.find("auth_name"), std::string::npos);
}

TEST(PinLint, CleanTableHasNoWarnings) {
  PinTable t;
  t.upstreams.push_back(make_upstream("a", {make_pin(1, "primary"), make_pin(2, "backup")}));
  EXPECT_TRUE(lint(t).empty()) << ::testing::PrintToString(lint(t));
}

TEST(PinLint, SinglePinWantsABackup) {
  PinTable t;
  t.upstreams.push_back(make_upstream("a", {make_pin(1, "primary")}));
  const auto w = lint(t);
  EXPECT_TRUE(has(w, "a@3: only one pin")) << ::testing::PrintToString(w);
  EXPECT_TRUE(has(w, "RFC 7469"));
}

TEST(PinLint, OnlyOneValidNow) {
  PinTable t;
  t.upstreams.push_back(make_upstream("a", {make_pin(1, "primary"), make_pin(2, "next", kNow + 24h * 100)}));
  EXPECT_TRUE(has(lint(t), "only one pin is valid now"));
}

TEST(PinLint, NoneValidNow) {
  PinTable t;
  t.upstreams.push_back(
      make_upstream("a", {make_pin(1, "old", {}, kNow - 1s), make_pin(2, "next", kNow + 24h * 100)}));
  const auto w = lint(t);
  EXPECT_TRUE(has(w, "no pin is valid now")) << ::testing::PrintToString(w);
  EXPECT_TRUE(has(w, "a@11: pin 'old' expired on 2026-12-31T23:59:59Z")) << ::testing::PrintToString(w);
}

TEST(PinLint, WindowEndingSoonHonoursThreshold) {
  PinTable t;
  t.upstreams.push_back(make_upstream("a", {make_pin(1, "p", {}, kNow + 24h * 10), make_pin(2, "b")}));
  EXPECT_TRUE(has(lint(t, 30), "a@11: pin 'p' window ends in 10 days (2027-01-11T00:00:00Z)"));
  EXPECT_FALSE(has(lint(t, 10), "window ends"));
  EXPECT_TRUE(has(lint(t, 11), "window ends in 10 days"));
}

TEST(PinLint, ReportModeAndDuplicateAddresses) {
  PinTable t;
  auto a = make_upstream("a", {make_pin(1, "p"), make_pin(2, "b")});
  a.mode = PinMode::kReport;
  t.upstreams.push_back(a);
  t.upstreams.push_back(make_upstream("c", {make_pin(1, "p"), make_pin(2, "b")}));
  const auto w = lint(t);
  EXPECT_TRUE(has(w, "a@3: mode 'report'"));
  EXPECT_TRUE(has(w, "c@3: same address 192.0.2.1:853 as upstream 'a'"));
}

TEST(PinLint, DuplicateAddressesAlsoForLearnedAndDanePins) {
  // A TOFU or DANE upstream has no file pins to lint, but a shared address is about the upstream,
  // not its pins: it is warned about all the same. (Report mode cannot occur there: the pin file
  // refuses it on TOFU and DANE upstreams.)
  PinTable t;
  auto a = make_upstream("a", {});
  a.pins_from = PinsFrom::kDane;
  t.upstreams.push_back(a);
  auto c = make_upstream("c", {});
  c.pins_from = PinsFrom::kTofu;
  t.upstreams.push_back(c);
  const auto w = lint(t);
  EXPECT_TRUE(has(w, "c@3: same address 192.0.2.1:853 as upstream 'a'"));
  EXPECT_FALSE(has(w, "no pin is valid now"));
}

}  // namespace
}  // namespace dotpin
