// SPDX-License-Identifier: Apache-2.0
/// @file alert_command.h
/// @brief Runs the operator's alert command ([expiry] alert_command) for one event.
///
/// The command runs with /bin/sh -c; the event's details go in DOTPIN_* environment variables and
/// never into the command line, since they hold text from the network (certificate subjects,
/// observed pins). Bounded: a command that runs for 10 s is killed. Used by the expiry monitor
/// (certificate, pin and signature expiry) and by the pin sources (a key learned on first use, a
/// changed TOFU key, a DANE refresh that failed).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dotpin::ctl {

using AlertVars = std::vector<std::pair<std::string, std::string>>;  ///< "UPSTREAM" -> DOTPIN_UPSTREAM

/// Runs @p command (nothing when empty) with @p vars as DOTPIN_<NAME>=value, replacing any DOTPIN_*
/// variable of dotpind's own environment. Returns true when the command was started; failures
/// (cannot start, non-zero exit, killed after 10 s) go to @p warn, prefixed with @p who.
bool run_alert_command(const std::string& command, const AlertVars& vars,
                       const std::function<void(std::string_view)>& warn, std::string_view who);

}  // namespace dotpin::ctl
