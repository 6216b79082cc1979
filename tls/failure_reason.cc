// SPDX-License-Identifier: Apache-2.0
#include "tls/failure_reason.h"

#include <wolfssl/options.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include <algorithm>

namespace dotpin::tls {

std::string_view to_string(FailureReason r) {
  switch (r) {
    case FailureReason::kNone: return "none";
    case FailureReason::kPinMismatch: return "pin_mismatch";
    case FailureReason::kPinNotOnPath: return "pin_not_on_path";
    case FailureReason::kPinWrongPosition: return "pin_wrong_position";
    case FailureReason::kNoPinInWindow: return "no_pin_in_window";
    case FailureReason::kTofuChanged: return "tofu_changed";
    case FailureReason::kBadChain: return "bad_chain";
    case FailureReason::kNameMismatch: return "name_mismatch";
    case FailureReason::kUnknownCa: return "unknown_ca";
    case FailureReason::kExpired: return "expired";
    case FailureReason::kTlsAlert: return "tls_alert";
    case FailureReason::kTlsParameters: return "tls_parameters";
    case FailureReason::kHandshakeFailed: return "handshake_failed";
    case FailureReason::kHandshakeTimeout: return "handshake_timeout";
    case FailureReason::kConnectRefused: return "connect_refused";
    case FailureReason::kReset: return "reset";
    case FailureReason::kProtocol: return "protocol";
    case FailureReason::kUnresponsive: return "unresponsive";
    case FailureReason::kLocalResources: return "local_resources";
    case FailureReason::kCount_: break;
  }
  return "?";
}

bool is_authentication_failure(FailureReason r) noexcept {
  return r == FailureReason::kPinMismatch || r == FailureReason::kPinNotOnPath || r == FailureReason::kPinWrongPosition ||
         r == FailureReason::kTofuChanged ||
         r == FailureReason::kNoPinInWindow || r == FailureReason::kBadChain ||
         r == FailureReason::kNameMismatch || r == FailureReason::kUnknownCa || r == FailureReason::kExpired;
}

FailureReason reason_for(PinVerdictCode code) {
  switch (code) {
    case PinVerdictCode::kMatch: return FailureReason::kNone;
    case PinVerdictCode::kMismatch: return FailureReason::kPinMismatch;
    case PinVerdictCode::kNoPinInWindow: return FailureReason::kNoPinInWindow;
    case PinVerdictCode::kPinNotOnPath: return FailureReason::kPinNotOnPath;
    case PinVerdictCode::kPinWrongPosition: return FailureReason::kPinWrongPosition;
    case PinVerdictCode::kPathExpired: return FailureReason::kExpired;
    case PinVerdictCode::kPathNotTrusted: return FailureReason::kUnknownCa;
    case PinVerdictCode::kNameMismatch: return FailureReason::kNameMismatch;
    case PinVerdictCode::kEmptyChain:
    case PinVerdictCode::kChainTooLong:
    case PinVerdictCode::kUnparsableChain: return FailureReason::kBadChain;
  }
  return FailureReason::kBadChain;
}

FailureReason reason_for(const PinVerdict& verdict, const UpstreamPins& upstream) {
  const FailureReason r = reason_for(verdict.code);
  if (r != FailureReason::kPinMismatch && r != FailureReason::kPinNotOnPath) return r;
  if (upstream.pins_from != PinsFrom::kTofu) return r;
  const bool learned = std::ranges::any_of(upstream.pins, [](const Pin& p) { return p.origin == PinOrigin::kTofu; });
  return learned ? FailureReason::kTofuChanged : r;
}

FailureReason classify_tls_error(int e, int alert) noexcept {
  // TLS alerts: handshake_failure (40), protocol_version (70), insufficient_security (71): the
  // server accepts none of the versions or suites we offer.
  if (e == FATAL_ERROR && (alert == 40 || alert == 70 || alert == 71)) return FailureReason::kTlsParameters;
  switch (e) {
    case ASN_NO_SIGNER_E:
    case ASN_SELF_SIGNED_E:
    case ASN_SIG_CONFIRM_E: return FailureReason::kUnknownCa;
    case ASN_AFTER_DATE_E:
    case ASN_BEFORE_DATE_E: return FailureReason::kExpired;
    case DOMAIN_NAME_MISMATCH: return FailureReason::kNameMismatch;
    case MATCH_SUITE_ERROR:
    case UNSUPPORTED_SUITE:
    case VERSION_ERROR: return FailureReason::kTlsParameters;
    case FATAL_ERROR: return FailureReason::kTlsAlert;
    case MEMORY_E:
    case MEMORY_ERROR: return FailureReason::kLocalResources;
    case SOCKET_PEER_CLOSED_E:
    case SOCKET_ERROR_E: return FailureReason::kReset;
    default: return FailureReason::kHandshakeFailed;
  }
}

}  // namespace dotpin::tls
