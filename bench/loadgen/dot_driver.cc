// SPDX-License-Identifier: Apache-2.0
#include "bench/loadgen/dot_driver.h"

#include <array>
#include <memory>
#include <vector>

#include "common/dns_wire.h"
#include "tls/dot_connection.h"
#include "tls/upstream_link.h"

namespace dotpin::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Lane {
  std::unique_ptr<tls::UpstreamLink> link;
  std::vector<Clock::time_point> sent_at = std::vector<Clock::time_point>(65536);
  std::vector<std::uint8_t> in_flight = std::vector<std::uint8_t>(65536, 0);
  std::uint16_t next_id = 0;
  std::size_t outstanding = 0;
  std::uint64_t answered_here = 0;  // on this connection
  bool counted = false;
  Clock::time_point retry_at{};
};

}  // namespace

Result<RunStats> run_dot(const DotOptions& o, QueryMix& mix, const std::function<void(const RunStats&, double)>& progress) {
  auto ctx = tls::make_client_ctx("");
  if (!ctx) return Error{ctx.error()};
  tls::UringReactor reactor(1024);
  tls::TicketCache tickets;
  RunStats st;
  st.mode = "dot";
  st.target = o.server.address.to_string();
  std::vector<Lane> lanes(o.connections);
  std::vector<std::uint8_t> buf;
  std::vector<std::vector<std::uint8_t>> batch_bytes;
  std::vector<std::span<const std::uint8_t>> batch;

  auto open = [&](Lane& l, Clock::time_point now) {
    l.link = std::make_unique<tls::UpstreamLink>(reactor, *ctx, o.server, 1, o.resume ? &tickets : nullptr);
    l.outstanding = 0;
    l.answered_here = 0;
    l.counted = false;
    Lane* lp = &l;
    l.link->on_message([&st, lp](std::span<const std::uint8_t> m) {
      const auto h = dns::read_header(m);
      if (!h || !lp->in_flight[h->id]) {
        ++st.unmatched;
        return;
      }
      lp->in_flight[h->id] = 0;
      --lp->outstanding;
      ++lp->answered_here;
      ++st.answered;
      ++st.rcodes[h->rcode & 15];
      st.latency_ns.record(static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - lp->sent_at[h->id]).count()));
    });
    l.link->start(now + o.handshake_timeout);
  };

  const auto start = Clock::now();
  const double cpu0 = process_cpu_seconds();
  const auto send_until = start + o.duration;
  auto next_progress = start + std::chrono::seconds(1);
  for (auto& l : lanes) open(l, start);
  double credit = 0;  // open loop: queries we may send now
  auto last_credit = start;
  bool sending = true;
  Clock::time_point stop_at = send_until + o.answer_wait;
  for (;;) {
    const auto now = Clock::now();
    if (sending && (now >= send_until || (o.max_queries && st.sent >= o.max_queries))) {
      sending = false;
      stop_at = now + o.answer_wait;
    }
    std::uint64_t outstanding = 0;
    for (auto& l : lanes) outstanding += l.outstanding;
    if (!sending && (outstanding == 0 || now >= stop_at)) break;
    if (o.rate > 0) {
      credit = std::min(credit + o.rate * std::chrono::duration<double>(now - last_credit).count(), o.rate * 0.01 + 1);
      last_credit = now;
    }
    for (auto& l : lanes) {
      l.link->tick(now);
      const auto state = l.link->state();
      if (state == tls::UpstreamLink::State::kFailed || state == tls::UpstreamLink::State::kClosed) {
        if (state == tls::UpstreamLink::State::kFailed) {
          const auto reason = l.link->failure();
          // A refused chain is not load to retry: the server is not the one the pins name.
          if (tls::is_authentication_failure(reason))
            return fail("the server's chain matches none of the given pins (", std::string(tls::to_string(reason)), ")");
          ++st.connect_failures;
          l.retry_at = now + std::chrono::milliseconds(10);  // no reconnect storm against a dead server
          // Queries it held are lost (counted by sent - answered); its IDs go with it.
          std::fill(l.in_flight.begin(), l.in_flight.end(), 0);
        }
        if (l.link->busy() || now < l.retry_at) continue;  // its I/O drains first; then a short pause
        if (sending) open(l, now);
        else l.outstanding = 0;
        continue;
      }
      if (!l.link->ready()) continue;
      if (!l.counted) {
        l.counted = true;
        ++st.handshakes;
        if (l.link->connection().resumed()) ++st.resumptions;
        if (!l.link->connection().verdict().matched() && !l.link->connection().resumed())
          return fail("the server's chain matches none of the given pins (", std::string(to_string(l.link->connection().verdict().code)), ")");
      }
      if (o.queries_per_connection && l.answered_here >= o.queries_per_connection && l.outstanding == 0) {
        l.link->close_gracefully();
        continue;
      }
      if (!sending) continue;
      batch_bytes.clear();
      while (l.outstanding < o.pipeline && (o.rate <= 0 || credit >= 1) &&
             (!o.max_queries || st.sent < o.max_queries) &&
             (!o.queries_per_connection || l.answered_here + l.outstanding < o.queries_per_connection)) {
        if (l.in_flight[l.next_id]) break;  // 65536 in flight: wait
        const auto& q = mix.wire()[mix.next()];
        batch_bytes.emplace_back(q);
        batch_bytes.back()[0] = static_cast<std::uint8_t>(l.next_id >> 8);
        batch_bytes.back()[1] = static_cast<std::uint8_t>(l.next_id);
        l.in_flight[l.next_id] = 1;
        l.sent_at[l.next_id] = now;
        ++l.next_id;
        ++l.outstanding;
        ++st.sent;
        if (o.rate > 0) credit -= 1;
      }
      if (!batch_bytes.empty()) {
        batch.assign(batch_bytes.begin(), batch_bytes.end());
        l.link->send(batch);  // one TLS write for the batch
      }
    }
    reactor.poll(std::chrono::microseconds(o.rate > 0 ? 100 : 0));
    if (progress && now >= next_progress) {
      progress(st, std::chrono::duration<double>(now - start).count());
      next_progress += std::chrono::seconds(1);
    }
  }
  st.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& l : lanes) l.link->close();
  lanes.clear();  // links drain their I/O
  st.cpu_seconds = process_cpu_seconds() - cpu0;
  return st;
}

}  // namespace dotpin::bench
