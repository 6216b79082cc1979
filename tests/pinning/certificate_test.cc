// SPDX-License-Identifier: Apache-2.0
#include "pinning/certificate.h"

#include <gtest/gtest.h>

#include "pinning/pem.h"
#include "pinning/spki_pin.h"
#include "tests/test_pki.h"

namespace dotpin {
namespace {

using test::pki_file;
using test::reference_pin;

std::vector<std::uint8_t> first_der(const std::string& file) {
  auto objs = read_key_objects(pki_file(file), file);
  EXPECT_TRUE(objs.ok()) << (objs.ok() ? "" : objs.error());
  return objs.ok() ? objs->front().der : std::vector<std::uint8_t>{};
}

struct KeyCase {
  const char* stem;
  KeyType type;
  unsigned bits;
  const char* description;
};

class CertificateKeyTypes : public ::testing::TestWithParam<KeyCase> {};

// The pin of every supported key type equals the RFC 7469 reference pipeline's
// (openssl x509 -pubkey | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64).
TEST_P(CertificateKeyTypes, PinEqualsOpensslReference) {
  DOTPIN_REQUIRE_PKI();
  const KeyCase& c = GetParam();
  const auto der = first_der(std::string(c.stem) + ".crt");
  auto cert = parse_certificate(der);
  ASSERT_TRUE(cert.ok()) << cert.error();
  EXPECT_EQ(pin_base64(spki_sha256(cert->spki)), reference_pin(c.stem));
  EXPECT_EQ(cert->key_type, c.type);
  EXPECT_EQ(cert->key_bits, c.bits);
  EXPECT_EQ(key_description(cert->key_type, cert->key_bits), c.description);
  EXPECT_EQ(cert->subject, "O=dotpin tests, CN=dns.dotpin.test");
  EXPECT_EQ(cert->issuer, "O=dotpin tests, CN=dotpin test issuing CA");
  EXPECT_FALSE(cert->self_issued);
  EXPECT_LT(cert->not_before, cert->not_after);
  // find_spki agrees with the full parse.
  const auto spki = find_spki(der);
  ASSERT_TRUE(spki.has_value());
  EXPECT_EQ(spki->data(), cert->spki.data());
  EXPECT_EQ(spki->size(), cert->spki.size());
}

INSTANTIATE_TEST_SUITE_P(AllKeys, CertificateKeyTypes,
                         ::testing::Values(KeyCase{"leaf-rsa2048", KeyType::kRsa, 2048, "RSA-2048"},
                                           KeyCase{"leaf-rsa3072", KeyType::kRsa, 3072, "RSA-3072"},
                                           KeyCase{"leaf-rsa4096", KeyType::kRsa, 4096, "RSA-4096"},
                                           KeyCase{"leaf-p256", KeyType::kEcP256, 256, "ECDSA-P256"},
                                           KeyCase{"leaf-p384", KeyType::kEcP384, 384, "ECDSA-P384"},
                                           KeyCase{"leaf-ed25519", KeyType::kEd25519, 256, "Ed25519"}),
                         [](const auto& param_info) {
                           std::string n = param_info.param.stem;
                           n.erase(0, 5);
                           return n;
                         });

TEST(Certificate, RootIsSelfIssuedAndExpiredDatesAreRead) {
  DOTPIN_REQUIRE_PKI();
  auto root = parse_certificate(first_der("root.crt"));
  ASSERT_TRUE(root.ok());
  EXPECT_TRUE(root->self_issued);
  EXPECT_EQ(root->subject, "O=dotpin tests, CN=dotpin test root CA");

  auto expired = parse_certificate(first_der("expired.crt"));
  ASSERT_TRUE(expired.ok()) << expired.error();
  EXPECT_EQ(format_utc(expired->not_before), "2019-01-01T00:00:00Z");
  EXPECT_EQ(format_utc(expired->not_after), "2020-01-01T00:00:00Z");
}

TEST(Certificate, EveryTruncationIsRejectedWithoutCrashing) {
  DOTPIN_REQUIRE_PKI();
  const auto der = first_der("leaf-p256.crt");
  for (std::size_t n = 0; n < der.size(); ++n) {
    const DerBytes cut(der.data(), n);
    EXPECT_FALSE(find_spki(cut).has_value()) << n;
    EXPECT_FALSE(parse_certificate(cut).ok()) << n;
  }
}

TEST(Certificate, TrailingBytesAreRejected) {
  DOTPIN_REQUIRE_PKI();
  auto der = first_der("leaf-p256.crt");
  der.push_back(0);
  EXPECT_FALSE(find_spki(der).has_value());
  auto r = parse_certificate(der);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("trailing"), std::string::npos) << r.error();
}

TEST(Certificate, CorruptedBytesNeverCrash) {
  DOTPIN_REQUIRE_PKI();
  const auto der = first_der("leaf-rsa2048.crt");
  // Flip each byte of the first 300 in turn; whatever parses must still point inside the input.
  for (std::size_t i = 0; i < std::min<std::size_t>(der.size(), 300); ++i) {
    auto bad = der;
    bad[i] ^= 0xff;
    if (const auto spki = find_spki(bad)) {
      EXPECT_GE(spki->data(), bad.data());
      EXPECT_LE(spki->data() + spki->size(), bad.data() + bad.size());
    }
    (void)parse_certificate(bad);
  }
}

TEST(Spki, BarePublicKeyParses) {
  DOTPIN_REQUIRE_PKI();
  auto objs = read_key_objects(pki_file("spare.pub"), "spare.pub");
  ASSERT_TRUE(objs.ok());
  auto key = parse_spki(objs->front().der);
  ASSERT_TRUE(key.ok()) << key.error();
  EXPECT_EQ(key->first, KeyType::kEcP256);
  EXPECT_EQ(pin_base64(spki_sha256(objs->front().der)), reference_pin("spare"));
}

}  // namespace
}  // namespace dotpin
