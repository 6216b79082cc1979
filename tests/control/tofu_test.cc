// SPDX-License-Identifier: Apache-2.0
// Trust on first use on the control side: the state file, the composition of the table in force,
// what the learner learns (and refuses to) from chains a server could present, and the pin
// sources thread's learn/persist/accept/forget cycle against a fake data plane. The handshakes are
// faked (FetchFn returns test-PKI chains); the real path is tests/integration/test_dotpind_tofu.py.
#include "control/pin_publisher.h"
#include "control/pin_source_threads.h"
#include "control/pin_sources.h"
#include "control/tofu_learner.h"
#include "control/tofu_state.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "fake_data_plane.h"
#include "pinning/pem.h"
#include "pinning/pin_file.h"
#include "pinning/pin_file_writer.h"
#include "pinning/pin_lint.h"
#include "tests/test_pki.h"
#include "tls/failure_reason.h"

namespace dotpin::ctl {
namespace {

constexpr const char* kAuthName = "dns.dotpin.test";

/// What a server at each address presents: a PEM file of the test PKI ("" = unreachable).
struct FakeServers {
  std::map<std::string, std::string> chains;  // address -> PEM file
  int fetches = 0;
  std::string last_ca_file;

  TofuLearner::FetchFn fn() {
    return [this](const tls::FetchOptions& o) -> Result<tls::FetchedChain> {
      ++fetches;
      last_ca_file = o.ca_file;
      const auto it = chains.find(o.server.to_string());
      if (it == chains.end() || it->second.empty()) return fail("connect: connection refused");
      tls::FetchedChain c;
      auto objs = read_key_objects(test::pki_file(it->second), it->second);
      if (!objs) return fail("bad test file");
      for (auto& obj : *objs) c.chain.push_back(std::move(obj.der));
      c.protocol = "TLSv1.3";
      c.pkix_checked = !o.ca_file.empty();
      c.pkix_ok = c.pkix_checked;  // the verifier's own CA-mode check is what the learner relies on
      return c;
    };
  }
};

UpstreamPins tofu_upstream(std::string name = "a", std::string address = "198.18.0.2:853") {
  UpstreamPins u;
  u.name = std::move(name);
  u.address = *parse_endpoint(address, 853, false);
  u.auth_name = kAuthName;
  u.pins_from = PinsFrom::kTofu;
  u.tofu_without_ca = true;
  return u;
}

PinDigest ref(const std::string& stem) { return *parse_pin_base64(test::reference_pin(stem)); }

std::unique_ptr<TofuLearner> learner(FakeServers& servers, std::string ca_file = {}) {
  TofuLearner::Options o;
  o.ca_file = std::move(ca_file);
  auto l = TofuLearner::create(o, servers.fn());
  EXPECT_TRUE(l) << (l ? "" : l.error());
  return l ? std::move(*l) : nullptr;
}

// ---- the state file ----

TEST(TofuState, RoundTripsAndBindsEntriesToTheUpstreamsIdentity) {
  TofuState s;
  LearnedUpstream e{"198.18.0.2:853", kAuthName, {}};
  e.pins.push_back({PinDigest{1, 2, 3}, PinScope::kLeaf, *parse_utc("2026-12-01T10:00:00Z"), "198.18.0.2:853"});
  e.pins.push_back({PinDigest{4, 5, 6}, PinScope::kIssuer, *parse_utc("2026-12-01T10:00:00Z"), "198.18.0.2:853"});
  s.upstreams["a"] = e;
  const auto back = parse_tofu_state(render_tofu_state(s), "t.json");
  ASSERT_TRUE(back) << back.error();
  ASSERT_EQ(back->upstreams.at("a").pins.size(), 2u);
  EXPECT_EQ(back->upstreams.at("a").pins[1].scope, PinScope::kIssuer);
  EXPECT_EQ(back->upstreams.at("a").pins[0].digest, (PinDigest{1, 2, 3}));

  UpstreamPins up = tofu_upstream();
  EXPECT_NE(back->entry_for(up), nullptr);
  up.address = *parse_endpoint("198.18.0.3:853", 853, false);  // the operator moved it: learn again
  EXPECT_EQ(back->entry_for(up), nullptr);
  up = tofu_upstream();
  up.auth_name = "other.dotpin.test";
  EXPECT_EQ(back->entry_for(up), nullptr);
}

TEST(TofuState, AMissingFileIsEmptyAndABrokenOneIsAnErrorNamingIt) {
  const auto dir = std::filesystem::temp_directory_path() / ("dotpin-tofu-state-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "tofu.json").string();
  const auto empty = load_tofu_state(path);
  ASSERT_TRUE(empty) << empty.error();
  EXPECT_TRUE(empty->upstreams.empty());
  for (const char* text : {"{", "[]", R"({"version": 2, "upstreams": []})",
                           R"({"version": 1, "upstreams": [{"name": "a", "address": "x", "auth_name": "", "pins": []}]})",
                           R"({"version": 1, "upstreams": [{"name": "a", "address": "x", "auth_name": "",
                               "pins": [{"sha256": "short", "role": "leaf", "learned_at": "2026-12-01T00:00:00Z", "learned_from": "x"}]}]})",
                           R"({"version": 1, "upstreams": [{"name": "a", "address": "x", "auth_name": "",
                               "pins": [{"sha256": "F84/Wp7qsvJU3gh03RflCM65iFhXD21tdUiOaRU4+v8=", "role": "root", "learned_at": "2026-12-01T00:00:00Z", "learned_from": "x"}]}]})"}) {
    std::ofstream(path, std::ios::trunc) << text;
    const auto r = load_tofu_state(path);
    ASSERT_FALSE(r) << text;
    EXPECT_NE(r.error().find(path), std::string::npos) << r.error();
  }
  // A state file that was there (FILE.prev exists) and is now gone is not "nothing learned yet".
  std::filesystem::remove(path);
  std::ofstream(path + ".prev") << "{}";
  const auto lost = load_tofu_state(path);
  ASSERT_FALSE(lost);
  EXPECT_NE(lost.error().find(".prev exists"), std::string::npos) << lost.error();
  std::filesystem::remove_all(dir);
}

// Moving to [[view]] sections: the keys in [tofu] state_file would be read by no view and learned
// again on first use, so dotpind refuses to start while it is there; a view's file that no view
// uses any more (a view renamed or removed) is found for a warning.
TEST(TofuState, WithViewsTheAppliancesFileMustHaveBeenMigratedAndOrphansAreFound) {
  const auto dir = std::filesystem::temp_directory_path() / ("dotpin-tofu-migrate-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string global = (dir / "tofu.json").string();
  const std::vector<std::string> views = {(dir / "tofu.a.json").string(), (dir / "tofu.b.json").string()};
  EXPECT_TRUE(check_state_file_migrated(global, views)) << "nothing learned before the views: nothing to migrate";
  std::ofstream(global + ".prev") << "{}";
  const auto prev_only = check_state_file_migrated(global, views);
  ASSERT_FALSE(prev_only);
  std::filesystem::remove(global + ".prev");
  std::ofstream(global) << R"({"version": 1, "upstreams": []})";
  const auto refused = check_state_file_migrated(global, views);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("would be learned again on first use"), std::string::npos) << refused.error();
  EXPECT_NE(refused.error().find(views[1]), std::string::npos) << refused.error();
  EXPECT_TRUE(check_state_file_migrated(global, {global, views[1]})) << "a view may keep the file as its own";
  for (const char* name : {"tofu.a.json", "tofu.old.json", "tofu.old.json.prev", "tofu.json.prev", "other.x.json", "tofu..json"})
    std::ofstream(dir / name) << "{}";
  EXPECT_EQ(orphaned_view_state_files(global, views), std::vector<std::string>{(dir / "tofu.old.json").string()});
  std::filesystem::remove_all(dir);
}

// ---- the pin file and the composed table ----

TEST(TofuPinFile, KeysParseAndAreCheckedAndTheWriterKeepsOnlyTheOperatorsPins) {
  const std::string ok = "[[upstream]]\nname = \"a\"\naddress = \"198.18.0.2\"\nauth_name = \"dns.dotpin.test\"\n"
                         "pins_from = \"tofu\"\nlearn = \"leaf+issuer\"\nlearn_from = [\"198.18.0.2\", \"198.18.1.2:853\"]\n";
  const auto r = parse_pin_file(ok, "p.toml");
  ASSERT_TRUE(r.table) << (r.errors.empty() ? "" : r.errors[0].to_string());
  const UpstreamPins& u = r.table->upstreams[0];
  EXPECT_EQ(u.pins_from, PinsFrom::kTofu);
  EXPECT_EQ(u.learn, TofuLearn::kLeafAndIssuer);
  ASSERT_EQ(u.learn_from.size(), 2u);
  EXPECT_EQ(u.learn_from[1].to_string(), "198.18.1.2:853");
  // Without a CA file the operator must opt in to learning from whoever answers first.
  const auto trust = trust_profile_errors(*r.table, /*ca_mode=*/false);
  ASSERT_EQ(trust.size(), 1u);
  EXPECT_NE(trust[0].message.find("tofu_without_ca"), std::string::npos);
  EXPECT_TRUE(trust_profile_errors(*r.table, /*ca_mode=*/true).empty());

  for (const auto& [text, needle] : std::vector<std::pair<std::string, std::string>>{
           {"[[upstream]]\nname = \"a\"\naddress = \"198.18.0.2\"\nlearn = \"leaf\"\npin = [{ sha256 = \"F84/Wp7qsvJU3gh03RflCM65iFhXD21tdUiOaRU4+v8=\" }]\n",
            "apply only to pins_from"},
           {"[[upstream]]\nname = \"a\"\naddress = \"198.18.0.2\"\npins_from = \"dane\"\n", "needs auth_name"},
           {"[[upstream]]\nname = \"a\"\naddress = \"198.18.0.2\"\npins_from = \"magic\"\n", "is not one of"},
           {"[[upstream]]\nname = \"a\"\naddress = \"198.18.0.2\"\npins_from = \"tofu\"\nlearn_from = [\"198.18.0.2\", \"198.18.0.2:853\"]\n",
            "repeats"},
           {"[[upstream]]\nname = \"a\"\naddress = \"198.18.0.2\"\n", "no pins"},
           // a learned issuer key without a name would admit anything that CA issues
           {"[[upstream]]\nname = \"a\"\naddress = \"198.18.0.2\"\npins_from = \"tofu\"\nlearn = \"leaf+issuer\"\n",
            "needs auth_name"},
           // with nothing learned, report mode would admit every chain
           {"[[upstream]]\nname = \"a\"\naddress = \"198.18.0.2\"\nauth_name = \"dns.dotpin.test\"\npins_from = \"tofu\"\n"
            "mode = \"report\"\n",
            "cannot be combined"},
           {"[[upstream]]\nname = \"a\"\naddress = \"198.18.0.2\"\nauth_name = \"dns.dotpin.test\"\npins_from = \"dane\"\n"
            "mode = \"report\"\n",
            "cannot be combined"},
           {"[[upstream]]\nname = \"a\"\naddress = \"198.18.0.2\"\nauth_name = \"dns.dotpin.test\"\npins_from = \"tofu\"\n"
            "tlsa_port = 853\n",
            "tlsa_port applies only"}}) {
    const auto bad = parse_pin_file(text, "p.toml");
    EXPECT_FALSE(bad.table) << text;
    ASSERT_FALSE(bad.errors.empty()) << text;
    const std::string& want = needle;  // (clang 14 does not capture structured bindings)
    const auto hit = std::ranges::find_if(bad.errors, [&want](const Diagnostic& d) { return d.to_string().find(want) != std::string::npos; });
    ASSERT_NE(hit, bad.errors.end()) << bad.errors[0].to_string();
    EXPECT_GT(hit->line, 0);
  }

  // The composed table holds the learned pins; the operator's file, rendered from it, does not.
  TofuState s;
  s.upstreams["a"] = LearnedUpstream{"198.18.0.2:853", kAuthName, {{PinDigest{9}, PinScope::kLeaf, {}, "198.18.0.2:853"}}};
  const PinTable composed = PinPublisher::compose(*r.table, s, {});
  ASSERT_EQ(composed.upstreams[0].pins.size(), 1u);
  EXPECT_EQ(composed.upstreams[0].pins[0].origin, PinOrigin::kTofu);
  EXPECT_EQ(composed.upstreams[0].pins[0].scope, PinScope::kLeaf);
  const auto rendered = parse_pin_file(render_pin_file(composed, "t"), "p.toml");
  ASSERT_TRUE(rendered.table);
  EXPECT_TRUE(rendered.table->upstreams[0].pins.empty());
  EXPECT_EQ(rendered.table->upstreams[0].learn_from.size(), 2u);
  EXPECT_EQ(rendered.table->upstreams[0].learn, TofuLearn::kLeafAndIssuer);
}

TEST(TofuReason, AMismatchOnALearnedUpstreamIsTofuChanged) {
  UpstreamPins up = tofu_upstream();
  PinVerdict v;
  v.code = PinVerdictCode::kMismatch;
  EXPECT_EQ(tls::reason_for(v, up), tls::FailureReason::kPinMismatch);  // nothing learned yet
  Pin learned;
  learned.origin = PinOrigin::kTofu;
  up.pins.push_back(learned);
  EXPECT_EQ(tls::reason_for(v, up), tls::FailureReason::kTofuChanged);
  v.code = PinVerdictCode::kNameMismatch;  // other refusals keep their reason
  EXPECT_EQ(tls::reason_for(v, up), tls::FailureReason::kNameMismatch);
  EXPECT_TRUE(tls::is_authentication_failure(tls::FailureReason::kTofuChanged));
  up.pins_from = PinsFrom::kFile;
  v.code = PinVerdictCode::kMismatch;
  EXPECT_EQ(tls::reason_for(v, up), tls::FailureReason::kPinMismatch);
}

// ---- the learner ----

TEST(TofuLearner, LearnsTheKeyThatSignedTheHandshakeAndWithLeafIssuerItsVerifiedIssuer) {
  DOTPIN_REQUIRE_PKI();
  FakeServers servers;
  servers.chains["198.18.0.2:853"] = "leaf-p256.chain.pem";
  auto l = learner(servers);
  const UnixTime now = now_utc();
  UpstreamPins up = tofu_upstream();
  auto o = l->learn(up, now);
  ASSERT_TRUE(o.learned) << o.why;
  ASSERT_EQ(o.learned->pins.size(), 1u);
  EXPECT_EQ(o.learned->pins[0].digest, ref("leaf-p256"));
  EXPECT_EQ(o.learned->pins[0].scope, PinScope::kLeaf);
  EXPECT_EQ(o.learned->pins[0].learned_from, "198.18.0.2:853");
  EXPECT_EQ(o.learned->address, "198.18.0.2:853");

  up.learn = TofuLearn::kLeafAndIssuer;
  o = l->learn(up, now);
  ASSERT_TRUE(o.learned) << o.why;
  ASSERT_EQ(o.learned->pins.size(), 2u);
  EXPECT_EQ(o.learned->pins[1].digest, ref("issuing"));
  EXPECT_EQ(o.learned->pins[1].scope, PinScope::kIssuer);
}

TEST(TofuLearner, NeverLearnsACertificateTheServerMerelyAppended) {
  DOTPIN_REQUIRE_PKI();
  FakeServers servers;
  // A self-signed impostor for the name that appends the genuine leaf and issuing CA.
  servers.chains["198.18.0.2:853"] = "hostile/selfsigned-plus-leaf.chain.pem";
  auto l = learner(servers);
  UpstreamPins up = tofu_upstream();
  up.learn = TofuLearn::kLeafAndIssuer;
  const auto o = l->learn(up, now_utc());
  EXPECT_FALSE(o.learned);
  EXPECT_EQ(o.refusal, LearnRefusal::kNotOnPath) << o.why;
  // leaf only: what is learned is the impostor's own key (TOFU's known limit), never the appended one.
  up.learn = TofuLearn::kLeaf;
  const auto leaf = l->learn(up, now_utc());
  ASSERT_TRUE(leaf.learned) << leaf.why;
  EXPECT_EQ(leaf.learned->pins[0].digest, ref("hostile/selfsigned-plus-leaf"));
  EXPECT_NE(leaf.learned->pins[0].digest, ref("leaf-p256"));
}

TEST(TofuLearner, InCaModeAChainWithoutAPathToTheCaIsNotLearned) {
  DOTPIN_REQUIRE_PKI();
  FakeServers servers;
  servers.chains["198.18.0.2:853"] = "hostile/selfsigned-plus-leaf.chain.pem";
  servers.chains["198.18.0.3:853"] = "leaf-p256.chain.pem";
  auto l = learner(servers, test::pki_dir() + "/root.crt");
  UpstreamPins up = tofu_upstream();
  up.tofu_without_ca = false;
  const auto o = l->learn(up, now_utc());
  EXPECT_FALSE(o.learned);
  EXPECT_EQ(o.refusal, LearnRefusal::kRefused) << o.why;
  EXPECT_EQ(servers.last_ca_file, test::pki_dir() + "/root.crt");
  const auto genuine = l->learn(tofu_upstream("b", "198.18.0.3:853"), now_utc());
  ASSERT_TRUE(genuine.learned) << genuine.why;
  EXPECT_EQ(genuine.learned->pins[0].digest, ref("leaf-p256"));
}

TEST(TofuLearner, TheNameIsCheckedAndEveryLearnFromAddressMustAgree) {
  DOTPIN_REQUIRE_PKI();
  FakeServers servers;
  servers.chains["198.18.0.2:853"] = "other-name.chain.pem";
  auto l = learner(servers);
  auto o = l->learn(tofu_upstream(), now_utc());
  EXPECT_FALSE(o.learned);
  EXPECT_EQ(o.refusal, LearnRefusal::kRefused);
  EXPECT_NE(o.why.find("name"), std::string::npos) << o.why;

  servers.chains["198.18.0.2:853"] = "leaf-p256.chain.pem";
  servers.chains["198.18.1.2:853"] = "hostile/misissued-plus-leaf.chain.pem";  // another key on the second path
  UpstreamPins up = tofu_upstream();
  up.learn_from = {*parse_endpoint("198.18.0.2", 853, false), *parse_endpoint("198.18.1.2", 853, false)};
  o = l->learn(up, now_utc());
  EXPECT_FALSE(o.learned);
  EXPECT_EQ(o.refusal, LearnRefusal::kDisagree) << o.why;

  servers.chains["198.18.1.2:853"] = "leaf-p256.chain.pem";
  o = l->learn(up, now_utc());
  ASSERT_TRUE(o.learned) << o.why;
  EXPECT_EQ(o.learned->pins[0].learned_from, "198.18.0.2:853, 198.18.1.2:853");

  servers.chains["198.18.1.2:853"] = "";
  o = l->learn(up, now_utc());
  EXPECT_FALSE(o.learned);
  EXPECT_EQ(o.refusal, LearnRefusal::kUnreachable);
}

// ---- the pin sources thread, against a fake data plane ----

class TofuSourcesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("dotpin-tofu-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    state_ = (dir_ / "tofu.json").string();
    servers_.chains["198.18.0.2:853"] = "leaf-p256.chain.pem";
    start(report_mode_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void start(bool report) {
    sources_.reset();
    PinTable t;
    t.source = (dir_ / "pins.toml").string();
    UpstreamPins up = tofu_upstream();
    if (report) up.mode = PinMode::kReport;
    t.upstreams.push_back(up);
    auto state = load_tofu_state(state_);
    ASSERT_TRUE(state) << state.error();
    store_ = std::make_unique<PinStore>();
    publisher_ = std::make_unique<PinPublisher>(*store_, PinPublisher::Options{t.source, false, state_});
    ASSERT_TRUE(publisher_->start(t, std::move(*state), now_utc()));
    dp_ = std::make_unique<test::FakeDataPlane>(store_->current());
    publisher_->attach(*dp_);
    PinSources::Options o;
    o.clock = [this] { return now_; };
    sources_ = std::make_unique<PinSources>(o, *publisher_, learner(servers_), nullptr, nullptr);
  }
  [[nodiscard]] std::vector<Pin> pins_in_force() const { return store_->current()->table.upstreams[0].pins; }

  bool report_mode_ = false;
  std::filesystem::path dir_;
  std::string state_;
  FakeServers servers_;
  UnixTime now_ = now_utc();
  std::unique_ptr<PinStore> store_;
  std::unique_ptr<PinPublisher> publisher_;
  std::unique_ptr<test::FakeDataPlane> dp_;
  std::unique_ptr<PinSources> sources_;
};

TEST_F(TofuSourcesTest, LearnsOncePersistsFirstAndIsEnforcedAfterARestartWithoutContact) {
  DOTPIN_REQUIRE_PKI();
  EXPECT_TRUE(pins_in_force().empty());
  sources_->run_once();
  ASSERT_EQ(pins_in_force().size(), 1u);
  EXPECT_EQ(pins_in_force()[0].digest, ref("leaf-p256"));
  EXPECT_EQ(pins_in_force()[0].origin, PinOrigin::kTofu);
  ASSERT_EQ(dp_->published.size(), 1u);  // fed to the data plane
  const auto on_disk = load_tofu_state(state_);
  ASSERT_TRUE(on_disk) << on_disk.error();
  EXPECT_EQ(on_disk->upstreams.at("a").pins[0].digest, ref("leaf-p256"));
  sources_->run_once();
  EXPECT_EQ(servers_.fetches, 1);  // learned once: nothing is probed again
  EXPECT_EQ(sources_->status().at(0).state, "learned");

  // A restart: the first generation already holds the learned key, before any contact.
  servers_.chains["198.18.0.2:853"] = "hostile/selfsigned-plus-leaf.chain.pem";
  start(false);
  ASSERT_EQ(pins_in_force().size(), 1u);
  EXPECT_EQ(pins_in_force()[0].digest, ref("leaf-p256"));
  sources_->run_once();
  EXPECT_EQ(servers_.fetches, 1);
  EXPECT_EQ(pins_in_force()[0].digest, ref("leaf-p256"));  // an impostor now answering changes nothing
}

// A view's sources say whose upstream it is: in status, in log lines and to the alert command
// (DOTPIN_VIEW; DOTPIN_UPSTREAM as VIEW/NAME, as the expiry monitor names a view's upstreams).
TEST_F(TofuSourcesTest, AViewsSourcesNameTheViewInStatusLogsAndAlerts) {
  DOTPIN_REQUIRE_PKI();
  const std::string env_file = (dir_ / "alert.env").string();
  PinSources::Options o;
  o.clock = [this] { return now_; };
  o.view = "tenant-a";
  o.alert_command = "env | grep ^DOTPIN_ > " + env_file + ".tmp && mv " + env_file + ".tmp " + env_file;
  std::vector<std::string> infos;
  sources_ = std::make_unique<PinSources>(o, *publisher_, learner(servers_),
                                          [&infos](std::string_view l) { infos.emplace_back(l); }, nullptr);
  sources_->run_once();
  ASSERT_EQ(sources_->status().size(), 1u);
  EXPECT_EQ(sources_->status()[0].view, "tenant-a");
  EXPECT_EQ(sources_->status()[0].state, "learned");
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0].rfind("tofu: view tenant-a: upstream a: learned on first use from 198.18.0.2:853", 0), 0u) << infos[0];
  std::string env;
  for (int i = 0; i < 100 && env.empty(); ++i) {
    std::ifstream in(env_file);
    env.assign(std::istreambuf_iterator<char>(in), {});
    if (env.empty()) ::usleep(50'000);
  }
  EXPECT_NE(env.find("DOTPIN_VIEW=tenant-a\n"), std::string::npos) << env;
  EXPECT_NE(env.find("DOTPIN_UPSTREAM=tenant-a/a\n"), std::string::npos) << env;
  EXPECT_NE(env.find("DOTPIN_KIND=tofu_learned\n"), std::string::npos) << env;
}

// The threads pass once per tick; `pins forget` wakes the TOFU thread so that the upstream learns
// again at once (here the tick is an hour: only the wake can make it learn within the test).
TEST_F(TofuSourcesTest, ForgetWakesTheThreadsToLearnAgainAtOnce) {
  DOTPIN_REQUIRE_PKI();
  sources_->run_once();
  ASSERT_EQ(sources_->status().at(0).state, "learned");
  PinSourceThreads threads({sources_.get()}, std::chrono::hours(1));
  threads.start();
  ::usleep(300'000);  // the first passes (nothing due) are done; the next tick is an hour away
  ASSERT_TRUE(sources_->forget("a", /*force=*/true));
  bool learned = false;
  for (int i = 0; i < 100 && !learned; ++i) {
    learned = sources_->status().at(0).state == "learned";
    if (!learned) ::usleep(50'000);
  }
  threads.stop();
  EXPECT_TRUE(learned) << sources_->status().at(0).state << ": " << sources_->status().at(0).detail;
  EXPECT_EQ(servers_.fetches, 2);
  EXPECT_EQ(pins_in_force().size(), 1u);
}

// The views share two threads: a pass stops once it has run pass_budget, and the next goes on
// from the first upstream not visited (here a budget of 0: one upstream per pass, in turn).
TEST_F(TofuSourcesTest, APassStopsAtItsBudgetAndTheNextGoesOnFromThere) {
  DOTPIN_REQUIRE_PKI();
  servers_.chains["198.18.0.3:853"] = "leaf-rsa2048.chain.pem";
  servers_.chains["198.18.0.4:853"] = "leaf-p384.chain.pem";
  PinTable t;
  t.source = (dir_ / "pins3.toml").string();
  t.upstreams = {tofu_upstream("a"), tofu_upstream("b", "198.18.0.3:853"), tofu_upstream("c", "198.18.0.4:853")};
  store_ = std::make_unique<PinStore>();
  publisher_ = std::make_unique<PinPublisher>(*store_, PinPublisher::Options{t.source, false, state_});
  ASSERT_TRUE(publisher_->start(t, {}, now_utc()));
  PinSources::Options o;
  o.clock = [this] { return now_; };
  o.pass_budget = std::chrono::milliseconds(0);
  sources_ = std::make_unique<PinSources>(o, *publisher_, learner(servers_), nullptr, nullptr);
  const auto learned = [this] {
    std::string names;
    for (const auto& [name, e] : publisher_->tofu_state().upstreams) names += name;
    return names;
  };
  sources_->run_tofu_once();
  EXPECT_EQ(learned(), "a");
  sources_->run_tofu_once();
  EXPECT_EQ(learned(), "ab");
  sources_->run_tofu_once();
  EXPECT_EQ(learned(), "abc");
  EXPECT_EQ(servers_.fetches, 3) << "each pass made one attempt";
}

TEST_F(TofuSourcesTest, AcceptTakesOnlyTheNamedKeyAndForgetLearnsAgain) {
  DOTPIN_REQUIRE_PKI();
  sources_->run_once();
  ASSERT_EQ(pins_in_force().size(), 1u);
  servers_.chains["198.18.0.2:853"] = "leaf-rsa2048.chain.pem";  // the server's key changed
  const auto wrong = sources_->accept("a", ref("leaf-p384"));
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().find(test::reference_pin("leaf-rsa2048")), std::string::npos) << wrong.error();
  EXPECT_EQ(pins_in_force()[0].digest, ref("leaf-p256"));  // unchanged
  const auto right = sources_->accept("a", ref("leaf-rsa2048"));
  ASSERT_TRUE(right) << right.error();
  EXPECT_EQ(right->pin_file, state_);
  ASSERT_EQ(pins_in_force().size(), 1u);
  EXPECT_EQ(pins_in_force()[0].digest, ref("leaf-rsa2048"));
  EXPECT_EQ(load_tofu_state(state_)->upstreams.at("a").pins[0].digest, ref("leaf-rsa2048"));

  EXPECT_FALSE(sources_->accept("nope", ref("leaf-rsa2048")));
  // Forgetting the only key leaves the upstream with no pin: the one rule asks for --force.
  const auto refused = sources_->forget("a");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("upstream 'a' would have no pin valid now"), std::string::npos) << refused.error();
  EXPECT_EQ(pins_in_force().size(), 1u);  // nothing changed, nothing written
  EXPECT_TRUE(load_tofu_state(state_)->upstreams.contains("a"));
  const auto forced = sources_->forget("a", /*force=*/true);
  ASSERT_TRUE(forced) << forced.error();
  EXPECT_EQ(forced->forced.size(), 2u);  // the upstream, and the pool it was the only one of
  EXPECT_EQ(sources_->status().at(0).state, "waiting");
  EXPECT_TRUE(pins_in_force().empty());
  EXPECT_FALSE(sources_->forget("a", true));  // nothing left to forget
  servers_.chains["198.18.0.2:853"] = "leaf-p256.chain.pem";
  sources_->run_once();
  ASSERT_EQ(pins_in_force().size(), 1u);
  EXPECT_EQ(pins_in_force()[0].digest, ref("leaf-p256"));
}

TEST_F(TofuSourcesTest, FailuresBackOffAndAreCountedByReason) {
  DOTPIN_REQUIRE_PKI();
  servers_.chains["198.18.0.2:853"] = "";
  sources_->run_once();
  sources_->run_once();  // same instant: inside the backoff, not tried again
  EXPECT_EQ(servers_.fetches, 1);
  now_ += std::chrono::seconds(3);
  sources_->run_once();
  EXPECT_EQ(servers_.fetches, 2);
  const auto st = sources_->status();
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].state, "waiting");
  EXPECT_EQ(st[0].failures.at("unreachable"), 2u);
  EXPECT_TRUE(pins_in_force().empty());
  EXPECT_FALSE(std::filesystem::exists(state_));  // nothing learned, nothing written
}

class TofuReportModeTest : public TofuSourcesTest {
 protected:
  TofuReportModeTest() { report_mode_ = true; }
};

TEST_F(TofuReportModeTest, NothingIsLearnedInReportMode) {
  DOTPIN_REQUIRE_PKI();
  sources_->run_once();
  EXPECT_EQ(servers_.fetches, 0);
  EXPECT_TRUE(pins_in_force().empty());
  EXPECT_EQ(sources_->status().at(0).state, "report_mode");
}

}  // namespace
}  // namespace dotpin::ctl
