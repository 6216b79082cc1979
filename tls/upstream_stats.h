// SPDX-License-Identifier: Apache-2.0
/// @file upstream_stats.h
/// @brief One upstream's counters as the shard keeps them, and the one table of its counter fields
/// that every output walks: the shutdown summary, the sum over lcores, the control socket's JSON
/// and /metrics (dotpin_upstream_<name>_total). A counter added to the struct and to kUpstreamCounters
/// shows up everywhere; one left out of the table fails upstream_stats_test.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/time_util.h"
#include "pinning/verifier.h"
#include "tls/failure_reason.h"

namespace dotpin::tls {

enum class UpstreamHealth { kUp, kBackingOff, kPinFailed };
std::string_view to_string(UpstreamHealth h);

/// Counters of one upstream, written only by the owner thread.
struct UpstreamStats {
  std::uint64_t queries = 0, answers = 0, timeouts = 0, servfails = 0, retries = 0, unmatched = 0;
  std::uint64_t connections = 0, full_handshakes = 0, resumptions_offered = 0, resumptions = 0, idle_closes = 0;
  std::uint64_t report_mode_mismatches = 0;
  std::uint64_t drained_connections = 0;  ///< closed after their in-flight queries: pin change or drain
  std::uint64_t probes = 0;               ///< health-probe connections opened while the upstream was down
  bool drained = false;                   ///< taken out of rotation by the operator (upstream drain)
  std::array<std::uint64_t, static_cast<std::size_t>(FailureReason::kCount_)> failures{};
  double rtt_ewma_us = 0;
  UpstreamHealth health = UpstreamHealth::kUp;
  PinVerdict last_refusal{};  ///< observed pins of the last refused chain
  UnixTime last_refusal_at{};  ///< when it was refused (epoch when never)
  PinVerdict last_accepted{};  ///< verdict of the last full handshake that was accepted
};

/// One monotonically increasing counter of UpstreamStats.
struct UpstreamCounterField {
  std::string_view name;  ///< JSON key, summary key, and /metrics family dotpin_upstream_<name>_total
  std::string_view help;
  std::uint64_t UpstreamStats::*member;
};

inline constexpr UpstreamCounterField kUpstreamCounters[] = {
    {"queries", "queries sent to the upstream (retries included)", &UpstreamStats::queries},
    {"answers", "answers received from the upstream and matched to their query", &UpstreamStats::answers},
    {"timeouts", "queries that timed out waiting for the upstream", &UpstreamStats::timeouts},
    {"servfails", "clients answered SERVFAIL because this upstream failed them", &UpstreamStats::servfails},
    {"retries", "queries retried on another upstream after this one failed them", &UpstreamStats::retries},
    {"unmatched", "responses with an unknown ID or a question that did not match (discarded)", &UpstreamStats::unmatched},
    {"connections", "connections opened", &UpstreamStats::connections},
    {"full_handshakes", "full TLS handshakes (chain and pins checked)", &UpstreamStats::full_handshakes},
    {"resumptions_offered", "handshakes that offered a session ticket of the generation in force",
     &UpstreamStats::resumptions_offered},
    {"resumptions", "pinned sessions resumed", &UpstreamStats::resumptions},
    {"idle_closes", "connections closed after their idle timeout", &UpstreamStats::idle_closes},
    {"report_mode_mismatches", "chains admitted by report mode despite no matching pin",
     &UpstreamStats::report_mode_mismatches},
    {"drained_connections", "connections drained (pin change or upstream drain) and closed",
     &UpstreamStats::drained_connections},
    {"probes", "health-probe connections opened while the upstream was down (no query waiting)",
     &UpstreamStats::probes},
};

/// Adds @p s to @p sum: every counter and failure reason; the worst health, the latest refusal and
/// any accepted verdict win; drained if either is. Round-trip averages are the caller's.
void accumulate(UpstreamStats& sum, const UpstreamStats& s);

}  // namespace dotpin::tls
