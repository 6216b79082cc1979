// SPDX-License-Identifier: Apache-2.0
/// @file scripted_link.h
/// @brief A tls::Link whose upstream is the test, for deterministic tests of the DoT shard: no
/// socket, no TLS, no thread. Time is only what the shard's poll() hands to tick(), so a test that
/// drives the shard's clock decides when handshakes finish and answers arrive.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "pinning/pin_set.h"
#include "tls/link.h"

namespace dotpin::test {

class ScriptedLink;

/// One scripted upstream: how its links behave, and what they were sent.
struct ScriptedPeer {
  using Clock = tls::Link::Clock;
  enum class Open { kLink, kNull, kThrow };  ///< what the factory does: a link, null, std::bad_alloc

  Open open = Open::kLink;
  tls::FailureReason refuse = tls::FailureReason::kNone;  ///< fail every handshake with this reason
  Clock::duration latency{0};  ///< each query is answered this long after it was written
  bool silent = false;         ///< queries are taken and never answered
  bool wrong_id = false;       ///< answers carry an ID that was never sent (garbage after the handshake)
  bool partial = false;        ///< queries are taken; the answer's first bytes arrive and the rest never
  PinVerdict verdict{};        ///< what a ready link reports

  std::size_t opened = 0;   ///< links created
  std::size_t queries = 0;  ///< DNS messages written to it
  std::vector<ScriptedLink*> live;

  /// Every open link fails with @p reason at once (the upstream dies).
  inline void kill(tls::FailureReason reason = tls::FailureReason::kReset);
};

class ScriptedLink final : public tls::Link {
 public:
  explicit ScriptedLink(ScriptedPeer& peer) : peer_(peer), verdict_(peer.verdict) {
    ++peer_.opened;
    peer_.live.push_back(this);
  }
  ~ScriptedLink() override { std::erase(peer_.live, this); }

  bool start(Clock::time_point handshake_deadline) noexcept override {
    deadline_ = handshake_deadline;
    state_ = State::kConnecting;
    return true;
  }
  /// The handshake ends (ready, or refused) at the first tick; answers due by @p now arrive.
  void tick(Clock::time_point now) noexcept override {
    now_ = now;
    if (state_ == State::kConnecting) {
      if (now >= deadline_) {
        abort(tls::FailureReason::kHandshakeTimeout);
      } else if (peer_.refuse != tls::FailureReason::kNone) {
        abort(peer_.refuse);
      } else {
        state_ = State::kReady;
        last_ = now;
      }
    }
    while (state_ == State::kReady && !answers_.empty() && answers_.begin()->first <= now) {
      const std::vector<std::uint8_t> a = std::move(answers_.begin()->second);
      answers_.erase(answers_.begin());
      last_ = now;
      if (handler_) handler_(a);
    }
  }
  void abort(tls::FailureReason reason) noexcept override {
    if (state_ == State::kFailed || state_ == State::kClosed) return;
    failure_ = reason;
    state_ = State::kFailed;
  }
  bool send(std::span<const std::span<const std::uint8_t>> messages) noexcept override {
    if (state_ != State::kReady) return false;
    for (const auto& m : messages) {
      ++peer_.queries;
      if (peer_.partial) partial_ = true;
      if (peer_.silent || peer_.partial || m.size() < 12) continue;
      std::vector<std::uint8_t> a(m.begin(), m.end());
      a[2] |= 0x80;  // QR: the question echoed back as its (empty) answer
      if (peer_.wrong_id) a[0] ^= 0x5a;
      answers_.emplace(now_ + peer_.latency, std::move(a));
    }
    last_ = now_;
    return true;
  }
  void on_message(MessageHandler handler) noexcept override { handler_ = std::move(handler); }
  void close() noexcept override {
    if (state_ != State::kFailed) state_ = State::kClosed;
  }
  void close_gracefully() noexcept override { close(); }

  [[nodiscard]] Clock::time_point last_activity() const noexcept override { return last_; }
  [[nodiscard]] State state() const noexcept override { return state_; }
  [[nodiscard]] bool busy() const noexcept override { return false; }
  [[nodiscard]] tls::FailureReason failure() const noexcept override { return failure_; }
  [[nodiscard]] const PinVerdict& verdict() const noexcept override { return verdict_; }
  [[nodiscard]] bool resumed() const noexcept override { return false; }
  [[nodiscard]] bool offered_resumption() const noexcept override { return false; }
  [[nodiscard]] bool admitted_by_report_mode() const noexcept override { return false; }
  [[nodiscard]] bool partial_message() const noexcept override { return partial_; }

 private:
  bool partial_ = false;
  ScriptedPeer& peer_;
  PinVerdict verdict_;
  State state_ = State::kIdle;
  tls::FailureReason failure_ = tls::FailureReason::kNone;
  Clock::time_point deadline_{}, now_{}, last_{};
  std::multimap<Clock::time_point, std::vector<std::uint8_t>> answers_;  // by when they arrive
  MessageHandler handler_;
};

void ScriptedPeer::kill(tls::FailureReason reason) {
  for (ScriptedLink* l : live) l->abort(reason);
}

/// A link factory for ShardOptions: links to the peer named like the upstream (none: null).
inline tls::LinkFactory scripted_links(std::map<std::string, ScriptedPeer*> peers) {
  return [peers = std::move(peers)](const tls::LinkTarget& t) -> std::unique_ptr<tls::Link> {
    const auto it = peers.find(t.pins.name);
    if (it == peers.end() || it->second->open == ScriptedPeer::Open::kNull) return nullptr;
    if (it->second->open == ScriptedPeer::Open::kThrow) throw std::bad_alloc();
    return std::make_unique<ScriptedLink>(*it->second);
  };
}

}  // namespace dotpin::test
