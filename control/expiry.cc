// SPDX-License-Identifier: Apache-2.0
#include "control/expiry.h"

#include <algorithm>

#include "control/alert_command.h"
#include "control/replies.h"
#include "pinning/authenticate.h"

#include "pinning/certificate.h"
#include "pinning/verifier.h"
#include "tls/chain_fetch.h"

namespace dotpin::ctl {
namespace {

constexpr std::chrono::hours kTlsaSignatureWarning{24};

/// Grades a deadline: error when past, a warning at the tightest threshold crossed, else ok.
void grade(ExpiryItem& it, UnixTime now, const std::vector<int>& warn_days, const std::string& what) {
  it.days_left = days_until(now, *it.not_after);
  const std::string when = format_utc(*it.not_after);
  if (*it.not_after <= now) {
    it.status = "error";
    it.message = what + " ended " + when;
    return;
  }
  int tightest = -1;
  for (const int t : warn_days)
    if (it.days_left <= t && (tightest < 0 || t < tightest)) tightest = t;
  it.message = what + " ends " + when + " (in " + std::to_string(it.days_left) + " day" + (it.days_left == 1 ? "" : "s") + ")";
  if (tightest >= 0) {
    it.status = "warning";
    it.threshold = tightest;
  }
}

}  // namespace

std::string ExpiryItem::alert_key() const {
  return upstream + "|" + kind + "|" + item + "|" + (not_after ? format_utc(*not_after) : "") + "|" +
         std::to_string(threshold) + "|" + status;
}

std::vector<ExpiryItem> evaluate_expiry(const PinTable& table, const std::map<std::string, ChainObservation>& chains,
                                        UnixTime now, const std::vector<int>& warn_days) {
  std::vector<ExpiryItem> out;
  for (const UpstreamPins& up : table.upstreams) {
    const std::size_t valid = up.pins_in_window(now);
    ExpiryItem count{up.name, "valid_pins", std::to_string(valid) + " of " + std::to_string(up.pins.size()), {}, 0, "ok", -1, ""};
    if (valid == 0) {
      count.status = "error";
      count.message = up.pins_from == PinsFrom::kTofu && up.pins.empty() ? "nothing learned yet: connections are refused until the key is learned"
                      : up.pins_from == PinsFrom::kDane && up.pins.empty() ? "no secure TLSA record is in force: connections are refused"
                      : up.mode == PinMode::kEnforce ? "no pin is valid now: every connection to this upstream is refused"
                                                   : "no pin is valid now (report mode: connections are admitted unpinned)";
    } else if (up.pins_from != PinsFrom::kFile && valid == 1) {
      count.message = up.pins_from == PinsFrom::kTofu ? "1 valid pin (learned on first use)" : "1 valid pin (from TLSA)";
    } else if (valid == 1) {
      count.status = "warning";
      count.message = "only one valid pin: no backup pin for a key rollover (RFC 7469 4.3)";
    } else {
      count.message = std::to_string(valid) + " valid pins";
    }
    out.push_back(std::move(count));
    for (const Pin& p : up.pins) {
      if (p.origin == PinOrigin::kTofu && p.learned_at) {
        // Learned keys do not expire; their age is shown (and /metrics has it) for review.
        out.push_back({up.name, "learned_pin", p.display_name(), {}, 0, "ok", -1,
                       "learned " + format_utc(*p.learned_at) + " (" + std::to_string(-days_until(now, *p.learned_at)) +
                           " days ago) from " + p.learned_from});
        continue;
      }
      if (!p.in_window(now) || !p.not_after) continue;
      if (p.origin == PinOrigin::kDane) {
        // A TLSA pin counts until the RRSIGs over its RRset expire; signers renew them days ahead,
        // so one day left means the zone's signing (or our refresh) is failing.
        ExpiryItem it{up.name, "tlsa_signatures", p.display_name(), p.not_after, days_until(now, *p.not_after), "ok", -1, ""};
        const auto left = std::chrono::duration_cast<std::chrono::hours>(*p.not_after - now).count();
        it.message = "signatures over " + p.learned_from + " expire " + format_utc(*p.not_after) + " (in " +
                     std::to_string(left) + " h)";
        if (*p.not_after - now < kTlsaSignatureWarning) {
          it.status = "warning";
          it.threshold = 1;
          it.message += ": the zone's RRSIGs are not being renewed, or the refresh fails";
        }
        out.push_back(std::move(it));
        continue;
      }
      ExpiryItem it{up.name, "pin_window", p.display_name(), p.not_after, 0, "ok", -1, ""};
      grade(it, now, warn_days, "pin " + p.display_name() + " window");
      out.push_back(std::move(it));
    }
    const auto c = chains.find(up.name);
    if (c == chains.end()) continue;
    const ChainObservation& o = c->second;
    if (!o.error.empty()) {
      out.push_back({up.name, "probe", up.address.to_string(), {}, 0, "warning", -1,
                     "could not fetch the chain at " + format_utc(o.checked_at) + ": " + o.error});
      continue;
    }
    if (o.leaf_not_after) {
      ExpiryItem it{up.name, "certificate", o.leaf_subject, o.leaf_not_after, 0, "ok", -1, ""};
      grade(it, now, warn_days, "server certificate " + o.leaf_subject);
      out.push_back(std::move(it));
    }
    if (!o.refusal.empty()) {
      out.push_back({up.name, "pinned_certificate", "-", {}, 0, "error", -1,
                     "the chain presented at " + format_utc(o.checked_at) + " did not authenticate (" + o.refusal +
                         "); nothing in it was graded"});
    } else if (o.matched_element < 0) {
      out.push_back({up.name, "pinned_certificate", "-", {}, 0, "error", -1,
                     "the chain presented at " + format_utc(o.checked_at) + " matches no valid pin"});
    } else if (o.matched_element > 0 && o.matched_not_after) {
      ExpiryItem it{up.name, "pinned_certificate", o.matched_subject, o.matched_not_after, 0, "ok", -1, ""};
      grade(it, now, warn_days, "pinned certificate " + o.matched_subject + " (chain element " +
                                    std::to_string(o.matched_element) + ")");
      out.push_back(std::move(it));
    }
  }
  return out;
}

nlohmann::json expiry_json(const std::vector<ExpiryItem>& items) {
  ExpiryReply r;
  for (const ExpiryItem& it : items) {
    r.warnings += it.status == "warning";
    r.errors += it.status == "error";
    r.items.push_back({it.upstream, it.kind, it.item, it.status, it.message,
                       it.not_after ? std::optional<std::string>(format_utc(*it.not_after)) : std::nullopt,
                       it.not_after ? std::optional<long>(it.days_left) : std::nullopt,
                       it.threshold >= 0 ? std::optional<int>(it.threshold) : std::nullopt});
  }
  return r;
}

ChainObservation observe_chain(const UpstreamPins& upstream, UnixTime now, std::chrono::milliseconds timeout,
                               std::span<const CertView> anchors, tls::TlsFloor floor) {
  ChainObservation o;
  o.checked_at = now;
  tls::FetchOptions f;
  f.server = upstream.address;
  f.sni = upstream.auth_name;
  f.timeout = timeout;
  f.min_version = floor;
  auto fetched = tls::fetch_chain(f);
  if (!fetched) {
    o.error = fetched.error();
    return o;
  }
  std::vector<DerBytes> ders;
  for (const auto& d : fetched->chain) ders.emplace_back(d);
  if (ders.empty()) {
    o.error = "the server presented no certificate";
    return o;
  }
  const PinVerdict v = authenticate_chain(ders, upstream, now, anchors);
  if (!v.matched()) {
    o.refusal = std::string(to_string(v.code));
    return o;
  }
  if (auto leaf = parse_certificate(ders[0])) {
    o.leaf_subject = leaf->subject;
    o.leaf_not_after = leaf->not_after;
  }
  o.matched_element = v.matched_position();
  o.matched_pin = upstream.pins[static_cast<std::size_t>(v.matched_pin)].display_name();
  const auto e = static_cast<std::size_t>(v.matched_element);
  std::optional<DerBytes> matched;
  if (e < v.presented) {
    matched = ders[e];
  } else {
    // The trust anchor the path ended at (CA mode): the server did not send it.
    for (const CertView& a : anchors)
      if (spki_sha256(a.spki) == v.observed[e].digest) matched = a.der;
  }
  if (matched) {
    if (auto m = parse_certificate(*matched)) {
      o.matched_subject = m->subject;
      o.matched_not_after = m->not_after;
    }
  }
  return o;
}

ExpiryMonitor::ExpiryMonitor(Options options, PinsFn pins, LogFn warn, ProbeFn probe)
    : options_(std::move(options)), pins_(std::move(pins)), warn_(std::move(warn)), probe_(std::move(probe)) {
  if (!probe_) {
    const auto timeout = options_.probe_timeout;
    const auto floor = options_.min_version;
    // CA mode: the same anchors the resolver uses (its start-up already checked the file). If they
    // cannot be loaded now, nothing is graded (fail closed) rather than judging in pin-only mode.
    std::string trust_error;
    if (!options_.ca_file.empty()) {
      if (auto ctx = tls::make_client_ctx(options_.ca_file)) trust_ = std::make_shared<tls::ClientContext>(std::move(*ctx));
      else trust_error = ctx.error();
    }
    auto trust = trust_;
    probe_ = [timeout, floor, trust, trust_error](const UpstreamPins& u, UnixTime now) {
      if (!trust_error.empty()) {
        ChainObservation o;
        o.checked_at = now;
        o.error = "CA file not loaded: " + trust_error;
        return o;
      }
      return observe_chain(u, now, timeout, trust ? trust->anchors() : std::span<const CertView>{}, floor);
    };
  }
}

ExpiryMonitor::~ExpiryMonitor() { stop(); }

void ExpiryMonitor::start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(wake_mu_);
    while (!stop_) {
      lock.unlock();
      check_now();
      lock.lock();
      wake_.wait_for(lock, options_.interval, [this] { return stop_; });
    }
  });
}

void ExpiryMonitor::stop() {
  {
    std::lock_guard lock(wake_mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::vector<ExpiryItem> ExpiryMonitor::check_now() {
  std::lock_guard round(check_mu_);
  const auto snapshot = pins_();
  std::map<std::string, ChainObservation> seen;
  for (const UpstreamPins& up : snapshot->table.upstreams) seen[up.name] = probe_(up, options_.clock());
  {
    std::lock_guard lock(mu_);
    chains_ = std::move(seen);
  }
  auto list = items();
  for (const ExpiryItem& it : list)
    if (it.status != "ok") notify(it);
  return list;
}

std::vector<ExpiryItem> ExpiryMonitor::items() const {
  const auto snapshot = pins_();
  std::lock_guard lock(mu_);
  return evaluate_expiry(snapshot->table, chains_, options_.clock(), options_.warn_days);
}

std::uint64_t ExpiryMonitor::alerts_run() const {
  std::lock_guard lock(mu_);
  return alerts_run_;
}

void ExpiryMonitor::notify(const ExpiryItem& it) {
  {
    std::lock_guard lock(mu_);
    if (!notified_.insert(it.alert_key()).second) return;  // once per threshold
  }
  const std::string line = "expiry " + it.status + ": upstream " + it.upstream + ": " + it.message;
  if (warn_) warn_(line);
  const AlertVars vars = {{"UPSTREAM", it.upstream},
                          {"KIND", it.kind},
                          {"ITEM", it.item},
                          {"STATUS", it.status},
                          {"NOT_AFTER", it.not_after ? format_utc(*it.not_after) : std::string()},
                          {"DAYS_LEFT", it.not_after ? std::to_string(it.days_left) : std::string()},
                          {"THRESHOLD_DAYS", it.threshold >= 0 ? std::to_string(it.threshold) : std::string()},
                          {"MESSAGE", it.message}};
  if (run_alert_command(options_.alert_command, vars, warn_, "expiry")) {
    std::lock_guard lock(mu_);
    ++alerts_run_;
  }
}

}  // namespace dotpin::ctl
