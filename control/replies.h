// SPDX-License-Identifier: Apache-2.0
/// @file replies.h
/// @brief The control socket's replies as typed structs, each with one to_json and one from_json:
/// dotpind builds the struct and serialises it, dotpinctl parses the same struct back and prints
/// it, so a field is named in one place for both sides. A reply that lacks a field (or has the wrong
/// type) fails from_json with the field's name, never a silent zero. Upstream counters are walked
/// from tls::kUpstreamCounters. `stats` (per-lcore tables), `pins list` (pin_edit.h) and `expiry`
/// (expiry.h) keep their own JSON builders.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dataplane/port_stats.h"

namespace dotpin::ctl {

/// One view (tenant) as status and stats show it.
struct ViewReply {
  std::string name;
  std::optional<std::uint64_t> vlan;
  std::vector<std::string> clients;
  std::string pin_file;
  std::string policy;  ///< its pool's: round-robin | lowest-latency
  std::uint64_t pin_generation = 0;
  std::uint64_t upstreams = 0;
  std::map<std::string, std::uint64_t> counters;  ///< stats only: queries, cache_hits, ... (api.h ViewCounter)
  std::uint64_t cache_entries = 0, cache_bytes = 0, cache_evictions = 0;  ///< stats only
};

struct StatusReply {
  std::string version, started_at;
  std::int64_t uptime_s = 0;
  std::uint64_t worker_lcores = 0;
  struct Port {
    std::string name, mac;
    std::uint64_t queues = 0;
    bool rss = false;
  } port;
  std::uint64_t pin_generation = 0;  ///< of the view shown (the only one without [[view]] sections)
  std::string pin_file;
  std::uint64_t upstreams = 0;
  std::vector<ViewReply> views;      ///< with [[view]] sections: each view
};

struct LatencySummary {
  std::uint64_t samples = 0;
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0;
};

/// One upstream in `upstreams` and `stats`.
struct UpstreamReply {
  std::string name, address, auth_name, mode, state;  ///< state: up, backing_off, pin_failed, drained
  std::map<std::string, std::uint64_t> counters;      ///< every tls::kUpstreamCounters name
  double rtt_ewma_ms = 0;
  LatencySummary latency;
  std::map<std::string, std::uint64_t> failures;      ///< by failure reason
  std::optional<nlohmann::json> last_refusal;         ///< {reason, at, observed_pins, chain}

  [[nodiscard]] std::uint64_t counter(const std::string& key) const;
};

struct UpstreamsReply {
  std::uint64_t pin_generation = 0;
  std::vector<UpstreamReply> upstreams;
};

/// One lcore in `stats`: counters by name (dataplane/counters.h), drops by reason, cache.
struct LcoreReply {
  unsigned lcore = 0, queue = 0;
  std::map<std::string, std::uint64_t> counters, drops;
  std::uint64_t inflight = 0;
  struct Cache {
    std::uint64_t entries = 0, bytes = 0, hits = 0, misses = 0, evictions = 0, expired = 0;
  } cache;
  std::uint64_t published = 0;  ///< publications so far (every 100 ms): wait for it to move
  bool running = true;          ///< false: its loop stopped (loop_aborted), restart dotpind
  /// Its loop's TSC cycles and passes, busy (received, sent or completed something) and idle.
  struct Cycles {
    std::uint64_t busy = 0, idle = 0, busy_passes = 0, idle_passes = 0;
  } cycles;
};

/// `stats`: the upstreams (as `upstreams`), every lcore, and the lcores' sums.
/// The port's own counters, as the data plane reports them (dataplane/port_stats.h).
using PortStatsReply = dataplane::PortStats;

/// A client prefix the rate limits held back ([ratelimit]; `stats`' "ratelimit_top").
struct LimitedPrefixReply {
  std::string prefix;         ///< "198.18.0.2/32", "2001:db8:1:200::/56"
  std::uint64_t limited = 0;  ///< queries and error responses dropped or slipped since start
};
/// DNS over TCP or DoT for clients (`stats`' "tcp" and "dot"): the TCP service's counters by name.
struct TcpReply {
  bool enabled = false;
  std::uint64_t active = 0;
  std::map<std::string, std::uint64_t> counters;
};
struct StatsReply {
  UpstreamsReply upstreams;
  std::vector<LcoreReply> lcores;
  std::map<std::string, std::uint64_t> total_counters, total_drops;
  PortStatsReply port;
  std::vector<LimitedPrefixReply> ratelimit_top;
  TcpReply tcp;
  TcpReply dot;
  std::vector<ViewReply> views;  ///< with [[view]] sections: each view's counters (or the --view one)
  std::uint64_t tsc_hz = 0;      ///< what the lcores' cycles are counted in
};

/// One pin as `pins list` and `pins check` show it.
struct PinReply {
  std::string sha256, label, state;  ///< state: valid | not_yet | expired
  std::optional<std::string> not_before, not_after;
  int line = 0;  ///< where it is in its pin file (0 for learned and DANE pins)
  std::string origin = "file";  ///< file | tofu | dane
  std::string scope = "path";   ///< path | leaf | issuer: which certificates of the verified path it may match
  std::string form = "spki-sha256";
  std::optional<std::string> digest_hex;    ///< the digest in hex, for the forms other than spki-sha256
  std::optional<std::string> learned_at;    ///< tofu: when learned; dane: when the TLSA RRset was fetched
  std::optional<std::string> learned_from;  ///< tofu: the address(es); dane: the TLSA owner name
};
struct UpstreamPinsReply {
  std::string name, address, auth_name, mode;
  std::string pins_from = "file";
  std::uint64_t valid_pins = 0;
  std::vector<PinReply> pins;
};
/// `pins list`.
struct PinsReply {
  std::uint64_t generation = 0;
  std::string published_at, source, pin_file;
  std::vector<UpstreamPinsReply> upstreams;
};

/// `pins sources`: one entry per TOFU or DANE upstream.
struct SourceStatusReply {
  std::optional<std::string> view;  ///< with [[view]] sections
  std::string upstream, source, state, detail;
  std::optional<std::string> last_attempt, last_success;
  std::uint64_t attempts = 0, successes = 0;
  std::map<std::string, std::uint64_t> failures;
  double last_ms = 0, last_cpu_ms = 0;  ///< the last attempt's wall and CPU time on the control thread
  std::optional<std::string> rrsig_expiration;  ///< dane: of the RRset in force
  std::uint64_t ttl = 0, records = 0;           ///< dane
};
struct PinSourcesReply {
  std::vector<SourceStatusReply> upstreams;
};

/// `expiry`: one item per certificate, pin window, valid-pin count or failed probe.
struct ExpiryItemReply {
  std::string upstream, kind, item, status, message;  ///< status: ok | warning | error
  std::optional<std::string> not_after;
  std::optional<long> days_left;
  std::optional<int> threshold_days;
};
struct ExpiryReply {
  std::vector<ExpiryItemReply> items;
  std::uint64_t warnings = 0, errors = 0;
};

/// `pins reload|add|remove`.
struct PinChangeReply {
  std::uint64_t generation = 0;
  std::string pin_file, change;
  bool adopted_by_all_lcores = false;
  std::optional<std::string> warning;  ///< published, but an lcore has not adopted it yet
  std::vector<std::string> forced;     ///< what --force overrode (pin_safety.h): upstreams left without a valid pin
  std::vector<std::string> warnings;   ///< upstreams that had and still have no pin valid now
};

struct CacheFlushReply {
  std::optional<std::string> name;  ///< null: every name
  std::uint64_t removed = 0, lcores = 0;
};

/// `upstream drain|enable`.
struct UpstreamStateReply {
  std::string upstream, state;  ///< drained | enabled
};

struct LogLevelReply {
  std::string level, previous;
};

void to_json(nlohmann::json& j, const StatusReply& r);
void from_json(const nlohmann::json& j, StatusReply& r);
void to_json(nlohmann::json& j, const LatencySummary& r);
void from_json(const nlohmann::json& j, LatencySummary& r);
void to_json(nlohmann::json& j, const UpstreamReply& r);
void from_json(const nlohmann::json& j, UpstreamReply& r);
void to_json(nlohmann::json& j, const UpstreamsReply& r);
void from_json(const nlohmann::json& j, UpstreamsReply& r);
void to_json(nlohmann::json& j, const LcoreReply& r);
void from_json(const nlohmann::json& j, LcoreReply& r);
void to_json(nlohmann::json& j, const StatsReply& r);
void from_json(const nlohmann::json& j, StatsReply& r);
void to_json(nlohmann::json& j, const PinReply& r);
void from_json(const nlohmann::json& j, PinReply& r);
void to_json(nlohmann::json& j, const UpstreamPinsReply& r);
void from_json(const nlohmann::json& j, UpstreamPinsReply& r);
void to_json(nlohmann::json& j, const PinsReply& r);
void from_json(const nlohmann::json& j, PinsReply& r);
void to_json(nlohmann::json& j, const SourceStatusReply& r);
void from_json(const nlohmann::json& j, SourceStatusReply& r);
void to_json(nlohmann::json& j, const PinSourcesReply& r);
void from_json(const nlohmann::json& j, PinSourcesReply& r);
void to_json(nlohmann::json& j, const ExpiryItemReply& r);
void from_json(const nlohmann::json& j, ExpiryItemReply& r);
void to_json(nlohmann::json& j, const ExpiryReply& r);
void from_json(const nlohmann::json& j, ExpiryReply& r);
void to_json(nlohmann::json& j, const PinChangeReply& r);
void from_json(const nlohmann::json& j, PinChangeReply& r);
void to_json(nlohmann::json& j, const CacheFlushReply& r);
void from_json(const nlohmann::json& j, CacheFlushReply& r);
void to_json(nlohmann::json& j, const UpstreamStateReply& r);
void from_json(const nlohmann::json& j, UpstreamStateReply& r);
void to_json(nlohmann::json& j, const LogLevelReply& r);
void from_json(const nlohmann::json& j, LogLevelReply& r);

}  // namespace dotpin::ctl

namespace dotpin::dataplane {
void to_json(nlohmann::json& j, const PortStats::Queue& q);
void from_json(const nlohmann::json& j, PortStats::Queue& q);
void to_json(nlohmann::json& j, const PortStats& r);
void from_json(const nlohmann::json& j, PortStats& r);
}  // namespace dotpin::dataplane
