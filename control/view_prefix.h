// SPDX-License-Identifier: Apache-2.0
/// @file view_prefix.h
/// @brief How a log line or an error about one tenant's state names it: "view NAME: " in front,
/// and nothing on an appliance without [[view]] sections (its one implicit view has no name to
/// show). Every such line is formed here, so they all read alike.
#pragma once

#include <string>
#include <string_view>

namespace dotpin::ctl {

inline std::string view_prefix(std::string_view name, bool with_views) {
  return with_views ? "view " + std::string(name) + ": " : std::string();
}

}  // namespace dotpin::ctl
