// SPDX-License-Identifier: Apache-2.0
// dotpinctl pin tlsa FILE|HOST:PORT [--name NAME] [--sni NAME] [--ca-file FILE]
//
// The TLSA records (RFC 7671/7673) an operator publishes at _853._tcp.NAME for a DANE upstream:
// 3 1 1 for the leaf's key and 2 1 1 for its issuer, the first certificate above the leaf on the
// verified path, when the chain holds one. Only certificates the server presents get a record: a
// DANE-TA digest does not supply the certificate, so one for an anchor the server does not send
// would never match (docs/dane.md).
#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>

#include "common/encoding.h"
#include "common/time_util.h"
#include "control/command.h"
#include "pinning/pem.h"
#include "pinning/pin_file.h"
#include "pinning/tlsa.h"
#include "pinning/verifier.h"
#include "tls/chain_fetch.h"

namespace dotpin::ctl {
namespace {

/// The chain to publish records for, and where it came from.
struct Source {
  std::vector<std::vector<std::uint8_t>> ders;
  std::string description;         ///< "leaf.pem" or "192.0.2.1:853 (TLSv1.3)"
  std::string host;                ///< HOST:PORT given by name: the name (a default owner)
  std::vector<std::string> notes;  ///< said before the records (PKIX result of a fetch)
};

bool names_a_file(const std::string& arg) {
  std::error_code ec;
  return arg == "-" || arg.find('/') != std::string::npos || std::filesystem::exists(arg, ec);
}

Result<Source> from_file(const std::string& path) {
  const std::string name = path == "-" ? "<stdin>" : path;
  auto content = read_file(path);
  if (!content) return Error{content.error()};
  auto objects = read_key_objects(*content, name);
  if (!objects) return Error{objects.error()};
  Source s;
  s.description = name;
  for (KeyObject& o : *objects) {
    if (o.kind != KeyObject::Kind::kCertificate)
      return fail(name, " #", std::to_string(o.index), ": a public key, not a certificate (TLSA records are made from a chain)");
    s.ders.push_back(std::move(o.der));
  }
  if (s.ders.empty()) return fail(name, ": no certificate");
  return s;
}

Result<Source> from_server(const Invocation& inv, const std::string& target) {
  auto server = parse_endpoint(target, kDotPort, /*allow_names=*/true);
  if (!server) return fail("'", target, "' is neither a file nor HOST:PORT: ", server.error());
  tls::FetchOptions opts;
  opts.server = *server;
  opts.sni = inv.value("sni").value_or(inv.value("name").value_or(server->family == 0 ? server->host : ""));
  opts.ca_file = inv.value("ca-file").value_or("");
  auto fetched = tls::fetch_chain(opts);
  if (!fetched) return Error{fetched.error()};
  Source s;
  s.ders = std::move(fetched->chain);
  s.description = fetched->peer + " (" + fetched->protocol + (opts.sni.empty() ? ", no SNI" : ", SNI " + opts.sni) + ")";
  if (server->family == 0) s.host = server->host;
  if (!fetched->pkix_checked)
    s.notes.push_back("fetched without DNSSEC or PKIX: compare these with the server's operator before publishing");
  else if (fetched->pkix_ok)
    s.notes.push_back("PKIX: chain and name valid against " + opts.ca_file);
  else
    s.notes.push_back("PKIX: FAILED against " + opts.ca_file + ": " + fetched->pkix_error);
  return s;
}

/// One record to publish, with the certificate it stands for.
struct Published {
  TlsaRecord record;
  std::size_t element = 0;  ///< index in the chain
  std::string role;         ///< "DANE-EE, the server's key" / "DANE-TA, the issuer's key"
  std::string subject;
  UnixTime not_after{};
};

}  // namespace

int run_pin_tlsa(Invocation& inv) {
  auto fail_with = [&](const std::string& msg) { return report_error(inv, "pin tlsa", msg); };
  const std::string& target = inv.args[0];
  const bool file = names_a_file(target);
  if (file && inv.has("sni")) return fail_with("--sni goes with HOST:PORT");

  std::optional<tls::ClientContext> trust;
  if (auto ca = inv.value("ca-file")) {
    auto t = tls::make_client_ctx(*ca);
    if (!t) return fail_with(t.error());
    trust = std::move(*t);
  }
  auto source = file ? from_file(target) : from_server(inv, target);
  if (!source) return fail_with(source.error());

  std::string name = inv.value("name").value_or(inv.value("sni").value_or(source->host));
  while (!name.empty() && name.back() == '.') name.pop_back();
  if (name.empty()) return fail_with("give --name: the records are published at _853._tcp.NAME (the upstream's auth_name)");
  const std::string owner = "_853._tcp." + name + ".";

  const UnixTime now = now_utc();
  std::vector<DerBytes> spans(source->ders.begin(), source->ders.end());
  const auto leaf = parse_certificate(spans[0]);
  if (!leaf) return fail_with("leaf certificate: " + leaf.error());
  // The verified path from the leaf (with --ca-file, towards its anchors): only a certificate on it
  // can be the DANE-TA, and only one the server sends.
  const PinVerdict path = verify_chain(spans, std::span<const Pin>{}, now,
                                       trust ? trust->anchors() : std::span<const CertView>{});
  std::vector<Published> records;
  std::vector<std::string> notes = source->notes;
  auto publish = [&](std::size_t element, std::uint8_t usage, std::string role) -> Status {
    auto cert = parse_certificate(spans[element]);
    if (!cert) return fail("[", std::to_string(element), "]: ", cert.error());
    auto rec = tlsa_for_certificate(spans[element], usage, tlsa::kSelectorSpki, tlsa::kSha256);
    if (!rec) return fail("[", std::to_string(element), "]: ", rec.error());
    records.push_back({std::move(*rec), element, std::move(role), cert->subject, cert->not_after});
    return ok_status();
  };
  if (auto ok = publish(0, tlsa::kDaneEe, "DANE-EE, the server's key"); !ok) return fail_with(ok.error());
  std::optional<std::size_t> issuer;
  bool issuer_is_anchor = false;
  for (std::size_t i = 1; i < path.observed_count; ++i) {
    const ObservedPin& o = path.observed[i];
    if (!o.on_path || o.position != 1) continue;
    if (o.anchor) {
      issuer_is_anchor = true;
    } else {
      issuer = i;
    }
  }
  if (issuer) {
    if (auto ok = publish(*issuer, tlsa::kDaneTa, "DANE-TA, the issuer's key"); !ok) return fail_with(ok.error());
  } else if (issuer_is_anchor) {
    notes.push_back("no 2 1 1 record: the leaf's issuer is a trust anchor from --ca-file that the server does not "
                    "send, and a DANE-TA record matches only a certificate the server presents");
  } else {
    notes.push_back("no 2 1 1 record: the chain holds no certificate above the leaf on its verified path");
  }
  for (std::size_t i = 1; i < path.presented; ++i)
    if (!path.observed[i].on_path)
      notes.push_back("[" + std::to_string(i) + "] is not on the verified path (" +
                      std::string(to_string(path.observed[i].off_path)) + "): no record for it");

  if (inv.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const Published& p : records)
      arr.push_back({{"usage", p.record.usage},
                     {"selector", p.record.selector},
                     {"matching_type", p.record.matching_type},
                     {"data", hex_encode(p.record.data)},
                     {"rr", owner + " IN TLSA " + to_presentation(p.record)},
                     {"element", p.element},
                     {"subject", p.subject},
                     {"not_after", format_utc(p.not_after)}});
    inv.out << nlohmann::json{{"ok", true}, {"owner", owner}, {"source", source->description}, {"records", arr},
                              {"notes", notes}}
                   .dump(2)
            << "\n";
    return kExitOk;
  }
  inv.out << "; TLSA records for " << owner << " from " << source->description << "\n";
  for (const std::string& n : notes) inv.out << "; " << n << "\n";
  for (const Published& p : records) {
    inv.out << "; " << p.role << ": [" << p.element << "] " << p.subject << ", notAfter " << format_utc(p.not_after)
            << "\n"
            << owner << " IN TLSA " << to_presentation(p.record) << "\n";
  }
  return kExitOk;
}

}  // namespace dotpin::ctl
