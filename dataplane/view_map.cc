// SPDX-License-Identifier: Apache-2.0
#include "dataplane/view_map.h"

#include <map>

#include "dataplane/ip_prefix.h"

namespace dotpin::dataplane {

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
  // List 0: VLANs no rule names (and untagged frames); list 1: empty, for the reserved VLAN ID
  // 4095; then one list per VLAN some rule names.
  append_list(0);
  lists_.push_back(List{});
  by_vlan_.fill(0);
  by_vlan_[kReservedVlan] = 1;
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

std::uint16_t ViewMap::shadowed_by(std::uint16_t view) const {
  const Rule* later = nullptr;
  for (const Rule& r : rules_)
    if (r.view == view) later = &r;
  if (later == nullptr) return kNoView;
  // Does prefix (net, mask) of one family lie inside one of @p outer's?
  auto v4_inside = [](const Rule& outer, std::uint32_t net, std::uint32_t mask) {
    if (outer.all_addresses) return true;
    for (const auto& e : outer.v4)
      if ((mask & e[1]) == e[1] && (net & e[1]) == e[0]) return true;
    return false;
  };
  auto v6_inside = [](const Rule& outer, const std::array<std::uint64_t, 4>& p) {
    if (outer.all_addresses) return true;
    for (const auto& e : outer.v6)
      if ((p[2] & e[2]) == e[2] && (p[3] & e[3]) == e[3] && (p[0] & e[2]) == e[0] && (p[1] & e[3]) == e[1]) return true;
    return false;
  };
  for (const Rule& r : rules_) {
    if (r.view == view) break;
    // An earlier rule covers the later one's VLAN scope: it matches any VLAN, or the same one.
    if (r.vlan >= 0 && r.vlan != later->vlan) continue;
    bool covered = true;
    if (later->all_addresses) {
      covered = r.all_addresses;
    } else {
      for (const auto& e : later->v4) covered = covered && v4_inside(r, e[0], e[1]);
      for (const auto& e : later->v6) covered = covered && v6_inside(r, e);
    }
    if (covered) return r.view;
  }
  return kNoView;
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
