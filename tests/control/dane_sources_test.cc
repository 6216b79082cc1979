// SPDX-License-Identifier: Apache-2.0
// DANE refreshes on the pin sources thread, against a fake validated lookup and a fake data plane:
// which answers yield pins (only secure ones), how they map to pins (scope, form, window = RRSIG
// expiration), when the next refresh is due, what a failed lookup keeps, and that an unchanged
// RRset publishes nothing. The real path is tests/integration/test_dotpind_dane.py.
#include "control/pin_sources.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "fake_data_plane.h"
#include "pinning/pem.h"
#include "pinning/tlsa.h"
#include "tests/test_pki.h"

namespace dotpin::ctl {
namespace {

using Status = dane::DaneAnswer::Status;

std::vector<std::uint8_t> der_of(const std::string& file, std::size_t k = 0) {
  auto objs = read_key_objects(test::pki_file(file), file);
  EXPECT_TRUE(objs);
  return objs && objs->size() > k ? (*objs)[k].der : std::vector<std::uint8_t>{};
}

std::vector<std::uint8_t> rdata(const std::string& file, std::size_t k, std::uint8_t usage, std::uint8_t selector,
                                std::uint8_t mtype) {
  const auto der = der_of(file, k);
  auto rec = tlsa_for_certificate(DerBytes(der), usage, selector, mtype);
  EXPECT_TRUE(rec) << (rec ? "" : rec.error());
  return rec ? tlsa_rdata(*rec) : std::vector<std::uint8_t>{};
}

class DaneSourcesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PinTable t;
    t.source = "pins.toml";
    UpstreamPins up;
    up.name = "d";
    up.address = *parse_endpoint("198.18.0.2:853", 853, false);
    up.auth_name = "dns.dotpin.test";
    up.pins_from = PinsFrom::kDane;
    t.upstreams.push_back(up);
    publisher_ = std::make_unique<PinPublisher>(store_, PinPublisher::Options{"pins.toml", false, ""});
    ASSERT_TRUE(publisher_->start(t, {}, now_utc()));
    dp_ = std::make_unique<test::FakeDataPlane>(store_.current());
    publisher_->attach(*dp_);
    PinSources::Options o;
    o.clock = [this] { return now_; };
    o.dane_refresh_min = std::chrono::seconds(10);
    o.dane_refresh_max = std::chrono::seconds(600);
    o.dane_retry = std::chrono::seconds(5);
    auto learner = TofuLearner::create({});
    ASSERT_TRUE(learner);
    sources_ = std::make_unique<PinSources>(o, *publisher_, std::move(*learner), nullptr, nullptr,
                                            [this](std::string_view name, std::uint16_t port) -> Result<dane::DaneAnswer> {
                                              ++lookups_;
                                              asked_ = std::string(name) + ":" + std::to_string(port);
                                              return answer_;
                                            });
  }
  [[nodiscard]] std::vector<Pin> pins() const { return store_.current()->table.upstreams[0].pins; }
  dane::DaneAnswer secure(std::vector<std::vector<std::uint8_t>> records, std::uint32_t ttl = 300) const {
    dane::DaneAnswer a;
    a.status = Status::kSecure;
    a.owner = "_853._tcp.dns.dotpin.test.";
    a.rdata = std::move(records);
    a.ttl = ttl;
    a.rrsig_expiration = now_ + std::chrono::hours(48);
    return a;
  }
  void set(Result<dane::DaneAnswer> a) { answer_ = std::move(a); }

  UnixTime now_ = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  PinStore store_;
  std::unique_ptr<PinPublisher> publisher_;
  std::unique_ptr<test::FakeDataPlane> dp_;
  std::unique_ptr<PinSources> sources_;
  Result<dane::DaneAnswer> answer_ = Error{"not set"};
  int lookups_ = 0;
  std::string asked_;
};

TEST_F(DaneSourcesTest, ASecureRRsetBecomesScopedPinsThatEndWithTheSignatures) {
  DOTPIN_REQUIRE_PKI();
  set(secure({rdata("leaf-p256.chain.pem", 0, 3, 1, 1), rdata("leaf-p256.chain.pem", 1, 2, 1, 1),
              rdata("leaf-p256.chain.pem", 0, 3, 0, 2)}));
  sources_->run_once();
  EXPECT_EQ(asked_, "dns.dotpin.test:853");
  const auto p = pins();
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].scope, PinScope::kLeaf);
  EXPECT_EQ(p[0].digest, *parse_pin_base64(test::reference_pin("leaf-p256")));
  EXPECT_EQ(p[1].scope, PinScope::kIssuer);
  EXPECT_EQ(p[1].digest, *parse_pin_base64(test::reference_pin("issuing")));
  EXPECT_EQ(p[2].form, PinForm::kCertSha512);
  for (const Pin& pin : p) {
    EXPECT_EQ(pin.origin, PinOrigin::kDane);
    EXPECT_EQ(pin.not_after, now_ + std::chrono::hours(48));
    EXPECT_EQ(pin.learned_from, "_853._tcp.dns.dotpin.test.");
  }
  const auto st = sources_->status().at(0);
  EXPECT_EQ(st.state, "secure");
  EXPECT_EQ(st.records, 3u);
  EXPECT_EQ(st.next_attempt, now_ + std::chrono::seconds(150));  // half the TTL
  ASSERT_EQ(dp_->published.size(), 1u);

  sources_->run_once();  // not due yet
  EXPECT_EQ(lookups_, 1);
  now_ += std::chrono::seconds(150);
  set(secure({rdata("leaf-p256.chain.pem", 0, 3, 1, 1), rdata("leaf-p256.chain.pem", 1, 2, 1, 1),
              rdata("leaf-p256.chain.pem", 0, 3, 0, 2)}, 4));
  answer_->rrsig_expiration = now_ - std::chrono::seconds(150) + std::chrono::hours(48);
  sources_->run_once();
  EXPECT_EQ(lookups_, 2);
  EXPECT_EQ(dp_->published.size(), 1u);  // the same RRset: nothing new to publish
  EXPECT_EQ(sources_->status().at(0).next_attempt, now_ + std::chrono::seconds(10));  // TTL/2 below the floor
}

TEST_F(DaneSourcesTest, OnlySecureAnswersYieldPinsAndAFailedLookupKeepsTheLastSecureOnes) {
  DOTPIN_REQUIRE_PKI();
  set(secure({rdata("leaf-p256.chain.pem", 0, 3, 1, 1)}));
  sources_->run_once();
  ASSERT_EQ(pins().size(), 1u);

  now_ += std::chrono::seconds(200);
  set(Error{"timeout after 5000 ms"});
  sources_->run_once();
  EXPECT_EQ(pins().size(), 1u);  // kept: still within its signatures
  EXPECT_EQ(sources_->status().at(0).state, "stale");
  EXPECT_EQ(sources_->status().at(0).failures.at("dane_error"), 1u);
  EXPECT_EQ(sources_->status().at(0).next_attempt, now_ + std::chrono::seconds(5));

  for (const auto& [status, reason] : std::vector<std::pair<Status, std::string>>{
           {Status::kBogus, "dane_bogus"}, {Status::kInsecure, "dane_insecure"}, {Status::kMissing, "dane_missing"}}) {
    now_ += std::chrono::seconds(10);
    set(secure({rdata("leaf-p256.chain.pem", 0, 3, 1, 1)}));
    sources_->run_once();
    ASSERT_EQ(pins().size(), 1u) << reason;
    now_ += std::chrono::seconds(600);
    dane::DaneAnswer a = secure({rdata("leaf-p256.chain.pem", 0, 3, 1, 1)});  // records that must not count
    a.status = status;
    a.why_bogus = "signature crypto failed";
    set(a);
    sources_->run_once();
    if (status == Status::kBogus) {
      // Bogus (forged or broken signatures) would leave d with no pin valid now: the last secure
      // pins are held within their bound (AWithdrawalThatStrands... below), and it says so.
      EXPECT_EQ(pins().size(), 1u) << reason;
      EXPECT_EQ(sources_->status().at(0).state, "held") << reason;
      EXPECT_NE(sources_->status().at(0).detail.find("held until"), std::string::npos) << sources_->status().at(0).detail;
    } else {
      // Authenticated: the signed zone proves the records are gone (or the zone unsigned). The
      // zone owner's revocation is never held, even if it strands d.
      EXPECT_TRUE(pins().empty()) << reason;
      EXPECT_EQ(sources_->status().at(0).state, reason.substr(5)) << reason;
    }
    EXPECT_EQ(sources_->status().at(0).failures.at(reason), 1u) << reason;
  }
}

TEST_F(DaneSourcesTest, ANonSecureAnswerWithdrawsAtOnceWhenTheOperatorsOwnPinRemains) {
  DOTPIN_REQUIRE_PKI();
  PinTable t = publisher_->file_table();
  Pin own;
  own.digest.fill(7);
  own.label = "own";
  t.upstreams[0].pins.push_back(own);
  ASSERT_TRUE(publisher_->replace_file(t, "", "test: an operator pin"));
  set(secure({rdata("leaf-p256.chain.pem", 0, 3, 1, 1)}));
  sources_->run_once();
  ASSERT_EQ(pins().size(), 2u);
  now_ += std::chrono::seconds(600);
  dane::DaneAnswer a = secure({rdata("leaf-p256.chain.pem", 0, 3, 1, 1)});
  a.status = Status::kBogus;
  set(a);
  sources_->run_once();
  ASSERT_EQ(pins().size(), 1u);  // the TLSA pin went; the operator's stays
  EXPECT_EQ(pins()[0].label, "own");
  EXPECT_EQ(sources_->status().at(0).state, "bogus");
}

TEST_F(DaneSourcesTest, AWithdrawalThatStrandsIsHeldOnlyUntilTtlPlusStaleThenForced) {
  DOTPIN_REQUIRE_PKI();
  set(secure({rdata("leaf-p256.chain.pem", 0, 3, 1, 1)}, 60));
  sources_->run_once();
  ASSERT_EQ(pins().size(), 1u);
  dane::DaneAnswer bogus = secure({rdata("leaf-p256.chain.pem", 0, 3, 1, 1)});
  bogus.status = Status::kBogus;
  set(bogus);
  for (const int step : {30, 1800, 1780}) {  // due at TTL/2; 3610 s: inside TTL (60) + dane_stale (3600)
    now_ += std::chrono::seconds(step);
    sources_->run_once();
    EXPECT_EQ(pins().size(), 1u) << step;
    EXPECT_EQ(sources_->status().at(0).state, "held");
  }
  EXPECT_EQ(sources_->status().at(0).failures.at("dane_bogus"), 3u);
  now_ += std::chrono::seconds(60);  // past it: an attacker blocking secure answers cannot keep a key alive
  sources_->run_once();
  EXPECT_TRUE(pins().empty());
  EXPECT_EQ(sources_->status().at(0).state, "bogus");
}

TEST_F(DaneSourcesTest, UnusableRecordsAreSkippedAndAnRRsetOfOnlyThoseYieldsNothing) {
  DOTPIN_REQUIRE_PKI();
  std::vector<std::uint8_t> pkix_ee = rdata("leaf-p256.chain.pem", 0, 3, 1, 1);
  pkix_ee[0] = 1;  // PKIX-EE: not a pin
  set(secure({pkix_ee, {3, 1}}));
  sources_->run_once();
  EXPECT_TRUE(pins().empty());
  EXPECT_EQ(sources_->status().at(0).state, "unusable");
  EXPECT_EQ(sources_->status().at(0).failures.at("dane_unusable"), 1u);

  now_ += std::chrono::seconds(10);
  set(secure({pkix_ee, rdata("leaf-p256.chain.pem", 0, 3, 1, 1)}));
  sources_->run_once();
  ASSERT_EQ(pins().size(), 1u);
  EXPECT_NE(sources_->status().at(0).detail.find("skipped"), std::string::npos) << sources_->status().at(0).detail;
}

TEST_F(DaneSourcesTest, ASecureAnswerWithoutSignaturesYieldsNothing) {
  DOTPIN_REQUIRE_PKI();
  dane::DaneAnswer a = secure({rdata("leaf-p256.chain.pem", 0, 3, 1, 1)});
  a.rrsig_expiration.reset();  // pins without an end must never be made
  set(a);
  sources_->run_once();
  EXPECT_TRUE(pins().empty());
  EXPECT_EQ(sources_->status().at(0).failures.at("dane_error"), 1u);
}

TEST_F(DaneSourcesTest, BlockedLookupsKeepPinsOnlyUntilTtlPlusStaleThenWithdraw) {
  DOTPIN_REQUIRE_PKI();
  set(secure({rdata("leaf-p256.chain.pem", 0, 3, 1, 1)}, 60));
  sources_->run_once();
  ASSERT_EQ(pins().size(), 1u);
  set(Error{"timeout after 2000 ms"});
  now_ += std::chrono::seconds(60 + 3600 - 5);  // inside TTL + dane_stale (default 3600 s)
  sources_->run_once();
  EXPECT_EQ(pins().size(), 1u);
  EXPECT_EQ(sources_->status().at(0).state, "stale");
  now_ += std::chrono::seconds(10);  // past it: a removed key cannot be kept alive by blocking DNS
  sources_->run_once();
  EXPECT_TRUE(pins().empty());
  EXPECT_EQ(sources_->status().at(0).state, "error");
}

TEST_F(DaneSourcesTest, ANewAuthNameIsLookedUpAtOnce) {
  DOTPIN_REQUIRE_PKI();
  set(secure({rdata("leaf-p256.chain.pem", 0, 3, 1, 1)}, 3000));
  sources_->run_once();
  ASSERT_EQ(lookups_, 1);
  PinTable t = publisher_->file_table();
  t.upstreams[0].auth_name = "other.dotpin.test";
  // Pins looked up for the old name never count for the new one: until the new name's lookup,
  // d has none, so the change needs force (the one rule, pin_safety.h).
  const auto refused = publisher_->replace_file(t, "", "test: new auth name");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("upstream 'd' would have no pin valid now"), std::string::npos) << refused.error();
  EXPECT_EQ(pins().size(), 1u);
  ASSERT_TRUE(publisher_->replace_file(t, "", "test: new auth name", /*force=*/true));
  EXPECT_TRUE(pins().empty());
  now_ += std::chrono::seconds(1);  // far inside the old schedule (TTL/2 = 1500 s)
  sources_->run_once();
  EXPECT_EQ(lookups_, 2);
  EXPECT_EQ(asked_, "other.dotpin.test:853");
  EXPECT_EQ(pins().size(), 1u);
}

TEST_F(DaneSourcesTest, WithoutAResolverDaneUpstreamsHaveNoPins) {
  auto learner = TofuLearner::create({});
  ASSERT_TRUE(learner);
  PinSources none({}, *publisher_, std::move(*learner), nullptr, nullptr);
  none.run_once();
  EXPECT_TRUE(pins().empty());
  EXPECT_EQ(none.status().at(0).state, "error");
}

}  // namespace
}  // namespace dotpin::ctl
