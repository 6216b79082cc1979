// SPDX-License-Identifier: Apache-2.0
// Our DER walk and wolfSSL's X509 code are independent implementations: for every key type they
// must find the same SubjectPublicKeyInfo bytes. Ed25519 is left out: wolfSSL 5.5.4 cannot export
// an Ed25519 SPKI (wolfSSL_X509_get_pubkey_buffer fails), one reason dotpin walks the DER itself;
// its pin is checked against the openssl reference in certificate_test.cc instead.
#include <gtest/gtest.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "pinning/certificate.h"
#include "pinning/pem.h"
#include "tests/test_pki.h"

namespace dotpin {
namespace {

class SpkiCrossCheck : public ::testing::TestWithParam<const char*> {};

TEST_P(SpkiCrossCheck, SameBytesAsWolfssl) {
  DOTPIN_REQUIRE_PKI();
  const std::string file = std::string(GetParam()) + ".crt";
  auto objs = read_key_objects(test::pki_file(file), file);
  ASSERT_TRUE(objs.ok());
  const auto& der = objs->front().der;
  const auto ours = find_spki(der);
  ASSERT_TRUE(ours.has_value());

  WOLFSSL_X509* x = wolfSSL_X509_d2i(nullptr, der.data(), static_cast<int>(der.size()));
  ASSERT_NE(x, nullptr);
  unsigned char buf[1024];
  int len = sizeof buf;
  ASSERT_EQ(wolfSSL_X509_get_pubkey_buffer(x, buf, &len), WOLFSSL_SUCCESS);
  wolfSSL_X509_free(x);
  EXPECT_EQ(std::vector<std::uint8_t>(ours->begin(), ours->end()), std::vector<std::uint8_t>(buf, buf + len));
}

INSTANTIATE_TEST_SUITE_P(AllKeys, SpkiCrossCheck,
                         ::testing::Values("leaf-rsa2048", "leaf-rsa4096", "leaf-p256", "leaf-p384",
                                           "root", "issuing"),
                         [](const auto& param_info) {
                           std::string n = param_info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

}  // namespace
}  // namespace dotpin
