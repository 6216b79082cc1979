// SPDX-License-Identifier: Apache-2.0
/// @file name_match.h
/// @brief Whether a server certificate is valid for an authentication domain name (RFC 6125 as
/// updated by RFC 9525), on our own DER walk.
///
/// Rules: only subjectAltName entries count, and of those only dNSName for a host name and
/// iPAddress for an IP literal (a URI, email or other SAN never matches, and the subject CN is
/// never used: a certificate without a matching SAN does not match). Comparison is ASCII
/// case-insensitive, with one trailing dot removed from either side. A wildcard is only "*" as the
/// whole leftmost label, matches exactly one non-empty label, and needs at least two labels after
/// it ("*.example.net" yes; "*.net", "*.test", "d*.example.net", "*x.example.net" never). Names
/// with NUL or other bytes outside printable ASCII, empty labels, or over 253 octets match nothing.
#pragma once

#include <string_view>

#include "pinning/cert_view.h"

namespace dotpin {

/// @p reference is what the operator configured (`auth_name`): a host name or an IP literal.
[[nodiscard]] bool certificate_matches_name(const CertView& leaf, std::string_view reference) noexcept;

/// The same rules for one dNSName against a host name (exposed for tests and the fuzz target).
[[nodiscard]] bool dns_name_matches(std::string_view presented, std::string_view reference) noexcept;

}  // namespace dotpin
