// SPDX-License-Identifier: Apache-2.0
// dotpinctl probe HOST:PORT --name AUTH_NAME --pin BASE64 [--pin ...] [--ca FILE] QNAME [TYPE]
// One query through the DoT engine itself (io_uring reactor, upstream link, pinned connection):
// what an operator runs to test a pin set before deploying it.
#include <charconv>
#include <random>

#include <nlohmann/json.hpp>

#include "common/dns_wire.h"
#include "control/command.h"
#include "pinning/pin_file.h"
#include "tls/upstream_link.h"

namespace dotpin::ctl {
namespace {

bool is_authentication_failure(tls::FailureReason r) {
  using tls::FailureReason;
  return r == FailureReason::kPinMismatch || r == FailureReason::kNoPinInWindow || r == FailureReason::kBadChain ||
         r == FailureReason::kNameMismatch || r == FailureReason::kUnknownCa || r == FailureReason::kExpired;
}

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
  auto ctx = tls::make_client_ctx(ca);
  if (!ctx) return failed(ctx.error());

  std::random_device rd;
  dns::QueryOptions qo;
  qo.id = static_cast<std::uint16_t>(rd());
  auto query = dns::build_query(qname, qtype, qo);
  if (!query) return failed(query.error());

  using Clock = tls::UpstreamLink::Clock;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::milliseconds(static_cast<long>(seconds * 1000));
  tls::UringReactor reactor(64);
  tls::UpstreamLink link(reactor, ctx->get(), up, 1, !ca.empty(), nullptr);
  std::vector<std::uint8_t> answer;
  link.on_message([&](std::span<const std::uint8_t> m) {
    const auto h = dns::read_header(m);
    if (h && h->qr && h->id == qo.id && answer.empty()) answer.assign(m.begin(), m.end());
  });
  bool sent = false;
  Clock::time_point sent_at{};
  link.start(deadline);
  while (answer.empty() && link.state() != tls::UpstreamLink::State::kFailed && Clock::now() < deadline) {
    reactor.poll(std::chrono::milliseconds(2));
    link.tick(Clock::now());
    if (link.ready() && !sent) {
      const std::span<const std::uint8_t> batch[] = {*query};
      sent = link.send(batch);
      sent_at = Clock::now();
    }
  }
  const tls::DotConnection& conn = link.connection();
  const PinVerdict& v = conn.verdict();
  auto observed_json = [&] {
    nlohmann::json arr = nlohmann::json::array();
    for (std::size_t k = 0; k < v.observed_count; ++k)
      arr.push_back(v.observed[k].parsed ? pin_base64(v.observed[k].digest) : std::string("unparsable"));
    return arr;
  };
  if (answer.empty()) {
    tls::FailureReason reason = link.failure();
    if (reason == tls::FailureReason::kNone) reason = tls::FailureReason::kHandshakeTimeout;
    const std::string what = link.state() == tls::UpstreamLink::State::kFailed
                                 ? std::string(tls::to_string(reason))
                                 : sent ? "query timed out" : "handshake timed out";
    const int code = is_authentication_failure(reason) ? kExitPinRefused : kExitFailure;
    if (inv.json) {
      inv.out << nlohmann::json{{"ok", false}, {"upstream", server->to_string()}, {"reason", what},
                                {"observed_pins", observed_json()}}
                     .dump(2)
              << "\n";
    } else {
      inv.err << "dotpinctl: probe: " << server->to_string()
              << (is_authentication_failure(reason) ? ": upstream refused by the pin check: " : ": failed: ") << what
              << "\n";
      for (std::size_t k = 0; k < v.observed_count; ++k)
        inv.err << "  observed [" << k << "] "
                << (v.observed[k].parsed ? "pin-sha256=\"" + pin_base64(v.observed[k].digest) + "\"" : "unparsable")
                << "\n";
      if (is_authentication_failure(reason)) inv.err << "  no query was sent\n";
    }
    return code;
  }
  const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - sent_at).count();
  auto text = dns::format_message(answer);
  const std::string matched =
      v.matched() ? up.pins[static_cast<std::size_t>(v.matched_pin)].label + " on element [" +
                        std::to_string(v.matched_element) + "]"
                  : std::string("none");
  if (inv.json) {
    const auto h = dns::read_header(answer);
    inv.out << nlohmann::json{{"ok", true},
                              {"upstream", server->to_string()},
                              {"protocol", conn.protocol()},
                              {"matched_pin", matched},
                              {"rcode", dns::rcode_to_string(h->rcode)},
                              {"answer_count", h->ancount},
                              {"answer", text ? *text : text.error()},
                              {"rtt_us", elapsed}}
                   .dump(2)
            << "\n";
    return kExitOk;
  }
  inv.out << ";; DoT session (" << conn.protocol() << "), pinned: " << matched
          << (ca.empty() ? "" : ", PKIX ok") << (up.auth_name.empty() ? "" : ", name " + up.auth_name) << "\n";
  inv.out << (text ? *text : ";; malformed answer: " + text.error() + "\n");
  inv.out << "\n;; Received " << answer.size() << " B from " << server->to_string() << " (DoT) in "
          << elapsed / 1000.0 << " ms\n";
  return kExitOk;
}

}  // namespace dotpin::ctl
