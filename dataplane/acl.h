// SPDX-License-Identifier: Apache-2.0
/// @file acl.h
/// @brief Which clients may query: IPv4 and IPv6 prefixes. Empty means nobody — dotpin is never an
/// open resolver by accident. Lookup is a scan over masked words: ACLs of an appliance are a
/// handful of prefixes, and a scan over a few cache-resident entries beats a trie at that size.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace dotpin::dataplane {

class Acl {
 public:
  /// Adds "198.18.0.0/15", "2001:db8::/32" or a bare address (a /32 or /128). Host bits set under
  /// the prefix length are an error: they usually mean a typo.
  Status add(std::string_view prefix);
  [[nodiscard]] bool allows_ipv4(const std::uint8_t* address) const noexcept;
  [[nodiscard]] bool allows_ipv6(const std::uint8_t* address) const noexcept;
  [[nodiscard]] std::size_t size() const noexcept { return v4_.size() + v6_.size(); }

 private:
  struct V4 {
    std::uint32_t net, mask;  // host order
  };
  struct V6 {
    std::uint64_t net[2], mask[2];  // host order, high word first
  };
  std::vector<V4> v4_;
  std::vector<V6> v6_;
};

}  // namespace dotpin::dataplane
