// SPDX-License-Identifier: Apache-2.0
// The verified-path pin check on generated chains (tests/pki/make-hostile-pki.sh): which
// certificates a pin can match, in pin-only and CA mode, and why the others count for nothing.
#include <gtest/gtest.h>

#include <thread>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ecc.h>

#include "pinning/authenticate.h"
#include "pinning/cert_view.h"
#include "pinning/pem.h"
#include "pinning/signature.h"
#include "pinning/verifier.h"
#include "tests/pinning/pki_chain.h"

namespace dotpin {
namespace {

using namespace std::chrono_literals;
using test::pki_file;
using test::reference_pin;

const UnixTime kNow = *parse_utc("2027-01-01T00:00:00Z");

using test::pin_of;

/// A PEM file's certificates as DER, kept alive with their spans.
struct Chain : test::PkiChain {
  explicit Chain(const std::string& file) : test::PkiChain(test::load_chain(file)) {}
};

class ChainPath : public ::testing::Test {
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

TEST_F(ChainPath, GenuineChainIsOnePathLeafToIssuing) {
  const PinVerdict v = pin_only("leaf-p256.chain.pem", {pin_of("issuing")});
  EXPECT_EQ(v.code, PinVerdictCode::kMatch);
  EXPECT_EQ(v.matched_element, 1);
  EXPECT_EQ(v.path_length, 2u);
  EXPECT_TRUE(v.observed[0].on_path);
  EXPECT_TRUE(v.observed[1].on_path);
  EXPECT_EQ(v.observed[1].position, 1);
  EXPECT_FALSE(v.anchored);
}

TEST_F(ChainPath, ALeafPinDecidesWithoutBuildingThePath) {
  const PinVerdict v = pin_only("leaf-p256.chain.pem", {pin_of("leaf-p256")});
  EXPECT_EQ(v.code, PinVerdictCode::kMatch);
  EXPECT_FALSE(v.path_complete);
  EXPECT_EQ(v.path_length, 1u);
  EXPECT_EQ(v.observed[1].off_path, OffPath::kNotChecked);
  // Re-checked against an issuing-CA pin alone, the recorded verdict cannot vouch for the path:
  // the connection drains and its next full handshake builds it.
  EXPECT_FALSE(reverify(v, std::vector<Pin>{pin_of("issuing")}, kNow).matched());
  EXPECT_TRUE(pin_only("leaf-p256.chain.pem", {pin_of("issuing")}).path_complete);
  // CA mode always builds the path to the anchor.
  EXPECT_TRUE(ca_mode("leaf-p256.chain.pem", {pin_of("leaf-p256")}).path_complete);
  EXPECT_TRUE(ca_mode("leaf-p256.chain.pem", {pin_of("leaf-p256")}).anchored);
}

TEST_F(ChainPath, AppendedGenuineLeafIsNotOnThePath) {
  // The self-signed impostor leaf, then the genuine leaf and issuing CA appended.
  const PinVerdict v = pin_only("hostile/selfsigned-plus-leaf.chain.pem", {pin_of("leaf-p256"), pin_of("issuing")});
  EXPECT_EQ(v.code, PinVerdictCode::kPinNotOnPath);
  EXPECT_FALSE(admits(PinMode::kEnforce, v));
  EXPECT_EQ(v.path_length, 1u);
  EXPECT_FALSE(v.observed[1].on_path);
  EXPECT_FALSE(v.observed[2].on_path);
  EXPECT_EQ(pin_base64(v.observed[1].digest), reference_pin("leaf-p256"));
  // The genuine leaf carries the very name the self-issued impostor names as its issuer, but it is
  // no CA; the issuing CA's name is not the impostor's issuer at all.
  EXPECT_EQ(v.observed[1].off_path, OffPath::kNotCa);
  EXPECT_EQ(v.observed[2].off_path, OffPath::kNotIssuerName);
}

TEST_F(ChainPath, MisissuedLeafWithGenuineLeafAppendedIsRefusedInBothModes) {
  EXPECT_EQ(pin_only("hostile/misissued-plus-leaf.chain.pem", {pin_of("leaf-p256")}).code,
            PinVerdictCode::kPinNotOnPath);
  const PinVerdict ca = ca_mode("hostile/misissued-plus-leaf.chain.pem", {pin_of("leaf-p256")});
  EXPECT_EQ(ca.code, PinVerdictCode::kPinNotOnPath);
  EXPECT_TRUE(ca.anchored);  // PKIX-valid: leaf -> issuing -> root
  // ... and an issuing-CA pin does match on that path (the CA did issue it: that is what a CA pin means).
  EXPECT_EQ(ca_mode("hostile/misissued-plus-leaf.chain.pem", {pin_of("issuing")}).code, PinVerdictCode::kMatch);
}

TEST_F(ChainPath, ForgedIssuerNameAndKeyIdDoNotMakeALink) {
  const PinVerdict v = pin_only("hostile/forged-issuer.chain.pem", {pin_of("issuing")});
  EXPECT_EQ(v.code, PinVerdictCode::kPinNotOnPath);
  EXPECT_EQ(v.observed[1].off_path, OffPath::kBadSignature);
  EXPECT_EQ(ca_mode("hostile/forged-issuer.chain.pem", {pin_of("issuing")}).code, PinVerdictCode::kPathNotTrusted);
}

TEST_F(ChainPath, GenuineKeyInACertificateTheImpostorSignedIsNoLink) {
  const PinVerdict v = pin_only("hostile/genuine-spki-by-impostor.chain.pem", {pin_of("issuing")});
  EXPECT_EQ(v.code, PinVerdictCode::kPinNotOnPath);
  EXPECT_EQ(pin_base64(v.observed[1].digest), reference_pin("issuing"));
  EXPECT_EQ(v.observed[1].off_path, OffPath::kBadSignature);
}

TEST_F(ChainPath, AnotherIntermediatesLeafDoesNotMatchTheIssuingPin) {
  const PinVerdict ca = ca_mode("hostile/other-intermediate.chain.pem", {pin_of("issuing")});
  EXPECT_EQ(ca.code, PinVerdictCode::kPinNotOnPath);
  EXPECT_TRUE(ca.anchored);
  EXPECT_FALSE(ca.observed[1].on_path);  // genuine issuing, appended
  EXPECT_TRUE(ca.observed[2].on_path);   // other-issuing, the real issuer
}

TEST_F(ChainPath, ExpiredIntermediateLinksButGivesNoValidPath) {
  const PinVerdict v = pin_only("hostile/expired-intermediate.chain.pem", {pin_of("hostile/expired-ca")});
  EXPECT_EQ(v.code, PinVerdictCode::kPathExpired);
  EXPECT_TRUE(v.observed[1].on_path);
  // The leaf was issued after the CA's end: there is no instant at which the path was valid.
  EXPECT_EQ(pin_only("hostile/expired-intermediate.chain.pem", {pin_of("hostile/expired-ca")},
                     *parse_utc("2019-06-01T00:00:00Z")).code,
            PinVerdictCode::kPathExpired);
  // A pin on the leaf itself does not depend on the path.
  EXPECT_EQ(pin_only("hostile/expired-intermediate.chain.pem", {pin_of("hostile/expired-intermediate")}).code,
            PinVerdictCode::kMatch);
}

TEST_F(ChainPath, NonCaAndPathLenViolationsAreNoLinks) {
  const PinVerdict nonca = pin_only("hostile/non-ca-issuer.chain.pem", {pin_of("hostile/non-ca")});
  EXPECT_EQ(nonca.code, PinVerdictCode::kPinNotOnPath);
  EXPECT_EQ(nonca.observed[1].off_path, OffPath::kNotCa);
  const PinVerdict plen = pin_only("hostile/pathlen-exceeded.chain.pem", {pin_of("hostile/pathlen0")});
  EXPECT_EQ(plen.code, PinVerdictCode::kPinNotOnPath);
  EXPECT_TRUE(plen.observed[1].on_path);  // the sub-CA did sign the leaf
  EXPECT_EQ(plen.observed[2].off_path, OffPath::kPathLen);
}

TEST_F(ChainPath, OutOfOrderAndExtraCertificatesStillVerify) {
  const PinVerdict v = pin_only("hostile/out-of-order.chain.pem", {pin_of("root")});
  EXPECT_EQ(v.code, PinVerdictCode::kMatch);
  EXPECT_EQ(v.matched_element, 1);  // the root, sent second
  EXPECT_EQ(v.matched_position(), 2);
  const PinVerdict extra = pin_only("hostile/extra-unrelated.chain.pem", {pin_of("issuing")});
  EXPECT_EQ(extra.code, PinVerdictCode::kMatch);
  EXPECT_EQ(extra.matched_element, 2);
  EXPECT_FALSE(extra.observed[1].on_path);
}

TEST_F(ChainPath, CaModePinMayMatchTheAnchorTheServerDidNotSend) {
  const PinVerdict v = ca_mode("leaf-p256.chain.pem", {pin_of("root")});
  EXPECT_EQ(v.code, PinVerdictCode::kMatch);
  EXPECT_EQ(v.presented, 2u);
  EXPECT_EQ(v.observed_count, 3u);
  EXPECT_TRUE(v.observed[2].anchor);
  EXPECT_EQ(v.matched_element, 2);
  // Pin-only mode has no anchor: the root was not presented, so nothing matches.
  EXPECT_EQ(pin_only("leaf-p256.chain.pem", {pin_of("root")}).code, PinVerdictCode::kMismatch);
  // A chain that reaches no anchor is refused in CA mode whatever the pins say.
  EXPECT_EQ(ca_mode("hostile/selfsigned-plus-leaf.chain.pem", {pin_of("hostile/selfsigned-plus-leaf")}).code,
            PinVerdictCode::kPathNotTrusted);
}

TEST_F(ChainPath, AFlippedSignatureByteBreaksTheLink) {
  Chain c("leaf-p256.chain.pem");
  // The last byte of the leaf is in its signature value.
  c.ders[0].back() ^= 0x01;
  const std::vector<Pin> pins{pin_of("issuing")};
  const PinVerdict v = verify_chain(c.spans, pins, kNow);
  EXPECT_EQ(v.code, PinVerdictCode::kPinNotOnPath);
  EXPECT_EQ(v.observed[1].off_path, OffPath::kBadSignature);
}

TEST_F(ChainPath, ReverifyFollowsTimeAndPinChangesOverTheRecordedPath) {
  const PinVerdict v = pin_only("hostile/selfsigned-plus-leaf.chain.pem", {pin_of("hostile/selfsigned-plus-leaf")});
  ASSERT_EQ(v.code, PinVerdictCode::kMatch);
  // New pins that name only the appended genuine certificates: still not on the recorded path.
  EXPECT_EQ(reverify(v, std::vector<Pin>{pin_of("leaf-p256")}, kNow).code, PinVerdictCode::kPinNotOnPath);
  // A pin whose window closes: matched before, not after.
  Pin windowed = pin_of("hostile/selfsigned-plus-leaf");
  windowed.not_after = kNow + 1h;
  EXPECT_EQ(reverify(v, std::vector<Pin>{windowed}, kNow).code, PinVerdictCode::kMatch);
  EXPECT_EQ(reverify(v, std::vector<Pin>{windowed}, kNow + 1h).code, PinVerdictCode::kNoPinInWindow);
  // An intermediate pin: once the leaf under it expires, the recorded path no longer holds.
  Chain genuine("leaf-p256.chain.pem");
  const auto leaf = view_certificate(genuine.spans[0]);
  const std::vector<Pin> ca{pin_of("issuing")};
  const PinVerdict e = verify_chain(genuine.spans, ca, kNow);
  ASSERT_EQ(e.code, PinVerdictCode::kMatch);
  EXPECT_EQ(reverify(e, ca, leaf->not_after).code, PinVerdictCode::kMatch);  // notAfter is inclusive
  EXPECT_EQ(reverify(e, ca, leaf->not_after + 1s).code, PinVerdictCode::kPathExpired);
  // ... while a leaf pin is about the key alone.
  const std::vector<Pin> leaf_pin{pin_of("leaf-p256")};
  EXPECT_EQ(reverify(verify_chain(genuine.spans, leaf_pin, kNow), leaf_pin, leaf->not_after + 1s).code,
            PinVerdictCode::kMatch);
}

TEST_F(ChainPath, ReportModeAdmitsOnlyPinFaults) {
  PinVerdict v = pin_only("hostile/selfsigned-plus-leaf.chain.pem", {pin_of("leaf-p256")});
  EXPECT_TRUE(admits(PinMode::kReport, v));
  EXPECT_FALSE(admits(PinMode::kEnforce, v));
  EXPECT_FALSE(admits(PinMode::kReport, verify_chain({}, std::vector<Pin>{pin_of("leaf-p256")}, kNow)));
  v.code = PinVerdictCode::kNameMismatch;
  EXPECT_FALSE(admits(PinMode::kReport, v));
  v.code = PinVerdictCode::kPathNotTrusted;
  EXPECT_FALSE(admits(PinMode::kReport, v));
}

TEST_F(ChainPath, MutuallySigningCertificatesCannotExhaustTheSearch) {
  // The same certificate ten times: the cache answers every link after the first.
  Chain root("root.crt");
  std::vector<DerBytes> same(kMaxChainLength, root.spans[0]);
  const PinVerdict v = verify_chain(same, std::vector<Pin>{pin_of("spare")}, kNow);
  EXPECT_EQ(v.code, PinVerdictCode::kMismatch);
  EXPECT_LE(v.path_length, kMaxChainLength);
  EXPECT_LE(v.signatures_checked, 1);
}

TEST_F(ChainPath, SignatureChecksAreBoundedAndCachedPerThread) {
  // The appended-leaf attack chain on a fresh thread: its one real link is verified once, then
  // taken from the thread's cache; a leaf pin checks no signature at all.
  auto on_fresh_thread = [](auto fn) {
    std::thread t([fn] {
      fn();
      wc_ecc_fp_free();  // Debian's wolfSSL (FP_ECC): a thread that did ECC frees its point cache
    });
    t.join();
  };
  on_fresh_thread([] {
    Chain c("hostile/misissued-plus-leaf.chain.pem");
    const std::vector<Pin> pins{pin_of("leaf-p256")};
    const PinVerdict first = verify_chain(c.spans, pins, kNow);
    EXPECT_EQ(first.code, PinVerdictCode::kPinNotOnPath);
    EXPECT_GE(first.signatures_checked, 1);
    const PinVerdict again = verify_chain(c.spans, pins, kNow);
    EXPECT_EQ(again.code, PinVerdictCode::kPinNotOnPath);  // the same verdict from the cache
    EXPECT_EQ(again.signatures_checked, 0);
    Chain g("leaf-p256.chain.pem");
    EXPECT_EQ(verify_chain(g.spans, pins, kNow).signatures_checked, 0);  // the leaf decides
  });
  on_fresh_thread([] {
    // A flipped signature never enters the cache: checked every time.
    Chain c("leaf-p256.chain.pem");
    c.ders[0].back() ^= 0x01;
    const std::vector<Pin> pins{pin_of("issuing")};
    EXPECT_EQ(verify_chain(c.spans, pins, kNow).signatures_checked, 1);
    EXPECT_EQ(verify_chain(c.spans, pins, kNow).signatures_checked, 1);
  });
  on_fresh_thread([] {
    // The genuine leaf followed by nine copies of the forged CA (the issuing CA's subject, another
    // key): nine candidates, each checked exactly once, none a link; failures are never cached.
    Chain leaf("leaf-p256.crt"), forged("hostile/forged-ca.crt");
    std::vector<DerBytes> chain{leaf.spans[0]};
    for (int i = 0; i < 9; ++i) chain.push_back(forged.spans[0]);
    const std::vector<Pin> pins{pin_of("hostile/forged-ca")};
    const PinVerdict v = verify_chain(chain, pins, kNow);
    EXPECT_EQ(v.code, PinVerdictCode::kPinNotOnPath);
    EXPECT_EQ(v.signatures_checked, 9);
    EXPECT_EQ(verify_chain(chain, pins, kNow).signatures_checked, 9);
  });
}

TEST_F(ChainPath, AuthenticateChecksTheNameAndNeedsOneInCaMode) {
  Chain c("leaf-p256.chain.pem");
  UpstreamPins up;
  up.name = "u";
  up.pins = {pin_of("leaf-p256")};
  up.auth_name = "dns.dotpin.test";
  EXPECT_EQ(authenticate_chain(c.spans, up, kNow).code, PinVerdictCode::kMatch);
  up.auth_name = "other.dotpin.test";
  EXPECT_EQ(authenticate_chain(c.spans, up, kNow).code, PinVerdictCode::kNameMismatch);
  up.auth_name.clear();
  EXPECT_EQ(authenticate_chain(c.spans, up, kNow).code, PinVerdictCode::kMatch);  // pin-only, no name
  EXPECT_EQ(authenticate_chain(c.spans, up, kNow, std::span<const CertView>(&anchor_, 1)).code,
            PinVerdictCode::kNameMismatch);  // CA mode without a name is never enough
}

// ---- signatures: every algorithm, and the refusals -----------------------------------------------

struct SigCase {
  const char* kind;
  SignatureCheck expect;
};

class Signatures : public ::testing::TestWithParam<SigCase> {};

TEST_P(Signatures, LeafSignedByItsCa) {
  DOTPIN_REQUIRE_PKI();
  const std::string kind = GetParam().kind;
  Chain leaf("hostile/sig-" + kind + "-leaf.crt"), ca("hostile/sig-" + kind + "-ca.crt"),
      other("hostile/sig-rsa-pkcs1-ca.crt"), p256("issuing.crt");
  const auto l = view_certificate(leaf.spans[0]);
  const auto c = view_certificate(ca.spans[0]);
  ASSERT_TRUE(l && c);
  EXPECT_EQ(verify_signature(l->tbs, l->sig_alg, l->signature, c->spki), GetParam().expect) << kind;
  if (GetParam().expect != SignatureCheck::kValid) return;
  // The same signature under another key of the same type, or of another type, is not valid.
  const auto o = view_certificate((kind == "rsa-pkcs1" ? p256 : other).spans[0]);
  EXPECT_NE(verify_signature(l->tbs, l->sig_alg, l->signature, o->spki), SignatureCheck::kValid) << kind;
  // A changed signed byte or signature byte is caught by the library.
  std::vector<std::uint8_t> tbs(l->tbs.begin(), l->tbs.end());
  tbs[tbs.size() / 2] ^= 0x20;
  EXPECT_EQ(verify_signature(tbs, l->sig_alg, l->signature, c->spki), SignatureCheck::kInvalid) << kind;
  std::vector<std::uint8_t> sig(l->signature.begin(), l->signature.end());
  sig[sig.size() / 2] ^= 0x01;
  EXPECT_NE(verify_signature(l->tbs, l->sig_alg, sig, c->spki), SignatureCheck::kValid) << kind;
  // And the CA's own self-signature verifies with its key.
  EXPECT_EQ(verify_signature(c->tbs, c->sig_alg, c->signature, c->spki), SignatureCheck::kValid) << kind;
}

INSTANTIATE_TEST_SUITE_P(All, Signatures,
                         ::testing::Values(SigCase{"rsa-pkcs1", SignatureCheck::kValid},
                                           SigCase{"rsa-pss", SignatureCheck::kValid},
                                           SigCase{"ed25519", SignatureCheck::kValid},
                                           SigCase{"p384", SignatureCheck::kValid},
                                           SigCase{"rsa-sha1", SignatureCheck::kUnsupported},
                                           SigCase{"rsa1024", SignatureCheck::kUnsupported},
                                           SigCase{"rsa-bige", SignatureCheck::kUnsupported}),
                         [](const auto& param_info) {
                           std::string n = param_info.param.kind;
                           for (char& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

TEST(SignatureEdges, GarbageNeverVerifies) {
  const std::vector<std::uint8_t> junk{0x30, 0x03, 0x02, 0x01, 0x00};
  EXPECT_NE(verify_signature(junk, junk, junk, junk), SignatureCheck::kValid);
  EXPECT_NE(verify_signature({}, {}, {}, {}), SignatureCheck::kValid);
}

// ---- the DER walk ---------------------------------------------------------------------------------

TEST_F(ChainPath, ViewReadsConstraints) {
  Chain c("leaf-p256.chain.pem");
  const auto leaf = view_certificate(c.spans[0]);
  const auto ca = view_certificate(c.spans[1]);
  ASSERT_TRUE(leaf && ca);
  EXPECT_FALSE(leaf->may_sign_certificates());
  EXPECT_TRUE(leaf->has_san);
  EXPECT_TRUE(ca->may_sign_certificates());
  EXPECT_TRUE(ca->key_cert_sign);
  EXPECT_EQ(ca->path_len, -1);
  EXPECT_TRUE(std::ranges::equal(leaf->issuer, ca->subject));
  Chain p("hostile/pathlen0.crt");
  EXPECT_EQ(view_certificate(p.spans[0])->path_len, 0);
}

TEST_F(ChainPath, ViewRefusesAlgorithmMismatchAndTrailingBytes) {
  Chain c("leaf-p256.crt");
  std::vector<std::uint8_t> der = c.ders[0];
  ASSERT_TRUE(view_certificate(der));
  // The outer signatureAlgorithm is the OID just before the BIT STRING; ecdsa-with-SHA256 ends in
  // 0x02: make it SHA384 (0x03) so that it no longer equals the inner one.
  const std::vector<std::uint8_t> oid{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
  auto it = std::find_end(der.begin(), der.end(), oid.begin(), oid.end());
  ASSERT_NE(it, der.end());
  *(it + 7) = 0x03;
  EXPECT_FALSE(view_certificate(der));
  std::vector<std::uint8_t> trailing = c.ders[0];
  trailing.push_back(0);
  EXPECT_FALSE(view_certificate(trailing));
  std::vector<std::uint8_t> truncated(c.ders[0].begin(), c.ders[0].end() - 1);
  EXPECT_FALSE(view_certificate(truncated));
}

}  // namespace
}  // namespace dotpin
