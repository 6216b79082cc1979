// SPDX-License-Identifier: Apache-2.0
// dotpinctl pins check FILE [--warn-days N] [--at TIME] [--ca-mode] [--dane [--trust-anchor F] [--resolver A]... [--stub Z=A]...]
#include <charconv>
#include <iomanip>

#include <nlohmann/json.hpp>

#include "control/command.h"
#include "control/dane_lookup.h"
#include "control/dane_pins.h"
#include "control/pin_edit.h"
#include "pinning/pin_file.h"
#include "pinning/pin_lint.h"

namespace dotpin::ctl {
namespace {

nlohmann::json to_json(const Diagnostic& d) {
  nlohmann::json j{{"file", d.file}, {"line", d.line}, {"column", d.column}, {"message", d.message}};
  if (!d.upstream.empty()) j["upstream"] = d.upstream;
  return j;
}

/// --dane: looks up every DANE upstream's TLSA RRset the way dotpind does and adds its pins to the
/// table (so the listing shows them), or an error saying why dotpind would have none.
Status check_dane(Invocation& inv, PinTable& table, UnixTime now, std::vector<Diagnostic>& errors,
                  std::vector<Diagnostic>& warnings) {
  dane::DaneLookupOptions opts;
  if (auto ta = inv.value("trust-anchor")) opts.trust_anchor_file = *ta;
  opts.resolvers = inv.values("resolver");
  for (const std::string& st : inv.values("stub")) {
    const auto eq = st.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == st.size()) return fail("--stub wants ZONE=IP[@PORT], not '", st, "'");
    opts.stubs.emplace_back(st.substr(0, eq), st.substr(eq + 1));
  }
  std::optional<dane::DaneLookup> lookup;
  for (UpstreamPins& up : table.upstreams) {
    if (up.pins_from != PinsFrom::kDane) continue;
    auto diag = [&](std::vector<Diagnostic>& to, Severity sev, std::string msg) {
      to.push_back(Diagnostic{sev, table.source, up.line, 0, std::move(msg), up.name});
    };
    if (!lookup) {
      auto made = dane::DaneLookup::create(opts);
      if (!made) return fail("--dane: ", made.error());
      lookup.emplace(std::move(*made));
    }
    const std::string owner = "_" + std::to_string(up.tlsa_port) + "._tcp." + up.auth_name;
    auto a = lookup->lookup(up.auth_name, up.tlsa_port);
    if (!a) {
      diag(errors, Severity::kError, "TLSA lookup of " + owner + " failed: " + a.error());
      continue;
    }
    if (a->status != dane::DaneAnswer::Status::kSecure) {
      diag(errors, Severity::kError,
           "TLSA answer for " + owner + " is " + std::string(dane::to_string(a->status)) +
               (a->why_bogus.empty() ? "" : " (" + a->why_bogus + ")") + ": dotpind would have no TLSA pin for it");
      continue;
    }
    if (!a->rrsig_expiration) {
      diag(errors, Severity::kError, "TLSA answer for " + owner + " is secure but carries no RRSIG: dotpind refuses it");
      continue;
    }
    DanePins converted = pins_from_tlsa_answer(*a, now);
    if (!converted.skipped.empty()) diag(warnings, Severity::kWarning, "TLSA records not used: " + converted.skipped);
    if (converted.pins.empty()) {
      diag(errors, Severity::kError, "no usable TLSA record at " + a->owner + " (usages 3 and 2 are used)");
      continue;
    }
    for (Pin& p : converted.pins) up.pins.push_back(std::move(p));
  }
  return ok_status();
}

}  // namespace

int run_pins_check(Invocation& inv) {
  const std::string& path = inv.args[0];
  LintOptions lint;
  if (auto d = inv.value("warn-days")) {
    const auto [end, ec] = std::from_chars(d->data(), d->data() + d->size(), lint.warn_days);
    if (ec != std::errc{} || end != d->data() + d->size() || lint.warn_days < 0 || lint.warn_days > 3650) {
      return report_error(inv, "pins check", "--warn-days must be a whole number of days from 0 to 3650");
    }
  }
  UnixTime now = now_utc();
  if (auto at = inv.value("at")) {
    const auto t = parse_utc(*at);
    if (!t) {
      return report_error(inv, "pins check", "--at wants 2027-06-01 or 2027-06-01T00:00:00Z");
    }
    now = *t;
  }

  PinFileResult parsed = load_pin_file(path);
  if (parsed.table) {
    for (auto& d : trust_profile_errors(*parsed.table, inv.has("ca-mode"))) parsed.errors.push_back(std::move(d));
  }
  std::vector<Diagnostic> warnings;
  if (parsed.table) warnings = lint_pin_table(*parsed.table, now, lint);
  if (parsed.table && inv.has("dane")) {
    if (auto st = check_dane(inv, *parsed.table, now, parsed.errors, warnings); !st)
      return report_error(inv, "pins check", st.error());
  }
  const int code = !parsed.errors.empty() ? kExitFailure : !warnings.empty() ? kExitWarnings : kExitOk;
  std::size_t n_pins = 0;
  if (parsed.table)
    for (const auto& u : parsed.table->upstreams) n_pins += u.pins.size();

  if (inv.json) {
    nlohmann::json j{{"file", path}, {"ok", parsed.errors.empty()}, {"at", format_utc(now)}};
    j["errors"] = nlohmann::json::array();
    j["warnings"] = nlohmann::json::array();
    for (const auto& d : parsed.errors) j["errors"].push_back(to_json(d));
    for (const auto& d : warnings) j["warnings"].push_back(to_json(d));
    j["upstreams"] = nlohmann::json::array();
    if (parsed.table)
      for (const auto& u : parsed.table->upstreams) j["upstreams"].push_back(upstream_pins_json(u, now));
    inv.out << j.dump(2) << "\n";
    return code;
  }
  for (const auto& d : parsed.errors) inv.out << d.to_string() << "\n";
  for (const auto& d : warnings) inv.out << d.to_string() << "\n";
  if (parsed.table) {
    if (!warnings.empty()) inv.out << "\n";
    inv.out << std::left << std::setw(20) << "UPSTREAM" << std::setw(26) << "ADDRESS" << std::setw(28) << "AUTH NAME"
            << std::setw(9) << "MODE" << "PINS (valid now/all)\n";
    for (const auto& u : parsed.table->upstreams) {
      inv.out << std::setw(20) << u.name << std::setw(26) << u.address.to_string() << std::setw(28)
              << (u.auth_name.empty() ? "-" : u.auth_name) << std::setw(9) << to_string(u.mode) << u.pins_in_window(now)
              << "/" << u.pins.size() << "\n";
    }
  }
  inv.out << path << ": " << (parsed.table ? parsed.table->upstreams.size() : 0) << " upstream(s), " << n_pins
          << " pin(s); " << parsed.errors.size() << " error(s), " << warnings.size() << " warning(s)"
          << (parsed.errors.empty() ? "" : "; nothing loaded") << "\n";
  return code;
}

}  // namespace dotpin::ctl
