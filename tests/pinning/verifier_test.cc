// SPDX-License-Identifier: Apache-2.0
#include "pinning/verifier.h"

#include <gtest/gtest.h>

#include "pinning/pem.h"
#include "tests/pinning/pki_chain.h"

namespace dotpin {
namespace {

using namespace std::chrono_literals;
using test::pki_file;
using test::reference_pin;

const UnixTime kNow = *parse_utc("2027-01-01T00:00:00Z");

Pin pin_of(const std::string& stem, std::string label = "primary") { return test::pin_of(stem, std::move(label)); }

class Verifier : public ::testing::Test {
 protected:
  void SetUp() override {
    DOTPIN_REQUIRE_PKI();
    ders_ = test::load_chain("leaf-p256.chain.pem").ders;
    for (const auto& d : ders_) chain_.emplace_back(d);
  }
  std::vector<std::vector<std::uint8_t>> ders_;
  std::vector<DerBytes> chain_;
};

TEST_F(Verifier, LeafPinMatches) {
  const std::vector<Pin> pins{pin_of("leaf-p256"), pin_of("spare", "backup")};
  const PinVerdict v = verify_chain(chain_, pins, kNow);
  EXPECT_EQ(v.code, PinVerdictCode::kMatch);
  EXPECT_EQ(v.matched_pin, 0);
  EXPECT_EQ(v.matched_element, 0);
  ASSERT_EQ(v.observed_count, 2u);
  EXPECT_EQ(pin_base64(v.observed[0].digest), reference_pin("leaf-p256"));
  EXPECT_EQ(pin_base64(v.observed[1].digest), reference_pin("issuing"));
  EXPECT_TRUE(admits(PinMode::kEnforce, v));
}

TEST_F(Verifier, IntermediatePinMatches) {
  const std::vector<Pin> pins{pin_of("spare", "backup"), pin_of("issuing", "ca")};
  const PinVerdict v = verify_chain(chain_, pins, kNow);
  EXPECT_EQ(v.code, PinVerdictCode::kMatch);
  EXPECT_EQ(v.matched_pin, 1);
  EXPECT_EQ(v.matched_element, 1);
}

TEST_F(Verifier, BackupPinIsAcceptedAfterRotation) {
  // The server now presents the key that was configured as backup.
  const std::vector<Pin> pins{pin_of("leaf-rsa2048", "old-primary"), pin_of("leaf-p256", "backup")};
  const PinVerdict v = verify_chain(chain_, pins, kNow);
  EXPECT_EQ(v.code, PinVerdictCode::kMatch);
  EXPECT_EQ(v.matched_pin, 1);
}

TEST_F(Verifier, ImpostorIsRefusedWithObservedPins) {
  const auto loaded = test::load_chain("impostor.chain.pem");
  const std::vector<DerBytes>& impostor = loaded.spans;
  const std::vector<Pin> pins{pin_of("leaf-p256"), pin_of("spare", "backup")};
  const PinVerdict v = verify_chain(impostor, pins, kNow);
  EXPECT_EQ(v.code, PinVerdictCode::kMismatch);
  EXPECT_EQ(v.matched_pin, -1);
  EXPECT_FALSE(admits(PinMode::kEnforce, v));
  EXPECT_TRUE(admits(PinMode::kReport, v));
  ASSERT_EQ(v.observed_count, 2u);
  EXPECT_EQ(pin_base64(v.observed[0].digest), reference_pin("impostor"));
}

TEST_F(Verifier, PinWindowsAreHalfOpen) {
  Pin p = pin_of("leaf-p256");
  p.not_before = kNow;
  p.not_after = kNow + 24h;
  const std::vector<Pin> pins{p};
  EXPECT_EQ(verify_chain(chain_, pins, kNow).code, PinVerdictCode::kMatch);
  EXPECT_EQ(verify_chain(chain_, pins, kNow + 24h - 1s).code, PinVerdictCode::kMatch);
  EXPECT_EQ(verify_chain(chain_, pins, kNow - 1s).code, PinVerdictCode::kNoPinInWindow);
  const PinVerdict after = verify_chain(chain_, pins, kNow + 24h);
  EXPECT_EQ(after.code, PinVerdictCode::kNoPinInWindow);
  EXPECT_EQ(after.out_of_window_pin, 0);
  EXPECT_FALSE(admits(PinMode::kEnforce, after));
}

TEST_F(Verifier, OverlappingRolloverWindows) {
  // Old key valid until T, new key from T - 7 days: both accepted during the overlap.
  const UnixTime t = kNow + 24h * 30;
  Pin old_pin = pin_of("leaf-p256", "old");
  old_pin.not_after = t;
  Pin new_pin = pin_of("leaf-p384", "new");
  new_pin.not_before = t - 24h * 7;
  const std::vector<Pin> pins{old_pin, new_pin};
  EXPECT_EQ(verify_chain(chain_, pins, t - 24h).code, PinVerdictCode::kMatch);  // overlap: old key ok
  EXPECT_EQ(verify_chain(chain_, pins, t).code, PinVerdictCode::kNoPinInWindow);  // old key retired
}

TEST_F(Verifier, MismatchWhenOtherPinsAreInWindow) {
  Pin expired_other = pin_of("leaf-rsa2048");
  expired_other.not_after = kNow - 1s;
  const std::vector<Pin> pins{expired_other, pin_of("spare")};
  EXPECT_EQ(verify_chain(chain_, pins, kNow).code, PinVerdictCode::kMismatch);
}

TEST_F(Verifier, NoPinInWindowWhenEveryPinIsOutside) {
  Pin a = pin_of("spare");
  a.not_before = kNow + 1s;
  const std::vector<Pin> pins{a};
  EXPECT_EQ(verify_chain(chain_, pins, kNow).code, PinVerdictCode::kNoPinInWindow);
}

TEST(VerifierEdges, EmptyLongAndUnparsableChains) {
  const std::vector<Pin> pins{Pin{}};
  EXPECT_EQ(verify_chain({}, pins, kNow).code, PinVerdictCode::kEmptyChain);

  const std::vector<std::uint8_t> junk{0x30, 0x03, 0x02, 0x01, 0x00};
  std::vector<DerBytes> junk_chain(3, DerBytes(junk));
  const PinVerdict v = verify_chain(junk_chain, pins, kNow);
  EXPECT_EQ(v.code, PinVerdictCode::kUnparsableChain);
  EXPECT_FALSE(admits(PinMode::kEnforce, v));

  std::vector<DerBytes> long_chain(kMaxChainLength + 1, DerBytes(junk));
  EXPECT_EQ(verify_chain(long_chain, pins, kNow).code, PinVerdictCode::kChainTooLong);
}

TEST(VerifierEdges, AnUnparsedElementNeverMatchesAZeroPin) {
  // An element that failed to parse has an all-zero digest slot; a zero pin must not match it,
  // even when the recorded verdict says it is on the path.
  PinVerdict recorded;
  recorded.code = PinVerdictCode::kMismatch;
  recorded.observed_count = recorded.presented = 2;
  recorded.observed[0].on_path = true;
  recorded.observed[1].parsed = true;
  recorded.observed[1].digest.fill(0x42);
  const std::vector<Pin> pins{Pin{}};
  EXPECT_EQ(reverify(recorded, pins, kNow).code, PinVerdictCode::kMismatch);
}

TEST(PinsEqual, ComparesWholeDigest) {
  PinDigest a{}, b{};
  EXPECT_TRUE(pins_equal(a, b));
  b[31] = 1;
  EXPECT_FALSE(pins_equal(a, b));
  b[31] = 0;
  b[0] = 0x80;
  EXPECT_FALSE(pins_equal(a, b));
}

TEST(ParsePin, ExplainsBadPins) {
  std::string why;
  EXPECT_FALSE(parse_pin_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAA=", &why));
  EXPECT_NE(why.find("20 bytes"), std::string::npos) << why;
  EXPECT_NE(why.find("SHA-1"), std::string::npos) << why;
  EXPECT_FALSE(parse_pin_base64(std::string(64, 'a'), &why));
  EXPECT_NE(why.find("hex"), std::string::npos) << why;
  EXPECT_FALSE(parse_pin_base64("pin-sha256=\"x\"", &why));
  EXPECT_NE(why.find("without pin-sha256"), std::string::npos) << why;
  EXPECT_TRUE(parse_pin_base64("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="));
}

}  // namespace
}  // namespace dotpin
