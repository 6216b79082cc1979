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

#include "common/edns.h"
#include "common/result.h"
#include "common/wire_cursor.h"

namespace dotpin::dns {

inline constexpr std::uint16_t kTypeA = 1, kTypeNs = 2, kTypeCname = 5, kTypeSoa = 6, kTypePtr = 12,
                               kTypeMx = 15, kTypeTxt = 16, kTypeAaaa = 28, kTypeSrv = 33, kTypeDs = 43,
                               kTypeDnskey = 48, kTypeTlsa = 52, kTypeAny = 255;  // kTypeOpt: common/edns.h
inline constexpr std::uint16_t kClassIn = 1;
inline constexpr std::size_t kPaddingBlock = 128;  ///< RFC 8467 §4.1 for queries

std::optional<std::uint16_t> type_from_string(std::string_view text);
std::string type_to_string(std::uint16_t type);
std::string rcode_to_string(unsigned rcode);

/// The wire cursor (common/wire_cursor.h) for the slow path: it also renders names.
class WireReader : public WireCursor {
 public:
  using WireCursor::WireCursor;
  /// Reads a (possibly compressed) name at the cursor into presentation form ("www.example.")
  /// with RFC 1035 escapes, under the cursor's name rules. Empty if it breaks them.
  std::string name();
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
