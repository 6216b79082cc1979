// SPDX-License-Identifier: Apache-2.0
/// @file pin_sources.h
/// @brief The control thread that feeds pins from the network: learns TOFU keys (tofu_learner.h)
/// and refreshes DANE TLSA pins (dane_lookup.h, pinning/tlsa.h), publishing each change through the
/// PinPublisher.
///
/// DANE: each `pins_from = "dane"` upstream's TLSA RRset at _<port>._tcp.<auth_name> is looked up
/// at once, then again at half its TTL (clamped to [dane_refresh_min, dane_refresh_max]), so a
/// changed RRset is in force within its TTL plus one refresh. Its usable records (usages 3 and 2)
/// become pins with a window that ends when the RRset's signatures expire. A *secure* answer is
/// the only one that yields pins: bogus, insecure and missing (secure denial) answers withdraw the
/// upstream's TLSA pins at once (counted dane_bogus, dane_insecure, dane_missing); an answer whose
/// records are all unusable is dane_unusable. A lookup that fails (timeout, SERVFAIL) keeps the
/// last secure pins — they stop counting by themselves when their signatures expire — and is
/// retried after dane_retry (dane_error).
///
/// It runs on control-side threads (pin_source_threads.h), never on an lcore; its network I/O
/// (handshakes, DNS lookups) is bounded by timeouts. With [[view]] sections each view has its own
/// PinSources: its own publisher (so its own pins and TOFU state file), its own learner (the view's
/// CA file), its own status; a key learned or a TLSA RRset looked up for one view never enters another's. A TOFU upstream with nothing learned is tried at once, then
/// with a backoff (2 s doubling to 60 s) while learning fails; once learned it is left alone
/// until the operator runs `pins accept` or `pins forget`. Nothing is learned for an upstream in
/// report mode. Every outcome is counted per upstream (metrics, `pins sources`).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "control/alert_command.h"
#include "control/dane_lookup.h"
#include "control/pin_publisher.h"
#include "control/tofu_learner.h"

namespace dotpin::ctl {

/// One upstream's source state, for metrics and `pins sources`.
struct SourceStatus {
  std::string view;        ///< the view whose upstream it is ("" without [[view]] sections)
  std::string upstream;
  std::string source;      ///< tofu | dane
  std::string state;       ///< tofu: learned | waiting | report_mode; dane: secure | stale | held | bogus | insecure | missing | unusable | error | waiting
  std::string detail;      ///< the last failure's explanation ("" when none)
  std::string last_problem;  ///< the last failure as reason + explanation: the same again is not warned or alerted again
  UnixTime last_attempt{};  ///< epoch: never
  UnixTime last_success{};
  std::uint64_t attempts = 0;
  std::uint64_t successes = 0;
  std::map<std::string, std::uint64_t> failures;  ///< by reason (tofu: LearnRefusal; dane: status)
  std::chrono::microseconds last_wall{0};  ///< the last attempt's duration (handshakes or lookup + publish)
  std::chrono::microseconds last_cpu{0};   ///< and the CPU time it took on this thread
  // DANE only:
  std::size_t records = 0;                  ///< usable TLSA records in force
  std::uint32_t ttl = 0;                    ///< of the last secure RRset
  std::optional<UnixTime> rrsig_expiration;  ///< of the RRset whose pins are in force
  UnixTime next_attempt{};                  ///< when the next refresh is due
  std::string looked_up;                    ///< "_port._tcp.name" the schedule is for
};

class PinSources {
 public:
  struct Options {
    std::chrono::seconds backoff_min{2};
    std::chrono::seconds backoff_max{60};
    std::string alert_command;  ///< [expiry] alert_command: also run when a key is learned
    std::chrono::seconds dane_refresh_min{60};
    std::chrono::seconds dane_refresh_max{3600};
    std::chrono::seconds dane_retry{30};  ///< after a failed lookup
    /// After a failed lookup the last secure pins stay at most this long past their RRset's TTL
    /// (and never past its signatures): a key removed from the zone cannot be kept alive for the
    /// whole signature lifetime by blocking the lookups.
    std::chrono::seconds dane_stale{3600};
    std::function<UnixTime()> clock = now_utc;
    /// A pass over the upstreams stops once it has run this long (after the attempt in progress)
    /// and the next pass goes on from there: the views share two threads, and a view with many
    /// unreachable upstreams must not hold the others' learning and refreshes for a whole round.
    std::chrono::milliseconds pass_budget{1000};
    /// The view these sources feed ("" without [[view]] sections): in log lines ("view NAME: "),
    /// alert commands (VIEW, UPSTREAM as VIEW/NAME, as the expiry monitor names them) and status.
    std::string view;
  };
  using LogFn = std::function<void(std::string_view)>;
  /// A validated TLSA lookup (dane::DaneLookup::lookup on this thread; tests give a fake).
  using DaneFn = std::function<Result<dane::DaneAnswer>(std::string_view auth_name, std::uint16_t port)>;

  /// @p dane may be empty: DANE upstreams then stay without TLSA pins (state "error").
  PinSources(Options options, PinPublisher& publisher, std::unique_ptr<TofuLearner> learner, LogFn info, LogFn warn,
             DaneFn dane = {});
  ~PinSources();
  PinSources(const PinSources&) = delete;
  PinSources& operator=(const PinSources&) = delete;

  /// Called when a pass should run now rather than at the next tick (after `pins forget`): set by
  /// the threads that run these sources (pin_source_threads.h).
  void set_wake(std::function<void()> wake) { wake_ = std::move(wake); }
  [[nodiscard]] const Options& options() const noexcept { return options_; }
  /// One pass over every upstream (tests call it directly): run_tofu_once() then run_dane_once().
  void run_once();
  void run_tofu_once();
  void run_dane_once();

  /// `pins accept UPSTREAM [--pin PIN]`: probes now and adopts the key it sees, if it equals
  /// @p expected (the observed pin from the tofu_changed refusal). Persisted and published.
  Result<PinChangeReply> accept(const std::string& upstream, const PinDigest& expected);
  /// `pins forget UPSTREAM`: drops the learned keys; the next pass learns again. Refused when it
  /// leaves the upstream (or the pool) with no pin valid now, unless @p force (pin_safety.h):
  /// until it has learned again, its connections are refused.
  Result<PinChangeReply> forget(const std::string& upstream, bool force = false);

  [[nodiscard]] std::vector<SourceStatus> status() const;

 private:
  class AttemptClock;
  /// Work decided under the status lock and done after it is released (publish, log, alert).
  using Later = std::vector<std::function<void()>>;

  void forget_departed(const PinTable& table, std::string_view source);
  void tofu_pass(const UpstreamPins& up, const TofuState& state, UnixTime now);
  void dane_pass(const UpstreamPins& up, UnixTime now);
  /// The status update for a lookup's outcome (mu_ held); what must not run under it goes to @p later.
  void dane_decide(const UpstreamPins& up, UnixTime now, const AttemptClock& clock, Result<dane::DaneAnswer>& answer,
                   Later& later);
  /// Withdraws @p up's TLSA pins (if any) after a non-secure answer (mu_ held; the work in @p later);
  /// when @p may_hold (a bogus answer), held instead within stale_bound() if the withdrawal would
  /// strand the upstream or the pool.
  void dane_withdraw(const UpstreamPins& up, SourceStatus& s, const std::string& reason, const std::string& why,
                     UnixTime now, Later& later, bool may_hold);
  /// How long the last secure TLSA pins of @p s may be kept: TTL + dane_stale, never past their signatures.
  [[nodiscard]] UnixTime stale_bound(const SourceStatus& s) const;
  SourceStatus& status_for(const UpstreamPins& up, std::string_view source);
  /// "view VIEW: " with views, else "": how replies and log lines name the view.
  [[nodiscard]] std::string in_view() const;
  /// "upstream NAME", after "view VIEW: " with views: how log lines and publications name it.
  [[nodiscard]] std::string who(const std::string& upstream) const;
  /// The alert command's variables for @p upstream (VIEW, and UPSTREAM as VIEW/NAME with views).
  [[nodiscard]] AlertVars alert_vars(const std::string& upstream, AlertVars more) const;

  Options options_;
  PinPublisher& publisher_;
  std::unique_ptr<TofuLearner> learner_;
  LogFn info_, warn_;
  DaneFn dane_;
  mutable std::mutex mu_;  // status_, next_try_
  std::map<std::string, SourceStatus> status_;
  struct Backoff {
    UnixTime next{};
    std::chrono::seconds delay{0};
  };
  std::map<std::string, Backoff> backoff_;
  std::mutex tofu_run_mu_;  // one TOFU pass (or accept/forget) at a time; guards tofu_cursor_
  std::mutex dane_run_mu_;  // one DANE pass at a time; guards dane_cursor_
  std::size_t tofu_cursor_ = 0, dane_cursor_ = 0;  // where the next pass starts (pass_budget)
  std::function<void()> wake_;
};

}  // namespace dotpin::ctl
