// SPDX-License-Identifier: Apache-2.0
/// @file encoding.h
/// @brief Base64 (RFC 4648 §4, padded) and lower-case hex, strict on input.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dotpin {

/// Padded standard base64 of @p data.
std::string base64_encode(std::span<const std::uint8_t> data);

/// Decodes padded standard base64. Whitespace is not allowed (callers strip it where a format
/// permits it, as PEM does). Returns nullopt on any invalid character, bad padding or length, or
/// non-zero bits in the last symbol, so that every pin has exactly one spelling.
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text);

/// Lower-case hex of @p data.
std::string hex_encode(std::span<const std::uint8_t> data);

/// Decodes hex (either case, an optional ':' between bytes is accepted). nullopt if malformed.
std::optional<std::vector<std::uint8_t>> hex_decode(std::string_view text);

}  // namespace dotpin
