// SPDX-License-Identifier: Apache-2.0
/// @file dns_reply.h
/// @brief Hot path: writes what a client gets back. Error replies (FORMERR, NOTIMP, REFUSED,
/// BADVERS) are written over the query in place. Answers — from the cache or fresh from an
/// upstream — are stored without their OPT record and written for each client: its ID, RD bit and
/// its own 0x20 spelling of the name, TTLs decremented by the answer's age, an OPT record of our
/// own when the client spoke EDNS, and TC=1 with only the question when the answer does not fit
/// the client's UDP size.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/edns.h"
#include "dataplane/dns_query.h"

namespace dotpin::dataplane {

inline constexpr std::uint8_t kRcodeNoError = 0, kRcodeFormErr = 1, kRcodeServFail = 2, kRcodeNxDomain = 3,
                              kRcodeNotImp = 4, kRcodeRefused = 5;

/// The rcode a verdict earns (kOk and the drops have none).
std::uint8_t rcode_for(QueryVerdict v) noexcept;

/// Writes an error reply for a query over @p msg in place: header, the question when it was
/// readable, and an OPT record (our @p udp_size, the extended rcode bits, @p ede if given) when the
/// query had a valid one. @p rcode may be 12-bit (BADVERS = 16). Whatever does not fit @p capacity
/// is left out (the OPT first). Returns the reply length. The one writer of SERVFAIL with an
/// Extended DNS Error: for queries the worker cannot forward and for those the shard failed.
std::uint16_t write_error_reply(std::uint8_t* msg, std::size_t capacity, const QueryInfo& q, unsigned rcode,
                                std::uint16_t udp_size, const dns::Ede* ede = nullptr) noexcept;

/// Writes the header and question of the query @p q (client name spelling @p qname) into @p out,
/// so that write_error_reply() can answer a query whose packet is gone. Returns false if it does
/// not fit.
bool write_question(std::uint8_t* out, std::size_t capacity, const QueryInfo& q, const std::uint8_t* qname) noexcept;

/// An upstream answer made ready for the cache and for clients.
struct PreparedAnswer {
  std::vector<std::uint8_t> message;      ///< without the OPT record
  std::vector<std::uint16_t> ttl_offsets;  ///< where each record's TTL is
  std::uint32_t ttl = 0;                   ///< how long it may be cached; 0: not at all
  bool negative = false;                   ///< NXDOMAIN or NODATA (RFC 2308)
};

struct CacheLimits {
  std::uint32_t min_ttl = 0;
  std::uint32_t max_ttl = 86400;
  std::uint32_t max_negative_ttl = 3600;  ///< RFC 2308 §5 suggests 1-3 hours at most
  /// Serve-stale (RFC 8767): how long past its expiry an entry may still answer, with EDE 3 and a
  /// TTL of kStaleTtl, a query that no pinned upstream could answer. 0: never (SERVFAIL).
  std::uint32_t stale_max = 86400;
};

/// The TTL of every record of a stale answer (RFC 8767 §4 recommends 30 s).
inline constexpr std::uint32_t kStaleTtl = 30;

/// Prepares @p response (an upstream's answer to the query whose question is @p q) — strips the
/// OPT record when it is the last one, records TTL positions, decides the cache TTL: the smallest
/// TTL of any record, clamped; for negative answers min(SOA TTL, SOA MINIMUM) (RFC 2308 §5), not
/// cached without an SOA. Truncated answers, other rcodes and extended rcodes are not cached.
/// False if the response cannot be read (then it must not reach the client).
bool prepare_answer(std::span<const std::uint8_t> response, const CacheLimits& limits, PreparedAnswer& out);

/// A stored answer as write_answer() reads it.
struct StoredAnswer {
  std::span<const std::uint8_t> message;
  std::span<const std::uint16_t> ttl_offsets;
};

/// Writes @p a for the client of @p q into @p out (capacity @p capacity): @p client_qname is the
/// client's own spelling (q.qname_len bytes), @p age is subtracted from every TTL. The answer must be
/// for the same question (case-insensitively). @p max_udp is our own UDP payload limit. Returns the
/// length, or 0 if even a truncated reply does not fit.
std::uint16_t write_answer(std::uint8_t* out, std::size_t capacity, const StoredAnswer& a, std::uint32_t age,
                           const QueryInfo& q, const std::uint8_t* client_qname, std::uint16_t max_udp) noexcept;
/// The same for an expired entry served stale (RFC 8767): every TTL is kStaleTtl, and an EDNS
/// client also gets @p ede (EDE 3, Stale Answer) in its OPT record.
std::uint16_t write_stale_answer(std::uint8_t* out, std::size_t capacity, const StoredAnswer& a, const QueryInfo& q,
                                 const std::uint8_t* client_qname, std::uint16_t max_udp, const dns::Ede& ede) noexcept;

}  // namespace dotpin::dataplane
