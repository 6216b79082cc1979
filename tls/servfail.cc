// SPDX-License-Identifier: Apache-2.0
#include "tls/servfail.h"

#include "common/dns_wire.h"

namespace dotpin::tls {

std::optional<std::vector<std::uint8_t>> make_servfail(std::span<const std::uint8_t> query, EdeCode code,
                                                       std::string_view extra_text) {
  const auto h = dns::read_header(query);
  if (!h || h->qdcount != 1) return std::nullopt;
  dns::WireReader r(query, 12);
  (void)r.skip_name();
  r.skip(4);
  if (!r.ok()) return std::nullopt;
  const std::size_t question_end = r.pos();
  // Did the client send an OPT record (EDNS)? Only then may the answer carry one.
  bool edns = false;
  std::uint16_t udp_size = 512;
  const unsigned records = unsigned{h->ancount} + h->nscount + h->arcount;
  for (unsigned i = 0; i < records && r.ok(); ++i) {
    (void)r.skip_name();
    const std::uint16_t type = r.u16();
    const std::uint16_t cls = r.u16();
    r.skip(4);
    r.skip(r.u16());
    if (r.ok() && type == dns::kTypeOpt) {
      edns = true;
      udp_size = cls;
    }
  }
  std::vector<std::uint8_t> out(query.begin(), query.begin() + static_cast<std::ptrdiff_t>(question_end));
  out[2] = static_cast<std::uint8_t>(0x80 | (query[2] & 0x79));  // QR, keep opcode and RD
  out[3] = 0x80 | 2;                                                // RA, SERVFAIL
  out[6] = out[7] = out[8] = out[9] = 0;
  out[10] = 0;
  out[11] = edns ? 1 : 0;
  if (edns) {
    const std::size_t text_len = std::min<std::size_t>(extra_text.size(), 200);
    const std::uint16_t opt_len = static_cast<std::uint16_t>(4 + 2 + text_len);
    const std::uint8_t opt[] = {0,    0, 41, static_cast<std::uint8_t>(udp_size >> 8), static_cast<std::uint8_t>(udp_size),
                                0,    0, 0,  0, static_cast<std::uint8_t>(opt_len >> 8), static_cast<std::uint8_t>(opt_len),
                                0,    15,  // EDE option code
                                static_cast<std::uint8_t>((2 + text_len) >> 8), static_cast<std::uint8_t>(2 + text_len),
                                static_cast<std::uint8_t>(static_cast<std::uint16_t>(code) >> 8),
                                static_cast<std::uint8_t>(static_cast<std::uint16_t>(code))};
    out.insert(out.end(), std::begin(opt), std::end(opt));
    out.insert(out.end(), extra_text.begin(), extra_text.begin() + static_cast<std::ptrdiff_t>(text_len));
  }
  return out;
}

}  // namespace dotpin::tls
