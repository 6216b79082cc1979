// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: TLSA RDATA as DNS returns it (untrusted even when DNSSEC-validated), and the same
// bytes as presentation text. What parses must round-trip through both forms unchanged.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "pinning/tlsa.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> in(data, size);
  if (auto r = dotpin::parse_tlsa_rdata(in)) {
    const auto wire = dotpin::tlsa_rdata(*r);
    if (wire.size() != size || !std::equal(wire.begin(), wire.end(), data)) __builtin_trap();
    const auto back = dotpin::parse_tlsa_presentation(dotpin::to_presentation(*r));
    if (!back || !(*back == *r)) __builtin_trap();
    if (auto pin = dotpin::pin_from_tlsa(*r)) {
      // Only DANE-EE and DANE-TA become pins, each with its scope.
      const bool ee = r->usage == dotpin::tlsa::kDaneEe, ta = r->usage == dotpin::tlsa::kDaneTa;
      if (!(ee && pin->scope == dotpin::PinScope::kLeaf) && !(ta && pin->scope == dotpin::PinScope::kIssuer))
        __builtin_trap();
    }
  }
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto p = dotpin::parse_tlsa_presentation(text)) {
    const auto again = dotpin::parse_tlsa_rdata(dotpin::tlsa_rdata(*p));
    if (!again || !(*again == *p)) __builtin_trap();
  }
  return 0;
}
