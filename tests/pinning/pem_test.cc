// SPDX-License-Identifier: Apache-2.0
#include "pinning/pem.h"

#include <gtest/gtest.h>

#include "pinning/certificate.h"
#include "tests/test_pki.h"

namespace dotpin {
namespace {

using test::pki_file;

TEST(Pem, ReadsAChainInOrder) {
  DOTPIN_REQUIRE_PKI();
  auto objs = read_key_objects(pki_file("leaf-p256.chain.pem"), "chain.pem");
  ASSERT_TRUE(objs.ok()) << objs.error();
  ASSERT_EQ(objs->size(), 2u);
  EXPECT_EQ((*objs)[0].index, 1);
  EXPECT_EQ((*objs)[1].index, 2);
  EXPECT_EQ((*objs)[0].line, 1);
  EXPECT_GT((*objs)[1].line, 1);
  EXPECT_EQ(parse_certificate((*objs)[1].der)->subject, "O=dotpin tests, CN=dotpin test issuing CA");
}

TEST(Pem, ToleratesCrlfAndSurroundingText) {
  DOTPIN_REQUIRE_PKI();
  std::string text = "subject=whatever\n" + pki_file("leaf-p256.crt") + "trailing notes\n";
  std::string crlf;
  for (char c : text) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  auto objs = read_key_objects(crlf, "crlf.pem");
  ASSERT_TRUE(objs.ok()) << objs.error();
  EXPECT_EQ(objs->size(), 1u);
  EXPECT_EQ(objs->front().line, 2);
}

TEST(Pem, RejectsPrivateKeysWithAHint) {
  DOTPIN_REQUIRE_PKI();
  auto objs = read_key_objects(pki_file("spare.key"), "spare.key");
  ASSERT_FALSE(objs.ok());
  EXPECT_NE(objs.error().find("spare.key:1"), std::string::npos) << objs.error();
  EXPECT_NE(objs.error().find("-pubout"), std::string::npos) << objs.error();
}

TEST(Pem, ReportsBrokenBlocks) {
  EXPECT_FALSE(read_key_objects("-----BEGIN CERTIFICATE-----\nMIIB\n", "x").ok());  // no END
  EXPECT_FALSE(read_key_objects("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", "x").ok());
  EXPECT_FALSE(read_key_objects("", "x").ok());
  EXPECT_FALSE(read_key_objects("just some text", "x").ok());
}

TEST(Pem, AcceptsDerCertificatesAndKeys) {
  DOTPIN_REQUIRE_PKI();
  auto pem = read_key_objects(pki_file("leaf-p384.crt"), "p384");
  ASSERT_TRUE(pem.ok());
  const auto& der = pem->front().der;
  auto objs = read_key_objects(std::string(der.begin(), der.end()), "p384.der");
  ASSERT_TRUE(objs.ok()) << objs.error();
  EXPECT_EQ(objs->front().kind, KeyObject::Kind::kCertificate);

  auto pub = read_key_objects(pki_file("spare.pub"), "spare.pub");
  ASSERT_TRUE(pub.ok());
  const auto& pder = pub->front().der;
  auto pobjs = read_key_objects(std::string(pder.begin(), pder.end()), "spare.der");
  ASSERT_TRUE(pobjs.ok()) << pobjs.error();
  EXPECT_EQ(pobjs->front().kind, KeyObject::Kind::kPublicKey);
}

TEST(ReadFile, NamesTheMissingFile) {
  auto r = read_file("/nonexistent/dotpin/file.pem");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("/nonexistent/dotpin/file.pem"), std::string::npos);
}

}  // namespace
}  // namespace dotpin
