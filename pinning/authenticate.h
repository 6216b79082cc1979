// SPDX-License-Identifier: Apache-2.0
/// @file authenticate.h
/// @brief The one authentication decision for a full handshake: the verified-path pin check
/// (verifier.h) and the authentication domain name (name_match.h), as a pure function.
///
/// Every place that judges a server's chain calls this: the shard's connections, `dotpinctl
/// probe`, `pin fetch --check`, `dotpin-bench dot` and the expiry monitor, so they cannot disagree.
#pragma once

#include <span>

#include "pinning/pin_set.h"
#include "pinning/verifier.h"

namespace dotpin {

/// Judges @p chain (as presented, leaf first) for @p upstream at @p now. With @p anchors (CA
/// mode) the path must reach one of them, and an authentication name is then required: PKIX
/// without a name would accept any certificate the CA ever issued. When the upstream has an
/// auth_name, the leaf must be valid for it (pins and name must both pass, RFC 8310 §8.1).
PinVerdict authenticate_chain(std::span<const DerBytes> chain, const UpstreamPins& upstream, UnixTime now,
                              std::span<const CertView> anchors = {}) noexcept;

}  // namespace dotpin
