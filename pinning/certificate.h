// SPDX-License-Identifier: Apache-2.0
/// @file certificate.h
/// @brief What pinning needs from an X.509 certificate: its SubjectPublicKeyInfo, names, validity.
///
/// Two entry points over one walk of the DER: find_spki() is allocation-free and is what the
/// verifier calls once per chain element during a handshake; parse_certificate() also decodes the
/// names, validity and key type for the CLI and the expiry monitor.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "common/result.h"
#include "common/time_util.h"

namespace dotpin {

using DerBytes = std::span<const std::uint8_t>;

/// Key algorithms we recognise by OID (anything else is still pinnable: its SPKI is hashed as is).
enum class KeyType { kRsa, kEcP256, kEcP384, kEcP521, kEcOther, kEd25519, kEd448, kUnknown };

/// "RSA-2048", "ECDSA-P256", "Ed25519", ...
std::string key_description(KeyType type, unsigned bits);

/// The fields of a certificate that pinning and expiry monitoring use. Spans point into the DER
/// the certificate was parsed from, which must outlive this value.
struct Certificate {
  DerBytes der;          ///< the whole certificate
  DerBytes spki;         ///< SubjectPublicKeyInfo, tag and length included (what pin-sha256 hashes)
  std::string subject;   ///< "C=NL, O=Example, CN=dns.example.net"; non-printables escaped
  std::string issuer;
  UnixTime not_before{};
  UnixTime not_after{};
  KeyType key_type = KeyType::kUnknown;
  unsigned key_bits = 0;  ///< RSA modulus bits, EC curve bits, 256 for Ed25519
  bool self_issued = false;  ///< issuer and subject are the same bytes (a root, usually)
};

/// Locates the SubjectPublicKeyInfo of a DER certificate without allocating. nullopt if the bytes
/// are not a well-formed certificate (exactly one, nothing trailing).
std::optional<DerBytes> find_spki(DerBytes der) noexcept;

/// Decodes a DER certificate. The error says what was wrong ("validity: bad UTCTime").
Result<Certificate> parse_certificate(DerBytes der);

/// Checks that @p der is exactly one SubjectPublicKeyInfo (as in a PEM "PUBLIC KEY" block) and
/// returns its key type and size.
Result<std::pair<KeyType, unsigned>> parse_spki(DerBytes der);

}  // namespace dotpin
