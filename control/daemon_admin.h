// SPDX-License-Identifier: Apache-2.0
/// @file daemon_admin.h
/// @brief dotpind's side of the commands that change the running appliance: `pins list|reload|add|
/// remove|accept|forget|sources`, `cache flush`, `upstream drain|enable`, `log level`. They run on
/// the control thread, one at a time. Pin changes are validated completely (pin_edit.h) and go
/// through the PinPublisher, which persists them (pin file, or TOFU state file for accept/forget),
/// composes the table in force from every pin source and feeds it to the data plane; the reply
/// says which generation is in force and whether every lcore has adopted it. Cache and
/// upstream commands are typed commands (dataplane/api.h) that every lcore runs from its mailbox.
#pragma once

#include <mutex>
#include <string>

#include "control/control_server.h"
#include "control/expiry.h"
#include "control/pin_publisher.h"
#include "control/pin_sources.h"
#include "dataplane/api.h"

namespace dotpin::ctl {

class DaemonAdmin {
 public:
  /// @p publisher owns the pins; @p sources (may be null: no TOFU/DANE) serves accept, forget, sources.
  DaemonAdmin(dataplane::DataPlane& dataplane, PinPublisher& publisher, PinSources* sources = nullptr)
      : dataplane_(dataplane), publishers_{&publisher}, sources_{sources} {}
  /// With [[view]] sections: @p publishers[i] and @p sources[i] (may be empty) are view i's
  /// (--view picks one).
  DaemonAdmin(dataplane::DataPlane& dataplane, std::vector<PinPublisher*> publishers,
              std::vector<PinSources*> sources = {})
      : dataplane_(dataplane), publishers_(std::move(publishers)), sources_(std::move(sources)) {}
  void register_commands(ControlServer& server);

  Result<nlohmann::json> pins_list(const Request& r);
  Result<nlohmann::json> pins_reload(const Request& r);
  Result<nlohmann::json> pins_add(const Request& r);
  Result<nlohmann::json> pins_remove(const Request& r);
  Result<nlohmann::json> pins_accept(const Request& r);
  Result<nlohmann::json> pins_forget(const Request& r);
  Result<nlohmann::json> pins_sources(const Request& r);
  Result<nlohmann::json> cache_flush(const Request& r);
  Result<nlohmann::json> upstream_set(const Request& r, bool drained);
  Result<nlohmann::json> log_level(const Request& r);

 private:
  /// Publishes @p table (validated) through @p publisher and persists @p text to its pin file first
  /// when non-empty.
  Result<nlohmann::json> commit(PinPublisher& publisher, PinTable table, const std::string& text,
                                const std::string& what, const Request& r);
  /// The publisher of the view @p r names (--view; the only one without [[view]] sections).
  Result<std::size_t> view_of(const Request& r) const;
  /// "view NAME: " on an appliance with views, else "".
  [[nodiscard]] std::string view_prefix(std::size_t view) const;
  /// The pin sources of the view @p r names (--view), or why there are none.
  Result<PinSources*> sources_of(const Request& r) const;

  dataplane::DataPlane& dataplane_;
  std::vector<PinPublisher*> publishers_;
  std::vector<PinSources*> sources_;  // by view; null: that view learns no pins
  std::mutex mu_;  // one change at a time (the control thread is single, this guards tests that call directly)
};

/// `expiry [--refresh] [--view NAME]`: the monitor's items (re-probed first with --refresh); with
/// [[view]] sections (@p dataplane) --view keeps one view's (named VIEW/UPSTREAM).
void register_expiry_command(ControlServer& server, ExpiryMonitor& monitor,
                             const dataplane::DataPlane* dataplane = nullptr);

}  // namespace dotpin::ctl
