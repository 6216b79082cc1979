// SPDX-License-Identifier: Apache-2.0
/// @file daemon_commands.h
/// @brief dotpind's side of the control commands: read-only views of the running appliance
/// (status, stats, upstreams) served on the control socket. They read per-lcore atomics and the
/// stats each lcore publishes; they never touch an lcore's state directly.
#pragma once

#include "control/control_server.h"
#include "dataplane/appliance.h"

namespace dotpin::ctl {

void register_daemon_commands(ControlServer& server, const dataplane::Appliance& appliance);

/// The JSON of each command (exposed for tests).
nlohmann::json status_json(const dataplane::Appliance& a);
Result<nlohmann::json> stats_json(const dataplane::Appliance& a, const Request& r);
nlohmann::json upstreams_json(const dataplane::Appliance& a);

}  // namespace dotpin::ctl
