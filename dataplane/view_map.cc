// SPDX-License-Identifier: Apache-2.0
#include "dataplane/view_map.h"

#include <map>

#include "dataplane/ip_prefix.h"

namespace dotpin::dataplane {
namespace {

std::uint64_t load_be64(const std::uint8_t* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | p[i];
  return v;
}
std::uint64_t mask_bits(int bits) noexcept { return bits <= 0 ? 0 : bits >= 64 ? ~0ull : ~0ull << (64 - bits); }

}  // namespace

Status ViewMap::add(std::uint16_t view, std::optional<std::uint16_t> vlan, const std::vector<std::string>& clients) {
  if (view >= kMaxViews) return fail("at most ", std::to_string(kMaxViews), " views");
  if (vlan && (*vlan == 0 || *vlan > 4094)) return fail("VLAN ID ", std::to_string(*vlan), " is not 1..4094");
  Rule r{view, vlan ? int{*vlan} : -1, {}, {}, clients.empty()};
  for (const std::string& text : clients) {
    auto p = parse_ip_prefix(text);
    if (!p) return Error{p.error()};
    if (p->v6) {
      const std::uint8_t* raw = p->address.data();
      const std::array<std::uint64_t, 4> e{load_be64(raw), load_be64(raw + 8), mask_bits(p->length),
                                           mask_bits(p->length - 64)};
      if ((e[0] & ~e[2]) || (e[1] & ~e[3])) return fail("'", text, "' has host bits set");
      r.v6.push_back(e);
    } else {
      if (p->v4() & ~p->v4_mask()) return fail("'", text, "' has host bits set");
      r.v4.push_back({p->v4(), p->v4_mask()});
    }
  }
  if (vlan) uses_vlan_ = true;
  rules_.push_back(std::move(r));
  return ok_status();
}

void ViewMap::append_list(int vlan) {
  List l;
  l.v4_begin = static_cast<std::uint32_t>(v4_.size());
  l.v6_begin = static_cast<std::uint32_t>(v6_.size());
  for (const Rule& r : rules_) {
    // A rule with a VLAN applies to frames of that VLAN only: never to untagged ones (vlan 0),
    // nor to a client whose VLAN is not known (vlan -2).
    if (r.vlan >= 0 && r.vlan != vlan) continue;
    if (r.all_addresses) {
      v4_.push_back({0, 0, r.view});
      v6_.push_back({{0, 0}, {0, 0}, r.view});
      continue;
    }
    for (const auto& e : r.v4) v4_.push_back({e[0], e[1], r.view});
    for (const auto& e : r.v6) v6_.push_back({{e[0], e[1]}, {e[2], e[3]}, r.view});
  }
  l.v4_end = static_cast<std::uint32_t>(v4_.size());
  l.v6_end = static_cast<std::uint32_t>(v6_.size());
  lists_.push_back(l);
}

void ViewMap::build() {
  v4_.clear();
  v6_.clear();
  lists_.clear();
  // List 0: VLANs no rule names (and untagged frames); then one list per VLAN some rule names.
  append_list(0);
  by_vlan_.fill(0);
  std::map<int, std::uint16_t> named;
  for (const Rule& r : rules_)
    if (r.vlan >= 0 && !named.contains(r.vlan)) {
      named[r.vlan] = static_cast<std::uint16_t>(lists_.size());
      append_list(r.vlan);
    }
  for (const auto& [vlan, list] : named) by_vlan_[static_cast<std::size_t>(vlan)] = list;
  any_list_ = 0;
  if (uses_vlan_) {
    any_list_ = static_cast<std::uint16_t>(lists_.size());
    append_list(-2);
  }
  trivial_ = rules_.size() == 1 && rules_[0].vlan < 0 && rules_[0].all_addresses;
}

std::uint16_t ViewMap::match_ipv6(std::uint16_t vlan, const std::uint8_t* a) const noexcept {
  const std::uint64_t hi = load_be64(a), lo = load_be64(a + 8);
  const List& l = lists_[list_of(vlan)];
  for (std::uint32_t i = l.v6_begin; i < l.v6_end; ++i) {
    const V6& e = v6_[i];
    if ((hi & e.mask[0]) == e.net[0] && (lo & e.mask[1]) == e.net[1]) return e.view;
  }
  return kNoView;
}

}  // namespace dotpin::dataplane
