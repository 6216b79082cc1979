// SPDX-License-Identifier: Apache-2.0
#include "pinning/cert_view.h"

#include <algorithm>
#include <array>

#include "pinning/der.h"

namespace dotpin {
namespace {

using der::Reader;
using der::Tlv;

// Extension OIDs (id-ce, 2.5.29.x) as DER contents: 0x55 0x1d x.
constexpr std::uint8_t kCeSubjectKeyId = 14, kCeKeyUsage = 15, kCeSubjectAltName = 17, kCeBasicConstraints = 19,
                       kCeCrlDistribution = 31, kCePolicies = 32, kCeAuthorityKeyId = 35, kCePolicyConstraints = 36,
                       kCeExtKeyUsage = 37, kCeInhibitAnyPolicy = 54;

/// BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER (0..MAX) OPTIONAL }
bool read_basic_constraints(DerBytes value, CertView& v) noexcept {
  Reader outer(value);
  Tlv seq;
  if (!outer.expect(der::kSequence, seq) || !outer.at_end()) return false;
  Reader r(seq.value);
  std::uint8_t tag = 0;
  Tlv t;
  if (r.peek(tag) && tag == der::kBoolean) {
    // DER: a DEFAULT value is never encoded, so an explicit cA is TRUE (0xff).
    if (!r.next(t) || t.value.size() != 1 || t.value[0] != 0xff) return false;
    v.is_ca = true;
  }
  if (r.peek(tag) && tag == der::kInteger) {
    if (!r.next(t) || t.value.empty() || t.value.size() > 2 || (t.value[0] & 0x80)) return false;
    int len = 0;
    for (const std::uint8_t b : t.value) len = (len << 8) | b;
    v.path_len = len;
  }
  return r.at_end() && !r.failed();
}

/// KeyUsage ::= BIT STRING; keyCertSign is bit 5 (0x04 of the first octet).
bool read_key_usage(DerBytes value, CertView& v) noexcept {
  Reader outer(value);
  Tlv bits;
  if (!outer.expect(der::kBitString, bits) || !outer.at_end()) return false;
  if (bits.value.empty() || bits.value[0] > 7 || (bits.value.size() == 1 && bits.value[0] != 0)) return false;
  v.key_cert_sign = bits.value.size() > 1 && (bits.value[1] & 0x04) != 0;
  return true;
}

/// SubjectAltName ::= GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName
bool read_san(DerBytes value, CertView& v) noexcept {
  Reader outer(value);
  Tlv seq;
  if (!outer.expect(der::kSequence, seq) || !outer.at_end() || seq.value.empty()) return false;
  Reader names(seq.value);
  Tlv name;
  while (!names.at_end())
    if (!names.next(name)) return false;
  v.san = seq.value;
  return true;
}

/// Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension
/// Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
bool read_extensions(DerBytes value, CertView& v) noexcept {
  Reader outer(value);
  Tlv list;
  if (!outer.expect(der::kSequence, list) || !outer.at_end() || list.value.empty()) return false;
  Reader exts(list.value);
  std::array<DerBytes, 24> seen{};
  std::size_t seen_count = 0;
  while (!exts.at_end()) {
    Tlv ext, oid, crit, octets;
    if (!exts.expect(der::kSequence, ext)) return false;
    Reader e(ext.value);
    if (!e.expect(der::kOid, oid)) return false;
    bool critical = false;
    std::uint8_t tag = 0;
    if (e.peek(tag) && tag == der::kBoolean) {
      if (!e.next(crit) || crit.value.size() != 1 || crit.value[0] != 0xff) return false;
      critical = true;
    }
    if (!e.expect(der::kOctetString, octets) || !e.at_end()) return false;
    for (std::size_t i = 0; i < seen_count; ++i)
      if (std::ranges::equal(seen[i], oid.value)) return false;  // RFC 5280 §4.2: at most once each
    if (seen_count == seen.size()) return false;
    seen[seen_count++] = oid.value;
    const bool id_ce = oid.value.size() == 3 && oid.value[0] == 0x55 && oid.value[1] == 0x1d;
    const std::uint8_t id = id_ce ? oid.value[2] : 0;
    if (id_ce && id == kCeBasicConstraints) {
      v.has_basic_constraints = true;
      if (!read_basic_constraints(octets.value, v)) return false;
    } else if (id_ce && id == kCeKeyUsage) {
      v.has_key_usage = true;
      if (!read_key_usage(octets.value, v)) return false;
    } else if (id_ce && id == kCeSubjectAltName) {
      v.has_san = true;
      if (!read_san(octets.value, v)) return false;
    } else if (critical) {
      // A critical extension we do not process: RFC 5280 §4.2 says such a certificate must be
      // rejected. Those that constrain nothing we decide on (identifiers, policies, extended key
      // usage, distribution points) are tolerated; anything else (nameConstraints included) is not.
      const bool tolerated = id_ce && (id == kCeSubjectKeyId || id == kCeAuthorityKeyId || id == kCePolicies ||
                                       id == kCePolicyConstraints || id == kCeInhibitAnyPolicy ||
                                       id == kCeExtKeyUsage || id == kCeCrlDistribution);
      if (!tolerated) v.unknown_critical = true;
    }
  }
  return true;
}

}  // namespace

std::optional<CertView> view_certificate(DerBytes der) noexcept {
  CertView v;
  v.der = der;
  Reader outer(der);
  Tlv cert;
  if (!outer.expect(der::kSequence, cert) || !outer.at_end()) return std::nullopt;
  Reader c(cert.value);
  Tlv tbs, sig_alg, sig;
  if (!c.expect(der::kSequence, tbs) || !c.expect(der::kSequence, sig_alg) || !c.expect(der::kBitString, sig) ||
      !c.at_end())
    return std::nullopt;
  // A signature is a whole number of octets: no unused bits.
  if (sig.value.empty() || sig.value[0] != 0) return std::nullopt;
  v.tbs = tbs.whole;
  v.sig_alg = sig_alg.value;
  v.signature = sig.value.subspan(1);

  Reader t(tbs.value);
  Tlv tlv, inner_alg, issuer, validity, subject, spki;
  std::uint8_t tag = 0;
  int version = 1;
  if (t.peek(tag) && tag == der::kContext0) {
    // [0] EXPLICIT Version: v2 = 1, v3 = 2 (v1 is the DEFAULT and so never encoded in DER).
    if (!t.next(tlv)) return std::nullopt;
    Reader vr(tlv.value);
    Tlv num;
    if (!vr.expect(der::kInteger, num) || !vr.at_end() || num.value.size() != 1 || num.value[0] < 1 ||
        num.value[0] > 2)
      return std::nullopt;
    version = num.value[0] + 1;
  }
  if (!t.expect(der::kInteger, tlv) || !t.expect(der::kSequence, inner_alg) || !t.expect(der::kSequence, issuer) ||
      !t.expect(der::kSequence, validity) || !t.expect(der::kSequence, subject) || !t.expect(der::kSequence, spki))
    return std::nullopt;
  if (!std::ranges::equal(inner_alg.value, sig_alg.value)) return std::nullopt;
  v.issuer = issuer.whole;
  v.subject = subject.whole;
  v.spki = spki.whole;
  v.self_issued = std::ranges::equal(v.issuer, v.subject);
  Reader vr(validity.value);
  Tlv nb, na;
  if (!vr.next(nb) || !vr.next(na) || !vr.at_end()) return std::nullopt;
  const auto not_before = der::parse_time(nb);
  const auto not_after = der::parse_time(na);
  if (!not_before || !not_after) return std::nullopt;
  v.not_before = *not_before;
  v.not_after = *not_after;
  // issuerUniqueID [1] and subjectUniqueID [2] (v2+, primitive), then extensions [3] (v3 only).
  if (t.peek(tag) && tag == 0x81 && !t.next(tlv)) return std::nullopt;
  if (t.peek(tag) && tag == 0x82 && !t.next(tlv)) return std::nullopt;
  if (t.peek(tag) && tag == der::kContext3) {
    if (version != 3 || !t.next(tlv) || !read_extensions(tlv.value, v)) return std::nullopt;
  }
  if (!t.at_end() || t.failed()) return std::nullopt;
  return v;
}

}  // namespace dotpin
