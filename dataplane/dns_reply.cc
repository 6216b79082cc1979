// SPDX-License-Identifier: Apache-2.0
#include "dataplane/dns_reply.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "common/dns_question.h"
#include "common/wire_cursor.h"

namespace dotpin::dataplane {
namespace {

using dns::kOptRecordLen;
using dns::load_be16;
using dns::load_be32;
using dns::store_be16;
using dns::store_be32;
constexpr std::uint16_t kTypeSoa = 6;

}  // namespace

std::uint8_t rcode_for(QueryVerdict v) noexcept {
  switch (v) {
    case QueryVerdict::kFormErr: return kRcodeFormErr;
    case QueryVerdict::kNotImp: return kRcodeNotImp;
    case QueryVerdict::kRefused: return kRcodeRefused;
    case QueryVerdict::kBadVers: return 16;  // RFC 6891: 12-bit rcode, upper bits in the OPT
    default: return kRcodeNoError;
  }
}

std::uint16_t write_error_reply(std::uint8_t* msg, std::size_t capacity, const QueryInfo& q, unsigned rcode,
                                std::uint16_t udp_size, const dns::Ede* ede) noexcept {
  std::uint16_t len = q.question_end ? q.question_end : 12;
  msg[2] = static_cast<std::uint8_t>(0x80 | (msg[2] & 0x79));  // QR; opcode and RD kept; AA, TC cleared
  msg[3] = static_cast<std::uint8_t>(0x80 | (rcode & 0x0f));     // RA: we are a recursive service
  store_be16(msg + 4, q.question_end ? 1 : 0);
  store_be16(msg + 6, 0);
  store_be16(msg + 8, 0);
  store_be16(msg + 10, 0);
  if (!q.edns || capacity < len + kOptRecordLen) return len;
  std::uint8_t* opt = msg + len;
  const bool with_ede = ede != nullptr && capacity >= len + kOptRecordLen + dns::ede_option_len(*ede);
  const std::size_t options = with_ede ? dns::write_ede(opt + kOptRecordLen, *ede) : 0;
  dns::write_opt(opt, udp_size, static_cast<std::uint8_t>(rcode >> 4), q.dnssec_ok, static_cast<std::uint16_t>(options));
  store_be16(msg + 10, 1);
  return static_cast<std::uint16_t>(len + kOptRecordLen + options);
}

bool write_question(std::uint8_t* out, std::size_t capacity, const QueryInfo& q, const std::uint8_t* qname) noexcept {
  const std::size_t end = 12u + q.qname_len + 4u;
  if (q.question_end == 0 || capacity < end) return false;
  store_be16(out, q.id);
  out[2] = q.flags_hi;
  out[3] = q.flags_lo;
  store_be16(out + 4, 1);
  std::memcpy(out + 12, qname, q.qname_len);
  store_be16(out + 12 + q.qname_len, q.qtype);
  store_be16(out + 14 + q.qname_len, q.qclass);
  return true;
}

bool prepare_answer(std::span<const std::uint8_t> response, const CacheLimits& limits, PreparedAnswer& out) {
  out.message.clear();
  out.ttl_offsets.clear();
  out.ttl = 0;
  out.negative = false;
  const std::uint8_t* m = response.data();
  if (response.size() < 12 || !(m[2] & 0x80) || load_be16(m + 4) != 1) return false;
  const unsigned an = load_be16(m + 6), ns = load_be16(m + 8), ar = load_be16(m + 10);
  dns::WireCursor c(response, dns::kHeaderLen);
  dns::Question question;
  if (!dns::read_question(c, question)) return false;
  std::uint32_t min_ttl = std::numeric_limits<std::uint32_t>::max();
  std::uint32_t soa_ttl = 0;
  bool have_soa = false, cacheable = !(m[2] & 0x02);  // TC: not cached
  std::size_t end = response.size();
  unsigned arcount = ar;
  const unsigned total = an + ns + ar;
  for (unsigned i = 0; i < total; ++i) {
    const std::size_t start = c.pos();
    c.skip_name();
    const std::uint16_t type = c.u16();
    c.skip(2);
    const std::size_t ttl_at = c.pos();
    const std::uint32_t ttl = c.u32();
    const std::uint16_t rdlen = c.u16();
    if (!c.need(rdlen)) return false;
    const std::size_t rdata = c.pos();
    c.skip(rdlen);
    if (type == dns::kTypeOpt) {
      // Only a last OPT can be cut off without moving what compression pointers point at.
      if (i < an + ns || i + 1 != total || c.pos() != response.size()) return false;
      if (m[ttl_at] != 0) cacheable = false;  // an extended rcode: pass it on, do not keep it
      end = start;
      --arcount;
      continue;
    }
    if (ttl_at > std::numeric_limits<std::uint16_t>::max()) return false;
    out.ttl_offsets.push_back(static_cast<std::uint16_t>(ttl_at));
    min_ttl = std::min(min_ttl, ttl);
    if (type == kTypeSoa && i >= an && i < an + ns && rdlen >= 22) {
      soa_ttl = std::min(ttl, load_be32(m + rdata + rdlen - 4));  // RFC 2308 §5: min(TTL, MINIMUM)
      have_soa = true;
    }
  }
  if (!c.ok() || c.pos() != response.size()) return false;
  out.message.assign(m, m + end);
  store_be16(out.message.data() + 10, static_cast<std::uint16_t>(arcount));

  const unsigned rcode = m[3] & 0x0f;
  std::uint32_t ttl = 0;
  if (rcode == kRcodeNxDomain || (rcode == kRcodeNoError && an == 0)) {
    out.negative = true;
    if (have_soa) ttl = std::min(soa_ttl, limits.max_negative_ttl);
  } else if (rcode == kRcodeNoError) {
    ttl = min_ttl;
  }
  if (!cacheable || ttl == 0) return true;
  ttl = std::min(std::max(ttl, limits.min_ttl), limits.max_ttl);
  // Clients never see a TTL above what we keep: clamp the stored TTLs to max_ttl.
  for (const std::uint16_t at : out.ttl_offsets)
    if (load_be32(out.message.data() + at) > limits.max_ttl) store_be32(out.message.data() + at, limits.max_ttl);
  out.ttl = ttl;
  return true;
}

namespace {
/// write_answer's body; @p stale: every TTL is kStaleTtl and @p ede goes into the OPT record.
inline std::uint16_t write_answer_as(std::uint8_t* out, std::size_t capacity, const StoredAnswer& a, std::uint32_t age,
                                     const QueryInfo& q, const std::uint8_t* client_qname, std::uint16_t max_udp,
                                     const dns::Ede* ede) noexcept {
  const std::size_t question_end = 12u + q.qname_len + 4u;
  const std::span<const std::uint8_t> msg = a.message;
  if (msg.size() < question_end) return 0;
  const std::size_t limit = q.stream ? 65535 : q.edns ? std::min(q.udp_size, max_udp) : 512;
  const std::size_t ede_len = q.edns && ede ? dns::ede_option_len(*ede) : 0;
  const std::size_t opt = q.edns ? kOptRecordLen + ede_len : 0;
  const bool tc = msg.size() + opt > limit;
  const std::size_t len = tc ? question_end : msg.size();
  if (len + opt > capacity) return 0;
  // Header, the client's own 0x20 spelling of the name (already in place when answering over the
  // query), then the rest of the stored answer.
  const std::size_t name_end = 12u + q.qname_len;
  std::memcpy(out, msg.data(), 12);
  if (client_qname != out + 12) std::memmove(out + 12, client_qname, q.qname_len);
  std::memcpy(out + name_end, msg.data() + name_end, len - name_end);
  store_be16(out, q.id);
  out[2] = static_cast<std::uint8_t>(0x80 | (msg[2] & 0x06) | (tc ? 0x02 : 0) | (q.flags_hi & 0x01));
  if (tc) {
    store_be16(out + 6, 0);
    store_be16(out + 8, 0);
    store_be16(out + 10, 0);
  } else if (ede) {
    for (const std::uint16_t at : a.ttl_offsets) store_be32(out + at, kStaleTtl);
  } else if (age != 0) {
    for (const std::uint16_t at : a.ttl_offsets) {
      const std::uint32_t ttl = load_be32(msg.data() + at);
      store_be32(out + at, ttl > age ? ttl - age : 0);
    }
  }
  if (opt) {
    const std::size_t options = ede_len ? dns::write_ede(out + len + kOptRecordLen, *ede) : 0;
    dns::write_opt(out + len, max_udp, 0, q.dnssec_ok, static_cast<std::uint16_t>(options));
    store_be16(out + 10, static_cast<std::uint16_t>(load_be16(out + 10) + 1));
  }
  return static_cast<std::uint16_t>(len + opt);
}
}  // namespace

std::uint16_t write_answer(std::uint8_t* out, std::size_t capacity, const StoredAnswer& a, std::uint32_t age,
                           const QueryInfo& q, const std::uint8_t* client_qname, std::uint16_t max_udp) noexcept {
  return write_answer_as(out, capacity, a, age, q, client_qname, max_udp, nullptr);
}

std::uint16_t write_stale_answer(std::uint8_t* out, std::size_t capacity, const StoredAnswer& a, const QueryInfo& q,
                                 const std::uint8_t* client_qname, std::uint16_t max_udp, const dns::Ede& ede) noexcept {
  return write_answer_as(out, capacity, a, 0, q, client_qname, max_udp, &ede);
}

}  // namespace dotpin::dataplane
