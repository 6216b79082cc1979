// SPDX-License-Identifier: Apache-2.0
// RFC 6125 / RFC 9525 name checks on our own DER walk.
#include "pinning/name_match.h"

#include <gtest/gtest.h>

#include "pinning/pem.h"
#include "tests/test_pki.h"

namespace dotpin {
namespace {

struct Case {
  const char* presented;
  const char* reference;
  bool match;
};

class DnsNames : public ::testing::TestWithParam<Case> {};

TEST_P(DnsNames, Match) {
  EXPECT_EQ(dns_name_matches(GetParam().presented, GetParam().reference), GetParam().match)
      << GetParam().presented << " vs " << GetParam().reference;
}

INSTANTIATE_TEST_SUITE_P(
    Rfc6125, DnsNames,
    ::testing::Values(Case{"dns.example.net", "dns.example.net", true},
                      Case{"DNS.Example.NET", "dns.example.net", true},    // ASCII case-insensitive
                      Case{"dns.example.net.", "dns.example.net", true},   // trailing dot, either side
                      Case{"dns.example.net", "dns.example.net.", true},
                      Case{"dns.example.net", "dns.example.ne", false},
                      Case{"dns.example.net", "xdns.example.net", false},
                      Case{"*.example.net", "dns.example.net", true},      // whole leftmost label
                      Case{"*.example.net", "a.b.example.net", false},     // exactly one label
                      Case{"*.example.net", "example.net", false},
                      Case{"*.example.net", ".example.net", false},
                      Case{"*.test", "dns.test", false},                   // never over one label of base
                      Case{"*.net", "example.net", false},
                      Case{"d*.example.net", "dns.example.net", false},    // no partial wildcards
                      Case{"*s.example.net", "dns.example.net", false},
                      Case{"dns.*.net", "dns.example.net", false},
                      Case{"*.*.net", "a.example.net", false},
                      Case{"**.example.net", "dns.example.net", false},
                      Case{"dns.example.net", "*.example.net", false},     // a reference is no pattern
                      Case{"*.example.net", "*.example.net", false},
                      Case{"dns..example.net", "dns..example.net", false}, // empty labels
                      Case{"", "", false},
                      Case{".", ".", false},
                      Case{"dns.exa mple.net", "dns.exa mple.net", false}, // bytes outside LDH-ish ASCII
                      Case{"xn--bcher-kva.example", "XN--BCHER-KVA.example", true}));

TEST(DnsNames, EmbeddedNulNeverMatches) {
  const std::string presented("dns.example.net\0.evil.test", 26);
  EXPECT_FALSE(dns_name_matches(presented, "dns.example.net"));
  EXPECT_FALSE(dns_name_matches(presented, presented));
}

struct CertCase {
  const char* file;
  const char* reference;
  bool match;
};

class CertNames : public ::testing::TestWithParam<CertCase> {};

TEST_P(CertNames, Match) {
  DOTPIN_REQUIRE_PKI();
  auto objs = read_key_objects(test::pki_file(GetParam().file), GetParam().file);
  ASSERT_TRUE(objs.ok());
  const auto view = view_certificate((*objs)[0].der);
  ASSERT_TRUE(view);
  EXPECT_EQ(certificate_matches_name(*view, GetParam().reference), GetParam().match)
      << GetParam().file << " vs " << GetParam().reference;
}

INSTANTIATE_TEST_SUITE_P(
    TestPki, CertNames,
    ::testing::Values(CertCase{"leaf-p256.crt", "dns.dotpin.test", true},
                      CertCase{"leaf-p256.crt", "DNS.dotpin.TEST.", true},
                      CertCase{"leaf-p256.crt", "wrong.dotpin.test", false},
                      CertCase{"hostile/wildcard-ok.crt", "dns.dotpin.test", true},
                      CertCase{"hostile/wildcard-ok.crt", "a.dns.dotpin.test", false},
                      CertCase{"hostile/partial-wildcard.crt", "dns.dotpin.test", false},
                      CertCase{"hostile/uri-san.crt", "dns.dotpin.test", false},   // URI SANs never match
                      CertCase{"hostile/cn-only.crt", "dns.dotpin.test", false},   // CN is never used
                      CertCase{"hostile/star-test.crt", "dotpin.test", false},
                      CertCase{"hostile/star-test.crt", "dns.test", false},
                      CertCase{"hostile/ip-san.crt", "198.18.0.53", true},          // IP literal: iPAddress
                      CertCase{"hostile/ip-san.crt", "198.18.0.54", false},
                      CertCase{"hostile/ip-san.crt", "dns.dotpin.test", true},
                      CertCase{"leaf-p256.crt", "198.18.0.53", false}));           // no DNS SAN fallback

}  // namespace
}  // namespace dotpin
