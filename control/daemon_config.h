// SPDX-License-Identifier: Apache-2.0
/// @file daemon_config.h
/// @brief dotpind's configuration file (TOML; docs/config.md) as a whole: the control plane's
/// sections ([control], [expiry], [daemon] log_level, [upstreams] pin_file) read here, the data
/// plane's handed to dataplane/config.h. Parsing reports every problem with file:line:col — unknown
/// sections and keys included — and returns a config only when there is none. Paths in it are
/// relative to the file's own directory.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "control/daemon_log.h"
#include "dataplane/config.h"
#include "pinning/diagnostic.h"

namespace dotpin::ctl {

/// What the control plane runs with.
struct ControlConfig {
  std::string pin_file;                                      ///< [upstreams] pin_file
  std::string socket = "/run/dotpin/dotpind.sock";           ///< [control] socket
  std::string group;                                         ///< [control] group: 0660 for it; else 0600
  std::string metrics = "127.0.0.1:9853";                    ///< [control] metrics: /metrics address; "" off
  LogLevel log_level = LogLevel::kInfo;                      ///< [daemon] log_level
  std::vector<int> expiry_warn_days = {30, 7};               ///< [expiry] warn_days, largest first
  std::chrono::seconds expiry_interval{3600};                ///< [expiry] check_interval_s
  std::chrono::milliseconds expiry_probe_timeout{5000};      ///< [expiry] probe_timeout_ms
  std::string alert_command;                                 ///< [expiry] alert_command: run per new warning
  std::string tofu_state_file = "/var/lib/dotpin/tofu.json";  ///< [tofu] state_file: keys learned on first use
  std::chrono::milliseconds tofu_probe_timeout{5000};         ///< [tofu] probe_timeout_ms: per learning handshake
  // [dane]: how pins_from = "dane" upstreams' TLSA records are looked up and validated.
  std::string dane_trust_anchor_file;                         ///< [dane] trust_anchor_file ("": the root key)
  std::vector<std::string> dane_resolvers;                    ///< [dane] resolvers: "IP[@PORT]" (empty: iterate)
  std::vector<std::pair<std::string, std::string>> dane_stubs;  ///< [dane] stubs: "ZONE=IP[@PORT]"
  std::chrono::milliseconds dane_timeout{5000};               ///< [dane] timeout_ms: per lookup
  std::chrono::seconds dane_refresh_min{60};                  ///< [dane] refresh_min_s
  std::chrono::seconds dane_refresh_max{3600};                ///< [dane] refresh_max_s
  std::chrono::seconds dane_retry{30};                        ///< [dane] retry_s: after a failed lookup
  std::chrono::seconds dane_stale{3600};                      ///< [dane] stale_s: last secure pins kept past TTL
};

struct DaemonConfig {
  std::string source;  ///< the file it came from
  dataplane::DataPlaneConfig dataplane;
  ControlConfig control;
};

struct ConfigResult {
  std::optional<DaemonConfig> config;
  std::vector<Diagnostic> errors;
};

ConfigResult parse_config(std::string_view text, const std::string& source);
ConfigResult load_config(const std::string& path);

}  // namespace dotpin::ctl
