// SPDX-License-Identifier: Apache-2.0
#include "tls/edns_options.h"

#include <algorithm>

#include "common/edns.h"

namespace dotpin::tls {
namespace {

using dns::OptRecord;
using dns::find_opt;

void put16(std::vector<std::uint8_t>& v, std::size_t x) {
  v.push_back(static_cast<std::uint8_t>(x >> 8));
  v.push_back(static_cast<std::uint8_t>(x));
}

}  // namespace

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
    // The client's options but padding (and keepalive, when we ask for it): each with its header.
    const bool ok = dns::for_each_option(query.subspan(opt.rdata, opt.rdlen), [&](std::uint16_t code, std::span<const std::uint8_t> data) {
      if (code != dns::kOptionPadding && !(keepalive && code == dns::kOptionKeepalive)) out.insert(out.end(), data.data() - 4, data.data() + data.size());
      return true;
    });
    if (!ok) return false;
  }
  if (keepalive) {
    put16(out, dns::kOptionKeepalive);
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
  std::optional<std::chrono::milliseconds> timeout;
  dns::for_each_option(message.subspan(opt.rdata, opt.rdlen), [&timeout](std::uint16_t code, std::span<const std::uint8_t> data) {
    if (code != dns::kOptionKeepalive || data.size() != 2) return true;
    timeout = std::chrono::milliseconds(100 * dns::load_be16(data.data()));  // RFC 7828: units of 100 ms
    return false;
  });
  return timeout;
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
