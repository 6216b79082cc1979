// SPDX-License-Identifier: Apache-2.0
/// @file rrsig_scan.h
/// @brief Reads one RRset and the RRSIGs that cover it out of the answer section of a DNS response.
///
/// Contract: the packet is untrusted input (libunbound hands back the upstream's answer, re-encoded,
/// but nothing here relies on that): every read is bounds-checked through common/wire_cursor.h, a
/// malformed or truncated message gives an error and never a partial answer, and no input can make
/// the scan loop or read out of bounds. The scan does not validate anything: it reports what the
/// answer section says (the caller only uses it for an answer libunbound already validated).
///
/// What it finds, for the RRset of type @p type (class IN) in the answer section: its owner (the
/// one owner all records of that type must share; a CNAME chain before it is allowed), how many
/// records it has, and over the RRSIGs in the answer section with that owner whose type covered is
/// @p type (RFC 4034 §3.1): the earliest signature expiration and the latest inception. Those
/// fields are 32-bit seconds since the epoch, read as such (no RFC 1982 serial arithmetic): that is
/// right until 2106-02-07, when the field wraps; a validator that must outlive that needs the
/// serial comparison against "now" instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "common/result.h"

namespace dotpin::dane {

inline constexpr std::uint16_t kTypeRrsig = 46;

struct RrsetScan {
  std::string owner;                ///< presentation form, lower case, trailing dot; empty if no record
  std::size_t records = 0;          ///< records of the type in the answer section
  std::size_t signatures = 0;       ///< RRSIGs over them (same owner, type covered = the type)
  std::uint32_t earliest_expiration = 0;  ///< min over those RRSIGs; 0 when signatures == 0
  std::uint32_t latest_inception = 0;     ///< max over those RRSIGs; 0 when signatures == 0
};

/// Scans @p packet (a whole DNS message, header first) for the RRset of @p type described above.
/// Errors: truncated or malformed header, question, record or name; an RRSIG whose RDATA is too
/// short for its fixed fields and signer name; records of @p type under two different owners.
Result<RrsetScan> scan_answer_rrset(std::span<const std::uint8_t> packet, std::uint16_t type);

}  // namespace dotpin::dane
