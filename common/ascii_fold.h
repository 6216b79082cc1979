// SPDX-License-Identifier: Apache-2.0
/// @file ascii_fold.h
/// @brief The one ASCII case fold (RFC 4343 for DNS names, RFC 6125 for certificate names): 'A'-'Z'
/// become 'a'-'z', every other octet stays as it is. No locale, no table lookup, branch-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace dotpin {

constexpr std::uint8_t ascii_lower(std::uint8_t c) noexcept {
  return static_cast<std::uint8_t>(c | (static_cast<std::uint8_t>(c - 'A') < 26) << 5);
}
constexpr char ascii_lower(char c) noexcept {
  return static_cast<char>(ascii_lower(static_cast<std::uint8_t>(c)));
}

/// Writes the @p n bytes at @p in folded to @p out (which may be @p in).
constexpr void ascii_lower_copy(std::uint8_t* out, const std::uint8_t* in, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = ascii_lower(in[i]);
}

/// Equal but for ASCII case.
constexpr bool ascii_iequal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}
constexpr bool ascii_iequal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

}  // namespace dotpin
