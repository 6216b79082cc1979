// SPDX-License-Identifier: Apache-2.0
/// @file shard.h
/// @brief A DoT shard: one owner thread's connections to every upstream of a pool.
///
/// Queries are submitted with the client's own bytes and an opaque cookie; the shard picks an
/// upstream (round robin or lowest latency among those not backing off), gives the query an ID that
/// is unique on its connection, queues it, and on each poll writes every connection's queue in one
/// TLS write (coalescing). Responses come back in any order, are matched by ID and question, get the
/// client's ID back, and complete with the cookie. A connection that fails (refused pin, reset,
/// timeout) puts its upstream into backoff with jitter; its queries are retried once on another
/// upstream of the pool, or completed as failed with the Extended DNS Error (code and text) that the
/// client's SERVFAIL is to carry. There is no
/// path to an unpinned or cleartext upstream. No locks: the owner thread does everything.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <span>
#include <vector>

#include "common/edns.h"
#include "common/latency_histogram.h"
#include "tls/id_table.h"
#include "tls/link.h"
#include "tls/upstream_stats.h"
#include "tls/upstream_link.h"

namespace dotpin::tls {

struct ShardOptions {
  enum class Policy { kRoundRobin, kLowestLatency };
  Policy policy = Policy::kRoundRobin;
  std::size_t connections_per_upstream = 1;
  std::size_t max_inflight_per_connection = 1024;  ///< at most 65536
  std::size_t max_pending = 65536;                 ///< queries in the shard; submit() refuses beyond
  std::chrono::milliseconds query_timeout{2000};
  std::chrono::milliseconds handshake_timeout{3000};
  /// An idle connection (nothing in flight) is closed after this, or after the server's
  /// edns-tcp-keepalive timeout (RFC 7828) when it announced one.
  std::chrono::milliseconds idle_timeout{10000};
  /// Ask servers for their idle timeout with an empty edns-tcp-keepalive option in queries.
  bool keepalive = true;
  std::chrono::milliseconds backoff_initial{250};
  std::chrono::milliseconds backoff_max{30000};
  /// While an upstream is backing off, a connection is opened to it this long (±25 %) after its
  /// last failure whether or not a query waits: its handshake is the health probe, and a probe
  /// that completes takes the upstream back at once (queries flow again) instead of at the end of
  /// the query backoff. A pin-failed upstream is probed only at its backoff (a refused chain does
  /// not heal by itself). 0: no probes (recovery waits for the backoff and a query).
  std::chrono::milliseconds probe_interval{500};
  bool retry_once = true;
  /// Write all queries queued on a connection in one TLS write per poll (true), or one write per
  /// query (false: for measuring what coalescing is worth).
  bool coalesce = true;
  /// Queries are padded to a multiple of this (RFC 8467: 128); 0 sends them as the client wrote them.
  std::size_t pad_block = 128;
  /// Where the shard reports connection failures and report-mode mismatches (one line each, with
  /// the observed pins of a refused chain); empty: not logged. Failures are naturally rate-limited
  /// by the per-upstream backoff.
  std::function<void(std::string_view)> log;
  /// How often established connections are re-checked against their pins' windows and their
  /// path's validity (recheck_pins), and the wall clock it uses (default: the system clock).
  std::chrono::milliseconds pin_recheck_interval{1000};
  std::function<UnixTime()> wall_clock;
  /// How connections are opened (empty: UpstreamLink over the shard's reactor). Tests give
  /// scripted links. A factory that throws or returns null is counted as kLocalResources on the
  /// upstream, and the query is retried elsewhere or answered SERVFAIL (EDE 0).
  LinkFactory link_factory;
};

/// One upstream of the pool as the shard uses it. The pins and ctx must outlive the shard; the
/// ctx decides whether chains are also validated against a CA (make_client_context).
struct ShardUpstream {
  const UpstreamPins* pins = nullptr;
  const ClientContext* ctx = nullptr;
  /// Owns what @p pins points into, when the caller wants the shard to keep it alive (a published
  /// pin snapshot: connections of an old generation hold it until they close). May be null.
  std::shared_ptr<const void> keep;
};

/// Nothing the shard does after construction throws: submit() and poll() are noexcept. Its
/// buffers are sized when it (or a connection) is created, so the steady state does not allocate;
/// what still can fail for lack of memory (a new connection, a query longer than its slot's
/// buffer) becomes a refused submit or FailureReason::kLocalResources. The completion function
/// must not throw either.
class DotShard {
 public:
  using Clock = Link::Clock;
  enum class Outcome { kAnswer, kServfail };
  /// How a query ended: kAnswer with @p response (the upstream's answer with the client's ID), or
  /// kServfail with @p ede (why, for the client's SERVFAIL; @p response is empty). Both are valid
  /// only during the call.
  using CompletionFn =
      std::function<void(std::uint64_t cookie, Outcome outcome, std::span<const std::uint8_t> response, const dns::Ede& ede)>;

  DotShard(UringReactor& reactor, std::vector<ShardUpstream> upstreams, std::uint64_t pin_generation,
           ShardOptions options, CompletionFn on_complete);
  ~DotShard();

  /// Takes a client's query. False (nothing kept) when the shard is full (its bound, or no memory
  /// for the query's copy) or the query has no readable question: the caller answers SERVFAIL
  /// itself. Otherwise the query completes exactly once through the completion function, possibly
  /// within this call (no usable upstream).
  bool submit(std::uint64_t cookie, std::span<const std::uint8_t> query, Clock::time_point now) noexcept;

  /// One pass at @p now: runs I/O completions (waiting up to @p wait for one), handles failures
  /// and timeouts, and writes every connection's queued queries. Round trips are measured between
  /// the @p now of the pass that wrote a query and that of the pass that read its answer.
  /// Returns how many I/O completions it ran (0: the pass found no I/O done).
  unsigned poll(Clock::time_point now, std::chrono::microseconds wait = std::chrono::microseconds{0}) noexcept;
  /// poll() without running the reactor's completions: for an owner with several shards on one
  /// reactor (one per view), which polls the reactor once and then services each shard.
  void service(Clock::time_point now) noexcept;
  /// Before such an owner polls the reactor: the time its completions (answers) are measured at.
  void begin_pass(Clock::time_point now) noexcept { now_ = now; }

  [[nodiscard]] std::size_t pending() const noexcept { return pending_count_; }
  /// Upstreams of the current pin generation, in pin-table order (index for stats()).
  [[nodiscard]] std::size_t upstream_count() const noexcept { return active_.size(); }
  [[nodiscard]] const UpstreamStats& stats(std::size_t upstream) const;
  /// Round-trip times of answered queries (µs).
  [[nodiscard]] const LatencyHistogram& latency(std::size_t upstream) const;
  [[nodiscard]] const std::string& upstream_name(std::size_t upstream) const;
  [[nodiscard]] std::uint64_t generation() const noexcept { return generation_; }

  /// Moves to a new pin-set generation: @p upstreams in the new table's order (matched to the
  /// current ones by name; stats carry over). Connections whose authenticated chain no longer
  /// satisfies their upstream's new pins (checked at @p wall), that are still handshaking, whose
  /// address or name changed, or whose upstream is gone are drained: no new queries, queued ones
  /// move to new connections, written ones are answered, then they close. Sessions (tickets)
  /// of the old generation are never resumed. Returns how many connections started draining.
  std::size_t update_pins(std::vector<ShardUpstream> upstreams, std::uint64_t generation, Clock::time_point now,
                          UnixTime wall);
  /// Takes upstream @p name out of rotation (its connections drain) or puts it back. False if
  /// there is no such upstream.
  bool set_drained(std::string_view name, bool drained, Clock::time_point now);
  /// Judges every established connection's recorded path again at @p wall against its upstream's
  /// pins (poll() does this every pin_recheck_interval): a connection admitted by a pin whose
  /// window has closed, or through a certificate that has expired, drains. Returns how many.
  std::size_t recheck_pins(Clock::time_point now, UnixTime wall);

 private:
  struct Slot;
  struct Conn;
  struct Upstream;

  Upstream* choose_upstream(const Upstream* exclude, Clock::time_point now);
  bool still_admitted(const Upstream& u, const Conn& c, UnixTime wall) const;
  bool enqueue(std::uint32_t slot, Upstream* upstream, Clock::time_point now);
  void start_drain(Upstream& u, Conn& c, Clock::time_point now);
  void close_drained(Conn& c);
  Conn* usable_conn(Upstream& u, Clock::time_point now) noexcept;
  Conn* open_conn(Upstream& u, Clock::time_point now) noexcept;
  void retire_conn(Upstream& u, std::size_t i) noexcept;
  void on_response(Upstream& u, Conn& c, std::span<const std::uint8_t> msg);
  void handle_failed(Upstream& u, Conn& c, Clock::time_point now);
  void expire(Clock::time_point now);
  void fail_query(std::uint32_t slot, dns::EdeCode code, std::string_view why, Clock::time_point now, bool may_retry,
                  Upstream* failed_upstream);
  void complete_answer(std::uint32_t slot, std::span<const std::uint8_t> response);
  void complete_servfail(std::uint32_t slot, dns::EdeCode code, std::string_view why);
  void free_slot(std::uint32_t slot);
  void detach(Conn& c, std::uint32_t slot);

  UringReactor& reactor_;
  std::vector<std::unique_ptr<Upstream>> upstreams_;  // current and retired (draining) ones
  std::vector<Upstream*> active_;                     // the current generation's, in table order
  std::uint64_t generation_;
  ShardOptions options_;
  CompletionFn on_complete_;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::size_t pending_count_ = 0;
  std::size_t next_rr_ = 0;
  std::uint64_t picks_ = 0;
  std::vector<std::span<const std::uint8_t>> batch_;  // capacity: max_inflight_per_connection
  std::vector<std::uint8_t> answer_;  // the client's copy of an answer; capacity: 65535
  Clock::time_point now_{};  // of the poll in progress (answers are timed with it)
  Clock::time_point next_expiry_scan_{};
  Clock::time_point next_pin_recheck_{};
  std::mt19937 rng_{std::random_device{}()};
};

}  // namespace dotpin::tls
