// SPDX-License-Identifier: Apache-2.0
#include "control/pin_publisher.h"

#include "control/daemon_log.h"
#include "pinning/pin_file_writer.h"
#include "pinning/pin_lint.h"

namespace dotpin::ctl {
namespace {

constexpr std::chrono::milliseconds kLcoreWait{2000};

}  // namespace

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

Status PinPublisher::start(PinTable file_table, TofuState tofu, UnixTime now) {
  std::lock_guard lock(mu_);
  if (const auto trust = trust_profile_errors(file_table, options_.ca_mode); !trust.empty()) {
    std::string msg = "pin file refused:";
    for (const auto& d : trust) msg += "\n  " + d.to_string();
    return fail(msg);
  }
  file_ = std::move(file_table);
  tofu_ = std::move(tofu);
  PinTable composed = compose(file_, tofu_, dane_);
  composed.source = file_.source;
  store_.publish(std::move(composed), now);
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

Result<PinChangeReply> PinPublisher::publish_locked(const std::string& what, const std::string& written) {
  PinTable composed = compose(file_, tofu_, dane_);
  composed.source = options_.pin_file;
  const std::size_t upstreams = composed.upstreams.size();
  store_.publish(std::move(composed), now_utc());
  const auto snap = store_.current();
  PinChangeReply reply{snap->generation, written, what, dataplane_ != nullptr, std::nullopt};
  if (dataplane_) {
    const auto published = dataplane_->publish_pins(snap, kLcoreWait);
    if (!published) {
      // Published and persisted, but an lcore is slow to pick it up: say so, it is not a failure to change.
      log_warn("pins: " + what + ": " + published.error());
      reply.adopted_by_all_lcores = false;
      reply.warning = published.error();
    }
  }
  log_info("pins: " + what + "; generation " + std::to_string(snap->generation) + " in force (" +
           std::to_string(upstreams) + " upstream(s))");
  return reply;
}

Result<PinChangeReply> PinPublisher::replace_file(PinTable table, const std::string& text, const std::string& what) {
  std::lock_guard lock(mu_);
  if (const auto trust = trust_profile_errors(table, options_.ca_mode); !trust.empty()) {
    std::string msg = "refused; the pins in force are unchanged:";
    for (const auto& d : trust) msg += "\n  " + d.to_string();
    return fail(msg);
  }
  if (!text.empty()) {
    // Persist first: if the file cannot be written, nothing changes (a restart would lose it).
    if (auto w = replace_file_atomically(options_.pin_file, text); !w)
      return fail("pin file not written, nothing changed: ", w.error());
  }
  table.source = options_.pin_file;
  file_ = std::move(table);
  return publish_locked(what, text.empty() ? std::string() : options_.pin_file);
}

Result<PinChangeReply> PinPublisher::set_learned(const std::string& upstream, std::optional<LearnedUpstream> learned,
                                                 const std::string& what) {
  std::lock_guard lock(mu_);
  if (options_.tofu_state_file.empty()) return fail("no [tofu] state_file is configured: nothing can be learned");
  TofuState next = tofu_;
  if (learned) next.upstreams[upstream] = std::move(*learned);
  else next.upstreams.erase(upstream);
  if (auto w = save_tofu_state(options_.tofu_state_file, next); !w)
    return fail("TOFU state file not written, nothing changed: ", w.error());
  tofu_ = std::move(next);
  return publish_locked(what, options_.tofu_state_file);
}

Result<PinChangeReply> PinPublisher::set_dane(const std::string& upstream, DaneEntry entry, const std::string& what) {
  std::lock_guard lock(mu_);
  if (entry.pins.empty()) dane_.erase(upstream);
  else dane_[upstream] = std::move(entry);
  return publish_locked(what, {});
}

PinPublisher::DaneEntry PinPublisher::dane_entry(const std::string& upstream) const {
  std::lock_guard lock(mu_);
  const auto it = dane_.find(upstream);
  return it == dane_.end() ? DaneEntry{} : it->second;
}

}  // namespace dotpin::ctl
