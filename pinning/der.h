// SPDX-License-Identifier: Apache-2.0
/// @file der.h
/// @brief A bounds-checked DER reader for the parts of X.509 that pinning needs.
///
/// Untrusted bytes (certificates presented by a server) go through this reader only. It never reads
/// past its span, never allocates, and stays failed after the first error, so callers may check once
/// at the end of a sequence of reads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "common/time_util.h"

namespace dotpin::der {

using Bytes = std::span<const std::uint8_t>;

/// Universal and context tags used by X.509 (single-byte identifiers only).
enum Tag : std::uint8_t {
  kBoolean = 0x01,
  kInteger = 0x02,
  kBitString = 0x03,
  kOctetString = 0x04,
  kNull = 0x05,
  kOid = 0x06,
  kUtf8String = 0x0c,
  kPrintableString = 0x13,
  kT61String = 0x14,
  kIa5String = 0x16,
  kUtcTime = 0x17,
  kGeneralizedTime = 0x18,
  kBmpString = 0x1e,
  kSequence = 0x30,
  kSet = 0x31,
  kContext0 = 0xa0,  // [0] EXPLICIT, constructed
  kContext1 = 0xa1,
  kContext2 = 0xa2,
  kContext3 = 0xa3,
};

/// One tag-length-value element: @c whole covers all three, @c value only the contents.
struct Tlv {
  std::uint8_t tag = 0;
  Bytes value;
  Bytes whole;
};

/// Reads consecutive TLVs from a span. Definite lengths only, minimal length encoding, lengths up
/// to 2^32-1; anything else marks the reader failed.
class Reader {
 public:
  explicit Reader(Bytes data) noexcept : data_(data) {}

  /// Reads the next element. Returns false (and fails the reader) at the end or on malformed input.
  bool next(Tlv& out) noexcept;
  /// Reads the next element and requires its tag to be @p tag.
  bool expect(std::uint8_t tag, Tlv& out) noexcept;
  /// The tag of the next element without consuming it; false at the end or when failed.
  [[nodiscard]] bool peek(std::uint8_t& tag) const noexcept;

  [[nodiscard]] bool at_end() const noexcept { return pos_ == data_.size(); }
  [[nodiscard]] bool failed() const noexcept { return failed_; }
  [[nodiscard]] std::size_t position() const noexcept { return pos_; }

 private:
  Bytes data_;
  std::size_t pos_ = 0;
  bool failed_ = false;
};

/// UTCTime "YYMMDDHHMMSSZ" or GeneralizedTime "YYYYMMDDHHMMSSZ" (RFC 5280 §4.1.2.5 forms only).
std::optional<UnixTime> parse_time(const Tlv& tlv) noexcept;

}  // namespace dotpin::der
