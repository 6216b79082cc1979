// SPDX-License-Identifier: Apache-2.0
/// @file ip_prefix.h
/// @brief "address" or "address/len", IPv4 or IPv6, as the config writes them: the one parser
/// behind the ACL's prefixes and the port's own addresses. What the bits mean (host bits an error
/// for an ACL, required for an interface address) is the caller's.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "common/result.h"

namespace dotpin::dataplane {

struct IpPrefix {
  bool v6 = false;
  std::array<std::uint8_t, 16> address{};  ///< network byte order; IPv4 in the first 4 bytes
  int length = 32;                          ///< the prefix length; a bare address gets 32 or 128
  bool has_length = false;                  ///< "/len" was written

  /// The address as a host-order 32-bit word (IPv4 only).
  [[nodiscard]] std::uint32_t v4() const noexcept {
    return std::uint32_t{address[0]} << 24 | std::uint32_t{address[1]} << 16 | std::uint32_t{address[2]} << 8 | address[3];
  }
  /// The host-order mask of length bits (IPv4 only).
  [[nodiscard]] std::uint32_t v4_mask() const noexcept { return length == 0 ? 0 : ~0u << (32 - length); }
};

/// The 8 bytes at @p p as a big-endian (network order) word.
inline std::uint64_t load_be64(const std::uint8_t* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | p[i];
  return v;
}
/// A mask of the top @p bits of a 64-bit word (0 or less: none; 64 or more: all): one half of an
/// IPv6 prefix mask.
inline std::uint64_t mask_bits(int bits) noexcept { return bits <= 0 ? 0 : bits >= 64 ? ~0ull : ~0ull << (64 - bits); }

/// Parses @p text; the error names it ("'x/40': prefix length must be 0..32", "'x' is not an IPv4
/// address or prefix").
Result<IpPrefix> parse_ip_prefix(std::string_view text);

}  // namespace dotpin::dataplane
