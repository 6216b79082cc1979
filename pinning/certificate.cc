// SPDX-License-Identifier: Apache-2.0
#include "pinning/certificate.h"

#include <algorithm>
#include <array>
#include <cstdio>

#include "pinning/der.h"

namespace dotpin {
namespace {

using der::Reader;
using der::Tlv;

// OIDs as their DER contents bytes.
constexpr std::array<std::uint8_t, 9> kOidRsa{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
constexpr std::array<std::uint8_t, 7> kOidEcPublicKey{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
constexpr std::array<std::uint8_t, 8> kOidP256{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
constexpr std::array<std::uint8_t, 5> kOidP384{0x2b, 0x81, 0x04, 0x00, 0x22};
constexpr std::array<std::uint8_t, 5> kOidP521{0x2b, 0x81, 0x04, 0x00, 0x23};
constexpr std::array<std::uint8_t, 3> kOidEd25519{0x2b, 0x65, 0x70};
constexpr std::array<std::uint8_t, 3> kOidEd448{0x2b, 0x65, 0x71};

template <std::size_t N>
bool oid_is(DerBytes value, const std::array<std::uint8_t, N>& oid) {
  return value.size() == N && std::equal(value.begin(), value.end(), oid.begin());
}

/// The spans one walk of a certificate yields.
struct Parts {
  DerBytes issuer, validity, subject, spki;
};

/// Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }
/// TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber, signature, issuer, validity,
///                               subject, subjectPublicKeyInfo, ... }
/// Returns nullptr on success or a static description of the first problem.
const char* walk(DerBytes der, Parts& parts) noexcept {
  Reader outer(der);
  Tlv cert;
  if (!outer.expect(der::kSequence, cert)) return "not a DER SEQUENCE";
  if (!outer.at_end()) return "trailing bytes after the certificate";
  Reader c(cert.value);
  Tlv tbs, sig_alg, sig;
  if (!c.expect(der::kSequence, tbs)) return "missing tbsCertificate";
  if (!c.expect(der::kSequence, sig_alg) || !c.expect(der::kBitString, sig) || !c.at_end())
    return "malformed signature fields";
  Reader t(tbs.value);
  Tlv tlv;
  std::uint8_t tag = 0;
  if (t.peek(tag) && tag == der::kContext0 && !t.next(tlv)) return "malformed version";
  if (!t.expect(der::kInteger, tlv)) return "missing serial number";
  if (!t.expect(der::kSequence, tlv)) return "missing signature algorithm";
  Tlv issuer, validity, subject, spki;
  if (!t.expect(der::kSequence, issuer)) return "missing issuer";
  if (!t.expect(der::kSequence, validity)) return "missing validity";
  if (!t.expect(der::kSequence, subject)) return "missing subject";
  if (!t.expect(der::kSequence, spki)) return "missing subjectPublicKeyInfo";
  parts.issuer = issuer.whole;
  parts.validity = validity.value;
  parts.subject = subject.whole;
  parts.spki = spki.whole;
  return nullptr;
}

std::string oid_to_dotted(DerBytes oid) {
  std::string out;
  std::uint64_t v = 0;
  bool first = true;
  for (const std::uint8_t b : oid) {
    v = (v << 7) | (b & 0x7f);
    if (b & 0x80) continue;
    if (first) {
      const std::uint64_t a = v < 40 ? 0 : v < 80 ? 1 : 2;
      out += std::to_string(a) + "." + std::to_string(v - a * 40);
      first = false;
    } else {
      out += "." + std::to_string(v);
    }
    v = 0;
  }
  return out;
}

const char* attribute_name(DerBytes oid) {
  // id-at-* (2.5.4.x) and emailAddress.
  if (oid.size() == 3 && oid[0] == 0x55 && oid[1] == 0x04) {
    switch (oid[2]) {
      case 3: return "CN";
      case 5: return "serialNumber";
      case 6: return "C";
      case 7: return "L";
      case 8: return "ST";
      case 10: return "O";
      case 11: return "OU";
      default: return nullptr;
    }
  }
  static constexpr std::array<std::uint8_t, 9> kEmail{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01};
  if (oid_is(oid, kEmail)) return "emailAddress";
  return nullptr;
}

/// Appends a string attribute value, escaping anything that could confuse a terminal or a log line.
void append_escaped(std::string& out, DerBytes value) {
  for (const std::uint8_t ch : value) {
    if (ch >= 0x20 && ch < 0x7f && ch != '\\' && ch != ',') {
      out += static_cast<char>(ch);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", ch);
      out += buf;
    }
  }
}

/// Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value ANY }, rendered in encoding order.
std::optional<std::string> format_name(DerBytes name_tlv) {
  Reader outer(name_tlv);
  Tlv name;
  if (!outer.expect(der::kSequence, name)) return std::nullopt;
  Reader rdns(name.value);
  std::string out;
  while (!rdns.at_end()) {
    Tlv rdn;
    if (!rdns.expect(der::kSet, rdn)) return std::nullopt;
    Reader atvs(rdn.value);
    while (!atvs.at_end()) {
      Tlv atv, type, value;
      if (!atvs.expect(der::kSequence, atv)) return std::nullopt;
      Reader f(atv.value);
      if (!f.expect(der::kOid, type) || !f.next(value)) return std::nullopt;
      if (!out.empty()) out += ", ";
      const char* label = attribute_name(type.value);
      out += label ? label : oid_to_dotted(type.value);
      out += '=';
      switch (value.tag) {
        case der::kUtf8String:
        case der::kPrintableString:
        case der::kT61String:
        case der::kIa5String:
          append_escaped(out, value.value);
          break;
        default:
          out += "#" + std::to_string(value.value.size()) + "-byte-value";
      }
    }
  }
  return out;
}

unsigned integer_bits(DerBytes v) {
  std::size_t i = 0;
  while (i < v.size() && v[i] == 0) ++i;
  if (i == v.size()) return 0;
  unsigned bits = static_cast<unsigned>((v.size() - i) * 8);
  for (std::uint8_t top = v[i]; (top & 0x80) == 0; top = static_cast<std::uint8_t>(top << 1)) --bits;
  return bits;
}

}  // namespace

std::string key_description(KeyType type, unsigned bits) {
  switch (type) {
    case KeyType::kRsa: return "RSA-" + std::to_string(bits);
    case KeyType::kEcP256: return "ECDSA-P256";
    case KeyType::kEcP384: return "ECDSA-P384";
    case KeyType::kEcP521: return "ECDSA-P521";
    case KeyType::kEcOther: return "ECDSA (other curve)";
    case KeyType::kEd25519: return "Ed25519";
    case KeyType::kEd448: return "Ed448";
    case KeyType::kUnknown: break;
  }
  return "unknown key type";
}

std::optional<DerBytes> find_spki(DerBytes der) noexcept {
  Parts parts;
  if (walk(der, parts) != nullptr) return std::nullopt;
  return parts.spki;
}

Result<std::pair<KeyType, unsigned>> parse_spki(DerBytes der) {
  // SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
  Reader outer(der);
  Tlv spki, alg, key, oid;
  if (!outer.expect(der::kSequence, spki) || !outer.at_end()) return fail("not a SubjectPublicKeyInfo");
  Reader r(spki.value);
  if (!r.expect(der::kSequence, alg) || !r.expect(der::kBitString, key) || !r.at_end())
    return fail("malformed SubjectPublicKeyInfo");
  Reader a(alg.value);
  if (!a.expect(der::kOid, oid)) return fail("malformed key algorithm");
  if (key.value.empty() || key.value[0] != 0) return fail("malformed public key bit string");
  const DerBytes bits = key.value.subspan(1);
  if (oid_is(oid.value, kOidRsa)) {
    // RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }
    Reader k(bits);
    Tlv seq, modulus;
    if (!k.expect(der::kSequence, seq)) return fail("malformed RSA public key");
    Reader m(seq.value);
    if (!m.expect(der::kInteger, modulus)) return fail("malformed RSA modulus");
    return std::pair{KeyType::kRsa, integer_bits(modulus.value)};
  }
  if (oid_is(oid.value, kOidEcPublicKey)) {
    Tlv curve;
    if (!a.expect(der::kOid, curve)) return std::pair{KeyType::kEcOther, 0u};
    if (oid_is(curve.value, kOidP256)) return std::pair{KeyType::kEcP256, 256u};
    if (oid_is(curve.value, kOidP384)) return std::pair{KeyType::kEcP384, 384u};
    if (oid_is(curve.value, kOidP521)) return std::pair{KeyType::kEcP521, 521u};
    return std::pair{KeyType::kEcOther, 0u};
  }
  if (oid_is(oid.value, kOidEd25519)) return std::pair{KeyType::kEd25519, 256u};
  if (oid_is(oid.value, kOidEd448)) return std::pair{KeyType::kEd448, 456u};
  return std::pair{KeyType::kUnknown, 0u};
}

Result<Certificate> parse_certificate(DerBytes der) {
  Parts parts;
  if (const char* why = walk(der, parts)) return fail("not an X.509 certificate: ", why);
  Certificate cert;
  cert.der = der;
  cert.spki = parts.spki;
  auto subject = format_name(parts.subject);
  auto issuer = format_name(parts.issuer);
  if (!subject || !issuer) return fail("not an X.509 certificate: malformed subject or issuer name");
  cert.subject = std::move(*subject);
  cert.issuer = std::move(*issuer);
  cert.self_issued = std::ranges::equal(parts.subject, parts.issuer);
  Reader v(parts.validity);
  Tlv nb, na;
  if (!v.next(nb) || !v.next(na) || !v.at_end()) return fail("not an X.509 certificate: malformed validity");
  const auto not_before = der::parse_time(nb);
  const auto not_after = der::parse_time(na);
  if (!not_before || !not_after) return fail("not an X.509 certificate: bad validity time");
  cert.not_before = *not_before;
  cert.not_after = *not_after;
  auto key = parse_spki(parts.spki);
  if (!key) return fail("not an X.509 certificate: ", key.error());
  cert.key_type = key->first;
  cert.key_bits = key->second;
  return cert;
}

}  // namespace dotpin
