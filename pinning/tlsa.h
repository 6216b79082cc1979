// SPDX-License-Identifier: Apache-2.0
/// @file tlsa.h
/// @brief TLSA records (RFC 6698, 7671, 7673) as a pin source: the strict RDATA parser, the
/// presentation form, the pin a record stands for, and the record a certificate would publish.
///
/// RDATA comes from DNS and is untrusted even after DNSSEC validation (a signed zone can hold
/// anything): parse_tlsa_rdata() accepts only what dotpin can use correctly and says why it refuses
/// the rest. What a record means as a pin (pin_from_tlsa(), docs/dane.md):
///  - usage 3 DANE-EE -> scope kLeaf: only the key (or certificate) of element 0 matches;
///  - usage 2 DANE-TA -> scope kIssuer: only a certificate above element 0 on the verified path
///    (the server has to send it: the record's digest does not supply the certificate);
///  - usages 0 PKIX-TA and 1 PKIX-EE are refused: they add a PKIX check against the system's CAs
///    that a pin cannot express, and RFC 7673 §3 says not to use them for services found this way;
///  - selector 0 -> a certificate form, 1 -> an SPKI form;
///  - matching type 1 -> the SHA-256 form with the record's digest, 2 -> the SHA-512 form, and 0
///    (the full data) -> the SHA-256 form holding the SHA-256 of the data: an element matches it
///    exactly when its certificate (or SPKI) is those bytes, by SHA-256's collision resistance.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "pinning/certificate.h"
#include "pinning/pin_set.h"

namespace dotpin {

/// Field values of RFC 6698 §2.1 (mnemonics of RFC 7218).
namespace tlsa {
inline constexpr std::uint8_t kPkixTa = 0;
inline constexpr std::uint8_t kPkixEe = 1;
inline constexpr std::uint8_t kDaneTa = 2;
inline constexpr std::uint8_t kDaneEe = 3;
inline constexpr std::uint8_t kSelectorCert = 0;
inline constexpr std::uint8_t kSelectorSpki = 1;
inline constexpr std::uint8_t kFull = 0;
inline constexpr std::uint8_t kSha256 = 1;
inline constexpr std::uint8_t kSha512 = 2;
/// Longest association data accepted for matching type 0 (a whole certificate or SPKI). Real
/// certificates are 0.5-2 kB; anything near DNS's 64 kB RDATA limit is not one a server presents.
inline constexpr std::size_t kMaxFullData = 16384;
}  // namespace tlsa

/// One TLSA record's RDATA: certificate usage, selector, matching type, association data.
struct TlsaRecord {
  std::uint8_t usage = 0;
  std::uint8_t selector = 0;
  std::uint8_t matching_type = 0;
  std::vector<std::uint8_t> data;

  friend bool operator==(const TlsaRecord&, const TlsaRecord&) = default;
};

/// Parses wire-format RDATA (usage, selector, matching type octets, then the data). Refused, with
/// the reason: fewer than 4 octets, a usage above 3, a selector other than 0/1, a matching type
/// other than 0/1/2, a digest that is not 32 (type 1) or 64 (type 2) octets, more than
/// tlsa::kMaxFullData octets of full data (type 0). Usages 0 and 1 parse (pin_from_tlsa refuses them).
Result<TlsaRecord> parse_tlsa_rdata(std::span<const std::uint8_t> rdata);

/// The wire-format RDATA of @p record (no checks: the inverse of parse_tlsa_rdata on what it accepts).
std::vector<std::uint8_t> tlsa_rdata(const TlsaRecord& record);

/// Presentation form, RFC 6698 §2.2: "3 1 1 <data in lower-case hex>".
std::string to_presentation(const TlsaRecord& record);

/// Parses the presentation form: three decimal fields, then the data in hex (either case, which
/// may be split by white space), with the same checks as parse_tlsa_rdata. For tests and tools.
Result<TlsaRecord> parse_tlsa_presentation(std::string_view text);

/// The pin @p record stands for (see the file comment), origin kDane. Refuses usages 0 and 1, and
/// full data (matching type 0) that is not one DER certificate (selector 0) or SPKI (selector 1).
/// The caller sets learned_at / learned_from.
Result<Pin> pin_from_tlsa(const TlsaRecord& record);

/// The record with @p usage, @p selector and @p matching_type that @p cert (DER) satisfies: the
/// certificate or its SPKI (found by the certificate parser), as is or hashed. Fails for bytes that
/// are not a certificate, or for field values parse_tlsa_rdata would refuse.
Result<TlsaRecord> tlsa_for_certificate(DerBytes cert, std::uint8_t usage, std::uint8_t selector,
                                        std::uint8_t matching_type);

}  // namespace dotpin
