// SPDX-License-Identifier: Apache-2.0
/// @file daemon_admin.h
/// @brief dotpind's side of the commands that change the running appliance: `pins list|reload|add|
/// remove`, `cache flush`, `upstream drain|enable`, `log level`. They run on the control thread, one
/// at a time. Pin changes are validated completely (pin_edit.h), written to the pin file atomically,
/// numbered by the control plane's PinStore and fed to the data plane (DataPlane::publish_pins); the
/// reply says which generation is in force and whether every lcore has adopted it. Cache and
/// upstream commands are typed commands (dataplane/api.h) that every lcore runs from its mailbox.
#pragma once

#include <mutex>
#include <string>

#include "control/control_server.h"
#include "control/expiry.h"
#include "dataplane/api.h"
#include "pinning/pin_store.h"

namespace dotpin::ctl {

class DaemonAdmin {
 public:
  struct Options {
    std::string pin_file;  ///< where pin changes are persisted ([upstreams] pin_file)
    bool ca_mode = false;  ///< the data plane runs with a CA file (trust_profile_errors)
  };
  /// @p store numbers the generations; its current() is what the data plane was started with.
  DaemonAdmin(dataplane::DataPlane& dataplane, PinStore& store, Options options)
      : dataplane_(dataplane), store_(store), options_(std::move(options)) {}
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

  dataplane::DataPlane& dataplane_;
  PinStore& store_;
  Options options_;
  std::mutex mu_;  // one change at a time (the control thread is single, this guards tests that call directly)
};

/// `expiry [--refresh]`: the monitor's items (re-probed first with --refresh).
void register_expiry_command(ControlServer& server, ExpiryMonitor& monitor);

}  // namespace dotpin::ctl
