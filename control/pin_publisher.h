// SPDX-License-Identifier: Apache-2.0
/// @file pin_publisher.h
/// @brief The one writer of the pins in force: composes the table the data plane enforces from
/// every pin source and publishes it.
///
/// Sources, per upstream: the operator's pin file (always), the keys learned on first use
/// (tofu_state.h; `pins_from = "tofu"`), and DNSSEC-validated TLSA records (`pins_from =
/// "dane"`). The table in force is their union: an upstream's pins are the operator's own plus
/// those of its source, each tagged with its origin. Union, not intersection: each source is one
/// the operator chose to trust, and the operator's own pins are the fallback that keeps a DANE
/// upstream reachable through a DNSSEC outage or a TOFU upstream through a planned key change.
/// Every change — pin file edits, a learned key, accept/forget, a TLSA refresh — goes through here
/// under one lock: the changed source is persisted first (pin file or state file, atomically),
/// then the composed table is numbered by the PinStore and fed to the data plane. A change that
/// cannot be persisted changes nothing. Every change is first checked by the one rule of
/// pin_safety.h on the composed tables: one that would strand an upstream or the pool is refused
/// (nothing persisted, nothing published) unless forced.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "control/replies.h"
#include "control/tofu_state.h"
#include "dataplane/api.h"
#include "pinning/pin_store.h"

namespace dotpin::ctl {

class PinPublisher {
 public:
  struct Options {
    std::string pin_file;          ///< where operator pin changes are persisted
    bool ca_mode = false;          ///< the data plane runs with a CA file (trust_profile_errors)
    std::string tofu_state_file;   ///< where learned keys are persisted ([tofu] state_file)
    std::function<UnixTime()> clock = now_utc;  ///< "valid now" for the safety rule (tests: a fake clock)
    std::size_t view = 0;          ///< the data plane's view whose pins these are ([[view]] order)
  };
  /// The TLSA pins of one upstream, bound to the name and port they were looked up for.
  struct DaneEntry {
    std::string auth_name;
    std::uint16_t port = 0;
    std::vector<Pin> pins;
  };
  using DanePins = std::map<std::string, DaneEntry>;  ///< by upstream name

  PinPublisher(PinStore& store, Options options) : store_(store), options_(std::move(options)) {}

  /// The first generation, before the data plane runs (it is started with store.current()).
  Status start(PinTable file_table, TofuState tofu, UnixTime now);
  /// From now on every change is also fed to @p dataplane.
  void attach(dataplane::DataPlane& dataplane);

  /// The operator's table (what pin edits work on) and the learned state.
  [[nodiscard]] PinTable file_table() const;
  [[nodiscard]] TofuState tofu_state() const;
  [[nodiscard]] const Options& options() const noexcept { return options_; }

  /// A new operator table; @p text is written to the pin file first when non-empty. Refused when
  /// unsafe (pin_safety.h) unless @p force.
  Result<PinChangeReply> replace_file(PinTable table, const std::string& text, const std::string& what,
                                      bool force = false);
  /// Learned keys of @p upstream (nullopt: forget them); the state file is written first. Refused
  /// when unsafe unless @p force.
  Result<PinChangeReply> set_learned(const std::string& upstream, std::optional<LearnedUpstream> learned,
                                     const std::string& what, bool force = false);
  /// The TLSA pins of @p upstream (empty: none), kept in memory only: they are looked up again at
  /// start. Fails only when the change is unsafe and not @p force (the DANE source then holds).
  Result<PinChangeReply> set_dane(const std::string& upstream, DaneEntry entry, const std::string& what,
                                  bool force = false);
  /// The TLSA pins of @p upstream in force (none: empty).
  [[nodiscard]] DaneEntry dane_entry(const std::string& upstream) const;

  /// The union of the sources as the data plane enforces it (pure, for tests too).
  static PinTable compose(const PinTable& file, const TofuState& tofu, const DanePins& dane);

 private:
  /// The sources after a change, checked, persisted by @p persist (may be empty), then published.
  struct Next {
    PinTable file;
    TofuState tofu;
    DanePins dane;
  };
  /// @p operator_change: the operator's pin file changed (reload, add, remove), not a learned key
  /// or a TLSA refresh.
  Result<PinChangeReply> change_locked(Next next, bool force, const std::function<Status()>& persist,
                                       const std::string& what, const std::string& written,
                                       bool operator_change = false);
  /// Composes, numbers and feeds; @p written is the file the change was persisted to ("" none).
  Result<PinChangeReply> publish_locked(const std::string& what, const std::string& written, bool operator_change);
  /// What makes @p table unacceptable to this publisher: its trust profile (CA mode).
  [[nodiscard]] std::vector<Diagnostic> profile_errors(const PinTable& table) const;
  /// Warns of each report-mode upstream of @p table: @p always, or when the set changed.
  void warn_report_mode_locked(const PinTable& table, std::uint64_t generation, bool always);

  PinStore& store_;
  Options options_;
  dataplane::DataPlane* dataplane_ = nullptr;
  mutable std::mutex mu_;
  PinTable file_;
  TofuState tofu_;
  DanePins dane_;
  std::vector<std::string> report_mode_;  // the report-mode upstreams last warned of
};

}  // namespace dotpin::ctl
