// SPDX-License-Identifier: Apache-2.0
/// @file worker.h
/// @brief One worker lcore: its RX/TX queue pair, answer cache, in-flight table, io_uring and DoT
/// shard, and its counters — shared with no other lcore. The loop has one shape (DPDK l3fwd's):
/// rx_burst, prefetch, classify and parse the whole burst, look every query up, reply in place or
/// hand misses to the shard, poll the shard's io_uring (its answers join the TX buffer), one TX
/// flush. The hot path counts and frees; it does not block or abort, and it does not throw: the
/// shard's submit/poll are noexcept, buffers are sized up front, allocation failures become
/// counted failure reasons (local_resources). Should anything throw after all, run()'s last-resort
/// catch counts loop_aborted, logs once, drains and stops this lcore.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "dataplane/acl.h"
#include "dataplane/client_neighbors.h"
#include "dataplane/api.h"
#include "dataplane/answer_cache.h"
#include "dataplane/counters.h"
#include "dataplane/inflight_table.h"
#include "dataplane/lcore_mailbox.h"
#include "dataplane/pin_feed.h"
#include "dataplane/packet.h"
#include "dataplane/rate_limit.h"
#include "dataplane/stream_query.h"
#include "dataplane/view_map.h"
#include "tls/shard.h"

struct rte_mbuf;
struct rte_mempool;

namespace dotpin::dataplane {

/// One view (tenant) as a worker runs it: its ACL, cache partition and pinned pool.
struct WorkerView {
  const Acl* acl = nullptr;                ///< who of the view's clients may query
  CacheOptions cache;                      ///< its partition's size on this lcore
  std::uint32_t inflight = UINT32_MAX;     ///< its share of the in-flight table (with several views)
  tls::ShardOptions::Policy policy = tls::ShardOptions::Policy::kRoundRobin;  ///< how its pool picks
  std::vector<tls::ShardUpstream> upstreams;
  std::uint64_t pin_generation = 1;
  /// The feed's snapshot these upstreams come from (null without a feed): adopting the view's
  /// pins again is skipped while the feed still holds this one.
  const PinSnapshot* fed = nullptr;
  /// Builds its upstreams' connections when a new generation comes from the feed.
  const tls::ClientContext* tls_ctx = nullptr;
};

/// Everything a worker needs; the pointers must outlive it.
struct WorkerSetup {
  std::uint16_t port = 0;
  std::uint16_t queue = 0;
  rte_mempool* pool = nullptr;            ///< for replies to answers that arrive from upstream
  const LocalAddresses* local = nullptr;
  /// The views in match order (at least one); @p view_map picks one per client (null, or one view
  /// for everyone: view 0 without a lookup).
  std::vector<WorkerView> views;
  const ViewMap* view_map = nullptr;
  bool acl_refuse = true;                 ///< REFUSED to clients outside the ACL or every view (false: drop)
  bool verify_udp_checksum = true;
  std::uint16_t max_udp = 1232;           ///< our UDP payload limit (DNS flag day 2020)
  CacheLimits limits;
  RateLimitOptions ratelimit;             ///< per-client limits, [ratelimit] and the views' own (off unless some qps is set)
  std::size_t inflight = 4096;
  tls::ShardOptions shard;
  /// Where new pin generations come from (null: the views' pins for the worker's life). The worker
  /// is reader @p pin_reader of the feed.
  PinFeed* pins = nullptr;
  unsigned pin_reader = 0;
  /// The exception path (exception_port.h): TCP segments to our DNS ports go to queue @p queue of
  /// this port (the kernel's tap); what the kernel sends back on that queue goes out to clients,
  /// addressed through @p neighbors. -1: no exception path (such segments are dropped, tcp_port).
  int exception_port = -1;
  ClientNeighbors* neighbors = nullptr;
  /// The TCP service's queries for this lcore (null: none).
  StreamChannel* streams = nullptr;
};

class Worker {
 public:
  using Clock = tls::DotShard::Clock;
  static constexpr unsigned kBurst = 32;      ///< packets per rx_burst
  static constexpr unsigned kPrefetch = 4;    ///< packets prefetched ahead of the one parsed
  static constexpr unsigned kTxBuffer = 64;   ///< replies buffered before a tx_burst
  static constexpr std::chrono::milliseconds kPublishInterval{100};
  static constexpr std::chrono::microseconds kKernelPoll{20};  ///< how often the exception port is read

  explicit Worker(WorkerSetup setup);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  /// One loop pass; returns the number of packets received.
  unsigned run_once(Clock::time_point now);
  /// Loops until @p stop, then stops reading and gives queries in flight up to @p drain to be
  /// answered; what is left is counted as kShutdownUnanswered. An exception out of a pass (none is
  /// expected: the shard's submit and poll are noexcept) is the last resort: counted as
  /// kLoopAborted, logged once through the shard's log sink, and the lcore stops as if @p stop
  /// had been set. Returns false in that case.
  bool run(const std::atomic<bool>& stop, std::chrono::milliseconds drain);


  [[nodiscard]] const LcoreCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] std::size_t view_count() const noexcept { return views_.size(); }
  [[nodiscard]] const AnswerCache& cache(std::size_t view = 0) const noexcept { return views_[view]->cache; }
  /// For the owning thread only: warm-up by tests and benchmarks.
  [[nodiscard]] AnswerCache& cache(std::size_t view = 0) noexcept { return views_[view]->cache; }
  [[nodiscard]] const tls::DotShard& shard(std::size_t view = 0) const noexcept { return *views_[view]->shard; }
  [[nodiscard]] std::size_t inflight() const noexcept { return inflight_.size(); }
  /// Any thread: a copy of the last published stats (takes a lock the lcore only ever try-locks).
  [[nodiscard]] PublishedStats published() const;
  /// The owning thread: publish now (the loop does it every kPublishInterval, and at the end).
  void publish();
  /// Any thread: posts a command to this lcore (lcore_mailbox.h); run_once runs it.
  [[nodiscard]] LcoreMailbox& mailbox() noexcept { return mailbox_; }

  // The owning thread (worker_control.cc: the slow path of the lcore):
  /// Runs one command from the control plane (api.h) and returns its result.
  std::uint64_t execute(const LcoreCommand& command);
  /// Adopts a new pin generation if one was published (run_once does this every pass).
  void check_pins(Clock::time_point now);

 private:
  struct Pending;
  /// One view's state on this lcore.
  struct ViewState {
    explicit ViewState(const WorkerView& v) : acl(v.acl), cache(v.cache), fed(v.fed) {}
    const Acl* acl;
    AnswerCache cache;
    std::unique_ptr<tls::DotShard> shard;
    std::shared_ptr<const PinSnapshot> pins;  // the generation it runs once the feed changed it
    const PinSnapshot* fed;                   // the feed's snapshot it runs
    std::array<OwnedCounter, kViewCounters> counters;
    OwnedCounter& operator[](ViewCounter c) noexcept { return counters[static_cast<std::size_t>(c)]; }
  };
  /// The view of the client at @p client (IPv4 or IPv6 source) of the frame at @p frame.
  [[nodiscard]] std::uint16_t view_of(const std::uint8_t* frame, const PacketView& v, const std::uint8_t* client) const noexcept;
  /// A client in no view: REFUSED (acl.action = "refuse") or dropped, counted.
  void refuse_unmatched(rte_mbuf* m, const PacketView& v, const QueryInfo& q, bool answerable);
  /// Processes @p n received packets (run_once's middle).
  void process_burst(rte_mbuf** pkts, unsigned n, Clock::time_point now);
  /// Polls the shard and sends every buffered reply.
  void poll_and_flush(Clock::time_point now);
  void set_time(Clock::time_point now) noexcept;
  /// run()'s end: answers what it can within @p drain, counts the rest, publishes.
  void drain_and_publish(std::chrono::milliseconds drain) noexcept;
  void handle_miss(rte_mbuf* m, Pending& p, Clock::time_point now);
  /// The in-flight entry @p cookie (its key set) joins an identical query already upstream, or
  /// goes to the shard (@p query: the shard copies it). False when the shard is full (the entry is
  /// released, counted shard_full): the caller answers SERVFAIL.
  bool forward_or_join(std::uint64_t cookie, std::span<const std::uint8_t> query, Clock::time_point now);
  /// The counter of a query verdict that is not kOk (formerr, notimp, ..., drop_short).
  static Counter verdict_counter(QueryVerdict v) noexcept;
  /// The answer for a completed query's client at @p dns: the prepared answer, else @p stale
  /// (serve-stale, EDE 3); counted. 0 when neither is written (the caller sends SERVFAIL).
  std::uint16_t write_delivery(std::uint8_t* dns, std::size_t room, const QueryInfo& q, const std::uint8_t* qname,
                               bool answer, const StoredAnswer* stale, std::uint16_t vi) noexcept;
  /// The shard's completion: prepares (and caches) an answer, or takes the shard's reason for a
  /// SERVFAIL as it is, and delivers to the query and every client merged into it.
  void on_complete(std::uint64_t cookie, tls::DotShard::Outcome outcome, std::span<const std::uint8_t> response,
                   const dns::Ede& ede);
  /// Sends one waiting client its answer (the prepared one) or SERVFAIL with @p ede, counted as
  /// @p servfail, and frees its entry.
  /// Answers one client of a completed query: the answer, else @p stale (served stale, EDE 3),
  /// else SERVFAIL with @p ede.
  void deliver(std::uint64_t cookie, bool answer, const dns::Ede& ede, Counter servfail = Counter::kUpstreamServfails,
               const StoredAnswer* stale = nullptr);
  void reply_in_place(rte_mbuf* m, const PacketView& v, std::uint16_t dns_len);
  /// reply_in_place() for a reply that may be an error response (any RCODE but NOERROR): subject
  /// to the error-response limit of its client (the query's source, in view @p rl_view), dropped
  /// or slipped (TC=1).
  void reply_checked(rte_mbuf* m, const PacketView& v, std::uint16_t dns_len, std::uint16_t question_end,
                     std::uint8_t rl_view);
  /// The error-response limit for @p client (in view @p rl_view; kUnmatchedView: none): false when
  /// the response at @p dns must not be sent; a slipped one is cut to its header and question
  /// (ending at @p question_end; 0: none) with TC=1 (@p len updated).
  bool error_response_allowed(std::uint8_t* dns, std::uint16_t& len, const std::uint8_t* client, bool ipv6,
                              std::uint16_t question_end, std::uint8_t rl_view) noexcept;
  void tx(rte_mbuf* m);
  void flush();
  // The exception path and TCP queries (worker_stream.cc).
  /// Hands a TCP segment to the kernel (buffered: one tx_burst per pass), learning the way back
  /// to its client.
  void to_kernel(rte_mbuf* m, const PacketView& v);
  void flush_kernel();
  /// Sends what the kernel wrote to this lcore's exception queue out to the clients; returns how
  /// many frames it read.
  unsigned poll_kernel();
  /// Answers (or forwards) the TCP service's queries.
  void poll_streams(Clock::time_point now);
  void handle_stream(StreamQuery* s, Clock::time_point now);
  /// Returns @p s (answered with @p len bytes, 0: none) to the service.
  void finish_stream(StreamQuery* s, std::uint32_t len);
  /// deliver() for a TCP query.
  void deliver_stream(InflightEntry& e, bool answer, const dns::Ede& ede, Counter servfail, const StoredAnswer* stale);

  WorkerSetup setup_;
  LcoreCounters counters_;
  InflightTable inflight_;
  tls::UringReactor reactor_;
  std::vector<std::unique_ptr<ViewState>> views_;
  bool one_view_ = true;       // one view for everyone: no lookup per packet
  std::uint64_t pin_epoch_ = 0;  // the feed's epoch this lcore last looked at
  LcoreMailbox mailbox_;
  PreparedAnswer prepared_;  // reused: answers from upstream are prepared here
  // Identical misses in flight are merged: the key's slot names the query that went upstream
  // (direct-mapped, 2x the in-flight capacity; a collision only means no merge).
  std::vector<std::uint64_t> leaders_;
  std::uint64_t leader_mask_ = 0;
  Clock::time_point start_;
  std::uint32_t now_s_ = 0;
  std::uint64_t now_ns_ = 0;  // the rate limiter's clock: ns since start_
  RateLimiter limiter_;
  unsigned tx_count_ = 0;
  rte_mbuf* tx_[kTxBuffer];
  unsigned kernel_tx_count_ = 0;
  rte_mbuf* kernel_tx_[kBurst];    // segments for the exception port, sent at the pass's flush
  bool streams_answered_ = false;  // this pass returned answers to the TCP service (wake it)
  bool worked_ = false;            // this pass sent, completed or took in something (LoopCycles)
  std::unique_ptr<Pending[]> pending_;  // per packet of the burst being processed
  RateLimiter::Ref limit_[kBurst];      // per packet: its client's rate-limit entry (when its view has a query limit)
  // Stats for other threads. The lcore only try_locks: a reader holding the lock delays a
  // publication by one interval, never the lcore.
  mutable std::mutex published_mu_;
  PublishedStats published_;
  Clock::time_point next_publish_{};
  Clock::time_point next_kernel_poll_{};
};

}  // namespace dotpin::dataplane
