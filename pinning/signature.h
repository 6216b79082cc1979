// SPDX-License-Identifier: Apache-2.0
/// @file signature.h
/// @brief Checks that one certificate was signed by the key of another, with wolfCrypt.
///
/// Algorithms: RSA PKCS#1 v1.5 and RSASSA-PSS with SHA-256/384/512, ECDSA with SHA-256/384/512 on
/// the curves wolfCrypt knows (P-256, P-384, P-521 in practice), Ed25519 and Ed448. Everything else
/// (SHA-1, MD5, DSA, unknown OIDs, PSS parameters that disagree) is kUnsupported, which callers
/// treat as not verified. Every wolfCrypt return code is checked: only an explicit "valid" from the
/// library is kValid, so "could not check" can never read as success.
#pragma once

#include <string_view>

#include "pinning/certificate.h"

namespace dotpin {

enum class SignatureCheck {
  kValid,        ///< the library verified the signature with the key
  kInvalid,      ///< the library checked it and it is wrong
  kUnsupported,  ///< algorithm or key type not accepted (SHA-1, DSA, mismatched key, ...)
  kMalformed,    ///< the key, the parameters or the signature could not be decoded
};

std::string_view to_string(SignatureCheck c);

/// Verifies @p signature over @p signed_data (a tbsCertificate TLV) under @p algorithm (an
/// AlgorithmIdentifier's contents) with the SubjectPublicKeyInfo @p issuer_spki.
SignatureCheck verify_signature(DerBytes signed_data, DerBytes algorithm, DerBytes signature,
                                DerBytes issuer_spki) noexcept;

}  // namespace dotpin
