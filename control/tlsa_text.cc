// SPDX-License-Identifier: Apache-2.0
#include "control/tlsa_text.h"

namespace dotpin::dane {

std::string hex_lower(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const std::uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0xf];
  }
  return out;
}

std::string tlsa_presentation(std::span<const std::uint8_t> rdata) {
  if (rdata.size() < 3) return "\\# " + std::to_string(rdata.size()) + (rdata.empty() ? "" : " " + hex_lower(rdata));
  std::string out = std::to_string(rdata[0]) + " " + std::to_string(rdata[1]) + " " + std::to_string(rdata[2]);
  if (rdata.size() > 3) out += " " + hex_lower(rdata.subspan(3));
  return out;
}

}  // namespace dotpin::dane
