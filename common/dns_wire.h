// SPDX-License-Identifier: Apache-2.0
/// @file dns_wire.h
/// @brief DNS messages on the wire: a bounds-checked reader, query building with EDNS(0) and
/// RFC 8467 block padding, and a kdig-style text rendering of a response.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace dotpin::dns {

inline constexpr std::uint16_t kTypeA = 1, kTypeNs = 2, kTypeCname = 5, kTypeSoa = 6, kTypePtr = 12,
                               kTypeMx = 15, kTypeTxt = 16, kTypeAaaa = 28, kTypeSrv = 33, kTypeOpt = 41,
                               kTypeDs = 43, kTypeDnskey = 48, kTypeTlsa = 52, kTypeAny = 255;
inline constexpr std::uint16_t kClassIn = 1;
inline constexpr std::uint16_t kOptionPadding = 12;  ///< RFC 7830
inline constexpr std::uint16_t kOptionEde = 15;      ///< RFC 8914 Extended DNS Errors
inline constexpr std::size_t kPaddingBlock = 128;    ///< RFC 8467 §4.1 for queries

std::optional<std::uint16_t> type_from_string(std::string_view text);
std::string type_to_string(std::uint16_t type);
std::string rcode_to_string(unsigned rcode);

/// Reads a DNS message without ever going past its end; the first failure sticks.
class WireReader {
 public:
  explicit WireReader(std::span<const std::uint8_t> msg, std::size_t pos = 0) noexcept : msg_(msg), pos_(pos) {}
  std::uint8_t u8() noexcept;
  std::uint16_t u16() noexcept;
  std::uint32_t u32() noexcept;
  /// Reads a (possibly compressed) name at the cursor into presentation form ("www.example.")
  /// with RFC 1035 escapes. Compression pointers must point strictly backwards (no loops).
  std::string name();
  /// Moves past a name with the same checks as name(), without building it (no allocation).
  bool skip_name() noexcept;
  /// Skips @p n bytes.
  void skip(std::size_t n) noexcept;
  [[nodiscard]] bool ok() const noexcept { return ok_; }
  [[nodiscard]] std::size_t pos() const noexcept { return pos_; }
  [[nodiscard]] std::size_t remaining() const noexcept { return ok_ ? msg_.size() - pos_ : 0; }

 private:
  template <class OnLabel>
  bool walk_name(OnLabel&& on_label) noexcept;
  bool need(std::size_t n) noexcept;
  std::span<const std::uint8_t> msg_;
  std::size_t pos_;
  bool ok_ = true;
};

struct QueryOptions {
  std::uint16_t id = 0;
  bool recursion_desired = true;
  bool edns = true;
  bool dnssec_ok = false;
  std::uint16_t udp_size = 1232;
  std::size_t pad_block = kPaddingBlock;  ///< 0: no padding; else total length a multiple of this
};

/// Builds a query for @p qname (presentation form, trailing dot optional) and @p qtype.
Result<std::vector<std::uint8_t>> build_query(std::string_view qname, std::uint16_t qtype, const QueryOptions& options);

/// Renders a message the way kdig/dig print one: header, EDNS, sections. Malformed input gives an
/// error that says where it stopped.
Result<std::string> format_message(std::span<const std::uint8_t> msg);

/// The header fields a caller most often needs.
struct Header {
  std::uint16_t id = 0;
  bool qr = false;
  unsigned opcode = 0, rcode = 0;
  std::uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;
};
std::optional<Header> read_header(std::span<const std::uint8_t> msg) noexcept;

}  // namespace dotpin::dns
