// SPDX-License-Identifier: Apache-2.0
// TLSA records: the strict RDATA and presentation parsers, the pin each record stands for, the
// records a certificate satisfies (cross-checked against openssl), and those pins in the verifier.
#include "pinning/tlsa.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "common/encoding.h"
#include "pinning/verifier.h"
#include "tests/pinning/pki_chain.h"

namespace dotpin {
namespace {

const UnixTime kNow = *parse_utc("2027-01-01T00:00:00Z");

std::vector<std::uint8_t> rdata(std::uint8_t u, std::uint8_t s, std::uint8_t m, std::size_t n, std::uint8_t fill = 0xab) {
  std::vector<std::uint8_t> out{u, s, m};
  out.insert(out.end(), n, fill);
  return out;
}

std::string error_of(const Result<TlsaRecord>& r) { return r ? std::string("(parsed)") : r.error(); }

/// Lower-case hex digest openssl computes for a PKI file (`openssl dgst -sha256` etc. of @p pipeline's output).
std::string openssl_hex(const std::string& pipeline) {
  std::FILE* p = ::popen(pipeline.c_str(), "r");
  EXPECT_NE(p, nullptr) << pipeline;
  if (!p) return "";
  std::string out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  EXPECT_EQ(::pclose(p), 0) << pipeline;
  // "SHA2-256(stdin)= 0123..." or "(stdin)= 0123...": the digest is the last word.
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out.substr(out.rfind(' ') + 1);
}

// ---- wire RDATA ---------------------------------------------------------------------------------

TEST(TlsaRdata, AcceptsWhatDaneUses) {
  for (std::uint8_t usage = 0; usage <= 3; ++usage)
    for (std::uint8_t sel = 0; sel <= 1; ++sel) {
      auto r = parse_tlsa_rdata(rdata(usage, sel, 1, 32));
      ASSERT_TRUE(r) << r.error();
      EXPECT_EQ(r->usage, usage);
      EXPECT_EQ(r->selector, sel);
      EXPECT_EQ(r->matching_type, 1);
      EXPECT_EQ(r->data, std::vector<std::uint8_t>(32, 0xab));
      EXPECT_EQ(tlsa_rdata(*r), rdata(usage, sel, 1, 32));
    }
  EXPECT_TRUE(parse_tlsa_rdata(rdata(3, 1, 2, 64)));
  EXPECT_TRUE(parse_tlsa_rdata(rdata(3, 0, 0, 1)));
  EXPECT_TRUE(parse_tlsa_rdata(rdata(3, 0, 0, tlsa::kMaxFullData)));
}

TEST(TlsaRdata, RefusesWithAReason) {
  struct Case {
    std::vector<std::uint8_t> in;
    const char* why;
  };
  const Case cases[] = {
      {{}, "0 octets"},
      {{3, 1, 1}, "3 octets"},
      {rdata(4, 1, 1, 32), "unknown certificate usage 4"},
      {rdata(255, 1, 1, 32), "unknown certificate usage 255"},
      {rdata(3, 2, 1, 32), "unknown selector 2"},
      {rdata(3, 1, 3, 32), "unknown matching type 3"},
      {rdata(3, 1, 1, 31), "31 octets of data, not 32"},
      {rdata(3, 1, 1, 33), "33 octets of data, not 32"},
      {rdata(3, 1, 1, 64), "64 octets of data, not 32"},
      {rdata(3, 1, 2, 32), "32 octets of data, not 64"},
      {rdata(3, 1, 2, 65), "65 octets of data, not 64"},
      {rdata(3, 0, 0, tlsa::kMaxFullData + 1), "at most 16384"},
  };
  for (const Case& c : cases) {
    const auto r = parse_tlsa_rdata(c.in);
    EXPECT_FALSE(r) << c.why;
    EXPECT_NE(error_of(r).find(c.why), std::string::npos) << error_of(r);
  }
}

// ---- presentation form ----------------------------------------------------------------------------

TEST(TlsaPresentation, RoundTrips) {
  const TlsaRecord r{3, 1, 1, std::vector<std::uint8_t>(32, 0xc4)};
  const std::string text = to_presentation(r);
  std::string expected = "3 1 1 ";
  for (int i = 0; i < 32; ++i) expected += "c4";
  EXPECT_EQ(text, expected);
  auto back = parse_tlsa_presentation(text);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(*back, r);
}

TEST(TlsaPresentation, AcceptsUpperCaseAndSplitData) {
  auto r = parse_tlsa_presentation("  2 0 1 " + std::string(32, 'A') + " \t" + std::string(32, 'b') + "\n");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->usage, 2);
  EXPECT_EQ(r->selector, 0);
  EXPECT_EQ(r->data.front(), 0xaa);
  EXPECT_EQ(r->data.back(), 0xbb);
}

TEST(TlsaPresentation, Refuses) {
  const std::string h32(64, '0');
  for (const std::string& bad : {std::string(""), std::string("3 1"), std::string("3 1 1"), "3 1 1 " + h32.substr(1),
                                 "3 1 1 " + h32.substr(2) + "zz", "3 1 1 00:" + h32.substr(4), "3 1 x " + h32,
                                 "256 1 1 " + h32, "-3 1 1 " + h32, "3,1,1 " + h32, "3 1 2 " + h32, "4 1 1 " + h32,
                                 std::string("3 0 0")}) {
    EXPECT_FALSE(parse_tlsa_presentation(bad)) << "'" << bad << "'";
  }
}

// ---- the pin a record stands for ------------------------------------------------------------------

TEST(PinFromTlsa, UsageSelectorAndMatchingType) {
  const std::vector<std::uint8_t> d32(32, 0x11), d64(64, 0x22);
  auto ee = pin_from_tlsa({3, 1, 1, d32});
  ASSERT_TRUE(ee) << ee.error();
  EXPECT_EQ(ee->scope, PinScope::kLeaf);
  EXPECT_EQ(ee->form, PinForm::kSpkiSha256);
  EXPECT_EQ(ee->origin, PinOrigin::kDane);
  EXPECT_EQ(std::vector<std::uint8_t>(ee->digest.begin(), ee->digest.end()), d32);
  auto ta = pin_from_tlsa({2, 0, 2, d64});
  ASSERT_TRUE(ta) << ta.error();
  EXPECT_EQ(ta->scope, PinScope::kIssuer);
  EXPECT_EQ(ta->form, PinForm::kCertSha512);
  EXPECT_EQ(std::vector<std::uint8_t>(ta->digest512.begin(), ta->digest512.end()), d64);
  EXPECT_EQ(pin_from_tlsa({3, 0, 1, d32})->form, PinForm::kCertSha256);
  EXPECT_EQ(pin_from_tlsa({2, 1, 2, d64})->form, PinForm::kSpkiSha512);
}

TEST(PinFromTlsa, RefusesPkixUsagesWithTheReason) {
  for (const std::uint8_t usage : {tlsa::kPkixTa, tlsa::kPkixEe}) {
    const auto p = pin_from_tlsa({usage, 1, 1, std::vector<std::uint8_t>(32, 1)});
    ASSERT_FALSE(p);
    EXPECT_NE(p.error().find(usage == 0 ? "usage 0 (PKIX-TA)" : "usage 1 (PKIX-EE)"), std::string::npos) << p.error();
    EXPECT_NE(p.error().find("PKIX validation"), std::string::npos) << p.error();
  }
  // And what the parser refuses, pin_from_tlsa refuses too (a record built by hand).
  EXPECT_FALSE(pin_from_tlsa({3, 1, 1, std::vector<std::uint8_t>(31, 1)}));
  EXPECT_FALSE(pin_from_tlsa({3, 1, 0, {}}));
}

class TlsaPki : public ::testing::Test {
 protected:
  void SetUp() override {
    DOTPIN_REQUIRE_PKI();
    leaf_ = test::load_chain("leaf-p256.crt");
    issuing_ = test::load_chain("issuing.crt");
    chain_ = test::load_chain("leaf-p256.chain.pem");
  }
  test::PkiChain leaf_, issuing_, chain_;
};

TEST_F(TlsaPki, MatchingTypeZeroIsTheSha256OfTheData) {
  const auto full = tlsa_for_certificate(leaf_.spans[0], 3, 0, 0);
  ASSERT_TRUE(full) << full.error();
  EXPECT_EQ(full->data, leaf_.ders[0]);
  const auto pin = pin_from_tlsa(*full);
  ASSERT_TRUE(pin) << pin.error();
  EXPECT_EQ(pin->form, PinForm::kCertSha256);
  EXPECT_EQ(pin->digest, spki_sha256(leaf_.spans[0]));
  // Equivalent to the 3 0 1 record of the same certificate.
  EXPECT_EQ(pin->digest, pin_from_tlsa(*tlsa_for_certificate(leaf_.spans[0], 3, 0, 1))->digest);
  const auto spki = pin_from_tlsa(*tlsa_for_certificate(leaf_.spans[0], 3, 1, 0));
  ASSERT_TRUE(spki) << spki.error();
  EXPECT_EQ(pin_base64(spki->digest), test::reference_pin("leaf-p256"));
  // Full data that is not what the selector says could never match: refused.
  TlsaRecord wrong = *full;
  wrong.selector = 1;  // a certificate where an SPKI belongs
  EXPECT_FALSE(pin_from_tlsa(wrong));
  wrong = *tlsa_for_certificate(leaf_.spans[0], 3, 1, 0);
  wrong.selector = 0;  // and the other way round
  EXPECT_FALSE(pin_from_tlsa(wrong));
  wrong.data.push_back(0);
  EXPECT_FALSE(pin_from_tlsa(wrong));
}

TEST_F(TlsaPki, RecordsForACertificateAgreeWithOpenssl) {
  const std::string crt = test::pki_dir() + "/leaf-p256.crt";
  const std::string spki = "openssl x509 -in '" + crt + "' -pubkey -noout | openssl pkey -pubin -outform der";
  const std::string der = "openssl x509 -in '" + crt + "' -outform der";
  EXPECT_EQ(to_presentation(*tlsa_for_certificate(leaf_.spans[0], 3, 1, 1)),
            "3 1 1 " + openssl_hex(spki + " | openssl dgst -sha256"));
  EXPECT_EQ(to_presentation(*tlsa_for_certificate(leaf_.spans[0], 3, 1, 2)),
            "3 1 2 " + openssl_hex(spki + " | openssl dgst -sha512"));
  EXPECT_EQ(to_presentation(*tlsa_for_certificate(leaf_.spans[0], 3, 0, 1)),
            "3 0 1 " + openssl_hex(der + " | openssl dgst -sha256"));
  EXPECT_EQ(to_presentation(*tlsa_for_certificate(leaf_.spans[0], 3, 0, 2)),
            "3 0 2 " + openssl_hex(der + " | openssl dgst -sha512"));
}

TEST_F(TlsaPki, TlsaForCertificateRefusesBadInput) {
  const std::vector<std::uint8_t> junk{0x30, 0x03, 0x02, 0x01, 0x00};
  EXPECT_FALSE(tlsa_for_certificate(junk, 3, 1, 1));
  EXPECT_FALSE(tlsa_for_certificate(leaf_.spans[0], 3, 2, 1));
  EXPECT_FALSE(tlsa_for_certificate(leaf_.spans[0], 3, 1, 3));
  EXPECT_FALSE(tlsa_for_certificate(leaf_.spans[0], 4, 1, 1));
}

TEST_F(TlsaPki, EveryRecordOfTheChainAuthenticatesItAtItsPosition) {
  for (std::uint8_t sel = 0; sel <= 1; ++sel)
    for (std::uint8_t mtype = 0; mtype <= 2; ++mtype) {
      SCOPED_TRACE("selector " + std::to_string(sel) + " matching type " + std::to_string(mtype));
      const auto ee = pin_from_tlsa(*tlsa_for_certificate(leaf_.spans[0], tlsa::kDaneEe, sel, mtype));
      const auto ta = pin_from_tlsa(*tlsa_for_certificate(issuing_.spans[0], tlsa::kDaneTa, sel, mtype));
      const auto ee_on_ca = pin_from_tlsa(*tlsa_for_certificate(issuing_.spans[0], tlsa::kDaneEe, sel, mtype));
      const auto ta_on_leaf = pin_from_tlsa(*tlsa_for_certificate(leaf_.spans[0], tlsa::kDaneTa, sel, mtype));
      ASSERT_TRUE(ee && ta && ee_on_ca && ta_on_leaf);
      PinVerdict v = verify_chain(chain_.spans, std::vector<Pin>{*ee}, kNow);
      EXPECT_EQ(v.code, PinVerdictCode::kMatch);
      EXPECT_EQ(v.matched_element, 0);
      v = verify_chain(chain_.spans, std::vector<Pin>{*ta}, kNow);
      EXPECT_EQ(v.code, PinVerdictCode::kMatch);
      EXPECT_EQ(v.matched_element, 1);
      EXPECT_EQ(verify_chain(chain_.spans, std::vector<Pin>{*ee_on_ca}, kNow).code, PinVerdictCode::kPinWrongPosition);
      EXPECT_EQ(verify_chain(chain_.spans, std::vector<Pin>{*ta_on_leaf}, kNow).code, PinVerdictCode::kPinWrongPosition);
      // A record for the impostor's certificate does not authenticate the genuine chain.
      const auto imp = test::load_chain("impostor.crt");
      const auto other = pin_from_tlsa(*tlsa_for_certificate(imp.spans[0], tlsa::kDaneEe, sel, mtype));
      EXPECT_EQ(verify_chain(chain_.spans, std::vector<Pin>{*other}, kNow).code, PinVerdictCode::kMismatch);
    }
}

}  // namespace
}  // namespace dotpin
