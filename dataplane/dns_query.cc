// SPDX-License-Identifier: Apache-2.0
#include "dataplane/dns_query.h"

#include <cstring>

#include "common/ascii_fold.h"
#include "common/dns_question.h"
#include "common/edns.h"

namespace dotpin::dataplane {
namespace {

using dns::load_be16;
using dns::kTypeOpt;
constexpr std::uint16_t kTypeTkey = 249, kTypeTsig = 250, kTypeIxfr = 251, kTypeAxfr = 252,
                        kTypeMailb = 253, kTypeMaila = 254;
constexpr std::uint16_t kClassIn = 1;

}  // namespace

std::string_view to_string(QueryVerdict v) {
  switch (v) {
    case QueryVerdict::kOk: return "ok";
    case QueryVerdict::kDropShort: return "short";
    case QueryVerdict::kDropResponse: return "response";
    case QueryVerdict::kFormErr: return "formerr";
    case QueryVerdict::kNotImp: return "notimp";
    case QueryVerdict::kRefused: return "refused";
    case QueryVerdict::kBadVers: return "badvers";
    case QueryVerdict::kCount_: break;
  }
  return "unknown";
}

std::uint64_t key_hash(const std::uint8_t* bytes, std::size_t len) noexcept {
  std::uint64_t h = 0x9e3779b97f4a7c15ull ^ len;
  for (std::size_t i = 0; i < len; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, bytes + i, 8);
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    h ^= h >> 29;
  }
  h ^= h >> 32;
  h *= 0xc4ceb9fe1a85ec53ull;
  return h ^ (h >> 29);
}

QueryVerdict parse_query(std::span<const std::uint8_t> msg, QueryInfo& q, CacheKey& key) noexcept {
  if (msg.size() < 12) return QueryVerdict::kDropShort;
  const std::uint8_t* m = msg.data();
  q = QueryInfo{};
  q.id = load_be16(m);
  q.flags_hi = m[2];
  q.flags_lo = m[3];
  if (m[2] & 0x80) return QueryVerdict::kDropResponse;
  const std::uint16_t qdcount = load_be16(m + 4), ancount = load_be16(m + 6), nscount = load_be16(m + 8), arcount = load_be16(m + 10);

  // The question: an uncompressed name (a compression pointer in the first name can only loop).
  dns::WireCursor c(msg, dns::kHeaderLen);
  if (qdcount >= 1) {
    dns::Question question;
    if (dns::read_question(c, question)) {
      q.qname_len = question.name_len;
      q.qtype = question.qtype;
      q.qclass = question.qclass;
      q.question_end = question.end;
    }
  }
  const unsigned opcode = (m[2] >> 3) & 0x0f;
  if (opcode != 0) return QueryVerdict::kNotImp;
  if (qdcount != 1 || ancount != 0 || nscount != 0 || !c.ok()) {
    q.question_end = qdcount == 1 ? q.question_end : 0;
    return QueryVerdict::kFormErr;
  }

  // Additional records: at most one OPT (owner root), well-formed options; anything else skipped.
  bool tsig = false;
  for (unsigned i = 0; i < arcount; ++i) {
    const std::size_t owner = c.pos();
    c.skip_name();
    const std::uint16_t type = c.u16();
    const std::uint16_t cls = c.u16();
    c.skip(1);  // extended rcode: always 0 in a query
    const std::uint8_t version = c.u8();
    const std::uint16_t flags = c.u16();
    const std::uint16_t rdlen = c.u16();
    if (!c.need(rdlen)) return QueryVerdict::kFormErr;
    if (type == kTypeOpt) {
      if (q.edns || c.pos() != owner + dns::kOptRecordLen || m[owner] != 0) return QueryVerdict::kFormErr;  // RFC 6891 §6.1.1
      if (!dns::for_each_option(msg.subspan(c.pos(), rdlen), [](std::uint16_t, std::span<const std::uint8_t>) { return true; }))
        return QueryVerdict::kFormErr;
      q.edns = true;
      q.dnssec_ok = flags & 0x8000;
      q.udp_size = cls < 512 ? 512 : cls;
      if (version != 0) return QueryVerdict::kBadVers;
    } else if (type == kTypeTsig) {
      tsig = true;
    }
    c.skip(rdlen);
  }
  if (c.pos() != msg.size()) return QueryVerdict::kFormErr;  // trailing bytes
  if (q.qtype == 0 || q.qtype == kTypeOpt || q.qtype == kTypeTkey || q.qtype == kTypeTsig) return QueryVerdict::kFormErr;
  if (q.qtype == kTypeIxfr || q.qtype == kTypeAxfr || q.qtype == kTypeMailb || q.qtype == kTypeMaila)
    return QueryVerdict::kNotImp;
  if (q.qclass != kClassIn || tsig) return QueryVerdict::kRefused;

  // The key: the name lower-cased (length bytes are <= 63, below 'A', so they pass unchanged).
  const std::uint16_t name_len = q.qname_len;
  ascii_lower_copy(key.bytes, m + 12, name_len);
  std::uint8_t* tail = key.bytes + name_len;
  std::memcpy(tail, m + 12 + name_len, 4);  // QTYPE, QCLASS
  tail[4] = static_cast<std::uint8_t>((q.dnssec_ok ? 1 : 0) | (q.cd() ? 2 : 0));
  key.len = static_cast<std::uint16_t>(name_len + 5);
  std::memset(key.bytes + key.len, 0, 8);
  key.hash = key_hash(key.bytes, key.len);
  return QueryVerdict::kOk;
}

}  // namespace dotpin::dataplane
