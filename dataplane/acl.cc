// SPDX-License-Identifier: Apache-2.0
#include "dataplane/acl.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace dotpin::dataplane {
namespace {

std::uint64_t load_be64(const std::uint8_t* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | p[i];
  return v;
}

std::uint64_t mask_bits(int bits) noexcept { return bits <= 0 ? 0 : bits >= 64 ? ~0ull : ~0ull << (64 - bits); }

}  // namespace

Status Acl::add(std::string_view prefix) {
  const std::string text(prefix);
  const auto slash = text.find('/');
  const std::string addr = text.substr(0, slash);
  const bool v6 = addr.find(':') != std::string::npos;
  int bits = v6 ? 128 : 32;
  if (slash != std::string::npos) {
    const std::string_view len = std::string_view(text).substr(slash + 1);
    int parsed = -1;
    const auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), parsed);
    if (ec != std::errc{} || end != len.data() + len.size() || len.empty() || parsed < 0 || parsed > bits)
      return fail("'", text, "': prefix length must be 0..", std::to_string(bits));
    bits = parsed;
  }
  std::uint8_t raw[16];
  if (inet_pton(v6 ? AF_INET6 : AF_INET, addr.c_str(), raw) != 1)
    return fail("'", text, "' is not an IPv", v6 ? "6" : "4", " address or prefix");
  if (v6) {
    V6 e{{load_be64(raw), load_be64(raw + 8)}, {mask_bits(bits), mask_bits(bits - 64)}};
    if ((e.net[0] & ~e.mask[0]) || (e.net[1] & ~e.mask[1])) return fail("'", text, "' has host bits set");
    v6_.push_back(e);
  } else {
    const std::uint32_t net = static_cast<std::uint32_t>(load_be64(raw) >> 32);
    const std::uint32_t mask = bits == 0 ? 0 : ~0u << (32 - bits);
    if (net & ~mask) return fail("'", text, "' has host bits set");
    v4_.push_back({net, mask});
  }
  return ok_status();
}

bool Acl::allows_ipv4(const std::uint8_t* a) const noexcept {
  const std::uint32_t x = std::uint32_t{a[0]} << 24 | std::uint32_t{a[1]} << 16 | std::uint32_t{a[2]} << 8 | a[3];
  for (const V4& e : v4_)
    if ((x & e.mask) == e.net) return true;
  return false;
}

bool Acl::allows_ipv6(const std::uint8_t* a) const noexcept {
  const std::uint64_t hi = load_be64(a), lo = load_be64(a + 8);
  for (const V6& e : v6_)
    if ((hi & e.mask[0]) == e.net[0] && (lo & e.mask[1]) == e.net[1]) return true;
  return false;
}

}  // namespace dotpin::dataplane
