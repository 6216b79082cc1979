// SPDX-License-Identifier: Apache-2.0
#include "control/rrsig_scan.h"

#include <algorithm>
#include <vector>

#include "common/dns_wire.h"

namespace dotpin::dane {
namespace {

constexpr std::size_t kRrsigFixed = 18;  // type covered .. key tag (RFC 4034 §3.1)

struct Signature {
  std::string owner;
  std::uint32_t expiration, inception;
};

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

}  // namespace

Result<RrsetScan> scan_answer_rrset(std::span<const std::uint8_t> packet, std::uint16_t type) {
  dns::WireReader r(packet);
  r.skip(4);  // id, flags
  const std::uint16_t qdcount = r.u16();
  const std::uint16_t ancount = r.u16();
  r.skip(4);  // nscount, arcount: not read
  if (!r.ok()) return fail("answer packet: truncated header (", std::to_string(packet.size()), " bytes)");
  for (std::uint16_t i = 0; i < qdcount; ++i) {
    r.skip_name();
    r.skip(4);
    if (!r.ok()) return fail("answer packet: malformed question ", std::to_string(i + 1));
  }
  RrsetScan scan;
  std::vector<Signature> sigs;
  for (std::uint16_t i = 0; i < ancount; ++i) {
    const std::string owner = lower(r.name());
    const std::uint16_t rtype = r.u16();
    const std::uint16_t rclass = r.u16();
    r.skip(4);  // TTL: libunbound reports the (validated, capped) TTL itself
    const std::uint16_t rdlength = r.u16();
    const std::size_t rdata_at = r.pos();
    r.skip(rdlength);
    if (!r.ok() || owner.empty())
      return fail("answer packet: malformed or truncated answer record ", std::to_string(i + 1));
    if (rclass != dns::kClassIn) continue;
    if (rtype == type) {
      if (scan.records != 0 && owner != scan.owner)
        return fail("answer packet: ", dns::type_to_string(type), " records under two owners (", scan.owner, ", ",
                    owner, ")");
      scan.owner = owner;
      ++scan.records;
    } else if (rtype == kTypeRrsig) {
      const auto rdata = packet.subspan(rdata_at, rdlength);
      dns::WireCursor c(rdata);
      const std::uint16_t covered = c.u16();
      c.skip(2);  // algorithm, labels
      c.skip(4);  // original TTL
      const std::uint32_t expiration = c.u32();
      const std::uint32_t inception = c.u32();
      c.skip(2);  // key tag
      if (!c.ok() || c.pos() != kRrsigFixed || !c.skip_name())
        return fail("answer packet: RRSIG in answer record ", std::to_string(i + 1), " is too short (",
                    std::to_string(rdlength), " bytes)");
      if (covered == type) sigs.push_back({owner, expiration, inception});
    }
  }
  for (const Signature& s : sigs) {
    if (scan.records == 0 || s.owner != scan.owner) continue;
    scan.earliest_expiration = scan.signatures == 0 ? s.expiration : std::min(scan.earliest_expiration, s.expiration);
    scan.latest_inception = scan.signatures == 0 ? s.inception : std::max(scan.latest_inception, s.inception);
    ++scan.signatures;
  }
  return scan;
}

}  // namespace dotpin::dane
