// SPDX-License-Identifier: Apache-2.0
/// @file cert_view.h
/// @brief One allocation-free walk of an X.509 certificate for path verification and name checks.
///
/// Everything here points into the certificate's DER, which must outlive the view. The walk is
/// strict where a lax parser would let an attacker smuggle something past the verifier: DER only
/// (der.h), exactly one certificate with nothing trailing, the inner and outer signature algorithms
/// equal (RFC 5280 §4.1.1.2), extensions only in v3, no extension twice (§4.2), and the three
/// extensions path verification reads (basicConstraints, keyUsage, subjectAltName) well-formed.
#pragma once

#include <cstdint>
#include <optional>

#include "pinning/certificate.h"

namespace dotpin {

struct CertView {
  DerBytes der;        ///< the whole certificate
  DerBytes tbs;        ///< tbsCertificate, tag and length included: the bytes the issuer signed
  DerBytes sig_alg;    ///< signatureAlgorithm AlgorithmIdentifier, contents only (OID + parameters)
  DerBytes signature;  ///< signatureValue without the BIT STRING's unused-bits octet
  DerBytes issuer;     ///< issuer Name, tag and length included (compared byte for byte)
  DerBytes subject;    ///< subject Name, tag and length included
  DerBytes spki;       ///< SubjectPublicKeyInfo, tag and length included
  UnixTime not_before{};
  UnixTime not_after{};  ///< RFC 5280's notAfter is inclusive; we treat now <= not_after as valid
  bool self_issued = false;  ///< subject and issuer are the same bytes

  bool has_basic_constraints = false;
  bool is_ca = false;         ///< basicConstraints cA TRUE
  int path_len = -1;          ///< pathLenConstraint, -1 when absent
  bool has_key_usage = false;
  bool key_cert_sign = false;  ///< keyUsage bit 5
  bool has_san = false;
  DerBytes san;               ///< subjectAltName GeneralNames, contents only (a sequence of names)
  /// A critical extension the verifier does not process and cannot ignore (RFC 5280 §4.2);
  /// such a certificate is never a link of a verified path.
  bool unknown_critical = false;

  /// [not_before, not_after] contains @p now.
  [[nodiscard]] bool valid_at(UnixTime now) const noexcept { return now >= not_before && now <= not_after; }
  /// May issue certificates: a CA by basicConstraints, with keyCertSign when keyUsage is present.
  [[nodiscard]] bool may_sign_certificates() const noexcept {
    return has_basic_constraints && is_ca && (!has_key_usage || key_cert_sign);
  }
};

/// Walks @p der. nullopt when it is not one well-formed certificate as described above.
std::optional<CertView> view_certificate(DerBytes der) noexcept;

}  // namespace dotpin
