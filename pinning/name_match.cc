// SPDX-License-Identifier: Apache-2.0
#include "pinning/name_match.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>

#include "common/ascii_fold.h"
#include "pinning/der.h"

namespace dotpin {
namespace {

constexpr std::size_t kMaxName = 253;

/// Strips one trailing dot; empty if the name has forbidden bytes or empty labels.
std::string_view normalise(std::string_view name) noexcept {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > kMaxName) return {};
  char prev = '.';
  for (const char c : name) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) return {};
    if (c == '.' && prev == '.') return {};  // empty label (or a leading dot)
    prev = c;
  }
  return name;
}

bool equal_folded(std::string_view a, std::string_view b) noexcept { return ascii_iequal(a, b); }

std::size_t label_count(std::string_view name) noexcept {
  return static_cast<std::size_t>(std::count(name.begin(), name.end(), '.')) + 1;
}

std::string_view as_text(DerBytes b) noexcept { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

}  // namespace

bool dns_name_matches(std::string_view presented, std::string_view reference) noexcept {
  presented = normalise(presented);
  reference = normalise(reference);
  if (presented.empty() || reference.empty() || reference.find('*') != std::string_view::npos) return false;
  if (presented.find('*') == std::string_view::npos) return equal_folded(presented, reference);
  // A wildcard: "*" alone as the leftmost label, and nowhere else.
  if (!presented.starts_with("*.") || presented.find('*', 1) != std::string_view::npos) return false;
  const std::string_view base = presented.substr(2);
  if (label_count(base) < 2) return false;
  // The reference's leftmost label (non-empty, as normalise() guarantees) stands for the "*".
  const std::size_t dot = reference.find('.');
  if (dot == std::string_view::npos) return false;
  return equal_folded(reference.substr(dot + 1), base);
}

bool certificate_matches_name(const CertView& leaf, std::string_view reference) noexcept {
  if (!leaf.has_san) return false;
  // An IP literal matches iPAddress entries only (RFC 9525 §6.2.1), as 4 or 16 octets.
  std::array<std::uint8_t, 16> ip{};
  std::size_t ip_len = 0;
  if (reference.size() < 64) {
    std::array<char, 64> buf{};
    std::copy(reference.begin(), reference.end(), buf.begin());
    if (inet_pton(AF_INET, buf.data(), ip.data()) == 1) ip_len = 4;
    else if (inet_pton(AF_INET6, buf.data(), ip.data()) == 1) ip_len = 16;
  }
  der::Reader names(leaf.san);
  der::Tlv name;
  while (names.next(name)) {
    constexpr std::uint8_t kDnsName = 0x82, kIpAddress = 0x87;  // [2] IA5String, [7] OCTET STRING
    if (ip_len != 0) {
      if (name.tag == kIpAddress && name.value.size() == ip_len &&
          std::equal(name.value.begin(), name.value.end(), ip.begin()))
        return true;
      continue;
    }
    if (name.tag != kDnsName) continue;
    if (dns_name_matches(as_text(name.value), reference)) return true;
  }
  return false;
}

}  // namespace dotpin
