// SPDX-License-Identifier: Apache-2.0
#include "common/edns.h"

namespace dotpin::dns {

bool find_opt(std::span<const std::uint8_t> msg, OptRecord& opt) noexcept {
  opt = {};
  if (msg.size() < kHeaderLen) return false;
  const std::uint8_t* m = msg.data();
  const unsigned qd = load_be16(m + 4), an = load_be16(m + 6), ns = load_be16(m + 8), ar = load_be16(m + 10);
  WireCursor c(msg, kHeaderLen);
  for (unsigned i = 0; i < qd; ++i) {
    c.skip_name();
    c.skip(4);
  }
  const unsigned records = an + ns + ar;
  for (unsigned i = 0; i < records && c.ok(); ++i) {
    const std::size_t start = c.pos();
    c.skip_name();
    const std::uint16_t type = c.u16();
    c.skip(6);
    const std::uint16_t rdlen = c.u16();
    const std::size_t rdata = c.pos();
    c.skip(rdlen);
    if (!c.ok()) return false;
    if (type == kTypeOpt) {
      if (opt.found || i < an + ns) return false;  // one OPT, in the additional section
      opt = {start, c.pos(), rdata, rdlen, true, i + 1 == records};
    }
  }
  return c.ok() && c.pos() == msg.size();
}

bool read_ede(std::span<const std::uint8_t> msg, Ede& out) noexcept {
  OptRecord opt;
  if (!find_opt(msg, opt) || !opt.found) return false;
  bool found = false;
  const bool ok = for_each_option(msg.subspan(opt.rdata, opt.rdlen), [&](std::uint16_t code, std::span<const std::uint8_t> data) {
    if (code != kOptionEde || data.size() < 2) return true;
    out.code = static_cast<EdeCode>(load_be16(data.data()));
    out.text = {reinterpret_cast<const char*>(data.data() + 2), data.size() - 2};
    found = true;
    return false;
  });
  return ok && found;
}

}  // namespace dotpin::dns
