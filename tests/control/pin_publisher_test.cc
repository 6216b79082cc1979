// SPDX-License-Identifier: Apache-2.0
// The publisher's report-mode warning: at start and at every change of the operator's pin file,
// and when the set of report-mode upstreams changes; not at each DANE refresh (a zone that
// re-signs publishes a generation every refresh: the warning would repeat all day).
#include "control/pin_publisher.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "fake_data_plane.h"

namespace dotpin::ctl {
namespace {

Pin pin_of(std::uint8_t b, std::optional<UnixTime> not_after = std::nullopt) {
  Pin p;
  p.digest.fill(b);
  p.not_after = not_after;
  return p;
}

UpstreamPins upstream(const char* name, const char* address, PinMode mode, PinsFrom from) {
  UpstreamPins up;
  up.name = name;
  up.address = *parse_endpoint(address, 853, false);
  up.auth_name = "dns.dotpin.test";
  up.mode = mode;
  up.pins_from = from;
  if (from == PinsFrom::kFile) up.pins = {pin_of(1), pin_of(2)};
  else up.pins = {pin_of(3)};  // the operator's own pin beside the TLSA ones
  return up;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(PinPublisher, ReportModeIsWarnedOfAtStartAtFileChangesAndWhenItChangesNotAtEachDaneRefresh) {
  PinTable t;
  t.source = "pins.toml";
  t.upstreams = {upstream("r", "198.18.0.2:853", PinMode::kReport, PinsFrom::kFile),
                 upstream("d", "198.18.0.3:853", PinMode::kEnforce, PinsFrom::kDane)};
  PinStore store;
  PinPublisher pub(store, PinPublisher::Options{"", false, ""});
  const std::string warning = "upstream 'r' is in mode 'report'";

  testing::internal::CaptureStderr();
  ASSERT_TRUE(pub.start(t, {}, now_utc()));
  EXPECT_EQ(count(testing::internal::GetCapturedStderr(), warning + " in generation 1"), 1u);

  test::FakeDataPlane dp(store.current());
  pub.attach(dp);
  const UnixTime now = now_utc();
  testing::internal::CaptureStderr();
  for (int i = 0; i < 5; ++i) {  // re-signed RRsets: new windows, new generations
    PinPublisher::DaneEntry e{"dns.dotpin.test", 853, {pin_of(9, now + std::chrono::hours(48 + i))}};
    ASSERT_TRUE(pub.set_dane("d", e, "dane refresh"));
  }
  std::string log = testing::internal::GetCapturedStderr();
  EXPECT_EQ(store.current()->generation, 6u);
  EXPECT_EQ(count(log, warning), 0u) << log;

  testing::internal::CaptureStderr();  // the operator reloads the file: told again
  ASSERT_TRUE(pub.replace_file(t, "", "reloaded"));
  log = testing::internal::GetCapturedStderr();
  EXPECT_EQ(count(log, warning + " in generation 7"), 1u) << log;

  // Back to enforce, then a DANE refresh: nothing; report mode again (forced): told.
  PinTable enforce = t;
  enforce.upstreams[0].mode = PinMode::kEnforce;
  testing::internal::CaptureStderr();
  ASSERT_TRUE(pub.replace_file(enforce, "", "reloaded"));
  ASSERT_TRUE(pub.set_dane("d", {"dns.dotpin.test", 853, {pin_of(8, now + std::chrono::hours(72))}}, "dane refresh"));
  ASSERT_TRUE(pub.replace_file(t, "", "reloaded", /*force=*/true));
  log = testing::internal::GetCapturedStderr();
  EXPECT_EQ(count(log, warning), 1u) << log;
  EXPECT_EQ(count(log, warning + " in generation 10"), 1u) << log;
}

// Two tenants with an upstream of the same name at the same address, each learning on first use:
// a key learned in one view is persisted to that view's state file and published to that view
// only; the other's pins, state file and generation are untouched.
TEST(PinPublisher, AViewsLearnedKeyStaysInItsViewAndItsOwnStateFile) {
  const auto dir = std::filesystem::temp_directory_path() / ("dotpin-pub-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string state_a = (dir / "tofu.a.json").string(), state_b = (dir / "tofu.b.json").string();
  PinTable t;
  t.upstreams = {upstream("t", "198.18.0.3:853", PinMode::kEnforce, PinsFrom::kTofu)};
  t.upstreams[0].pins.clear();  // nothing of the operator's: the key comes from first use only
  PinStore store_a, store_b;
  PinPublisher a(store_a, PinPublisher::Options{"", true, state_a});  // CA mode: TOFU needs no opt-in
  PinPublisher::Options ob{"", true, state_b};
  ob.view = 1;
  PinPublisher b(store_b, ob);
  ASSERT_TRUE(a.start(t, {}, now_utc()));
  ASSERT_TRUE(b.start(t, {}, now_utc()));
  test::FakeDataPlane dp({{"a", std::nullopt, {"198.18.1.0/24"}, "pins-a.toml"}, {"b", std::nullopt, {"198.18.2.0/24"}, "pins-b.toml"}},
                         {store_a.current(), store_b.current()});
  a.attach(dp);
  b.attach(dp);
  LearnedUpstream learned{"198.18.0.3:853", "dns.dotpin.test", {{pin_of(9).digest, PinScope::kLeaf, now_utc(), "198.18.0.3:853"}}};
  ASSERT_TRUE(b.set_learned("t", learned, "view b: upstream t: learned", /*force=*/true));
  ASSERT_EQ(dp.published_views, std::vector<std::size_t>{1});
  EXPECT_EQ(dp.pins(1)->generation, 2u);
  ASSERT_EQ(dp.pins(1)->table.upstreams[0].pins.size(), 1u);
  EXPECT_EQ(dp.pins(1)->table.upstreams[0].pins[0].digest, pin_of(9).digest);
  EXPECT_EQ(dp.pins(0)->generation, 1u) << "view a's pins are not republished";
  EXPECT_TRUE(dp.pins(0)->table.upstreams[0].pins.empty()) << "view b's key must not admit servers to view a";
  EXPECT_TRUE(a.tofu_state().upstreams.empty());
  EXPECT_TRUE(std::filesystem::exists(state_b));
  EXPECT_FALSE(std::filesystem::exists(state_a)) << "view a's state file was written by view b's change";
  const auto reread = load_tofu_state(state_b);
  ASSERT_TRUE(reread);
  EXPECT_TRUE(reread->upstreams.contains("t"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dotpin::ctl
