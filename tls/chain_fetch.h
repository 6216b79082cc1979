// SPDX-License-Identifier: Apache-2.0
/// @file chain_fetch.h
/// @brief Connects to a TLS server once and returns the certificate chain it presents.
///
/// For operators and tools (`dotpinctl pin fetch`, TOFU learning, the expiry monitor), not the data
/// path: a non-blocking socket polled against one deadline for connect and handshake together, so
/// a server that trickles bytes cannot hold the caller longer than the timeout. The chain is returned whatever it is (untrusted, expired, wrong name) so that
/// the operator can see what the server presents; whether it validated against a CA file and the
/// name is reported alongside.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/endpoint.h"
#include "common/result.h"
#include "tls/client_context.h"

namespace dotpin::tls {

struct FetchOptions {
  Endpoint server;               ///< IP literal or host name, and port
  std::string sni;               ///< server name to send (and check, with ca_file); may be empty
  std::string ca_file;           ///< PEM CA bundle for a PKIX check; empty: no check
  std::chrono::milliseconds timeout{5000};  ///< for connect and handshake together
  TlsFloor min_version = TlsFloor::kTls12;  ///< the same strict client as the resolver's (client_context.h)
  SuiteOrder suite_order = SuiteOrder::kAuto;  ///< as [upstreams] suite_order
};

struct FetchedChain {
  std::vector<std::vector<std::uint8_t>> chain;  ///< DER, leaf first, as presented
  std::string protocol;                          ///< "TLSv1.3"
  std::string cipher;
  std::string peer;                              ///< address actually connected to
  bool pkix_checked = false;                     ///< ca_file was given
  bool pkix_ok = false;                          ///< chain and name validated against ca_file
  std::string pkix_error;                        ///< why not, when pkix_checked && !pkix_ok
  std::string parameters_problem;                ///< negotiated version/suite/ALPN not allowed (empty: fine)
};

/// Connects, completes a handshake with SNI under the strict client policy (what the resolver
/// offers, so a server the resolver could not use fails here too), and returns the presented chain.
Result<FetchedChain> fetch_chain(const FetchOptions& options);

}  // namespace dotpin::tls
