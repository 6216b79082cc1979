// SPDX-License-Identifier: Apache-2.0
/// @file dns_query.h
/// @brief Hot path: validates a client's DNS query with a bounds-checked cursor and builds the
/// answer-cache key on the way (the name lower-cased; the client's own spelling stays in the
/// packet). Says which RFC 1035 / RFC 6891 error a bad query earns, or that it gets no answer.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace dotpin::dataplane {

/// What the worker does with a DNS payload.
enum class QueryVerdict : std::uint8_t {
  kOk,
  kDropShort,     ///< shorter than a header: nothing to answer with
  kDropResponse,  ///< QR=1: responses are never answered (no reflection loops)
  kFormErr,       ///< RFC 1035 FORMERR: QDCOUNT != 1, bad name, bad counts, bad OPT, trailing bytes
  kNotImp,        ///< opcode other than QUERY, or a zone-transfer / mailbox QTYPE over UDP
  kRefused,       ///< class other than IN, or a TSIG-signed query (it cannot be answered signed)
  kBadVers,       ///< EDNS version other than 0 (RFC 6891 §6.1.3)
  kCount_
};
std::string_view to_string(QueryVerdict v);

/// The answer-cache key: the lower-cased wire name, QTYPE, QCLASS and the DO and CD bits.
struct CacheKey {
  std::uint64_t hash = 0;
  std::uint16_t len = 0;
  alignas(8) std::uint8_t bytes[272];  // 255 name + 2 type + 2 class + 1 flags, zero padding to 8
};

struct QueryInfo {
  std::uint16_t id = 0;
  std::uint8_t flags_hi = 0, flags_lo = 0;  ///< header bytes 2 and 3
  std::uint16_t qname_len = 0;              ///< wire length of the name at offset 12, root included
  std::uint16_t qtype = 0, qclass = 0;
  std::uint16_t question_end = 0;           ///< 0 when the question could not be read
  bool edns = false, dnssec_ok = false;
  std::uint16_t udp_size = 512;             ///< the client's limit, never below 512
  bool stream = false;                      ///< over TCP/DoT: answers are never truncated (65535 bytes)
  [[nodiscard]] bool rd() const noexcept { return flags_hi & 0x01; }
  [[nodiscard]] bool cd() const noexcept { return flags_lo & 0x10; }
};

/// Validates @p msg as a query; fills @p q (and @p key when the verdict is kOk).
QueryVerdict parse_query(std::span<const std::uint8_t> msg, QueryInfo& q, CacheKey& key) noexcept;

/// Hash of @p len key bytes (zero padding to 8 is written by the caller). Exposed for tests.
std::uint64_t key_hash(const std::uint8_t* bytes, std::size_t len) noexcept;

}  // namespace dotpin::dataplane
