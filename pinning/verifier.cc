// SPDX-License-Identifier: Apache-2.0
#include "pinning/verifier.h"

namespace dotpin {

std::string_view to_string(PinVerdictCode code) {
  switch (code) {
    case PinVerdictCode::kMatch: return "match";
    case PinVerdictCode::kMismatch: return "pin_mismatch";
    case PinVerdictCode::kNoPinInWindow: return "no_pin_in_window";
    case PinVerdictCode::kEmptyChain: return "empty_chain";
    case PinVerdictCode::kChainTooLong: return "chain_too_long";
    case PinVerdictCode::kUnparsableChain: return "unparsable_chain";
  }
  return "?";
}

PinVerdict verify_observed(std::span<const ObservedPin> observed, std::span<const Pin> pins,
                           UnixTime now) noexcept {
  PinVerdict v;
  if (observed.empty()) {
    v.code = PinVerdictCode::kEmptyChain;
    return v;
  }
  if (observed.size() > kMaxChainLength) {
    v.code = PinVerdictCode::kChainTooLong;
    return v;
  }
  bool any_parsed = false;
  for (std::size_t e = 0; e < observed.size(); ++e) {
    v.observed[e] = observed[e];
    any_parsed |= observed[e].parsed;
  }
  v.observed_count = observed.size();
  if (!any_parsed) {
    v.code = PinVerdictCode::kUnparsableChain;
    return v;
  }
  // Every (element, pin) pair is compared in constant time and no comparison is skipped, so the
  // time taken depends only on the sizes of the chain and the pin set.
  for (std::size_t e = 0; e < observed.size(); ++e) {
    for (std::size_t p = 0; p < pins.size(); ++p) {
      const bool equal = pins_equal(observed[e].digest, pins[p].digest) && observed[e].parsed;
      if (!equal) continue;
      if (pins[p].in_window(now)) {
        if (v.matched_pin < 0) {
          v.matched_pin = static_cast<int>(p);
          v.matched_element = static_cast<int>(e);
        }
      } else if (v.out_of_window_pin < 0) {
        v.out_of_window_pin = static_cast<int>(p);
      }
    }
  }
  bool any_in_window = false;
  for (const Pin& p : pins) any_in_window |= p.in_window(now);
  if (v.matched_pin >= 0) {
    v.code = PinVerdictCode::kMatch;
  } else if (v.out_of_window_pin >= 0 || !any_in_window) {
    v.code = PinVerdictCode::kNoPinInWindow;
  } else {
    v.code = PinVerdictCode::kMismatch;
  }
  return v;
}

PinVerdict verify_chain(std::span<const DerBytes> chain, std::span<const Pin> pins, UnixTime now) noexcept {
  if (chain.size() > kMaxChainLength) {
    PinVerdict v;
    v.code = PinVerdictCode::kChainTooLong;
    return v;
  }
  std::array<ObservedPin, kMaxChainLength> observed{};
  for (std::size_t i = 0; i < chain.size(); ++i) {
    if (const auto spki = find_spki(chain[i])) {
      observed[i].digest = spki_sha256(*spki);
      observed[i].parsed = true;
    }
  }
  return verify_observed({observed.data(), chain.size()}, pins, now);
}

}  // namespace dotpin
