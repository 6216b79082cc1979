// SPDX-License-Identifier: Apache-2.0
/// @file verifier.h
/// @brief The pin check as a pure function: (presented chain, pin set, now) -> verdict.
///
/// Called once per full handshake from the TLS certificate-verification step, before any query is
/// written. Allocation-free: the verdict carries the observed pins in a fixed array so the caller
/// can count and log them (RFC 7469 §2.6 permits a match on any element of the chain).
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string_view>

#include "pinning/certificate.h"
#include "pinning/pin_set.h"

namespace dotpin {

/// Chains longer than this are refused outright; real DoT chains have 2-4 elements.
inline constexpr std::size_t kMaxChainLength = 10;

enum class PinVerdictCode {
  kMatch,           ///< an element's SPKI equals a pin that is inside its window
  kMismatch,        ///< no element matches any configured pin
  kNoPinInWindow,   ///< an element matches a pin, but that pin is outside its window (or none is in one)
  kEmptyChain,      ///< the server presented no certificate
  kChainTooLong,    ///< more than kMaxChainLength elements
  kUnparsableChain, ///< no element of the chain is a well-formed certificate
};

std::string_view to_string(PinVerdictCode code);

/// The SPKI pin of one chain element, or a note that it could not be parsed.
struct ObservedPin {
  PinDigest digest{};
  bool parsed = false;
};

struct PinVerdict {
  PinVerdictCode code = PinVerdictCode::kMismatch;
  int matched_pin = -1;          ///< index into the pin set of the in-window pin that matched
  int matched_element = -1;      ///< chain index (0 = leaf) of the element that matched
  int out_of_window_pin = -1;    ///< a pin that matched but is outside its window, for diagnostics
  std::array<ObservedPin, kMaxChainLength> observed{};
  std::size_t observed_count = 0;

  [[nodiscard]] bool matched() const noexcept { return code == PinVerdictCode::kMatch; }
  [[nodiscard]] std::span<const ObservedPin> observed_pins() const noexcept {
    return {observed.data(), observed_count};
  }
};

/// Hashes each element's SPKI and checks it against @p pins at time @p now.
PinVerdict verify_chain(std::span<const DerBytes> chain, std::span<const Pin> pins, UnixTime now) noexcept;

/// The same check over pins already computed (e.g. cached per certificate), one per element.
PinVerdict verify_observed(std::span<const ObservedPin> observed, std::span<const Pin> pins,
                           UnixTime now) noexcept;

/// Whether a connection may carry queries: a match in any mode; anything in `report` mode.
[[nodiscard]] inline bool admits(PinMode mode, const PinVerdict& v) noexcept {
  return v.matched() || mode == PinMode::kReport;
}

}  // namespace dotpin
