// SPDX-License-Identifier: Apache-2.0
// dotpinctl probe HOST:PORT --name AUTH_NAME --pin BASE64 [--pin ...] [--ca FILE] QNAME [TYPE]
// One query (or --count N, pipelined) through the DoT engine itself: the shard, its io_uring
// reactor and pinned connections. What an operator runs to test a pin set before deploying it.
#include <charconv>
#include <random>

#include <nlohmann/json.hpp>

#include "common/dns_wire.h"
#include "control/command.h"
#include "control/verdict_text.h"
#include "pinning/pin_file.h"
#include "tls/shard.h"
#include <algorithm>

namespace dotpin::ctl {
namespace {

}  // namespace

int run_probe(Invocation& inv) {
  auto failed = [&](const std::string& msg) { return report_error(inv, "probe", msg); };
  auto server = parse_endpoint(inv.args[0], kDotPort, /*allow_names=*/false);
  if (!server) return failed(server.error());
  const std::string qname = inv.args[1];
  std::uint16_t qtype = dns::kTypeA;
  if (inv.args.size() > 2) {
    const auto t = dns::type_from_string(inv.args[2]);
    if (!t) return failed("unknown record type '" + inv.args[2] + "'");
    qtype = *t;
  }
  UpstreamPins up;
  up.name = "probe";
  up.address = *server;
  up.auth_name = inv.value("name").value_or("");
  int i = 0;
  for (const std::string& text : inv.values("pin")) {
    std::string why;
    const auto digest = parse_pin_base64(text, &why);
    if (!digest) return failed("--pin '" + text + "': " + why);
    Pin p;
    p.digest = *digest;
    p.label = "pin" + std::to_string(++i);
    up.pins.push_back(p);
  }
  if (up.pins.empty()) return failed("at least one --pin is needed: probe never connects unpinned");
  double seconds = 5;
  if (auto t = inv.value("timeout")) {
    const auto [end, ec] = std::from_chars(t->data(), t->data() + t->size(), seconds);
    if (ec != std::errc{} || end != t->data() + t->size() || seconds <= 0 || seconds > 300)
      return failed("--timeout must be a number of seconds in (0, 300]");
  }
  const std::string ca = inv.value("ca").value_or("");
  if (!ca.empty() && up.auth_name.empty())
    return failed("--ca needs --name: PKIX without a name would accept any certificate the CA issued");
  tls::ClientPolicy policy{ca, tls::TlsFloor::kTls12};
  if (auto v = inv.value("tls-min")) {
    const auto floor = tls::tls_floor_from_string(*v);
    if (!floor) return failed("--tls-min must be 1.2 or 1.3");
    policy.min_version = *floor;
  }
  if (!read_suite_order(inv, policy.suite_order)) return failed(std::string(kSuiteOrderUsage));
  auto ctx = tls::make_client_context(policy);
  if (!ctx) return failed(ctx.error());

  std::random_device rd;
  dns::QueryOptions qo;
  qo.id = static_cast<std::uint16_t>(rd());
  auto query = dns::build_query(qname, qtype, qo);
  if (!query) return failed(query.error());

  std::uint64_t count = 1;
  if (auto c = inv.value("count")) {
    const auto [end, ec] = std::from_chars(c->data(), c->data() + c->size(), count);
    if (ec != std::errc{} || end != c->data() + c->size() || count == 0 || count > 10000000)
      return failed("--count must be a whole number from 1 to 10000000");
  }
  const bool load = inv.has("count");

  // The same engine the resolver runs: a shard over an io_uring reactor.
  using Clock = tls::DotShard::Clock;
  tls::UringReactor reactor(256);
  tls::ShardOptions so;
  so.query_timeout = std::chrono::milliseconds(static_cast<long>(seconds * 1000));
  so.handshake_timeout = so.query_timeout;
  so.max_inflight_per_connection = 4096;
  std::vector<std::uint8_t> answer;
  std::uint64_t answered = 0, servfails = 0, done = 0;
  // At most `window` queries are outstanding and cookies are consecutive: a ring of send times.
  const std::uint64_t window = load ? 256 : 1;
  std::vector<Clock::time_point> sent_at(window);
  std::vector<double> rtt_ms;
  tls::DotShard shard(reactor, {{&up, &*ctx}}, 1, so,
                      [&](std::uint64_t cookie, tls::DotShard::Outcome out, std::span<const std::uint8_t> r, const dns::Ede&) {
                        ++done;
                        if (out == tls::DotShard::Outcome::kAnswer) {
                          ++answered;
                          if (answer.empty()) answer.assign(r.begin(), r.end());
                          rtt_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent_at[cookie % window]).count());
                        } else {
                          ++servfails;
                        }
                      });
  std::uint64_t submitted = 0;
  const auto start = Clock::now();
  // Bounded: every query completes by its own timeout, so the loop ends by itself.
  const auto hard_stop = start + std::chrono::milliseconds(static_cast<long>(seconds * 1000)) * (1 + count / window) +
                         std::chrono::seconds(5);
  while (done < count && Clock::now() < hard_stop) {
    while (submitted < count && submitted - done < window) {
      sent_at[submitted % window] = Clock::now();
      if (!shard.submit(submitted, *query, sent_at[submitted % window])) return failed("the engine refused the query");
      ++submitted;
    }
    shard.poll(Clock::now(), std::chrono::milliseconds(1));
  }
  const double elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
  const tls::UpstreamStats& st = shard.stats(0);
  tls::FailureReason failure = tls::FailureReason::kNone;
  for (std::size_t r = 0; r < st.failures.size(); ++r)
    if (st.failures[r] > 0) failure = static_cast<tls::FailureReason>(r);
  std::string reason = failure == tls::FailureReason::kNone ? "" : std::string(tls::to_string(failure));
  if (reason.empty() && st.timeouts > 0) reason = "timeout";
  const PinVerdict& v = st.last_refusal;
  const bool refused = tls::is_authentication_failure(failure);
  auto observed_json = [&] { return observed_pins_json(v); };

  if (load) {
    std::sort(rtt_ms.begin(), rtt_ms.end());
    auto pct = [&](double p) { return rtt_ms.empty() ? 0.0 : rtt_ms[static_cast<std::size_t>(p * (rtt_ms.size() - 1))]; };
    const int code = servfails == 0 && done == count ? kExitOk : refused ? kExitPinRefused : kExitFailure;
    nlohmann::json failures = nlohmann::json::object();
    for (std::size_t r = 0; r < st.failures.size(); ++r)
      if (st.failures[r] > 0) failures[std::string(tls::to_string(static_cast<tls::FailureReason>(r)))] = st.failures[r];
    if (inv.json) {
      inv.out << nlohmann::json{{"ok", code == kExitOk}, {"upstream", server->to_string()}, {"sent", submitted},
                                {"completed", done}, {"answered", answered}, {"servfail", servfails},
                                {"timeouts", st.timeouts}, {"seconds", elapsed_s}, {"qps", done / elapsed_s},
                                {"p50_ms", pct(0.5)}, {"p99_ms", pct(0.99)}, {"connections", st.connections},
                                {"failures", failures}, {"observed_pins", observed_json()}}
                     .dump(2)
              << "\n";
    } else {
      inv.out << "sent " << submitted << ", answered " << answered << ", SERVFAIL " << servfails << " in "
              << elapsed_s << " s (" << static_cast<long>(done / elapsed_s) << " q/s); rtt p50 " << pct(0.5)
              << " ms, p99 " << pct(0.99) << " ms; connections " << st.connections << "\n";
      if (!failures.empty()) inv.out << "failures: " << failures.dump() << "\n";
    }
    return code;
  }

  if (answered == 0) {
    const std::string what = reason.empty() ? "no answer" : reason;
    const int code = refused ? kExitPinRefused : kExitFailure;
    if (inv.json) {
      inv.out << nlohmann::json{{"ok", false}, {"upstream", server->to_string()}, {"reason", what},
                                {"observed_pins", observed_json()}, {"chain", observed_chain_json(v)}}
                     .dump(2)
              << "\n";
    } else {
      inv.err << "dotpinctl: probe: " << server->to_string()
              << (refused ? ": upstream refused by the pin check: " : ": failed: ") << what << "\n";
      for (std::size_t k = 0; k < v.observed_count; ++k) inv.err << "  observed [" << k << "] " << describe_observed(v, k) << "\n";
      if (refused) inv.err << "  no query was sent\n";
    }
    return code;
  }
  auto text = dns::format_message(answer);
  const PinVerdict& ok = st.last_accepted;
  const std::string matched = ok.matched() ? up.pins[static_cast<std::size_t>(ok.matched_pin)].label + " " + matched_where(ok)
                                           : "none (report mode)";
  if (inv.json) {
    const auto h = dns::read_header(answer);
    inv.out << nlohmann::json{{"ok", true},
                              {"upstream", server->to_string()},
                              {"matched_pin", matched},
                              {"rcode", dns::rcode_to_string(h->rcode)},
                              {"answer_count", h->ancount},
                              {"answer", text ? *text : text.error()},
                              {"rtt_ms", rtt_ms.front()}}
                   .dump(2)
            << "\n";
    return kExitOk;
  }
  inv.out << ";; DoT upstream " << server->to_string() << ", pinned: " << matched << (ca.empty() ? "" : ", PKIX ok")
          << (up.auth_name.empty() ? "" : ", name " + up.auth_name) << "\n";
  inv.out << (text ? *text : ";; malformed answer: " + text.error() + "\n");
  inv.out << "\n;; Received " << answer.size() << " B in " << rtt_ms.front() << " ms\n";
  return kExitOk;
}

}  // namespace dotpin::ctl
