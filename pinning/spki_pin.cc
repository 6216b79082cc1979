// SPDX-License-Identifier: Apache-2.0
#include "pinning/spki_pin.h"

// wolfSSL wants its build options before any of its headers.
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hash.h>

#include "common/encoding.h"

namespace dotpin {

PinDigest spki_sha256(std::span<const std::uint8_t> spki_der) noexcept {
  PinDigest out{};
  // wc_Sha256Hash only fails on a NULL or allocation error, neither of which can happen here.
  (void)wc_Sha256Hash(spki_der.data(), static_cast<word32>(spki_der.size()), out.data());
  return out;
}

PinDigest512 sha512_of(std::span<const std::uint8_t> der) noexcept {
  PinDigest512 out{};
  (void)wc_Sha512Hash(der.data(), static_cast<word32>(der.size()), out.data());
  return out;
}

std::string pin_base64(const PinDigest& pin) { return base64_encode(pin); }

std::string pin_hex(const PinDigest& pin) { return hex_encode(pin); }

std::optional<PinDigest> parse_pin_base64(std::string_view text, std::string* why) {
  auto set = [&](std::string msg) {
    if (why) *why = std::move(msg);
    return std::nullopt;
  };
  if (text.starts_with("pin-sha256=")) return set("write only the base64 value, without pin-sha256=");
  // 64 hex digits are also valid base64 (of 48 bytes), so look for hex first.
  if (text.size() == 64 && hex_decode(text)) return set("looks like hex; pins are written in base64");
  auto bytes = base64_decode(text);
  if (!bytes) return set("not valid base64");
  if (bytes->size() != 32) {
    std::string msg = "decodes to " + std::to_string(bytes->size()) + " bytes; a SHA-256 pin has 32";
    if (bytes->size() == 20) msg += " (is it a SHA-1 pin?)";
    return set(std::move(msg));
  }
  PinDigest d{};
  std::copy(bytes->begin(), bytes->end(), d.begin());
  return d;
}

namespace {

template <std::size_t N>
bool equal_in_constant_time(const std::array<std::uint8_t, N>& a, const std::array<std::uint8_t, N>& b) noexcept {
  // Accumulate differences over every byte; volatile keeps the compiler from short-circuiting.
  volatile std::uint8_t diff = 0;
  for (std::size_t i = 0; i < N; ++i) diff = static_cast<std::uint8_t>(diff | (a[i] ^ b[i]));
  return diff == 0;
}

}  // namespace

bool pins_equal(const PinDigest& a, const PinDigest& b) noexcept { return equal_in_constant_time(a, b); }

bool pins_equal(const PinDigest512& a, const PinDigest512& b) noexcept { return equal_in_constant_time(a, b); }

}  // namespace dotpin
