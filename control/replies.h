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

namespace dotpin::ctl {

struct StatusReply {
  std::string version, started_at;
  std::int64_t uptime_s = 0;
  std::uint64_t worker_lcores = 0;
  struct Port {
    std::string name, mac;
    std::uint64_t queues = 0;
    bool rss = false;
  } port;
  std::uint64_t pin_generation = 0;
  std::string pin_file;
  std::uint64_t upstreams = 0;
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

/// `pins reload|add|remove`.
struct PinChangeReply {
  std::uint64_t generation = 0;
  std::string pin_file, change;
  bool adopted_by_all_lcores = false;
  std::optional<std::string> warning;  ///< published, but an lcore has not adopted it yet
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
void to_json(nlohmann::json& j, const PinChangeReply& r);
void from_json(const nlohmann::json& j, PinChangeReply& r);
void to_json(nlohmann::json& j, const CacheFlushReply& r);
void from_json(const nlohmann::json& j, CacheFlushReply& r);
void to_json(nlohmann::json& j, const UpstreamStateReply& r);
void from_json(const nlohmann::json& j, UpstreamStateReply& r);
void to_json(nlohmann::json& j, const LogLevelReply& r);
void from_json(const nlohmann::json& j, LogLevelReply& r);

}  // namespace dotpin::ctl
