// SPDX-License-Identifier: Apache-2.0
/// @file view_select.h
/// @brief Which view (tenant) a control request is about: `--view NAME`, or the one view of an
/// appliance configured without [[view]] sections. A command that reads or changes one view's
/// state on an appliance with views needs the name: guessing would show or change another
/// tenant's pins.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/result.h"
#include "control/protocol.h"
#include "dataplane/api.h"

namespace dotpin::ctl {

inline constexpr std::size_t kEveryView = ~std::size_t{0};

/// The config had [[view]] sections (the implicit view matches everyone and has neither).
[[nodiscard]] bool explicit_views(const std::vector<dataplane::ViewFacts>& views);

/// The index of the view @p r names with --view. Without --view: the implicit view's (0), or, on an
/// appliance with views, kEveryView when @p every_allowed, else an error listing the views.
Result<std::size_t> select_view(const std::vector<dataplane::ViewFacts>& views, const Request& r,
                                bool every_allowed = false);

}  // namespace dotpin::ctl
