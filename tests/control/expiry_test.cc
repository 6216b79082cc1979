// SPDX-License-Identifier: Apache-2.0
#include "control/expiry.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

#include "pinning/pin_file.h"
#include "tests/test_pki.h"
#include "tests/tls/socket_dot_responder.h"

namespace dotpin::ctl {
namespace {

using namespace std::chrono_literals;

const UnixTime kNow = *parse_utc("2026-11-28T12:00:00Z");

PinTable table(const std::string& pins) {
  const std::string text = "[[upstream]]\nname = \"a\"\naddress = \"192.0.2.1\"\npin = [ " + pins + " ]\n";
  auto r = parse_pin_file(text, "t.toml");
  EXPECT_TRUE(r.table) << (r.errors.empty() ? "" : r.errors.front().to_string());
  return *r.table;
}

const std::string kTwo =
    R"({ sha256 = "F84/Wp7qsvJU3gh03RflCM65iFhXD21tdUiOaRU4+v8=", label = "primary" }, )"
    R"({ sha256 = "lytNMGLawR46/UyHnpQZvaVnd1tc2LHVNhNAeZhB4L8=", label = "backup", not_after = 2026-12-03T12:00:00Z })";

const ExpiryItem* find(const std::vector<ExpiryItem>& items, const std::string& kind) {
  for (const auto& i : items)
    if (i.kind == kind) return &i;
  return nullptr;
}

TEST(Expiry, GradesEachDeadlineAtTheTightestThresholdCrossed) {
  ChainObservation o;
  o.checked_at = kNow;
  o.leaf_subject = "CN=dns.dotpin.test";
  o.leaf_not_after = kNow + std::chrono::days(20);
  o.matched_element = 1;
  o.matched_subject = "CN=issuing";
  o.matched_not_after = kNow + std::chrono::days(400);
  const auto items = evaluate_expiry(table(kTwo), {{"a", o}}, kNow, {30, 7});
  const auto* cert = find(items, "certificate");
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(cert->status, "warning");
  EXPECT_EQ(cert->threshold, 30);
  EXPECT_EQ(cert->days_left, 20);
  const auto* window = find(items, "pin_window");
  ASSERT_NE(window, nullptr);
  EXPECT_EQ(window->item, "'backup'");
  EXPECT_EQ(window->status, "warning");
  EXPECT_EQ(window->threshold, 7);  // 5 days left: past both thresholds, the tighter one counts
  const auto* matched = find(items, "pinned_certificate");
  ASSERT_NE(matched, nullptr);
  EXPECT_EQ(matched->status, "ok");
  EXPECT_EQ(find(items, "valid_pins")->status, "ok");
}

TEST(Expiry, SingleValidPinIsAWarningAndNoneIsAnError) {
  const std::string one = R"({ sha256 = "F84/Wp7qsvJU3gh03RflCM65iFhXD21tdUiOaRU4+v8=" })";
  EXPECT_EQ(find(evaluate_expiry(table(one), {}, kNow, {30, 7}), "valid_pins")->status, "warning");
  const auto later = kNow + std::chrono::days(6);  // the backup window has ended by then
  const auto items = evaluate_expiry(table(kTwo), {}, later, {30, 7});
  EXPECT_EQ(find(items, "valid_pins")->status, "warning");
  const std::string none = R"({ sha256 = "F84/Wp7qsvJU3gh03RflCM65iFhXD21tdUiOaRU4+v8=", not_after = 2026-01-01 })";
  EXPECT_EQ(find(evaluate_expiry(table(none), {}, kNow, {30, 7}), "valid_pins")->status, "error");
}

TEST(Expiry, ExpiredCertificateUnmatchedChainAndFailedProbeAreReported) {
  ChainObservation expired;
  expired.leaf_subject = "CN=old";
  expired.leaf_not_after = kNow - std::chrono::days(1);
  expired.matched_element = -1;
  auto items = evaluate_expiry(table(kTwo), {{"a", expired}}, kNow, {30, 7});
  EXPECT_EQ(find(items, "certificate")->status, "error");
  EXPECT_EQ(find(items, "pinned_certificate")->status, "error");
  ChainObservation down;
  down.error = "connection refused";
  items = evaluate_expiry(table(kTwo), {{"a", down}}, kNow, {30, 7});
  EXPECT_EQ(find(items, "probe")->status, "warning");
  EXPECT_NE(find(items, "probe")->message.find("connection refused"), std::string::npos);
}

TEST(Expiry, OnlyAChainThatAuthenticatesIsGraded) {
  // An on-path attacker must not be able to feed the monitor subjects or dates (or alerts about
  // them): the chain is judged exactly as the resolver judges it, and graded only if it passes.
  DOTPIN_REQUIRE_PKI();
  UpstreamPins up;
  up.name = "a";
  up.auth_name = "dns.dotpin.test";
  Pin p;
  p.digest = *parse_pin_base64(test::reference_pin("leaf-p256"));
  up.pins = {p};
  const UnixTime now = now_utc();
  {
    test::SocketDotResponder impostor(test::pki_dir() + "/hostile/selfsigned-plus-leaf.key",
                                     test::pki_dir() + "/hostile/selfsigned-plus-leaf.chain.pem");
    up.address = *parse_endpoint(impostor.address(), 853, false);
    const ChainObservation o = observe_chain(up, now, std::chrono::seconds(5));
    EXPECT_TRUE(o.error.empty()) << o.error;
    EXPECT_EQ(o.refusal, "pin_not_on_path");  // the genuine leaf is appended, not on the path
    EXPECT_TRUE(o.leaf_subject.empty());
    EXPECT_FALSE(o.leaf_not_after);
    EXPECT_FALSE(o.matched_not_after);
    PinTable t;
    t.upstreams = {up};
    const auto items = evaluate_expiry(t, {{"a", o}}, now, {30, 7});
    EXPECT_EQ(find(items, "certificate"), nullptr);
    ASSERT_NE(find(items, "pinned_certificate"), nullptr);
    EXPECT_NE(find(items, "pinned_certificate")->message.find("did not authenticate (pin_not_on_path)"),
              std::string::npos);
  }
  {
    test::SocketDotResponder genuine(test::pki_dir() + "/leaf-p256.key", test::pki_dir() + "/leaf-p256.chain.pem");
    up.address = *parse_endpoint(genuine.address(), 853, false);
    const ChainObservation o = observe_chain(up, now, std::chrono::seconds(5));
    EXPECT_TRUE(o.refusal.empty()) << o.refusal;
    EXPECT_EQ(o.leaf_subject, "O=dotpin tests, CN=dns.dotpin.test");
    EXPECT_EQ(o.matched_element, 0);
  }
}

TEST(ExpiryMonitor, WarnsOncePerThresholdAndRunsTheAlertCommandWithDetailsInItsEnvironment) {
  const auto dir = std::filesystem::temp_directory_path() / ("dotpin-expiry-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string out = (dir / "alerts").string();
  auto snap = std::make_shared<PinSnapshot>();
  snap->generation = 1;
  snap->table = table(kTwo);
  ExpiryMonitor::Options o;
  o.clock = [] { return kNow; };  // the table's dates are fixed: so is the monitor's time
  o.alert_command = "echo \"$DOTPIN_UPSTREAM $DOTPIN_KIND $DOTPIN_STATUS $DOTPIN_THRESHOLD_DAYS\" >> '" + out + "'";
  std::vector<std::string> logged;
  int probes = 0;
  ExpiryMonitor m(
      o, [snap] { return snap; }, [&](std::string_view l) { logged.emplace_back(l); },
      [&](const UpstreamPins&, UnixTime now) {
        ++probes;
        ChainObservation c;
        c.checked_at = now;
        c.leaf_subject = "CN=$(touch /tmp/pwned)";  // text from the network: never reaches a shell
        c.leaf_not_after = kNow + std::chrono::days(10);  // a certificate's end does not move
        c.matched_element = 0;
        return c;
      });
  m.check_now();
  m.check_now();  // nothing new: no second log line or alert
  EXPECT_EQ(probes, 2);
  ASSERT_EQ(logged.size(), 2u) << (logged.empty() ? "" : logged[0]);  // the certificate (30d) and the pin window (7d)
  EXPECT_EQ(m.alerts_run(), 2u);
  std::ifstream in(out);
  std::stringstream s;
  s << in.rdbuf();
  EXPECT_NE(s.str().find("a certificate warning 30\n"), std::string::npos) << s.str();
  EXPECT_NE(s.str().find("a pin_window warning 7\n"), std::string::npos) << s.str();
  EXPECT_FALSE(std::filesystem::exists("/tmp/pwned"));
  std::filesystem::remove_all(dir);
}

TEST(ExpiryMonitor, ThreadChecksAtStartAndStopWakesItFromItsInterval) {
  auto snap = std::make_shared<PinSnapshot>();
  snap->table = table(kTwo);  // one upstream: one probe per check
  ExpiryMonitor::Options o;
  o.clock = [] { return kNow; };
  // A stop() that waited for the next check would not return within the test's timeout.
  o.interval = std::chrono::hours(24 * 365);
  std::atomic<int> probes{0};
  std::promise<void> first_check;
  ExpiryMonitor m(o, [snap] { return snap; }, {}, [&](const UpstreamPins&, UnixTime) {
    if (++probes == 1) first_check.set_value();
    return ChainObservation{};
  });
  m.start();
  first_check.get_future().wait();  // the check at start
  m.stop();                         // wakes the thread out of its year-long wait and joins it
  EXPECT_EQ(probes.load(), 1);      // one check at start, none on the way out
}

}  // namespace
}  // namespace dotpin::ctl
