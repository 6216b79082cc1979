// SPDX-License-Identifier: Apache-2.0
/// @file daemon_admin.h
/// @brief dotpind's side of the commands that change the running appliance: `pins list|reload|add|
/// remove`, `cache flush`, `upstream drain|enable`, `log level`. They run on the control thread, one
/// at a time. Pin changes are validated completely (pin_edit.h), written to the pin file atomically,
/// then published to the lcores as a new generation (dataplane/pin_feed.h); the reply says which
/// generation is in force and whether every lcore has adopted it. Cache and upstream commands go to
/// each lcore through its mailbox and wait for its answer.
#pragma once

#include <mutex>
#include <string>

#include "control/control_server.h"
#include "control/expiry.h"
#include "dataplane/appliance.h"

namespace dotpin::ctl {

class DaemonAdmin {
 public:
  explicit DaemonAdmin(dataplane::Appliance& appliance) : appliance_(appliance) {}
  void register_commands(ControlServer& server);

  Result<nlohmann::json> pins_list(const Request& r);
  Result<nlohmann::json> pins_reload(const Request& r);
  Result<nlohmann::json> pins_add(const Request& r);
  Result<nlohmann::json> pins_remove(const Request& r);
  Result<nlohmann::json> cache_flush(const Request& r);
  Result<nlohmann::json> upstream_set(const Request& r, bool drained);
  Result<nlohmann::json> log_level(const Request& r);

 private:
  /// Publishes @p table (validated) and persists @p text to the pin file first when non-empty.
  Result<nlohmann::json> commit(PinTable table, const std::string& text, const std::string& what);

  dataplane::Appliance& appliance_;
  std::mutex mu_;  // one change at a time (the control thread is single, this guards tests that call directly)
};

/// `expiry [--refresh]`: the monitor's items (re-probed first with --refresh).
void register_expiry_command(ControlServer& server, ExpiryMonitor& monitor);

}  // namespace dotpin::ctl
