// SPDX-License-Identifier: Apache-2.0
/// @file failure_reason.h
/// @brief Why a DoT connection to an upstream failed or was refused: one counter per reason.
#pragma once

#include <string_view>

#include "pinning/verifier.h"

namespace dotpin::tls {

enum class FailureReason {
  kNone,
  kPinMismatch,       ///< the chain holds none of the upstream's keys
  kPinNotOnPath,      ///< a pinned key was presented, but not on the verified path from the leaf
  kPinWrongPosition,  ///< a pinned key is on the path where its scope excludes it (DANE-EE on a CA, DANE-TA on the leaf)
  kNoPinInWindow,     ///< the chain holds a pinned key whose window is closed
  kTofuChanged,       ///< a TOFU upstream presents another key than the one learned (pin_mismatch there)
  kBadChain,          ///< empty, too long or unparsable chain
  kNameMismatch,      ///< the leaf is not valid for the authentication domain name
  kUnknownCa,         ///< CA mode: no path to a trusted anchor
  kExpired,           ///< a certificate on the path (PKIX, or to the pinned one) outside its validity
  kTlsAlert,          ///< the server sent a fatal alert
  kTlsParameters,     ///< no TLS version, suite or signature algorithm both sides accept
  kHandshakeFailed,   ///< any other handshake error (malformed record, bad handshake signature)
  kHandshakeTimeout,
  kConnectRefused,
  kReset,             ///< connection reset or closed by the server
  kProtocol,          ///< malformed DNS framing or response from the upstream
  kUnresponsive,      ///< connected, but answered nothing for a whole query timeout
  kLocalResources,    ///< this lcore had no memory (or wolfSSL session) for the connection or its I/O
  kCount_,            ///< number of reasons (array size)
};

std::string_view to_string(FailureReason r);

/// The failure reason that a refused pin verdict stands for.
FailureReason reason_for(PinVerdictCode code);
/// The same for a connection to @p upstream: a mismatch on a TOFU upstream whose key was learned
/// is kTofuChanged (the server's key changed since first use, or someone else answers).
FailureReason reason_for(const PinVerdict& verdict, const UpstreamPins& upstream);

/// True for the reasons that mean "this server did not prove it is the pinned upstream" (pins,
/// name, PKIX), as opposed to network and protocol failures.
bool is_authentication_failure(FailureReason r) noexcept;

/// Classifies a wolfSSL error code from a failed handshake; @p alert is the last TLS alert
/// received (-1 when none), which tells a server that refused our parameters from other failures.
FailureReason classify_tls_error(int wolfssl_error, int alert = -1) noexcept;

}  // namespace dotpin::tls
