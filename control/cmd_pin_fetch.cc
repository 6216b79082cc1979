// SPDX-License-Identifier: Apache-2.0
// dotpinctl pin fetch HOST:PORT --name AUTH_NAME [--ca FILE]
#include <charconv>
#include <optional>
#include <sstream>

#include "control/cert_view.h"
#include "control/command.h"
#include "pinning/pin_file.h"
#include "control/verdict_text.h"
#include "pinning/authenticate.h"
#include "pinning/verifier.h"
#include "tls/chain_fetch.h"

namespace dotpin::ctl {
namespace {

std::string upstream_name_from(std::string_view auth_name, const Endpoint& ep) {
  std::string base(auth_name.empty() ? ep.host : auth_name);
  std::string out;
  for (const char c : base) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    out += ok ? c : '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.substr(0, 63).empty() ? std::string("upstream") : out.substr(0, 63);
}

/// The pin-file snippet: the leaf key as primary; a backup to fill in (a spare key, or the
/// issuing CA as a weaker alternative).
std::string snippet(const std::string& name, const std::string& address, const std::string& auth_name,
                    const PinDigest& leaf, const PinDigest* issuer) {
  std::ostringstream s;
  s << "[[upstream]]\n"
    << "name = \"" << name << "\"\n"
    << "address = \"" << address << "\"\n";
  if (!auth_name.empty()) s << "auth_name = \"" << auth_name << "\"\n";
  s << "mode = \"enforce\"\n\n"
    << "[[upstream.pin]]\n"
    << "label = \"primary\"\n"
    << "sha256 = \"" << pin_base64(leaf) << "\"\n\n"
    << "# Add a backup pin before deploying (RFC 7469 section 4.3): the pin of a spare key kept offline,\n"
    << "#   openssl pkey -in spare.key -pubout | dotpinctl pin compute -\n"
    << "# [[upstream.pin]]\n"
    << "# label = \"backup\"\n"
    << "# sha256 = \"<pin of the spare key>\"\n";
  if (issuer) {
    s << "# or, weaker (accepts any key that CA certifies), the issuing CA's key:\n"
      << "# sha256 = \"" << pin_base64(*issuer) << "\"\n";
  }
  return s.str();
}

/// The result of `--check`: the verdict of the pin set of one upstream of a pin file.
struct CheckResult {
  const UpstreamPins* upstream = nullptr;
  PinVerdict verdict;
};

Result<CheckResult> check_against(const PinTable& table, const Invocation& inv, const std::string& peer,
                                  const std::vector<std::vector<std::uint8_t>>& ders, UnixTime now,
                                  std::span<const CertView> anchors) {
  CheckResult r;
  if (auto name = inv.value("upstream")) {
    r.upstream = table.find(*name);
    if (!r.upstream) return fail("--check: no upstream '", *name, "' in ", table.source);
  } else {
    for (const auto& u : table.upstreams)
      if (u.address.to_string() == peer) r.upstream = &u;
    if (!r.upstream && table.upstreams.size() == 1) r.upstream = &table.upstreams.front();
    if (!r.upstream) return fail("--check: no upstream with address ", peer, " in ", table.source, "; name one with --upstream");
  }
  std::vector<DerBytes> chain(ders.begin(), ders.end());
  // Exactly the resolver's decision (pinning/authenticate.h), with the --ca anchors in CA mode.
  r.verdict = authenticate_chain(chain, *r.upstream, now, anchors);
  return r;
}

}  // namespace

int run_pin_fetch(Invocation& inv) {
  auto fail_with = [&](const std::string& msg) { return report_error(inv, "pin fetch", msg); };
  auto server = parse_endpoint(inv.args[0], kDotPort, /*allow_names=*/true);
  if (!server) return fail_with(server.error());
  tls::FetchOptions opts;
  opts.server = *server;
  opts.sni = inv.value("name").value_or("");
  opts.ca_file = inv.value("ca").value_or("");
  if (auto t = inv.value("timeout")) {
    double seconds = 0;
    const auto [end, ec] = std::from_chars(t->data(), t->data() + t->size(), seconds);
    if (ec != std::errc{} || end != t->data() + t->size() || seconds <= 0 || seconds > 300)
      return fail_with("--timeout must be a number of seconds in (0, 300]");
    opts.timeout = std::chrono::milliseconds(static_cast<long>(seconds * 1000));
  }
  if (!read_suite_order(inv, opts.suite_order)) return fail_with(std::string(kSuiteOrderUsage));
  if (opts.sni.empty() && server->family == 0) opts.sni = server->host;

  // Load the pin file before connecting, so that a bad file is reported without network traffic.
  std::optional<PinTable> check_table;
  if (auto path = inv.value("check")) {
    PinFileResult parsed = load_pin_file(*path);
    if (!parsed.table) {
      std::string msg = "--check: " + std::to_string(parsed.errors.size()) + " error(s) in the pin file";
      for (const auto& d : parsed.errors) msg += "\n  " + d.to_string();
      return fail_with(msg);
    }
    check_table = std::move(parsed.table);
  } else if (inv.has("upstream")) {
    return fail_with("--upstream goes with --check");
  }

  std::optional<tls::ClientContext> trust;
  if (!opts.ca_file.empty()) {
    auto t = tls::make_client_ctx(opts.ca_file);
    if (!t) return fail_with(t.error());
    trust = std::move(*t);
  }
  auto fetched = tls::fetch_chain(opts);
  if (!fetched) return fail_with(fetched.error());

  const UnixTime now = now_utc();
  std::optional<CheckResult> check;
  if (check_table) {
    auto c = check_against(*check_table, inv, fetched->peer, fetched->chain, now,
                           trust ? trust->anchors() : std::span<const CertView>{});
    if (!c) return fail_with(c.error());
    check = *c;
  }
  std::vector<Result<Certificate>> certs;
  for (const auto& der : fetched->chain) certs.push_back(parse_certificate(der));
  if (!certs[0]) return fail_with("leaf certificate: " + certs[0].error());

  // Which presented certificates are on the verified path from the leaf: only those can be pinned.
  std::vector<DerBytes> spans(fetched->chain.begin(), fetched->chain.end());
  const PinVerdict path = verify_chain(spans, std::span<const Pin>{}, now,
                                       trust ? trust->anchors() : std::span<const CertView>{});
  std::vector<KeyView> views;
  const PinDigest* issuer_pin = nullptr;
  std::size_t issuer_index = 0;
  for (std::size_t i = 0; i < certs.size(); ++i) {
    if (!certs[i]) continue;
    KeyView v;
    const std::string role = i == 0 ? "leaf" : certs[i]->self_issued ? "root" : "CA";
    v.heading = "  [" + std::to_string(i) + "] " + role;
    if (i < path.presented && !path.observed[i].on_path)
      v.heading += " - NOT ON THE PATH (" + std::string(to_string(path.observed[i].off_path)) +
                   "): a pin on it would never match";
    v.cert = &*certs[i];
    v.key = key_description(certs[i]->key_type, certs[i]->key_bits);
    v.pin = spki_sha256(certs[i]->spki);
    views.push_back(v);
  }
  for (std::size_t k = 0; k < views.size(); ++k) {
    for (std::size_t i = 0; i < path.presented; ++i)
      if (path.observed[i].on_path && path.observed[i].position == 1 && views[k].pin == path.observed[i].digest) {
        issuer_pin = &views[k].pin;
        issuer_index = i;
      }
  }
  // A host name given on the command line is replaced by the address actually used: pin files
  // name upstreams by address so that reaching them never depends on DNS.
  const std::string name = inv.value("upstream-name").value_or(upstream_name_from(opts.sni, *server));
  const std::string text = snippet(name, fetched->peer, opts.sni, views[0].pin, issuer_pin);

  if (inv.json) {
    nlohmann::json chain = nlohmann::json::array();
    for (std::size_t i = 0; i < views.size(); ++i) {
      auto j = to_json(views[i], now);
      j["index"] = i;
      for (std::size_t e = 0; e < path.presented; ++e)
        if (path.observed[e].parsed && path.observed[e].digest == views[i].pin) j["on_path"] = path.observed[e].on_path;
      chain.push_back(std::move(j));
    }
    nlohmann::json pkix = {{"checked", fetched->pkix_checked}};
    if (fetched->pkix_checked) {
      pkix["ok"] = fetched->pkix_ok;
      if (!fetched->pkix_ok) pkix["error"] = fetched->pkix_error;
    }
    nlohmann::json check_json = nullptr;
    if (check) {
      const PinVerdict& v = check->verdict;
      check_json = {{"upstream", check->upstream->name},
                    {"mode", std::string(to_string(check->upstream->mode))},
                    {"verdict", std::string(to_string(v.code))},
                    {"admitted", admits(check->upstream->mode, v)}};
      if (v.matched()) {
        check_json["matched_pin"] = check->upstream->pins[static_cast<std::size_t>(v.matched_pin)].label;
        check_json["matched_element"] = v.matched_element;
      }
      check_json["chain"] = observed_chain_json(v);
    }
    inv.out << nlohmann::json{{"ok", true},
                              {"check", check_json},
                              {"peer", fetched->peer},
                              {"sni", opts.sni},
                              {"protocol", fetched->protocol},
                              {"cipher", fetched->cipher},
                              {"pkix", pkix},
                              {"chain", chain},
                              {"recommended_pin", pin_base64(views[0].pin)},
                              {"snippet", text}}
                   .dump(2)
            << "\n";
    return check && !admits(check->upstream->mode, check->verdict) ? kExitPinRefused : kExitOk;
  }
  auto& o = inv.out;
  o << "Connected to " << fetched->peer << " (" << fetched->protocol << ", " << fetched->cipher << ")"
    << (opts.sni.empty() ? std::string(", no SNI") : ", SNI " + opts.sni) << "\n";
  if (!fetched->pkix_checked) {
    o << "PKIX: not checked (no --ca); the pins below are only as good as the path you fetched them over\n";
  } else if (fetched->pkix_ok) {
    o << "PKIX: chain and name valid against " << opts.ca_file << "\n";
  } else {
    o << "PKIX: FAILED against " << opts.ca_file << ": " << fetched->pkix_error << "\n";
  }
  o << "\nPresented chain (" << fetched->chain.size() << " certificates, leaf first):\n";
  for (const KeyView& v : views) print_text(o, v, now, false);
  for (std::size_t i = 0; i < certs.size(); ++i)
    if (!certs[i]) o << "  [" << i << "] unparsable: " << certs[i].error() << "\n";
  o << "\nWhich key to pin:\n"
       "  leaf [0]       tightest: only this server key is accepted. Rotating the key needs the new\n"
       "                 key's pin deployed first, so keep a backup pin for a spare key.\n";
  if (issuer_pin) {
    o << "  issuing CA [" << issuer_index << "] survives leaf key rotations, but accepts any certificate that CA issues\n"
         "                 (for any name): weaker, and it changes when the CA rotates.\n";
  } else {
    o << "  (the server sent no intermediate; a CA pin would need the CA certificate itself)\n";
  }
  if (check) {
    const PinVerdict& v = check->verdict;
    const UpstreamPins& up = *check->upstream;
    o << "\nPin check against upstream '" << up.name << "' (mode " << to_string(up.mode) << "): ";
    if (v.matched()) {
      o << "MATCH: pin " << up.pins[static_cast<std::size_t>(v.matched_pin)].display_name() << " " << matched_where(v)
        << "\n";
    } else {
      o << "NO MATCH (" << to_string(v.code) << ")";
      if (v.out_of_window_pin >= 0)
        o << ": pin " << up.pins[static_cast<std::size_t>(v.out_of_window_pin)].display_name()
          << " matches but is outside its window";
      o << "\n";
      for (std::size_t i = 0; i < v.observed_count; ++i) o << "  observed [" << i << "] " << describe_observed(v, i) << "\n";
      o << "  " << (admits(up.mode, v) ? "report mode: the resolver would connect and count the mismatch"
                                          : "the resolver would refuse this connection before sending any query")
        << "\n";
    }
    return admits(up.mode, v) ? kExitOk : kExitPinRefused;
  }
  o << "Recommended: pin the leaf as primary and a spare key as backup.\n\n"
       "Pin-file snippet:\n\n"
    << text;
  return kExitOk;
}

}  // namespace dotpin::ctl
