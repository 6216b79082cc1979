// SPDX-License-Identifier: Apache-2.0
#include "control/pin_sources.h"

#include <time.h>

#include <algorithm>

#include "control/alert_command.h"
#include "control/dane_pins.h"
#include "control/view_prefix.h"

namespace dotpin::ctl {
namespace {

}  // namespace

/// Wall and CPU time of one attempt on the pin sources thread (what a refresh costs the control plane).
class PinSources::AttemptClock {
 public:
  AttemptClock() : wall_(std::chrono::steady_clock::now()), cpu_(thread_cpu()) {}
  void record(SourceStatus& s) const {
    s.last_wall = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - wall_);
    s.last_cpu = thread_cpu() - cpu_;
  }

 private:
  static std::chrono::microseconds thread_cpu() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::nanoseconds(ts.tv_nsec));
  }
  std::chrono::steady_clock::time_point wall_;
  std::chrono::microseconds cpu_;
};

namespace {
}  // namespace

PinSources::PinSources(Options options, PinPublisher& publisher, std::unique_ptr<TofuLearner> learner, LogFn info,
                       LogFn warn, DaneFn dane)
    : options_(std::move(options)),
      publisher_(publisher),
      learner_(std::move(learner)),
      info_(std::move(info)),
      warn_(std::move(warn)),
      dane_(std::move(dane)) {}

PinSources::~PinSources() = default;

std::string PinSources::in_view() const { return view_prefix(options_.view, !options_.view.empty()); }

std::string PinSources::who(const std::string& upstream) const { return in_view() + "upstream " + upstream; }

AlertVars PinSources::alert_vars(const std::string& upstream, AlertVars more) const {
  AlertVars vars;
  if (options_.view.empty()) {
    vars.emplace_back("UPSTREAM", upstream);
  } else {
    vars.emplace_back("UPSTREAM", options_.view + "/" + upstream);  // as the expiry monitor names it
    vars.emplace_back("VIEW", options_.view);
  }
  vars.insert(vars.end(), more.begin(), more.end());
  return vars;
}

SourceStatus& PinSources::status_for(const UpstreamPins& up, std::string_view source) {
  SourceStatus& s = status_[up.name];
  s.view = options_.view;
  s.upstream = up.name;
  s.source = std::string(source);
  return s;
}

void PinSources::run_once() {
  run_tofu_once();
  run_dane_once();
}

void PinSources::forget_departed(const PinTable& table, std::string_view source) {
  std::vector<std::string> gone;
  {
    // Upstreams that left the table (or changed source) leave the status too.
    std::lock_guard lock(mu_);
    std::erase_if(status_, [&](const auto& kv) {
      if (kv.second.source != source) return false;
      const UpstreamPins* up = table.find(kv.first);
      const bool left = !up || to_string(up->pins_from) != kv.second.source;
      if (left) gone.push_back(kv.first);
      return left;
    });
  }
  // Their TLSA pins go too (compose would ignore them; a re-added upstream must look up afresh).
  if (source == "dane")
    for (const std::string& name : gone)
      if (!publisher_.dane_entry(name).pins.empty())
        (void)publisher_.set_dane(name, {}, who(name) + ": no longer a DANE upstream");
}

namespace {

/// Calls @p visit for each of @p items from @p cursor on, round the end, until every item was
/// visited or @p budget has passed; leaves @p cursor at the first item not visited.
template <class T, class F>
void visit_within(const std::vector<const T*>& items, std::size_t& cursor, std::chrono::milliseconds budget, F visit) {
  if (items.empty()) return;
  const auto start = std::chrono::steady_clock::now();
  const std::size_t n = items.size(), first = cursor % n;
  std::size_t visited = 0;
  while (visited < n) {
    visit(*items[(first + visited) % n]);
    ++visited;
    if (std::chrono::steady_clock::now() - start >= budget) break;
  }
  cursor = (first + visited) % n;
}

}  // namespace

void PinSources::run_tofu_once() {
  std::lock_guard run(tofu_run_mu_);
  const PinTable table = publisher_.file_table();
  const TofuState state = publisher_.tofu_state();
  const UnixTime now = options_.clock();
  forget_departed(table, "tofu");
  std::vector<const UpstreamPins*> ups;
  for (const UpstreamPins& up : table.upstreams)
    if (up.pins_from == PinsFrom::kTofu) ups.push_back(&up);
  visit_within(ups, tofu_cursor_, options_.pass_budget, [&](const UpstreamPins& up) { tofu_pass(up, state, now); });
}

void PinSources::run_dane_once() {
  std::lock_guard run(dane_run_mu_);
  const PinTable table = publisher_.file_table();
  const UnixTime now = options_.clock();
  forget_departed(table, "dane");
  std::vector<const UpstreamPins*> ups;
  for (const UpstreamPins& up : table.upstreams)
    if (up.pins_from == PinsFrom::kDane) ups.push_back(&up);
  visit_within(ups, dane_cursor_, options_.pass_budget, [&](const UpstreamPins& up) { dane_pass(up, now); });
}

namespace {

/// Two pin lists hold the same keys in the same forms, scopes and windows.
bool same_pins(const std::vector<Pin>& a, const std::vector<Pin>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].digest != b[i].digest || a[i].digest512 != b[i].digest512 || a[i].form != b[i].form ||
        a[i].scope != b[i].scope || a[i].not_after != b[i].not_after)
      return false;
  return true;
}

std::string_view dane_reason(dane::DaneAnswer::Status st) {
  switch (st) {
    case dane::DaneAnswer::Status::kSecure: return "secure";
    case dane::DaneAnswer::Status::kBogus: return "dane_bogus";
    case dane::DaneAnswer::Status::kInsecure: return "dane_insecure";
    case dane::DaneAnswer::Status::kMissing: return "dane_missing";
  }
  return "dane_error";
}

}  // namespace

UnixTime PinSources::stale_bound(const SourceStatus& s) const {
  const UnixTime by_ttl = s.last_success + std::chrono::seconds(s.ttl) + options_.dane_stale;
  return std::min(by_ttl, s.rrsig_expiration.value_or(by_ttl));
}

void PinSources::dane_withdraw(const UpstreamPins& up, SourceStatus& s, const std::string& reason, const std::string& why,
                               UnixTime now, Later& later, bool may_hold) {
  ++s.failures[reason];
  // The same reason again is no change (no new warning, no new alert command every retry).
  const std::string problem = reason + ": " + why;
  const bool changed = s.last_problem != problem;
  s.last_problem = problem;
  s.detail = why;
  // The one rule (pin_safety.h): a bogus answer that would leave the upstream (or the pool) with
  // no pin valid now is held like a failed lookup — the last secure pins stay within their
  // signatures and TTL + dane_stale — and is forced once that bound has passed. An attacker on the
  // DNS path gains nothing from this: forging (bogus) or dropping the lookups already kept the
  // pins that long. An *authenticated* withdrawal (the signed zone proves the RRset is gone, the
  // zone is provably unsigned, or it holds only unusable records) is the zone owner's decision —
  // how a compromised key is revoked — and is never held (@p may_hold false).
  const std::optional<UnixTime> hold_until = may_hold && s.records > 0 && now < stale_bound(s)
                                                 ? std::optional<UnixTime>(stale_bound(s))
                                                 : std::nullopt;
  const std::size_t records = s.records;
  const std::optional<UnixTime> rrsig = s.rrsig_expiration;
  s.records = 0;
  s.rrsig_expiration.reset();
  const std::string name = up.name;
  const std::string item = "_" + std::to_string(up.tlsa_port) + "._tcp." + up.auth_name;
  later.push_back([this, name, item, reason, why, changed, hold_until, records, rrsig] {
    const bool held = !publisher_.dane_entry(name).pins.empty();
    if (held) {
      const std::string what = who(name) + ": TLSA pins withdrawn (" + reason + ")";
      auto published = publisher_.set_dane(name, {}, what, /*force=*/!hold_until);
      if (!published && hold_until) {
        // Refused as unsafe: keep them, say so (an alert each time the reason changes).
        const std::string until = format_utc(*hold_until);
        {
          std::lock_guard lock(mu_);
          if (const auto it = status_.find(name); it != status_.end()) {
            it->second.records = records;
            it->second.rrsig_expiration = rrsig;
            it->second.state = "held";
            it->second.detail = why + "; the last secure TLSA pins are held until " + until +
                                " (withdrawing them would leave no pin valid now)";
          }
        }
        if (changed && warn_)
          warn_("dane: " + who(name) + ": " + reason + ": " + why + "; the last secure TLSA pins are held until " +
                until + ": withdrawing them would leave no pin valid now");
        if (changed)
          run_alert_command(options_.alert_command,
                            alert_vars(name, {{"KIND", reason}, {"ITEM", item}, {"STATUS", "held"},
                                              {"MESSAGE", why + "; TLSA pins held until " + until}}),
                            warn_, "dane");
        return;
      }
      if (!published && warn_) warn_("dane: " + who(name) + ": " + published.error());
    }
    if ((changed || held) && warn_) warn_("dane: " + who(name) + ": " + reason + ": " + why + "; no TLSA pin is in force");
    if (held)
      run_alert_command(options_.alert_command,
                        alert_vars(name, {{"KIND", reason}, {"ITEM", item}, {"STATUS", "error"}, {"MESSAGE", why}}),
                        warn_, "dane");
  });
}

void PinSources::dane_pass(const UpstreamPins& up, UnixTime now) {
  {
    std::lock_guard lock(mu_);
    SourceStatus& s = status_for(up, "dane");
    const std::string owner = "_" + std::to_string(up.tlsa_port) + "._tcp." + up.auth_name;
    if (s.looked_up != owner) {
      // A new name or port (a pin file change): look it up now, not when the old schedule says.
      s.looked_up = owner;
      s.next_attempt = UnixTime{};
      s.records = 0;
      s.rrsig_expiration.reset();
    }
    if (now < s.next_attempt) return;
    ++s.attempts;
    s.last_attempt = now;
    if (s.state.empty()) s.state = "waiting";
  }
  const AttemptClock clock;
  Result<dane::DaneAnswer> answer = dane_ ? dane_(up.auth_name, up.tlsa_port)
                                          : Result<dane::DaneAnswer>(Error{"no DANE resolver is configured ([dane])"});
  Later later;  // publications, logs and alerts: run once the status lock is released
  {
    std::lock_guard lock(mu_);
    dane_decide(up, now, clock, answer, later);
  }
  for (auto& f : later) f();
}

void PinSources::dane_decide(const UpstreamPins& up, UnixTime now, const AttemptClock& clock,
                             Result<dane::DaneAnswer>& answer, Later& later) {
  SourceStatus& s = status_for(up, "dane");
  clock.record(s);  // the lookup; a publication below adds its own (small) cost to the thread, not here
  s.next_attempt = now + options_.dane_retry;
  if (answer && answer->status == dane::DaneAnswer::Status::kSecure && !answer->rrsig_expiration)
    answer = Error{"a secure answer without an RRSIG over the TLSA RRset"};  // never pins without an end
  if (!answer) {
    // No answer at all: keep what was securely learned, within its signatures and at most
    // dane_stale past its TTL; then withdraw.
    const UnixTime stale_until = stale_bound(s);
    if (s.records > 0 && now >= stale_until) {
      s.state = "error";
      dane_withdraw(up, s, "dane_error",
                    answer.error() + "; the last secure TLSA pins are " + std::to_string((now - s.last_success).count()) +
                        " s old: withdrawn",
                    now, later, /*may_hold=*/false);
      return;
    }
    ++s.failures["dane_error"];
    const std::string problem = "dane_error: " + answer.error();
    const bool changed = s.last_problem != problem;
    s.last_problem = problem;
    s.detail = answer.error();
    s.state = s.records > 0 ? "stale" : "error";
    if (changed && warn_) {
      std::string line = "dane: " + who(up.name) + ": lookup failed: " + answer.error() +
                         (s.records > 0 ? "; the last secure TLSA pins stay until " + format_utc(stale_until) : "");
      later.push_back([this, line] { warn_(line); });
    }
    return;
  }
  const dane::DaneAnswer& a = *answer;
  if (a.status != dane::DaneAnswer::Status::kSecure) {
    std::string why = std::string(dane::to_string(a.status)) + " answer for " +
                      (a.owner.empty() ? "_" + std::to_string(up.tlsa_port) + "._tcp." + up.auth_name : a.owner);
    if (!a.why_bogus.empty()) why += ": " + a.why_bogus;
    s.state = std::string(dane::to_string(a.status));
    dane_withdraw(up, s, std::string(dane_reason(a.status)), why, now, later,
                  /*may_hold=*/a.status == dane::DaneAnswer::Status::kBogus);
    return;
  }
  DanePins converted = pins_from_tlsa_answer(a, now);
  std::vector<Pin> pins = std::move(converted.pins);
  const std::string skipped = std::move(converted.skipped);
  if (pins.empty()) {
    s.state = "unusable";
    dane_withdraw(up, s, "dane_unusable", "no usable TLSA record at " + a.owner + (skipped.empty() ? "" : ": " + skipped),
                  now, later, /*may_hold=*/false);
    return;
  }
  const auto ttl = std::chrono::seconds(a.ttl / 2);
  s.next_attempt = now + std::clamp(ttl, options_.dane_refresh_min, options_.dane_refresh_max);
  s.ttl = a.ttl;
  s.rrsig_expiration = a.rrsig_expiration;
  s.records = pins.size();
  s.state = "secure";
  s.last_problem.clear();
  s.detail = std::to_string(pins.size()) + " TLSA record(s) at " + a.owner + (skipped.empty() ? "" : " (skipped: " + skipped + ")");
  ++s.successes;
  s.last_success = now;
  const auto held = publisher_.dane_entry(up.name);
  if (held.auth_name == up.auth_name && held.port == up.tlsa_port && same_pins(held.pins, pins)) return;
  std::string shown;
  for (const Pin& p : pins) shown += (shown.empty() ? "" : ", ") + p.display_name();
  PinPublisher::DaneEntry entry{up.auth_name, up.tlsa_port, std::move(pins)};
  const std::string name = up.name, what = who(up.name) + ": TLSA pins from " + a.owner + ": " + shown,
                    detail = s.detail;
  later.push_back([this, name, what, detail, shown, entry = std::move(entry)]() mutable {
    auto published = publisher_.set_dane(name, std::move(entry), what);
    if (!published) {
      if (warn_) warn_("dane: " + who(name) + ": " + published.error());
      return;
    }
    if (info_) info_("dane: " + who(name) + ": " + detail + " in force: " + shown);
  });
}

void PinSources::tofu_pass(const UpstreamPins& up, const TofuState& state, UnixTime now) {
  {
    std::lock_guard lock(mu_);
    SourceStatus& s = status_for(up, "tofu");
    if (const LearnedUpstream* e = state.entry_for(up)) {
      s.state = "learned";
      s.last_problem.clear();
      s.detail = "learned " + format_utc(e->pins.front().learned_at) + " from " + e->pins.front().learned_from;
      return;
    }
    if (up.mode == PinMode::kReport) {
      // Report mode admits mismatching chains: learning from what it admits would learn anything.
      // (The pin file refuses the combination; this is the second line.)
      s.state = "report_mode";
      s.detail = "nothing is learned in report mode";
      return;
    }
    s.state = "waiting";
    Backoff& b = backoff_[up.name];
    if (now < b.next) return;
    ++s.attempts;
    s.last_attempt = now;
  }
  const AttemptClock clock;
  const LearnOutcome o = learner_->learn(up, now);
  if (!o.learned) {
    std::string line;
    {
      std::lock_guard lock(mu_);
      SourceStatus& s = status_for(up, "tofu");
      clock.record(s);
      Backoff& b = backoff_[up.name];
      ++s.failures[std::string(to_string(o.refusal))];
      const std::string problem = std::string(to_string(o.refusal)) + ": " + o.why;
      const bool changed = s.last_problem != problem;
      s.last_problem = problem;
      s.detail = o.why;
      b.delay = std::clamp(b.delay * 2, options_.backoff_min, options_.backoff_max);
      b.next = now + b.delay;
      // Logged when the reason changes, not every retry.
      if (changed)
        line = "tofu: " + who(up.name) + ": nothing learned (" + std::string(to_string(o.refusal)) + "): " + o.why +
               "; retrying in " + std::to_string(b.delay.count()) + " s";
    }
    if (!line.empty() && warn_) warn_(line);
    return;
  }
  const LearnedUpstream learned = *o.learned;
  std::string pins;
  for (const LearnedPin& p : learned.pins)
    pins += (pins.empty() ? "" : ", ") + std::string(p.scope == PinScope::kIssuer ? "issuer" : "leaf") +
            " pin-sha256=\"" + pin_base64(p.digest) + "\"";
  const std::string what = who(up.name) + ": learned on first use from " + learned.pins.front().learned_from +
                           ": " + pins;
  // Persisted and published (up to the lcores' adoption wait) without the status lock held.
  auto published = publisher_.set_learned(up.name, learned, what);
  {
    std::lock_guard lock(mu_);
    SourceStatus& s = status_for(up, "tofu");
    clock.record(s);
    Backoff& b = backoff_[up.name];
    if (!published) {
      ++s.failures["persist"];
      s.detail = published.error();
      b.delay = std::clamp(b.delay * 2, options_.backoff_min, options_.backoff_max);
      b.next = now + b.delay;
    } else {
      ++s.successes;
      s.last_success = now;
      s.state = "learned";
      s.last_problem.clear();
      s.detail = what;
      b = Backoff{};
    }
  }
  if (!published) {
    if (warn_) warn_("tofu: " + who(up.name) + ": learned but not kept: " + published.error());
    return;
  }
  if (info_) info_("tofu: " + what);
  run_alert_command(options_.alert_command,
                    alert_vars(up.name, {{"KIND", "tofu_learned"},
                                         {"ITEM", pin_base64(learned.pins.front().digest)},
                                         {"STATUS", "learned"},
                                         {"MESSAGE", what}}),
                    warn_, "tofu");
}

Result<PinChangeReply> PinSources::accept(const std::string& upstream, const PinDigest& expected) {
  std::lock_guard run(tofu_run_mu_);
  const PinTable table = publisher_.file_table();
  const UpstreamPins* up = table.find(upstream);
  if (!up) return fail(in_view(), "no upstream named '", upstream, "'");
  if (up->pins_from != PinsFrom::kTofu) return fail(in_view(), "upstream '", upstream, "' does not learn its pins (pins_from is not \"tofu\")");
  const UnixTime now = options_.clock();
  const LearnOutcome o = learner_->learn(*up, now);
  if (!o.learned) return fail(in_view(), "nothing accepted (", to_string(o.refusal), "): ", o.why);
  const PinDigest seen = o.learned->pins.front().digest;
  if (!pins_equal(seen, expected))
    return fail(in_view(), "nothing accepted: the server now presents pin-sha256=\"", pin_base64(seen), "\", not the pin-sha256=\"",
                pin_base64(expected), "\" you accepted; check which key is genuine");
  const std::string what = who(upstream) + ": the operator accepted pin-sha256=\"" + pin_base64(seen) +
                           "\" (seen at " + o.learned->pins.front().learned_from + ")";
  auto published = publisher_.set_learned(upstream, *o.learned, what);
  if (!published) return Error{published.error()};
  std::lock_guard lock(mu_);
  SourceStatus& s = status_for(*up, "tofu");
  s.state = "learned";
  s.last_problem.clear();
  s.detail = what;
  backoff_.erase(upstream);
  return published;
}

Result<PinChangeReply> PinSources::forget(const std::string& upstream, bool force) {
  std::lock_guard run(tofu_run_mu_);
  const PinTable table = publisher_.file_table();
  const UpstreamPins* up = table.find(upstream);
  if (!up) return fail(in_view(), "no upstream named '", upstream, "'");
  if (up->pins_from != PinsFrom::kTofu) return fail(in_view(), "upstream '", upstream, "' does not learn its pins (pins_from is not \"tofu\")");
  if (!publisher_.tofu_state().upstreams.contains(upstream)) return fail(in_view(), "upstream '", upstream, "' has nothing learned");
  auto published = publisher_.set_learned(upstream, std::nullopt,
                                          who(upstream) + ": learned keys forgotten; the next handshake learns again",
                                          force);
  if (!published) return published;
  {
    std::lock_guard lock(mu_);
    SourceStatus& s = status_for(*up, "tofu");
    s.state = "waiting";
    s.last_problem.clear();
    s.detail = "forgotten by the operator";
    backoff_.erase(upstream);
  }
  if (wake_) wake_();  // learn again now, not at the next tick
  return published;
}

std::vector<SourceStatus> PinSources::status() const {
  std::lock_guard lock(mu_);
  std::vector<SourceStatus> out;
  for (const auto& [name, s] : status_) out.push_back(s);
  return out;
}

}  // namespace dotpin::ctl
