// SPDX-License-Identifier: Apache-2.0
#include "control/pin_edit.h"

#include <gtest/gtest.h>

#include "pinning/pin_file.h"

namespace dotpin::ctl {
namespace {

const UnixTime kNow = *parse_utc("2026-11-28T12:00:00Z");
constexpr const char* kPrimary = "F84/Wp7qsvJU3gh03RflCM65iFhXD21tdUiOaRU4+v8=";
constexpr const char* kBackup = "lytNMGLawR46/UyHnpQZvaVnd1tc2LHVNhNAeZhB4L8=";
constexpr const char* kThird = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

PinTable table() {
  const std::string text = std::string("[[upstream]]\nname = \"a\"\naddress = \"192.0.2.1\"\npin = [ { sha256 = \"") + kPrimary +
                           "\", label = \"primary\" }, { sha256 = \"" + kBackup +
                           "\", label = \"backup\", not_after = 2026-01-01 } ]\n";
  auto r = parse_pin_file(text, "t.toml");
  return *r.table;
}

TEST(PinEdit, AddsAPinWithLabelAndWindow) {
  auto t = with_pin_added(table(), {"a", kThird, "next", std::nullopt, parse_utc("2028-01-01")}, kNow);
  ASSERT_TRUE(t) << t.error();
  ASSERT_EQ(t->upstreams[0].pins.size(), 3u);
  EXPECT_EQ(t->upstreams[0].pins[2].label, "next");
  auto checked = check_table(*t, "/etc/dotpin/pins.toml", kNow);
  ASSERT_TRUE(checked) << checked.error();
  EXPECT_NE(checked->text.find(kThird), std::string::npos);
  EXPECT_NE(checked->text.find("not_after = 2028-01-01T00:00:00Z"), std::string::npos) << checked->text;
}

TEST(PinEdit, RefusesBadAdditionsWithTheReason) {
  auto unknown = with_pin_added(table(), {"zz", kThird, "", {}, {}}, kNow);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().find("no upstream named 'zz' (known: a)"), std::string::npos) << unknown.error();
  auto bad = with_pin_added(table(), {"a", "not-base64!", "", {}, {}}, kNow);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("pin 'not-base64!'"), std::string::npos) << bad.error();
  auto dup = with_pin_added(table(), {"a", kPrimary, "again", {}, {}}, kNow);
  ASSERT_FALSE(dup);
  EXPECT_NE(dup.error().find("already has this pin ('primary'"), std::string::npos) << dup.error();
  auto past = with_pin_added(table(), {"a", kThird, "", {}, parse_utc("2020-01-01")}, kNow);
  ASSERT_FALSE(past);
  EXPECT_NE(past.error().find("not in the future"), std::string::npos) << past.error();
  auto inverted = with_pin_added(table(), {"a", kThird, "", parse_utc("2029-01-01"), parse_utc("2028-01-01")}, kNow);
  ASSERT_FALSE(inverted);
  // A label the pin-file grammar refuses is caught by the full check, before anything is written.
  auto label = with_pin_added(table(), {"a", kThird, "bad label!", {}, {}}, kNow);
  ASSERT_TRUE(label);
  auto checked = check_table(*label, "/etc/dotpin/pins.toml", kNow);
  ASSERT_FALSE(checked);
  EXPECT_NE(checked.error().find("label must be"), std::string::npos) << checked.error();
}

TEST(PinEdit, RemovesByValueOrLabel) {
  auto t = with_pin_added(table(), {"a", kThird, "next", {}, {}}, kNow);
  auto by_label = with_pin_removed(*t, "a", "primary");
  ASSERT_TRUE(by_label) << by_label.error();
  EXPECT_EQ(by_label->upstreams[0].pins.size(), 2u);
  auto by_value = with_pin_removed(*t, "a", kThird);
  ASSERT_TRUE(by_value) << by_value.error();
  EXPECT_EQ(by_value->upstreams[0].pins[1].label, "backup");
}

TEST(PinEdit, RefusesRemovingTheOnlyPinOrOneItDoesNotHave) {
  // Leaving no pin valid now (the backup's window has ended) is the publisher's one rule to judge
  // (pin_safety_test.cc, daemon_admin_test.cc): the edit itself only refuses what is never right.
  EXPECT_TRUE(with_pin_removed(table(), "a", "primary"));
  auto only = with_pin_removed(*with_pin_removed(table(), "a", "backup"), "a", "primary");
  ASSERT_FALSE(only);
  EXPECT_NE(only.error().find("only pin"), std::string::npos) << only.error();
  auto missing = with_pin_removed(table(), "a", "nosuch");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("has no pin 'nosuch' (it has: 'primary'"), std::string::npos) << missing.error();
}

TEST(PinEdit, ListShowsStateOfEveryPin) {
  PinSnapshot s;
  s.generation = 4;
  s.table = table();
  s.published_at = kNow;
  const auto j = pins_json(s, kNow);
  EXPECT_EQ(j["generation"], 4);
  EXPECT_EQ(j["upstreams"][0]["valid_pins"], 1);
  EXPECT_EQ(j["upstreams"][0]["pins"][0]["state"], "valid");
  EXPECT_EQ(j["upstreams"][0]["pins"][1]["state"], "expired");
  EXPECT_EQ(j["upstreams"][0]["pins"][1]["not_after"], "2026-01-01T00:00:00Z");
  EXPECT_TRUE(j["upstreams"][0]["pins"][0]["not_after"].is_null());
  EXPECT_EQ(j["upstreams"][0]["pins"][0]["line"], 4);  // where the pin is in its file
  // pins check prints the same form for each upstream.
  EXPECT_EQ(upstream_pins_json(s.table.upstreams[0], kNow), j["upstreams"][0]);
}

}  // namespace
}  // namespace dotpin::ctl
