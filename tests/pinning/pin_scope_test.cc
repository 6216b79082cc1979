// SPDX-License-Identifier: Apache-2.0
// Pin forms (SPKI or certificate, SHA-256 or SHA-512) and scopes (any, leaf, issuer) in the
// verifier: every form x scope on the genuine chain, then the DANE attacks: a DANE-EE key only on an
// appended certificate, a DANE-TA record equal to the leaf or for a CA off the verified path, and
// reverify across forms.
#include <gtest/gtest.h>

#include "common/encoding.h"
#include "pinning/cert_view.h"
#include "pinning/verifier.h"
#include "tests/pinning/pki_chain.h"

namespace dotpin {
namespace {

using namespace std::chrono_literals;

const UnixTime kNow = *parse_utc("2027-01-01T00:00:00Z");

/// A pin of @p form and @p scope computed from certificate @p der (the SPKI found by the parser).
Pin pin_for(DerBytes der, PinForm form, PinScope scope, std::string label = "") {
  Pin p;
  p.form = form;
  p.scope = scope;
  p.label = std::move(label);
  const DerBytes spki = *find_spki(der);
  switch (form) {
    case PinForm::kSpkiSha256: p.digest = spki_sha256(spki); break;
    case PinForm::kCertSha256: p.digest = spki_sha256(der); break;
    case PinForm::kSpkiSha512: p.digest512 = sha512_of(spki); break;
    case PinForm::kCertSha512: p.digest512 = sha512_of(der); break;
  }
  return p;
}

/// The same, from the first certificate of a PKI file.
Pin pin_for(const std::string& file, PinForm form, PinScope scope) {
  const auto c = test::load_chain(file);
  return pin_for(c.spans.at(0), form, scope);
}

struct Chain : test::PkiChain {
  explicit Chain(const std::string& file) : test::PkiChain(test::load_chain(file)) {}
};

class PinScopes : public ::testing::Test {
 protected:
  void SetUp() override {
    DOTPIN_REQUIRE_PKI();
    root_ = std::make_unique<Chain>("root.crt");
    anchor_ = *view_certificate(root_->spans[0]);
  }
  PinVerdict pin_only(const std::string& chain, std::vector<Pin> pins, UnixTime now = kNow) {
    Chain c(chain);
    return verify_chain(c.spans, pins, now);
  }
  PinVerdict ca_mode(const std::string& chain, std::vector<Pin> pins, UnixTime now = kNow) {
    Chain c(chain);
    return verify_chain(c.spans, pins, now, std::span<const CertView>(&anchor_, 1));
  }
  std::unique_ptr<Chain> root_;
  CertView anchor_;
};

constexpr PinForm kForms[] = {PinForm::kSpkiSha256, PinForm::kCertSha256, PinForm::kSpkiSha512, PinForm::kCertSha512};

// ---- every form x scope on leaf -> issuing --------------------------------------------------------

TEST_F(PinScopes, EveryFormAndScopeOnTheGenuineChain) {
  for (const PinForm form : kForms) {
    SCOPED_TRACE(std::string(to_string(form)));
    const Pin leaf_any = pin_for("leaf-p256.crt", form, PinScope::kAnyOnPath);
    const Pin leaf_ee = pin_for("leaf-p256.crt", form, PinScope::kLeaf);
    const Pin leaf_ta = pin_for("leaf-p256.crt", form, PinScope::kIssuer);
    const Pin ca_any = pin_for("issuing.crt", form, PinScope::kAnyOnPath);
    const Pin ca_ee = pin_for("issuing.crt", form, PinScope::kLeaf);
    const Pin ca_ta = pin_for("issuing.crt", form, PinScope::kIssuer);
    struct Case {
      const char* what;
      const Pin& pin;
      PinVerdictCode code;
      int element;
    };
    for (const Case& c : {Case{"leaf, any", leaf_any, PinVerdictCode::kMatch, 0},
                          Case{"leaf, DANE-EE", leaf_ee, PinVerdictCode::kMatch, 0},
                          Case{"leaf, DANE-TA", leaf_ta, PinVerdictCode::kPinWrongPosition, -1},
                          Case{"issuing, any", ca_any, PinVerdictCode::kMatch, 1},
                          Case{"issuing, DANE-EE", ca_ee, PinVerdictCode::kPinWrongPosition, -1},
                          Case{"issuing, DANE-TA", ca_ta, PinVerdictCode::kMatch, 1}}) {
      SCOPED_TRACE(c.what);
      for (const bool ca : {false, true}) {
        const PinVerdict v = ca ? ca_mode("leaf-p256.chain.pem", {c.pin}) : pin_only("leaf-p256.chain.pem", {c.pin});
        EXPECT_EQ(v.code, c.code) << (ca ? "CA mode" : "pin-only") << ": " << to_string(v.code);
        EXPECT_EQ(v.matched_element, c.element);
        EXPECT_TRUE(v.forms & form_bit(form));
      }
    }
  }
}

TEST_F(PinScopes, TheFormDecidesWhatIsHashed) {
  Chain leaf("leaf-p256.crt");
  // The SPKI digest labelled as a certificate digest (and the other way round) matches nothing.
  Pin confused = pin_for(leaf.spans[0], PinForm::kSpkiSha256, PinScope::kLeaf);
  confused.form = PinForm::kCertSha256;
  EXPECT_EQ(pin_only("leaf-p256.chain.pem", {confused}).code, PinVerdictCode::kMismatch);
  Pin confused512 = pin_for(leaf.spans[0], PinForm::kCertSha512, PinScope::kLeaf);
  confused512.form = PinForm::kSpkiSha512;
  EXPECT_EQ(pin_only("leaf-p256.chain.pem", {confused512}).code, PinVerdictCode::kMismatch);
  // A SHA-512 pin is compared over all 64 bytes: its last byte changed, it no longer matches.
  for (const PinForm form : {PinForm::kSpkiSha512, PinForm::kCertSha512}) {
    Pin p = pin_for(leaf.spans[0], form, PinScope::kLeaf);
    EXPECT_EQ(pin_only("leaf-p256.chain.pem", {p}).code, PinVerdictCode::kMatch);
    p.digest512[63] ^= 1;
    EXPECT_EQ(pin_only("leaf-p256.chain.pem", {p}).code, PinVerdictCode::kMismatch) << to_string(form);
    // ... and its digest (the SHA-256 slot) is not what it is compared with.
    p.digest = spki_sha256(*find_spki(leaf.spans[0]));
    EXPECT_EQ(pin_only("leaf-p256.chain.pem", {p}).code, PinVerdictCode::kMismatch) << to_string(form);
  }
  // The impostor's certificate digest does not match the genuine leaf's.
  EXPECT_EQ(pin_only("impostor.chain.pem", {pin_for(leaf.spans[0], PinForm::kCertSha256, PinScope::kLeaf)}).code,
            PinVerdictCode::kMismatch);
}

TEST_F(PinScopes, OnlyTheFormsThePinsHoldAreComputed) {
  const PinVerdict spki = pin_only("leaf-p256.chain.pem", {pin_for("leaf-p256.crt", PinForm::kSpkiSha256, PinScope::kLeaf)});
  EXPECT_EQ(spki.forms, form_bit(PinForm::kSpkiSha256));
  EXPECT_EQ(spki.observed[0].cert_digest, PinDigest{});
  EXPECT_EQ(spki.observed[0].cert_digest512, PinDigest512{});
  const PinVerdict cert = pin_only("leaf-p256.chain.pem", {pin_for("issuing.crt", PinForm::kCertSha512, PinScope::kIssuer)});
  EXPECT_EQ(cert.forms, form_bit(PinForm::kSpkiSha256) | form_bit(PinForm::kCertSha512));
  EXPECT_NE(cert.observed[0].cert_digest512, PinDigest512{});
  EXPECT_EQ(cert.observed[0].spki_digest512, PinDigest512{});
}

TEST_F(PinScopes, ALeafScopePinTakesTheFastPathAnIssuerScopePinBuildsThePath) {
  const PinVerdict ee = pin_only("leaf-p256.chain.pem", {pin_for("leaf-p256.crt", PinForm::kCertSha256, PinScope::kLeaf)});
  EXPECT_EQ(ee.code, PinVerdictCode::kMatch);
  EXPECT_FALSE(ee.path_complete);
  EXPECT_EQ(ee.signatures_checked, 0);
  // An issuer-scope pin equal to the leaf must not take the leaf's shortcut.
  const PinVerdict ta_on_leaf =
      pin_only("leaf-p256.chain.pem", {pin_for("leaf-p256.crt", PinForm::kSpkiSha256, PinScope::kIssuer)});
  EXPECT_TRUE(ta_on_leaf.path_complete);
  EXPECT_EQ(ta_on_leaf.code, PinVerdictCode::kPinWrongPosition);
  EXPECT_FALSE(admits(PinMode::kEnforce, ta_on_leaf));
  EXPECT_TRUE(admits(PinMode::kReport, ta_on_leaf));  // a pin fault, like a mismatch
}

// ---- DANE attacks ---------------------------------------------------------------------------------

TEST_F(PinScopes, DaneEeKeyOnlyOnAnAppendedCertificateIsRefused) {
  for (const PinForm form : kForms) {
    SCOPED_TRACE(std::string(to_string(form)));
    const Pin ee = pin_for("leaf-p256.crt", form, PinScope::kLeaf);
    // The impostor's self-signed leaf first, the genuine leaf and issuing CA appended.
    const PinVerdict v = pin_only("hostile/selfsigned-plus-leaf.chain.pem", {ee});
    EXPECT_EQ(v.code, PinVerdictCode::kPinNotOnPath);
    EXPECT_FALSE(v.observed[1].on_path);
    EXPECT_FALSE(admits(PinMode::kEnforce, v));
    // A leaf the genuine CA issued for another key, with the genuine leaf appended: PKIX-valid, and
    // still not the pinned key.
    EXPECT_EQ(pin_only("hostile/misissued-plus-leaf.chain.pem", {ee}).code, PinVerdictCode::kPinNotOnPath);
    EXPECT_EQ(ca_mode("hostile/misissued-plus-leaf.chain.pem", {ee}).code, PinVerdictCode::kPinNotOnPath);
  }
}

TEST_F(PinScopes, DaneTaEqualToTheLeafIsRefused) {
  // A self-signed leaf: position 0 is the only certificate, its own issuer; a TA record for it
  // does not make it a trust anchor above itself.
  for (const PinForm form : kForms) {
    SCOPED_TRACE(std::string(to_string(form)));
    const PinVerdict v = pin_only("hostile/selfsigned-plus-leaf.chain.pem",
                                  {pin_for("hostile/selfsigned-plus-leaf.crt", form, PinScope::kIssuer)});
    EXPECT_EQ(v.code, PinVerdictCode::kPinWrongPosition);
    EXPECT_EQ(v.matched_pin, -1);
    EXPECT_EQ(pin_only("leaf-p256.chain.pem", {pin_for("leaf-p256.crt", form, PinScope::kIssuer)}).code,
              PinVerdictCode::kPinWrongPosition);
  }
}

TEST_F(PinScopes, DaneTaForACaOffTheVerifiedPathIsRefused) {
  for (const PinForm form : kForms) {
    SCOPED_TRACE(std::string(to_string(form)));
    const Pin ta = pin_for("issuing.crt", form, PinScope::kIssuer);
    // The leaf was issued by another intermediate; the genuine issuing CA is appended.
    const PinVerdict other = ca_mode("hostile/other-intermediate.chain.pem", {ta});
    EXPECT_EQ(other.code, PinVerdictCode::kPinNotOnPath);
    EXPECT_TRUE(other.anchored);
    EXPECT_EQ(pin_only("hostile/other-intermediate.chain.pem", {ta}).code, PinVerdictCode::kPinNotOnPath);
    // The issuing CA's name and key id forged into the leaf: the signature does not verify.
    EXPECT_EQ(pin_only("hostile/forged-issuer.chain.pem", {ta}).code, PinVerdictCode::kPinNotOnPath);
    // The root, not sent by the server, in pin-only mode: a DANE-TA digest does not supply the
    // certificate, so nothing matches.
    EXPECT_EQ(pin_only("leaf-p256.chain.pem", {pin_for("root.crt", form, PinScope::kIssuer)}).code,
              PinVerdictCode::kMismatch);
  }
}

TEST_F(PinScopes, DaneTaForTheGenuineKeyInACertificateTheImpostorSignedIsRefused) {
  const PinVerdict v = pin_only("hostile/genuine-spki-by-impostor.chain.pem",
                                {pin_for("issuing.crt", PinForm::kSpkiSha256, PinScope::kIssuer)});
  EXPECT_EQ(v.code, PinVerdictCode::kPinNotOnPath);
  EXPECT_EQ(v.observed[1].off_path, OffPath::kBadSignature);
}

TEST_F(PinScopes, DaneTaMatchesTheTrustAnchorInCaMode) {
  for (const PinForm form : kForms) {
    SCOPED_TRACE(std::string(to_string(form)));
    const PinVerdict v = ca_mode("leaf-p256.chain.pem", {pin_for("root.crt", form, PinScope::kIssuer)});
    EXPECT_EQ(v.code, PinVerdictCode::kMatch);
    EXPECT_EQ(v.matched_element, 2);
    EXPECT_TRUE(v.observed[2].anchor);
    EXPECT_EQ(v.matched_position(), 2);
    // A DANE-EE record for the root is at the wrong position.
    EXPECT_EQ(ca_mode("leaf-p256.chain.pem", {pin_for("root.crt", form, PinScope::kLeaf)}).code,
              PinVerdictCode::kPinWrongPosition);
  }
}

TEST_F(PinScopes, DaneTaOverAnExpiredPathIsPathExpired) {
  const PinVerdict v = pin_only("hostile/expired-intermediate.chain.pem",
                                {pin_for("hostile/expired-ca.crt", PinForm::kCertSha256, PinScope::kIssuer)});
  EXPECT_EQ(v.code, PinVerdictCode::kPathExpired);
}

TEST_F(PinScopes, AWrongPositionDoesNotHideAMatchOrAnAttack) {
  const Pin ca_ee = pin_for("issuing.crt", PinForm::kSpkiSha256, PinScope::kLeaf);
  const Pin leaf_ee = pin_for("leaf-p256.crt", PinForm::kSpkiSha256, PinScope::kLeaf);
  // A second, right, pin still matches.
  const PinVerdict both = pin_only("leaf-p256.chain.pem", {ca_ee, leaf_ee});
  EXPECT_EQ(both.code, PinVerdictCode::kMatch);
  EXPECT_EQ(both.matched_pin, 1);
  // The genuine leaf appended behind an impostor is reported as off the path, not as a position slip.
  const PinVerdict attack = pin_only("hostile/selfsigned-plus-leaf.chain.pem",
                                     {leaf_ee, pin_for("hostile/selfsigned-plus-leaf.crt", PinForm::kSpkiSha256, PinScope::kIssuer)});
  EXPECT_EQ(attack.code, PinVerdictCode::kPinNotOnPath);
  // A wrong-position pin outside its window is not "no pin in window" for another pin in window.
  Pin old = ca_ee;
  old.not_after = kNow - 1s;
  EXPECT_EQ(pin_only("leaf-p256.chain.pem", {old, test::pin_of("spare")}).code,
            PinVerdictCode::kMismatch);
}

// ---- reverify across forms and scopes ---------------------------------------------------------------

TEST_F(PinScopes, ReverifyAfterAPinChangeAcrossForms) {
  Chain c("leaf-p256.chain.pem");
  const Pin spki_any = pin_for("issuing.crt", PinForm::kSpkiSha256, PinScope::kAnyOnPath);
  const PinVerdict v = verify_chain(c.spans, std::vector<Pin>{spki_any}, kNow);
  ASSERT_EQ(v.code, PinVerdictCode::kMatch);
  ASSERT_TRUE(v.path_complete);
  // Same form, new scopes: the recorded path decides.
  EXPECT_EQ(reverify(v, std::vector<Pin>{pin_for("issuing.crt", PinForm::kSpkiSha256, PinScope::kIssuer)}, kNow).code,
            PinVerdictCode::kMatch);
  EXPECT_EQ(reverify(v, std::vector<Pin>{pin_for("issuing.crt", PinForm::kSpkiSha256, PinScope::kLeaf)}, kNow).code,
            PinVerdictCode::kPinWrongPosition);
  EXPECT_EQ(reverify(v, std::vector<Pin>{pin_for("leaf-p256.crt", PinForm::kSpkiSha256, PinScope::kIssuer)}, kNow).code,
            PinVerdictCode::kPinWrongPosition);
  // Forms the verdict did not compute cannot match on reverify, even the very certificates of the
  // path: the connection drains and its next handshake (which computes them) decides.
  for (const PinForm form : {PinForm::kCertSha256, PinForm::kSpkiSha512, PinForm::kCertSha512}) {
    SCOPED_TRACE(std::string(to_string(form)));
    const std::vector<Pin> other{pin_for("leaf-p256.crt", form, PinScope::kLeaf)};
    EXPECT_EQ(reverify(v, other, kNow).code, PinVerdictCode::kMismatch);
    const PinVerdict fresh = verify_chain(c.spans, other, kNow);
    EXPECT_EQ(fresh.code, PinVerdictCode::kMatch);
    // A verdict that computed the form re-checks it, and follows a change to another form it holds.
    // (Pins that do not match the leaf, so that the path is built and every element's digests kept.)
    const std::vector<Pin> both{pin_for("issuing.crt", form, PinScope::kIssuer), spki_any};
    const PinVerdict rich = verify_chain(c.spans, both, kNow);
    ASSERT_TRUE(rich.path_complete);
    EXPECT_EQ(reverify(rich, other, kNow).code, PinVerdictCode::kMatch);
    EXPECT_EQ(reverify(rich, std::vector<Pin>{spki_any}, kNow).code, PinVerdictCode::kMatch);
    // The same form for the issuing CA at leaf scope: computed, on the path, wrong position.
    EXPECT_EQ(reverify(rich, std::vector<Pin>{pin_for("issuing.crt", form, PinScope::kLeaf)}, kNow).code,
              PinVerdictCode::kPinWrongPosition);
  }
  // A verdict the leaf's own pin decided did not build the path: an issuer-scope pin cannot match.
  const PinVerdict fast = verify_chain(c.spans, std::vector<Pin>{pin_for("leaf-p256.crt", PinForm::kSpkiSha256, PinScope::kLeaf)}, kNow);
  ASSERT_FALSE(fast.path_complete);
  EXPECT_FALSE(reverify(fast, std::vector<Pin>{pin_for("issuing.crt", PinForm::kSpkiSha256, PinScope::kIssuer)}, kNow).matched());
}

TEST_F(PinScopes, ReverifyKeepsTheAnchorsDigests) {
  const Pin root_ta = pin_for("root.crt", PinForm::kCertSha512, PinScope::kIssuer);
  const PinVerdict v = ca_mode("leaf-p256.chain.pem", {root_ta});
  ASSERT_EQ(v.code, PinVerdictCode::kMatch);
  EXPECT_EQ(reverify(v, std::vector<Pin>{root_ta}, kNow).code, PinVerdictCode::kMatch);
  Pin moved = root_ta;
  moved.scope = PinScope::kLeaf;
  EXPECT_EQ(reverify(v, std::vector<Pin>{moved}, kNow).code, PinVerdictCode::kPinWrongPosition);
}

// ---- how operators see them -------------------------------------------------------------------------

TEST_F(PinScopes, DescribeAndDisplayShowTheForms) {
  Chain leaf("leaf-p256.crt");
  const PinVerdict v = pin_only("leaf-p256.chain.pem", {pin_for(leaf.spans[0], PinForm::kCertSha256, PinScope::kLeaf)});
  const std::string d = describe_observed(v, 0);
  const std::string cert_hex = hex_encode(spki_sha256(leaf.spans[0]));
  EXPECT_NE(d.find("pin-sha256=\"" + test::reference_pin("leaf-p256") + "\""), std::string::npos) << d;
  EXPECT_NE(d.find("cert-sha256=" + cert_hex.substr(0, 16) + "..."), std::string::npos) << d;
  EXPECT_EQ(d.find("sha512"), std::string::npos) << d;
  // Without other forms the text is what it always was.
  EXPECT_EQ(describe_observed(pin_only("leaf-p256.chain.pem", {}), 0),
            "pin-sha256=\"" + test::reference_pin("leaf-p256") + "\" (on the path)");

  Pin dane = pin_for(leaf.spans[0], PinForm::kSpkiSha256, PinScope::kLeaf);
  dane.origin = PinOrigin::kDane;
  const std::string spki_hex = hex_encode(dane.digest);
  EXPECT_EQ(dane.display_name(), "'TLSA 3 1 1 " + spki_hex.substr(0, 8) + "...'");
  dane.scope = PinScope::kIssuer;
  dane.form = PinForm::kCertSha512;
  dane.digest512 = sha512_of(leaf.spans[0]);
  EXPECT_EQ(dane.display_name(), "'TLSA 2 0 2 " + hex_encode(dane.digest512).substr(0, 8) + "...'");
  dane.label = "primary";
  EXPECT_EQ(dane.display_name(), "'primary'");
  // A file pin-sha256 keeps its base64 prefix; another form of a non-DANE pin names the form.
  Pin file = test::pin_of("leaf-p256", "");
  EXPECT_EQ(file.display_name(), "'" + test::reference_pin("leaf-p256").substr(0, 8) + "...'");
  Pin tofu_cert = pin_for(leaf.spans[0], PinForm::kCertSha256, PinScope::kLeaf);
  tofu_cert.origin = PinOrigin::kTofu;
  EXPECT_EQ(tofu_cert.display_name(), "'cert-sha256 " + cert_hex.substr(0, 8) + "...'");
  EXPECT_EQ(to_string(PinVerdictCode::kPinWrongPosition), "pin_wrong_position");
}

}  // namespace
}  // namespace dotpin
