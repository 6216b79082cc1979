// SPDX-License-Identifier: Apache-2.0
/// @file wire_cursor.h
/// @brief The data path's DNS wire cursor: never reads past the end, and its first failure
/// sticks (every later read returns 0), so a parser checks ok() once where it matters.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dotpin::dataplane {

inline std::uint16_t load_be16(const std::uint8_t* p) noexcept { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
inline std::uint32_t load_be32(const std::uint8_t* p) noexcept {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}
inline void store_be16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
inline void store_be32(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

struct WireCursor {
  const std::uint8_t* p;
  std::size_t size;
  std::size_t pos;
  bool ok = true;

  bool need(std::size_t n) noexcept {
    if (!ok || size - pos < n) ok = false;
    return ok;
  }
  std::uint8_t u8() noexcept { return need(1) ? p[pos++] : 0; }
  std::uint16_t u16() noexcept {
    if (!need(2)) return 0;
    pos += 2;
    return load_be16(p + pos - 2);
  }
  std::uint32_t u32() noexcept {
    if (!need(4)) return 0;
    pos += 4;
    return load_be32(p + pos - 4);
  }
  void skip(std::size_t n) noexcept {
    if (need(n)) pos += n;
  }
  /// Skips a name: labels, ended by the root or by a compression pointer, which must point
  /// backwards (before the pointer itself). The pointer is not followed, so no loop can be.
  void skip_name() noexcept {
    std::size_t total = 0;
    while (ok) {
      const std::uint8_t len = u8();
      if (!ok || len == 0) return;
      if ((len & 0xc0) == 0xc0) {
        const std::uint8_t lo = u8();
        const std::size_t target = static_cast<std::size_t>(len & 0x3f) << 8 | lo;
        if (ok && target >= pos - 2) ok = false;
        return;
      }
      if (len > 63) {  // 0x40 / 0x80 label types are obsolete (RFC 6891 §5)
        ok = false;
        return;
      }
      total += len + 1u;
      if (total > 254) ok = false;
      skip(len);
    }
  }
};

}  // namespace dotpin::dataplane
