// SPDX-License-Identifier: Apache-2.0
#include "control/pin_publisher.h"

#include "control/daemon_log.h"
#include "pinning/pin_file_writer.h"
#include "pinning/pin_lint.h"
#include "pinning/pin_safety.h"

namespace dotpin::ctl {
namespace {

constexpr std::chrono::milliseconds kLcoreWait{2000};

}  // namespace

// Report mode connects whatever key a server shows: the operator hears of it at every start and
// every change of the pin file (a restart must not make it quiet), and whenever the set of
// report-mode upstreams changes; not at each DANE or TOFU update, which cannot change a mode (a
// zone that re-signs would repeat it every refresh).
void PinPublisher::warn_report_mode_locked(const PinTable& table, std::uint64_t generation, bool always) {
  std::vector<std::string> names;
  for (const UpstreamPins& up : table.upstreams)
    if (up.mode == PinMode::kReport) names.push_back(up.name);
  if (!always && names == report_mode_) return;
  report_mode_ = names;
  for (const std::string& name : names)
    log_warn("pins: upstream '" + name + "' is in mode 'report' in generation " + std::to_string(generation) +
             ": a server whose key matches no pin is still used (a mismatch is only counted); meant only "
             "for staging a rollover");
}

PinTable PinPublisher::compose(const PinTable& file, const TofuState& tofu, const DanePins& dane) {
  PinTable out = file;
  for (UpstreamPins& up : out.upstreams) {
    if (up.pins_from == PinsFrom::kTofu) {
      if (const LearnedUpstream* e = tofu.entry_for(up))
        for (Pin& p : learned_pins(*e)) up.pins.push_back(std::move(p));
    } else if (up.pins_from == PinsFrom::kDane) {
      // Pins looked up for another name or port (the operator changed the upstream) never count.
      if (const auto it = dane.find(up.name);
          it != dane.end() && it->second.auth_name == up.auth_name && it->second.port == up.tlsa_port)
        up.pins.insert(up.pins.end(), it->second.pins.begin(), it->second.pins.end());
    }
  }
  return out;
}

std::vector<Diagnostic> PinPublisher::profile_errors(const PinTable& table) const {
  return trust_profile_errors(table, options_.ca_mode);
}

Status PinPublisher::start(PinTable file_table, TofuState tofu, UnixTime now) {
  std::lock_guard lock(mu_);
  if (const auto trust = profile_errors(file_table); !trust.empty()) {
    std::string msg = "pin file refused:";
    for (const auto& d : trust) msg += "\n  " + d.to_string();
    return fail(msg);
  }
  file_ = std::move(file_table);
  tofu_ = std::move(tofu);
  PinTable composed = compose(file_, tofu_, dane_);
  composed.source = file_.source;
  store_.publish(std::move(composed), now);
  const auto snap = store_.current();
  warn_report_mode_locked(snap->table, snap->generation, true);
  return ok_status();
}

void PinPublisher::attach(dataplane::DataPlane& dataplane) {
  std::lock_guard lock(mu_);
  dataplane_ = &dataplane;
}

PinTable PinPublisher::file_table() const {
  std::lock_guard lock(mu_);
  return file_;
}

TofuState PinPublisher::tofu_state() const {
  std::lock_guard lock(mu_);
  return tofu_;
}

Result<PinChangeReply> PinPublisher::publish_locked(const std::string& what, const std::string& written,
                                                    bool operator_change) {
  PinTable composed = compose(file_, tofu_, dane_);
  composed.source = options_.pin_file;
  const std::size_t upstreams = composed.upstreams.size();
  store_.publish(std::move(composed), now_utc());
  const auto snap = store_.current();
  PinChangeReply reply{snap->generation, written, what, dataplane_ != nullptr, std::nullopt, {}, {}};
  if (dataplane_) {
    const auto published = dataplane_->publish_pins(snap, kLcoreWait, options_.view);
    if (!published) {
      // Published and persisted, but an lcore is slow to pick it up: say so, it is not a failure to change.
      log_warn("pins: " + what + ": " + published.error());
      reply.adopted_by_all_lcores = false;
      reply.warning = published.error();
    }
  }
  log_info("pins: " + what + "; generation " + std::to_string(snap->generation) + " in force (" +
           std::to_string(upstreams) + " upstream(s))");
  warn_report_mode_locked(snap->table, snap->generation, operator_change);
  return reply;
}

Result<PinChangeReply> PinPublisher::change_locked(Next next, bool force, const std::function<Status()>& persist,
                                                   const std::string& what, const std::string& written,
                                                   bool operator_change) {
  const PinSafety safety =
      check_pin_change(compose(file_, tofu_, dane_), compose(next.file, next.tofu, next.dane), options_.clock());
  if (!safety.safe() && !force) {
    log_warn("pins: " + what + ": refused: " + safety.unsafe.front() +
             (safety.unsafe.size() > 1 ? " (and " + std::to_string(safety.unsafe.size() - 1) + " more)" : ""));
    return fail(safety.refusal());
  }
  // Persist first: if the file cannot be written, nothing changes (a restart would lose it).
  if (persist)
    if (auto w = persist(); !w) return Error{w.error()};
  file_ = std::move(next.file);
  tofu_ = std::move(next.tofu);
  dane_ = std::move(next.dane);
  for (const std::string& u : safety.unsafe) log_warn("pins: " + what + ": forced although " + u);
  auto reply = publish_locked(what, written, operator_change);
  if (reply) {
    reply->forced = safety.unsafe;
    reply->warnings = safety.warnings;
  }
  return reply;
}

Result<PinChangeReply> PinPublisher::replace_file(PinTable table, const std::string& text, const std::string& what,
                                                  bool force) {
  std::lock_guard lock(mu_);
  if (const auto trust = profile_errors(table); !trust.empty()) {
    std::string msg = "refused; the pins in force are unchanged:";
    for (const auto& d : trust) msg += "\n  " + d.to_string();
    return fail(msg);
  }
  table.source = options_.pin_file;
  const auto persist = [&]() -> Status {
    if (text.empty()) return ok_status();
    if (auto w = replace_file_atomically(options_.pin_file, text); !w)
      return fail("pin file not written, nothing changed: ", w.error());
    return ok_status();
  };
  return change_locked({std::move(table), tofu_, dane_}, force, persist, what,
                       text.empty() ? std::string() : options_.pin_file, /*operator_change=*/true);
}

Result<PinChangeReply> PinPublisher::set_learned(const std::string& upstream, std::optional<LearnedUpstream> learned,
                                                 const std::string& what, bool force) {
  std::lock_guard lock(mu_);
  if (options_.tofu_state_file.empty()) return fail("no [tofu] state_file is configured: nothing can be learned");
  TofuState next = tofu_;
  if (learned) next.upstreams[upstream] = std::move(*learned);
  else next.upstreams.erase(upstream);
  const auto persist = [&]() -> Status {
    if (auto w = save_tofu_state(options_.tofu_state_file, next); !w)
      return fail("TOFU state file not written, nothing changed: ", w.error());
    return ok_status();
  };
  // next is persisted before it moves into the change (persist runs first).
  TofuState published = next;
  return change_locked({file_, std::move(published), dane_}, force, persist, what, options_.tofu_state_file);
}

Result<PinChangeReply> PinPublisher::set_dane(const std::string& upstream, DaneEntry entry, const std::string& what,
                                              bool force) {
  std::lock_guard lock(mu_);
  DanePins next = dane_;
  if (entry.pins.empty()) next.erase(upstream);
  else next[upstream] = std::move(entry);
  return change_locked({file_, tofu_, std::move(next)}, force, {}, what, {});
}

PinPublisher::DaneEntry PinPublisher::dane_entry(const std::string& upstream) const {
  std::lock_guard lock(mu_);
  const auto it = dane_.find(upstream);
  return it == dane_.end() ? DaneEntry{} : it->second;
}

}  // namespace dotpin::ctl
