// SPDX-License-Identifier: Apache-2.0
#include "tls/edns_options.h"

#include <algorithm>

#include "common/dns_wire.h"

namespace dotpin::tls {
namespace {

struct OptRecord {
  std::size_t start = 0, end = 0;      // the whole RR
  std::size_t rdata = 0, rdlen = 0;    // its options
  bool found = false;
  bool last = false;
};

/// Walks every record of the message; finds the OPT record. False if malformed.
bool find_opt(std::span<const std::uint8_t> msg, OptRecord& opt) {
  const auto h = dns::read_header(msg);
  if (!h) return false;
  dns::WireReader r(msg, 12);
  for (unsigned i = 0; i < h->qdcount; ++i) {
    (void)r.skip_name();
    r.skip(4);
  }
  const unsigned records = unsigned{h->ancount} + h->nscount + h->arcount;
  for (unsigned i = 0; i < records; ++i) {
    const std::size_t start = r.pos();
    (void)r.skip_name();
    const std::uint16_t type = r.u16();
    r.skip(6);
    const std::uint16_t rdlen = r.u16();
    const std::size_t rdata = r.pos();
    r.skip(rdlen);
    if (!r.ok()) return false;
    if (type == dns::kTypeOpt) {
      if (opt.found || i < unsigned{h->ancount} + h->nscount) return false;  // one OPT, in additional
      opt = {start, r.pos(), rdata, rdlen, true, i + 1 == records};
    }
  }
  return r.ok() && r.pos() == msg.size();
}

void put16(std::vector<std::uint8_t>& v, std::size_t x) {
  v.push_back(static_cast<std::uint8_t>(x >> 8));
  v.push_back(static_cast<std::uint8_t>(x));
}

}  // namespace

constexpr std::uint16_t kOptionKeepalive = 11;  // RFC 7828

bool pad_query(std::span<const std::uint8_t> query, std::size_t block, std::vector<std::uint8_t>& out,
               bool& added_opt, bool keepalive) {
  OptRecord opt;
  if (!find_opt(query, opt)) return false;
  added_opt = !opt.found;
  // Everything but the OPT record, then the OPT record rebuilt at the end; written straight into
  // @p out (whose capacity the caller reuses), so a warm caller allocates nothing.
  std::uint8_t fixed[8] = {0, 41, 0x04, 0xd0, 0, 0, 0, 0};  // TYPE OPT, UDP 1232, TTL (ext-rcode/version/flags)
  if (opt.found) {
    out.assign(query.begin(), query.begin() + static_cast<std::ptrdiff_t>(opt.start));
    out.insert(out.end(), query.begin() + static_cast<std::ptrdiff_t>(opt.end), query.end());
    // The owner of an OPT record is the root: one zero byte; keep its TYPE/CLASS/TTL.
    std::copy_n(query.begin() + static_cast<std::ptrdiff_t>(opt.start) + 1, 8, fixed);
  } else {
    out.assign(query.begin(), query.end());
    const std::uint16_t arcount = static_cast<std::uint16_t>((out[10] << 8 | out[11]) + 1);
    out[10] = static_cast<std::uint8_t>(arcount >> 8);
    out[11] = static_cast<std::uint8_t>(arcount);
  }
  out.push_back(0);
  out.insert(out.end(), std::begin(fixed), std::end(fixed));
  const std::size_t rdlen_at = out.size();
  put16(out, 0);  // RDLENGTH, patched below
  if (opt.found) {
    dns::WireReader o(query, opt.rdata);
    while (o.pos() < opt.rdata + opt.rdlen) {
      const std::size_t at = o.pos();
      const std::uint16_t code = o.u16();
      const std::uint16_t len = o.u16();
      o.skip(len);
      if (!o.ok() || o.pos() > opt.rdata + opt.rdlen) return false;
      if (code != dns::kOptionPadding && !(keepalive && code == kOptionKeepalive))
        out.insert(out.end(), query.begin() + static_cast<std::ptrdiff_t>(at),
                   query.begin() + static_cast<std::ptrdiff_t>(o.pos()));
    }
  }
  if (keepalive) {
    put16(out, kOptionKeepalive);
    put16(out, 0);
  }
  const std::size_t base = out.size() + 4;  // with the padding option's header
  const std::size_t pad = block ? (block - base % block) % block : 0;
  if (base + pad > 65535) return false;
  put16(out, dns::kOptionPadding);
  put16(out, pad);
  out.insert(out.end(), pad, 0);
  const std::size_t rdlen = out.size() - rdlen_at - 2;
  out[rdlen_at] = static_cast<std::uint8_t>(rdlen >> 8);
  out[rdlen_at + 1] = static_cast<std::uint8_t>(rdlen);
  return true;
}

std::optional<std::chrono::milliseconds> keepalive_timeout(std::span<const std::uint8_t> message) {
  OptRecord opt;
  if (!find_opt(message, opt) || !opt.found) return std::nullopt;
  dns::WireReader o(message, opt.rdata);
  while (o.ok() && o.pos() + 4 <= opt.rdata + opt.rdlen) {
    const std::uint16_t code = o.u16();
    const std::uint16_t len = o.u16();
    if (code == kOptionKeepalive && len == 2) return std::chrono::milliseconds(100 * o.u16());
    o.skip(len);
  }
  return std::nullopt;
}

bool strip_opt(std::vector<std::uint8_t>& message) {
  OptRecord opt;
  if (!find_opt(message, opt) || !opt.found || !opt.last) return false;
  message.resize(opt.start);
  const std::uint16_t arcount = static_cast<std::uint16_t>((message[10] << 8 | message[11]) - 1);
  message[10] = static_cast<std::uint8_t>(arcount >> 8);
  message[11] = static_cast<std::uint8_t>(arcount);
  return true;
}

}  // namespace dotpin::tls
