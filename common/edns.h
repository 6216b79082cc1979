// SPDX-License-Identifier: Apache-2.0
/// @file edns.h
/// @brief EDNS(0) on the wire (RFC 6891): the OPT record's writer and locator and its options'
/// walk; Extended DNS Errors (RFC 8914): the one list of codes dotpin sends, the option's writer
/// and reader. The writers are inline: the data path writes OPT records for every reply.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "common/wire_cursor.h"

namespace dotpin::dns {

inline constexpr std::uint16_t kTypeOpt = 41;
inline constexpr std::uint16_t kOptionKeepalive = 11;  ///< RFC 7828 edns-tcp-keepalive
inline constexpr std::uint16_t kOptionPadding = 12;    ///< RFC 7830
inline constexpr std::uint16_t kOptionEde = 15;        ///< RFC 8914 Extended DNS Errors
inline constexpr std::size_t kOptRecordLen = 11;       ///< an OPT record without options
inline constexpr std::size_t kEdeMaxText = 200;        ///< longer EXTRA-TEXT is cut to this

/// RFC 8914 §4 INFO-CODEs that dotpin sends.
enum class EdeCode : std::uint16_t {
  kOther = 0,                  ///< local limits: in-flight table or upstream queue full
  kStaleAnswer = 3,            ///< answered from an expired cache entry (RFC 8767): no pinned upstream answered
  kProhibited = 18,            ///< the client is outside the ACL
  kNoReachableAuthority = 22,  ///< no pinned upstream could be used (refused pins, none available)
  kNetworkError = 23,          ///< the upstream failed, timed out or answered something unusable
};

/// An Extended DNS Error: its code and EXTRA-TEXT (UTF-8, may be empty).
struct Ede {
  EdeCode code = EdeCode::kOther;
  std::string_view text;
};

/// Writes an OPT record of kOptRecordLen bytes at @p p: root owner, our UDP payload size, the upper
/// bits of the rcode, version 0, the DO bit, RDLENGTH @p rdlen (the options follow it).
inline void write_opt(std::uint8_t* p, std::uint16_t udp_size, std::uint8_t ext_rcode, bool dnssec_ok,
                      std::uint16_t rdlen = 0) noexcept {
  p[0] = 0;
  store_be16(p + 1, kTypeOpt);
  store_be16(p + 3, udp_size);
  p[5] = ext_rcode;
  p[6] = 0;
  p[7] = dnssec_ok ? 0x80 : 0;
  p[8] = 0;
  store_be16(p + 9, rdlen);
}

/// Bytes the EDE option for @p ede takes: option header, INFO-CODE, EXTRA-TEXT (cut to kEdeMaxText).
inline std::size_t ede_option_len(const Ede& ede) noexcept {
  return 6 + (ede.text.size() < kEdeMaxText ? ede.text.size() : kEdeMaxText);
}

/// Writes the EDE option for @p ede at @p p (ede_option_len() bytes); returns its length.
inline std::size_t write_ede(std::uint8_t* p, const Ede& ede) noexcept {
  const std::size_t len = ede_option_len(ede);
  store_be16(p, kOptionEde);
  store_be16(p + 2, static_cast<std::uint16_t>(len - 4));
  store_be16(p + 4, static_cast<std::uint16_t>(ede.code));
  if (len > 6) std::memcpy(p + 6, ede.text.data(), len - 6);  // an empty view may hold nullptr
  return len;
}

/// Where a message's OPT record is.
struct OptRecord {
  std::size_t start = 0, end = 0;    ///< the whole record
  std::size_t rdata = 0, rdlen = 0;  ///< its options
  bool found = false;
  bool last = false;  ///< the message's last record (where servers put it)
};

/// Walks every record of @p msg and finds its OPT record. False if the message is malformed: a
/// record that cannot be read, an OPT outside the additional section or a second one, or bytes
/// after the last record.
bool find_opt(std::span<const std::uint8_t> msg, OptRecord& opt) noexcept;

/// Calls @p on_option(code, data) for each option in @p rdata (an OPT record's RDATA) until it
/// returns false. False if an option does not fit (a partial option header included).
template <class OnOption>
bool for_each_option(std::span<const std::uint8_t> rdata, OnOption&& on_option) noexcept {
  std::size_t o = 0;
  while (o < rdata.size()) {
    if (rdata.size() - o < 4) return false;
    const std::uint16_t code = load_be16(rdata.data() + o);
    const std::uint16_t len = load_be16(rdata.data() + o + 2);
    if (rdata.size() - o - 4 < len) return false;
    if (!on_option(code, rdata.subspan(o + 4, len))) return true;
    o += 4u + len;
  }
  return true;
}

/// The first Extended DNS Error in @p msg's OPT record; @p out.text points into @p msg. False if
/// there is none or the message is malformed.
bool read_ede(std::span<const std::uint8_t> msg, Ede& out) noexcept;

}  // namespace dotpin::dns
