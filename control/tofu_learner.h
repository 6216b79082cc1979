// SPDX-License-Identifier: Apache-2.0
/// @file tofu_learner.h
/// @brief Trust on first use: what the control plane learns from a TOFU upstream, and when it
/// refuses to learn.
///
/// Learning happens on the control side, never on an lcore: the learner makes its own handshake
/// to each address (the same strict client as the resolver: tls::fetch_chain), and judges the
/// chain with the same verifier every pin source goes through (authenticate_chain):
///  - the handshake must complete under the resolver's TLS parameters;
///  - in CA mode the verified path must reach a trust anchor of the CA file, and the leaf must be
///    valid for auth_name (PKIX and name); without a CA file (only with tofu_without_ca) the name
///    is still checked when auth_name is set;
///  - what is learned is the key of element 0 (the key that signed the handshake) and, with
///    learn = "leaf+issuer", the key of its issuer on the *verified* path (never a certificate the
///    server merely appended); an issuer that is not on the path means nothing is learned;
///  - with learn_from, every address must present the same key(s): one on-path attacker who
///    answers on one address cannot be the one learned (they would have to be on every path).
/// The candidate pins are then checked once more as pins (scope leaf / issuer) against the chain,
/// so what is published is exactly what admitted the handshake. Nothing is persisted here.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "control/tofu_state.h"
#include "pinning/pin_set.h"
#include "tls/chain_fetch.h"
#include "tls/client_context.h"

namespace dotpin::ctl {

/// Why nothing was learned (for logs, metrics labels and replies).
enum class LearnRefusal {
  kNone,
  kUnreachable,  ///< an address could not be reached or the handshake failed
  kRefused,      ///< a handshake completed but its chain did not pass (PKIX, name, parameters)
  kDisagree,     ///< the learn_from addresses presented different keys
  kNotOnPath,    ///< learn = leaf+issuer, but the issuer is not on the verified path
};
std::string_view to_string(LearnRefusal r);

struct LearnOutcome {
  std::optional<LearnedUpstream> learned;  ///< set when learned
  LearnRefusal refusal = LearnRefusal::kNone;
  std::string why;  ///< the operator's explanation when not learned
};

class TofuLearner {
 public:
  using FetchFn = std::function<Result<tls::FetchedChain>(const tls::FetchOptions&)>;
  struct Options {
    std::string ca_file;  ///< the resolver's [upstreams] ca_file (empty: no PKIX)
    tls::TlsFloor min_version = tls::TlsFloor::kTls12;
    std::chrono::milliseconds timeout{5000};  ///< per address, connect + handshake
  };
  /// Fails when the CA file cannot be loaded (nothing would be learned safely).
  static Result<std::unique_ptr<TofuLearner>> create(Options options, FetchFn fetch = tls::fetch_chain);

  /// Probes every address of @p up and returns what it would learn at @p now.
  [[nodiscard]] LearnOutcome learn(const UpstreamPins& up, UnixTime now) const;

 private:
  TofuLearner(Options options, FetchFn fetch) : options_(std::move(options)), fetch_(std::move(fetch)) {}
  Options options_;
  FetchFn fetch_;
  std::shared_ptr<tls::ClientContext> trust_;  // anchors in CA mode
};

}  // namespace dotpin::ctl
