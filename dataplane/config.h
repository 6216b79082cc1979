// SPDX-License-Identifier: Apache-2.0
/// @file config.h
/// @brief The data plane's sections of dotpind's configuration file (TOML; docs/config.md). Paths in
/// it are relative to the file's own directory.
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
#include "dataplane/rate_limit.h"
#include "dataplane/tcp_options.h"
#include "dataplane/view_map.h"
#include "pinning/toml_reader.h"
#include "tls/shard.h"

namespace dotpin::dataplane {

/// One view (tenant): the clients it matches, who of them may query, its pinned upstream pool and
/// its cache partition. A config without [[view]] sections has one implicit view, "default", made
/// of [acl], [cache] and [upstreams] (docs/config.md, "Views").
struct ViewConfig {
  std::string name;
  std::optional<std::uint16_t> vlan;   ///< 802.1Q VLAN ID it matches (nullopt: any, and untagged)
  std::vector<std::string> clients;    ///< source prefixes it matches (empty: every address)
  Acl acl;                             ///< who of its clients may query (default: clients)
  std::string pin_file;                ///< its upstreams and pins (read by the control plane)
  std::string ca_file;                 ///< its CA file (default: [upstreams] ca_file; empty: pins + name)
  /// Where its keys learned on first use are kept (read by the control plane; default: [tofu]
  /// state_file with ".NAME" before the extension). Never shared: one view's learned key is no other's.
  std::string tofu_state_file;
  CacheOptions cache;                  ///< its cache partition, per lcore (default: [cache])
  /// How its pool picks an upstream (default: [upstreams] policy).
  tls::ShardOptions::Policy policy = tls::ShardOptions::Policy::kRoundRobin;
  /// Its share of each lcore's in-flight table (default: inflight_per_lcore / views, at least 16):
  /// one tenant's slow or unanswered misses cannot take the entries every other tenant needs.
  std::uint32_t inflight = 0;
};

/// The data plane's part of dotpind's config file: [dpdk], [port], [acl], [cache], [upstreams]
/// (but its pin_file, which is the control plane's) and [daemon] drain_ms. The file as a whole is
/// read by control/daemon_config.h.
struct DataPlaneConfig {
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
  RateLimitOptions ratelimit;          ///< [ratelimit]: per-client query and error-response limits
  TcpOptions tcp;                      ///< [tcp]: DNS over TCP for clients (the exception path)
  std::string ca_file;                 ///< [upstreams] ca_file: also require PKIX (empty: pins + name only)
  tls::TlsFloor tls_min_version = tls::TlsFloor::kTls12;  ///< [upstreams] tls_min_version: "1.2" or "1.3"
  tls::SuiteOrder suite_order = tls::SuiteOrder::kAuto;   ///< [upstreams] suite_order
  tls::ShardOptions shard;
  std::size_t inflight_per_lcore = 4096;
  std::chrono::milliseconds drain{1000};
  /// The views, in match order; never empty once read (the implicit "default" view without
  /// [[view]] sections). explicit_views: the file had [[view]] sections.
  std::vector<ViewConfig> views;
  bool explicit_views = false;
  ViewMap view_map;                    ///< built from views
};

/// Reads the data plane's sections of @p root into @p c; problems go to @p r (file:line:col).
void read_dataplane_config(const toml::table& root, TomlReader& r, DataPlaneConfig& c);
/// Its [[view]] sections (view_config.cc), or the implicit view; read_dataplane_config calls it last.
void read_views(const toml::table& root, TomlReader& r, DataPlaneConfig& c);

}  // namespace dotpin::dataplane
