// SPDX-License-Identifier: Apache-2.0
/// @file spki_pin.h
/// @brief The pin itself: SHA-256 over a DER SubjectPublicKeyInfo (RFC 7469 pin-sha256), and the
/// SHA-512 digest the other pin forms use (pin_set.h PinForm, TLSA matching type 2).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace dotpin {

/// SHA-256 digest of a DER SubjectPublicKeyInfo.
using PinDigest = std::array<std::uint8_t, 32>;

/// SHA-512 digest (PinForm kSpkiSha512 / kCertSha512, TLSA matching type 2).
using PinDigest512 = std::array<std::uint8_t, 64>;

/// SHA-256 of @p spki_der. The input is the whole SPKI element, tag and length included. Also the
/// SHA-256 of any other bytes (a whole certificate for PinForm kCertSha256).
PinDigest spki_sha256(std::span<const std::uint8_t> spki_der) noexcept;
/// SHA-512 of @p der (an SPKI or a whole certificate).
PinDigest512 sha512_of(std::span<const std::uint8_t> der) noexcept;

/// RFC 7469 form: 44 characters of padded base64.
std::string pin_base64(const PinDigest& pin);
/// Lower-case hex, 64 characters.
std::string pin_hex(const PinDigest& pin);

/// Parses a base64 pin. On failure returns nullopt and, if @p why is set, a reason such as
/// "decodes to 20 bytes; a SHA-256 pin has 32 (is it a SHA-1 pin?)".
std::optional<PinDigest> parse_pin_base64(std::string_view text, std::string* why = nullptr);

/// Equality whose running time does not depend on where the digests differ.
bool pins_equal(const PinDigest& a, const PinDigest& b) noexcept;
bool pins_equal(const PinDigest512& a, const PinDigest512& b) noexcept;

}  // namespace dotpin
