// SPDX-License-Identifier: Apache-2.0
/// @file expiry.h
/// @brief Expiry monitoring: what will stop a pinned upstream from working, and when. For every
/// upstream: the certificate the server presents (its leaf), the certificate whose key matched a
/// pin (the "matched element"), each valid pin's window, and how many pins are valid now. Warnings
/// at configurable thresholds (default 30 and 7 days) for an expiring certificate, a pin window
/// ending, or only one valid pin left; expired or no-valid-pin items are errors.
///
/// The evaluation is a pure function of the pin table, the last observed chains and the time; the
/// monitor (ExpiryMonitor) fetches the chains on its own thread — never on an lcore — logs each
/// warning once per threshold, runs the operator's alert command, and serves `dotpinctl expiry`.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/time_util.h"
#include "pinning/pin_store.h"
#include "tls/client_context.h"

namespace dotpin::ctl {

/// What the monitor saw when it last connected to an upstream.
struct ChainObservation {
  UnixTime checked_at{};
  std::string error;                  ///< non-empty: the chain could not be fetched
  /// Non-empty: the chain did not authenticate (the reason). Nothing in such a chain is graded:
  /// an on-path attacker must not be able to feed the monitor subjects or trigger its alerts.
  std::string refusal;
  int matched_element = -1;           ///< chain index (0 = leaf) whose key matched a valid pin
  std::string matched_pin;            ///< that pin's display name
  std::string matched_subject;
  std::optional<UnixTime> matched_not_after;
  std::string leaf_subject;
  std::optional<UnixTime> leaf_not_after;
};

/// One thing with a deadline (or a state) of one upstream.
struct ExpiryItem {
  std::string upstream;
  std::string kind;   ///< certificate, pinned_certificate, pin_window, valid_pins, probe
  std::string item;   ///< subject, pin name, or a count
  std::optional<UnixTime> not_after;
  long days_left = 0;  ///< meaningful with not_after
  /// ok | warning | error. A warning names the tightest threshold crossed (@p threshold days).
  std::string status = "ok";
  int threshold = -1;
  std::string message;
  /// Identity for "logged once per threshold": upstream|kind|item|threshold|status.
  [[nodiscard]] std::string alert_key() const;
};

/// Evaluates @p table against the observations (by upstream name) at @p now. @p warn_days: the
/// thresholds, any order.
std::vector<ExpiryItem> evaluate_expiry(const PinTable& table, const std::map<std::string, ChainObservation>& chains,
                                        UnixTime now, const std::vector<int>& warn_days);

nlohmann::json expiry_json(const std::vector<ExpiryItem>& items);

/// Connects to @p upstream like `dotpinctl pin fetch` (blocking, bounded by @p timeout), judges the
/// chain exactly as the resolver does (pinning/authenticate.h, with @p anchors in CA mode) and,
/// only when it authenticates, records the leaf and the matched certificate.
ChainObservation observe_chain(const UpstreamPins& upstream, UnixTime now, std::chrono::milliseconds timeout,
                               std::span<const CertView> anchors = {}, tls::TlsFloor floor = tls::TlsFloor::kTls12);

class ExpiryMonitor {
 public:
  struct Options {
    std::vector<int> warn_days = {30, 7};
    std::chrono::seconds interval{3600};
    std::chrono::milliseconds probe_timeout{5000};
    std::string alert_command;  ///< run with /bin/sh -c; details in DOTPIN_* environment variables
    std::function<UnixTime()> clock = now_utc;  ///< tests give a fixed one
    std::string ca_file;        ///< the resolver's [upstreams] ca_file: chains are judged in CA mode
    tls::TlsFloor min_version = tls::TlsFloor::kTls12;
  };
  using PinsFn = std::function<std::shared_ptr<const PinSnapshot>()>;
  using LogFn = std::function<void(std::string_view)>;
  using ProbeFn = std::function<ChainObservation(const UpstreamPins&, UnixTime)>;

  /// @p probe defaults to observe_chain (tests give another).
  ExpiryMonitor(Options options, PinsFn pins, LogFn warn, ProbeFn probe = {});
  ~ExpiryMonitor();
  ExpiryMonitor(const ExpiryMonitor&) = delete;
  ExpiryMonitor& operator=(const ExpiryMonitor&) = delete;

  /// Starts the monitor thread: a check at once, then every interval.
  void start();
  void stop();
  /// Probes every upstream, evaluates, logs and alerts what is new. Returns the items.
  std::vector<ExpiryItem> check_now();
  /// The items as of the last probe, re-evaluated now against the pins in force.
  [[nodiscard]] std::vector<ExpiryItem> items() const;
  /// How many times the alert command was started (for status and tests).
  [[nodiscard]] std::uint64_t alerts_run() const;

 private:
  void notify(const ExpiryItem& item);

  Options options_;
  std::shared_ptr<tls::ClientContext> trust_;  // anchors for CA mode (null: pin-only)
  PinsFn pins_;
  LogFn warn_;
  ProbeFn probe_;
  mutable std::mutex mu_;
  std::map<std::string, ChainObservation> chains_;
  std::set<std::string> notified_;
  std::uint64_t alerts_run_ = 0;
  std::mutex check_mu_;  // one probe round at a time (thread and `expiry --refresh`)
  std::condition_variable wake_;
  std::mutex wake_mu_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace dotpin::ctl
