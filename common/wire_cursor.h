// SPDX-License-Identifier: Apache-2.0
/// @file wire_cursor.h
/// @brief The one bounds-checked DNS wire cursor, header-only so that the data path inlines it. It
/// never reads past the end of the message and its first failure sticks (every later read returns
/// 0), so a parser checks ok() once where it matters. It holds the one implementation of the name
/// rules: labels of at most 63 octets, no extended label types, compression pointers strictly
/// backwards (so a walk cannot loop), at most 255 octets uncompressed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "common/ascii_fold.h"

namespace dotpin::dns {

inline constexpr std::size_t kMaxNameLen = 255;  ///< RFC 1035 §2.3.4: a name on the wire, root included
inline constexpr std::size_t kMaxLabelLen = 63;
inline constexpr std::size_t kHeaderLen = 12;

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

class WireCursor {
 public:
  explicit WireCursor(std::span<const std::uint8_t> msg, std::size_t pos = 0) noexcept
      : p_(msg.data()), size_(msg.size()), pos_(pos), ok_(pos <= msg.size()) {}

  /// True if @p n more bytes can be read; fails the cursor otherwise.
  bool need(std::size_t n) noexcept {
    if (!ok_ || size_ - pos_ < n) ok_ = false;
    return ok_;
  }
  std::uint8_t u8() noexcept { return need(1) ? p_[pos_++] : 0; }
  std::uint16_t u16() noexcept {
    if (!need(2)) return 0;
    pos_ += 2;
    return load_be16(p_ + pos_ - 2);
  }
  std::uint32_t u32() noexcept {
    if (!need(4)) return 0;
    pos_ += 4;
    return load_be32(p_ + pos_ - 4);
  }
  void skip(std::size_t n) noexcept {
    if (need(n)) pos_ += n;
  }
  void fail() noexcept { ok_ = false; }

  /// Walks the name at the cursor and moves past it, calling @p on_label with each label (the root
  /// excluded) in order, compression pointers followed. A pointer must point strictly before the
  /// labels it ends — the name's own start, then the previous pointer's target — so no walk can
  /// loop; 0x40/0x80 label types are refused (RFC 6891 §5), and so is a name longer than 255 octets
  /// uncompressed. False (and the cursor fails) if the name breaks a rule or runs off the end.
  template <class OnLabel>
  bool walk_name(OnLabel&& on_label) noexcept {
    return walk<true>(on_label);
  }

  /// Moves past a name with the checks of walk_name(). A pointer to the last name this cursor read
  /// in full without pointers (typically the question, which answers point at) is not walked again:
  /// its length is known.
  bool skip_name() noexcept {
    auto none = [](std::span<const std::uint8_t>) noexcept {};
    return walk<false>(none);
  }

  /// Reads the name at the cursor into @p out (at least kMaxNameLen bytes) in uncompressed wire
  /// form, ASCII lower-cased when @p fold. Returns its length, root included; 0 if unreadable.
  std::size_t read_name(std::uint8_t* out, bool fold) noexcept {
    std::size_t n = 0;
    const bool ok = walk_name([&](std::span<const std::uint8_t> label) noexcept {
      out[n++] = static_cast<std::uint8_t>(label.size());
      if (fold) ascii_lower_copy(out + n, label.data(), label.size());
      else std::memcpy(out + n, label.data(), label.size());
      n += label.size();
    });
    if (!ok) return 0;
    out[n++] = 0;
    return n;
  }

  [[nodiscard]] bool ok() const noexcept { return ok_; }
  [[nodiscard]] std::size_t pos() const noexcept { return pos_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t remaining() const noexcept { return ok_ ? size_ - pos_ : 0; }
  [[nodiscard]] const std::uint8_t* data() const noexcept { return p_; }

 private:
  // The one implementation of the name rules. kLabels: on_label needs every label (else a pointer
  // to the remembered name is taken by its known length).
  template <bool kLabels, class OnLabel>
  bool walk(OnLabel& on_label) noexcept {
    if (!ok_) return false;
    const std::size_t start = pos_;
    std::size_t p = pos_;
    std::size_t limit = pos_;  // the next pointer must point before this
    std::size_t labels = 0;    // uncompressed length so far, the root not counted
    bool jumped = false;
    while (p < size_) {
      const std::uint8_t len = p_[p];
      if (len == 0) {
        if (!jumped) {
          pos_ = p + 1;
          if (labels != 0) {  // read in full where it stands: a likely pointer target (the root is not)
            known_at_ = start;
            known_len_ = labels;
          }
        }
        return true;
      }
      if ((len & 0xc0) == 0xc0) {
        if (size_ - p < 2) break;
        const std::size_t target = std::size_t{len & 0x3fu} << 8 | p_[p + 1];
        if (target >= limit) break;  // forward, to itself, or into the labels just walked: a loop or garbage
        if (!jumped) pos_ = p + 2;
        if (!kLabels && target == known_at_) {
          if (labels + known_len_ > kMaxNameLen - 1) break;
          return true;
        }
        jumped = true;
        limit = p = target;
        continue;
      }
      if (len > kMaxLabelLen) break;
      labels += len + 1u;
      if (labels > kMaxNameLen - 1 || size_ - p - 1 < len) break;
      on_label(std::span<const std::uint8_t>(p_ + p + 1, len));
      p += 1u + len;
    }
    ok_ = false;
    return false;
  }

  const std::uint8_t* p_;
  std::size_t size_;
  std::size_t pos_;
  bool ok_;
  std::size_t known_at_ = SIZE_MAX;  // the last name read in full without pointers, and its length
  std::size_t known_len_ = 0;
};

}  // namespace dotpin::dns
