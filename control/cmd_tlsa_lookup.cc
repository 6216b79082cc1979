// SPDX-License-Identifier: Apache-2.0
// dotpinctl tlsa lookup NAME [--port N] [--trust-anchor FILE] [--resolver IP@PORT]...
//                            [--stub ZONE=IP@PORT]... [--timeout MS]
// One validated TLSA lookup (control/dane_lookup.h), printed; the exit code is the status.
#include <charconv>

#include <nlohmann/json.hpp>

#include "common/time_util.h"
#include "control/command.h"
#include "control/dane_lookup.h"
#include "control/tlsa_text.h"

namespace dotpin::ctl {
namespace {

std::optional<long> parse_number(const std::string& text, long lo, long hi) {
  long v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || v < lo || v > hi) return std::nullopt;
  return v;
}

int exit_code(dane::DaneAnswer::Status s) {
  switch (s) {
    case dane::DaneAnswer::Status::kSecure: return kExitOk;
    case dane::DaneAnswer::Status::kBogus: return kExitDaneBogus;
    case dane::DaneAnswer::Status::kInsecure: return kExitDaneInsecure;
    case dane::DaneAnswer::Status::kMissing: return kExitDaneMissing;
  }
  return kExitFailure;
}

std::string_view meaning(dane::DaneAnswer::Status s) {
  switch (s) {
    case dane::DaneAnswer::Status::kSecure: return "validated by DNSSEC";
    case dane::DaneAnswer::Status::kBogus: return "DNSSEC validation FAILED: do not use these records";
    case dane::DaneAnswer::Status::kInsecure:
      return "not DNSSEC-signed (insecure delegation or outside the trust anchors): no usable DANE";
    case dane::DaneAnswer::Status::kMissing: return "the signed zone proves there is no TLSA RRset here";
  }
  return "";
}

}  // namespace

int run_tlsa_lookup(Invocation& inv) {
  auto fail_with = [&](const std::string& msg) { return report_error(inv, "tlsa lookup", msg); };
  dane::DaneLookupOptions opts;
  opts.trust_anchor_file = inv.value("trust-anchor").value_or("");
  opts.resolvers = inv.values("resolver");
  for (const std::string& s : inv.values("stub")) {
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == s.size())
      return fail_with("--stub wants ZONE=IP[@PORT], not '" + s + "'");
    opts.stubs.emplace_back(s.substr(0, eq), s.substr(eq + 1));
  }
  std::uint16_t port = 853;
  if (auto p = inv.value("port")) {
    const auto v = parse_number(*p, 1, 65535);
    if (!v) return fail_with("--port must be 1-65535");
    port = static_cast<std::uint16_t>(*v);
  }
  if (auto t = inv.value("timeout")) {
    const auto v = parse_number(*t, 1, 300'000);
    if (!v) return fail_with("--timeout must be 1-300000 milliseconds");
    opts.timeout = std::chrono::milliseconds(*v);
  }
  auto lookup = dane::DaneLookup::create(opts);
  if (!lookup) return fail_with(lookup.error());
  auto answer = lookup->lookup(inv.args[0], port);
  if (!answer) return fail_with(answer.error());
  const dane::DaneAnswer& a = *answer;

  std::vector<std::string> records;
  for (const auto& rd : a.rdata) records.push_back(dane::tlsa_presentation(rd));
  if (inv.json) {
    nlohmann::json j = {{"ok", true}, {"status", std::string(to_string(a.status))}, {"owner", a.owner},
                        {"ttl", a.ttl}, {"records", records}};
    j["rrsig_inception"] = a.rrsig_inception ? nlohmann::json(format_utc(*a.rrsig_inception)) : nlohmann::json();
    j["rrsig_expiration"] = a.rrsig_expiration ? nlohmann::json(format_utc(*a.rrsig_expiration)) : nlohmann::json();
    j["why_bogus"] = a.status == dane::DaneAnswer::Status::kBogus ? nlohmann::json(a.why_bogus) : nlohmann::json();
    inv.out << j.dump(2) << "\n";
    return exit_code(a.status);
  }
  auto& o = inv.out;
  o << "status: " << to_string(a.status) << " (" << meaning(a.status) << ")\n"
    << "owner: " << a.owner << "\n"
    << "ttl: " << a.ttl << "\n";
  if (a.status == dane::DaneAnswer::Status::kBogus) o << "why bogus: " << a.why_bogus << "\n";
  if (a.status == dane::DaneAnswer::Status::kSecure) {
    o << "records (" << records.size() << "):\n";
    for (const std::string& r : records) o << "  " << a.owner << " " << a.ttl << " IN TLSA " << r << "\n";
    if (a.rrsig_inception) o << "rrsig inception: " << format_utc(*a.rrsig_inception) << "\n";
    if (a.rrsig_expiration) o << "rrsig expiration: " << format_utc(*a.rrsig_expiration) << "\n";
  }
  return exit_code(a.status);
}

}  // namespace dotpin::ctl
