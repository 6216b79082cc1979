// SPDX-License-Identifier: Apache-2.0
/// @file config.h
/// @brief dotpind's configuration file (TOML; docs/config.md). Parsing reports every problem with
/// file:line:col and returns a config only when there is none. Paths in it are relative to the
/// file's own directory.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/acl.h"
#include "dataplane/answer_cache.h"
#include "dataplane/dns_reply.h"
#include "dataplane/packet.h"
#include "pinning/diagnostic.h"
#include "tls/shard.h"

namespace dotpin::dataplane {

struct DaemonConfig {
  std::string source;                  ///< the file it came from
  std::vector<std::string> eal_args;   ///< [dpdk] eal_args, before any given on the command line
  std::string device;                  ///< [port] device: the ethdev name EAL gives it (or PCI address)
  LocalAddresses local;                ///< [port] ipv4 / ipv6 (the MAC comes from the port)
  std::uint16_t rx_descriptors = 1024, tx_descriptors = 1024;
  std::uint32_t mbufs = 16383;         ///< [port] mbufs: the pool for all queues of the port
  bool promiscuous = false;
  bool verify_udp_checksum = true;
  std::uint16_t max_udp = 1232;
  Acl acl;                             ///< [acl] allow
  bool acl_refuse = true;              ///< [acl] action = "refuse" | "drop"
  CacheOptions cache;
  CacheLimits limits;
  std::string pin_file;                ///< [upstreams] pin_file
  std::string ca_file;                 ///< [upstreams] ca_file: also require PKIX (empty: pins + name only)
  tls::TlsFloor tls_min_version = tls::TlsFloor::kTls12;  ///< [upstreams] tls_min_version: "1.2" or "1.3"
  tls::ShardOptions shard;
  std::size_t inflight_per_lcore = 4096;
  std::chrono::milliseconds drain{1000};
  std::string control_socket = "/run/dotpin/dotpind.sock";  ///< [control] socket
  std::string control_group;                                 ///< [control] group: 0660 for it; else 0600
  std::string metrics = "127.0.0.1:9853";                    ///< [control] metrics: /metrics address; "" off
  std::string log_level = "info";                            ///< [daemon] log_level: error, warn, info, debug
  std::vector<int> expiry_warn_days = {30, 7};               ///< [expiry] warn_days, largest first
  std::chrono::seconds expiry_interval{3600};                ///< [expiry] check_interval_s
  std::chrono::milliseconds expiry_probe_timeout{5000};      ///< [expiry] probe_timeout_ms
  std::string alert_command;                                 ///< [expiry] alert_command: run per new warning
};

/// Log levels of dotpind, most severe first.
enum class LogLevel { kError, kWarn, kInfo, kDebug };
std::optional<LogLevel> log_level_from_string(std::string_view text);
std::string_view to_string(LogLevel level);

struct ConfigResult {
  std::optional<DaemonConfig> config;
  std::vector<Diagnostic> errors;
};

ConfigResult parse_config(std::string_view text, const std::string& source);
ConfigResult load_config(const std::string& path);

}  // namespace dotpin::dataplane
