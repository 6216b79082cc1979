// SPDX-License-Identifier: Apache-2.0
#include "pinning/authenticate.h"

#include "pinning/cert_view.h"
#include "pinning/name_match.h"

namespace dotpin {

PinVerdict authenticate_chain(std::span<const DerBytes> chain, const UpstreamPins& upstream, UnixTime now,
                              std::span<const CertView> anchors) noexcept {
  PinVerdict v = verify_chain(chain, upstream.pins, now, anchors);
  if (v.code == PinVerdictCode::kEmptyChain || v.code == PinVerdictCode::kChainTooLong ||
      v.code == PinVerdictCode::kUnparsableChain)
    return v;
  const bool need_name = !upstream.auth_name.empty() || !anchors.empty();
  if (need_name) {
    const auto leaf = view_certificate(chain[0]);
    if (!leaf || upstream.auth_name.empty() || !certificate_matches_name(*leaf, upstream.auth_name)) {
      v.code = PinVerdictCode::kNameMismatch;
      v.matched_pin = v.matched_element = -1;
    }
  }
  return v;
}

}  // namespace dotpin
