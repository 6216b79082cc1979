// SPDX-License-Identifier: Apache-2.0
/// @file view_expiry.h
/// @brief The expiry monitor (expiry.h) over every view of an appliance with [[view]] sections:
/// one table of all views' upstreams named VIEW/NAME (as `expiry --view` and the alert command
/// name them), each probed with its own view's CA file, so that every tenant's certificates and
/// pin windows are watched with the trust that view's connections use.
#pragma once

#include <string>
#include <vector>

#include "control/expiry.h"
#include "dataplane/api.h"
#include "dataplane/config.h"

namespace dotpin::ctl {

/// Every view's pins in force, upstreams renamed VIEW/NAME; the generation is the sum of the
/// views' (it changes when any view's does).
ExpiryMonitor::PinsFn every_view_pins(const dataplane::DataPlane& dataplane);

/// Probes an upstream of every_view_pins() with its view's CA file (pin-only for a view without
/// one). Each CA file is loaded once, here; one that cannot be loaded makes every probe of its
/// view an error (fail closed, as the data plane refuses such a view).
ExpiryMonitor::ProbeFn every_view_probe(const std::vector<dataplane::ViewConfig>& views,
                                        std::chrono::milliseconds timeout, tls::TlsFloor floor);

}  // namespace dotpin::ctl
