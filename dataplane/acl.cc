// SPDX-License-Identifier: Apache-2.0
#include "dataplane/acl.h"

#include <cstring>

#include "dataplane/ip_prefix.h"

namespace dotpin::dataplane {
Status Acl::add(std::string_view prefix) {
  auto p = parse_ip_prefix(prefix);
  if (!p) return Error{p.error()};
  const std::string text(prefix);
  if (p->v6) {
    const std::uint8_t* raw = p->address.data();
    V6 e{{load_be64(raw), load_be64(raw + 8)}, {mask_bits(p->length), mask_bits(p->length - 64)}};
    if ((e.net[0] & ~e.mask[0]) || (e.net[1] & ~e.mask[1])) return fail("'", text, "' has host bits set");
    v6_.push_back(e);
  } else {
    const std::uint32_t mask = p->v4_mask();
    if (p->v4() & ~mask) return fail("'", text, "' has host bits set");
    v4_.push_back({p->v4(), mask});
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
