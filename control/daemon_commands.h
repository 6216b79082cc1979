// SPDX-License-Identifier: Apache-2.0
/// @file daemon_commands.h
/// @brief dotpind's side of the control commands: read-only views of the running appliance
/// (status, stats, upstreams) served on the control socket. They read the data plane's views
/// (dataplane/api.h): per-lcore atomics and the stats each lcore publishes; never an lcore's state.
#pragma once

#include "control/control_server.h"
#include "dataplane/api.h"

namespace dotpin::ctl {

/// @p pin_file: shown in status ([upstreams] pin_file).
void register_daemon_commands(ControlServer& server, const dataplane::DataPlane& dataplane, std::string pin_file);

/// The JSON of each command (exposed for tests).
nlohmann::json status_json(const dataplane::DataPlane& a, const std::string& pin_file);
Result<nlohmann::json> stats_json(const dataplane::DataPlane& a, const Request& r);
Result<nlohmann::json> upstreams_json(const dataplane::DataPlane& a, const Request& r = {});
/// One upstream's counters, state, latency and last refusal, as `upstreams` and `stats` show it.
nlohmann::json upstream_json(const UpstreamPins& up, const tls::UpstreamStats& s, const LatencyHistogram& latency);

}  // namespace dotpin::ctl
