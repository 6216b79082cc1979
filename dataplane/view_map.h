// SPDX-License-Identifier: Apache-2.0
/// @file view_map.h
/// @brief Hot path: which view (tenant) a client belongs to, from its 802.1Q VLAN ID and source
/// address. Rules are the views' `vlan` and `clients` in config order; the first view whose rule
/// matches wins (a view with both needs both; a view without `vlan` matches any VLAN and untagged
/// frames; one without `clients` matches every address of its VLAN).
///
/// Cost: one load from a 4096-entry table (the VLAN's list of candidate rules, precomputed for
/// every VLAN ID), then a scan of that list's masked compares, stopping at the first match. Views
/// told apart by VLAN cost one table load and one compare whatever their number; views told apart
/// by prefix only scan (docs/benchmarks.md measures both). No allocation, no branch on the number
/// of views beyond the scan.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace dotpin::dataplane {

class ViewMap {
 public:
  static constexpr std::uint16_t kNoView = 0xFFFF;
  static constexpr std::uint16_t kMaxViews = 255;  ///< view indices fit a byte, with one left for "none"
  /// "No VLAN known" for match(): only views without `vlan` can match (a TCP client, whose
  /// frames the kernel's side does not tag).
  static constexpr std::uint16_t kAnyVlan = 0xFFFF;

  /// Appends view @p view's rule: @p vlan (1..4094, nullopt: any), @p clients (prefixes;
  /// empty: every address). Call in view order, then build().
  Status add(std::uint16_t view, std::optional<std::uint16_t> vlan, const std::vector<std::string>& clients);
  /// Precomputes the per-VLAN candidate lists.
  void build();

  /// The view of a client with IPv4 source @p address (network order) on @p vlan (0: untagged;
  /// kAnyVlan: not known), or kNoView.
  [[nodiscard]] std::uint16_t match_ipv4(std::uint16_t vlan, const std::uint8_t* address) const noexcept {
    const std::uint32_t x = std::uint32_t{address[0]} << 24 | std::uint32_t{address[1]} << 16 |
                            std::uint32_t{address[2]} << 8 | address[3];
    const List& l = lists_[list_of(vlan)];
    for (std::uint32_t i = l.v4_begin; i < l.v4_end; ++i)
      if ((x & v4_[i].mask) == v4_[i].net) return v4_[i].view;
    return kNoView;
  }
  [[nodiscard]] std::uint16_t match_ipv6(std::uint16_t vlan, const std::uint8_t* address) const noexcept;
  [[nodiscard]] std::uint16_t match(std::uint16_t vlan, const std::uint8_t* address, bool ipv6) const noexcept {
    return ipv6 ? match_ipv6(vlan, address) : match_ipv4(vlan, address);
  }
  /// One view that matches everything (no [[view]] sections): the caller may skip the lookup.
  [[nodiscard]] bool trivial() const noexcept { return trivial_; }
  /// Whether some view is told apart by VLAN.
  [[nodiscard]] bool uses_vlan() const noexcept { return uses_vlan_; }
  /// The earlier view that matches every client view @p view could match (so @p view is never
  /// chosen: first match wins), or kNoView. Conservative: covering by one earlier view's rule.
  [[nodiscard]] std::uint16_t shadowed_by(std::uint16_t view) const;

 private:
  struct Rule {
    std::uint16_t view;
    int vlan;  // -1: any
    std::vector<std::array<std::uint32_t, 2>> v4;          // net, mask (host order)
    std::vector<std::array<std::uint64_t, 4>> v6;          // net hi, net lo, mask hi, mask lo
    bool all_addresses;
  };
  struct V4 {
    std::uint32_t net, mask;
    std::uint16_t view;
  };
  struct V6 {
    std::uint64_t net[2], mask[2];
    std::uint16_t view;
  };
  struct List {
    std::uint32_t v4_begin = 0, v4_end = 0, v6_begin = 0, v6_end = 0;
  };
  [[nodiscard]] std::uint16_t list_of(std::uint16_t vlan) const noexcept {
    return vlan < 4096 ? by_vlan_[vlan] : any_list_;
  }
  static constexpr std::uint16_t kReservedVlan = 4095;  // 802.1Q: never a VLAN; matches no view
  void append_list(int vlan);  // -2: the "VLAN not known" list

  std::vector<Rule> rules_;
  std::vector<V4> v4_;
  std::vector<V6> v6_;
  std::vector<List> lists_{List{}, List{}};  // before build(): empty lists, nothing matches
  std::array<std::uint16_t, 4096> by_vlan_{};  // 4095 (reserved) -> list 1, which stays empty
  std::uint16_t any_list_ = 0;
  bool trivial_ = false;
  bool uses_vlan_ = false;
};

}  // namespace dotpin::dataplane
