// SPDX-License-Identifier: Apache-2.0
#include "control/pin_edit.h"

#include <algorithm>

#include "pinning/pin_file.h"
#include "pinning/pin_file_writer.h"
#include "pinning/spki_pin.h"

namespace dotpin::ctl {
namespace {

std::string known_names(const PinTable& t) {
  std::string names;
  for (const auto& u : t.upstreams) names += (names.empty() ? "" : ", ") + u.name;
  return names.empty() ? "none" : names;
}

}  // namespace

Status require_upstream(const PinTable& table, std::string_view name) {
  if (table.find(name)) return ok_status();
  return fail("no upstream named '", std::string(name), "' (known: ", known_names(table), ")");
}

namespace {
Result<UpstreamPins*> find_upstream(PinTable& t, std::string_view name) {
  if (auto ok = require_upstream(t, name); !ok) return Error{ok.error()};
  for (auto& u : t.upstreams)
    if (u.name == name) return &u;
  return fail("unreachable");
}
}  // namespace

Result<PinTable> with_pin_added(const PinTable& table, const PinToAdd& add, UnixTime now) {
  PinTable t = table;
  auto up = find_upstream(t, add.upstream);
  if (!up) return Error{up.error()};
  std::string why;
  const auto digest = parse_pin_base64(add.sha256, &why);
  if (!digest) return fail("pin '", add.sha256, "': ", why);
  for (const Pin& p : (*up)->pins)
    if (p.digest == *digest)
      return fail("upstream '", add.upstream, "' already has this pin (", p.display_name(), ")");
  if (add.not_after && *add.not_after <= now)
    return fail("--not-after ", format_utc(*add.not_after), " is not in the future: the pin would never count");
  if (add.not_after && add.not_before && *add.not_after <= *add.not_before)
    return fail("--not-after must be later than --not-before");
  Pin pin;
  pin.digest = *digest;
  pin.label = add.label;
  pin.not_before = add.not_before;
  pin.not_after = add.not_after;
  (*up)->pins.push_back(std::move(pin));
  return t;
}

Result<PinTable> with_pin_removed(const PinTable& table, std::string_view upstream, std::string_view which) {
  PinTable t = table;
  auto up = find_upstream(t, upstream);
  if (!up) return Error{up.error()};
  auto& pins = (*up)->pins;
  const auto digest = parse_pin_base64(which);
  const auto it = std::ranges::find_if(pins, [&](const Pin& p) {
    return (digest && p.digest == *digest) || (!p.label.empty() && p.label == which);
  });
  if (it == pins.end()) {
    std::string have;
    for (const Pin& p : pins) have += (have.empty() ? "" : ", ") + p.display_name();
    return fail("upstream '", std::string(upstream), "' has no pin '", std::string(which), "' (it has: ", have, ")");
  }
  // A TOFU or DANE upstream keeps its learned or TLSA pins: the operator's own may all go.
  const bool file_only = (*up)->pins_from == PinsFrom::kFile;
  if (file_only && pins.size() == 1)
    return fail("'", it->display_name(), "' is the only pin of upstream '", std::string(upstream),
                "'; add its replacement first (an upstream without pins cannot be reached)");
  // Whether what remains is valid now is the one rule's to decide (pin_safety.h, in the publisher).
  pins.erase(it);
  return t;
}

Result<CheckedTable> check_table(const PinTable& table, const std::string& path, UnixTime now) {
  CheckedTable out;
  out.text = render_pin_file(table, "dotpin pin file, written by dotpind on " + format_utc(now) +
                                        " after a runtime change.\nThe previous version is kept as " + path +
                                        ".prev. Check with: dotpinctl pins check FILE");
  PinFileResult parsed = parse_pin_file(out.text, path);
  if (!parsed.table) {
    std::string msg = "the changed pin table does not validate:";
    for (const auto& d : parsed.errors) msg += "\n  " + d.to_string();
    return fail(msg);
  }
  out.table = std::move(*parsed.table);
  return out;
}

UpstreamPinsReply upstream_pins_reply(const UpstreamPins& u, UnixTime now) {
  UpstreamPinsReply r;
  r.name = u.name;
  r.address = u.address.to_string();
  r.auth_name = u.auth_name;
  r.mode = std::string(to_string(u.mode));
  r.pins_from = std::string(to_string(u.pins_from));
  r.valid_pins = u.pins_in_window(now);
  for (const Pin& p : u.pins) {
    PinReply pr;
    const bool sha512 = p.form == PinForm::kSpkiSha512 || p.form == PinForm::kCertSha512;
    pr.sha256 = sha512 ? std::string() : pin_base64(p.digest);
    pr.label = p.label;
    pr.state = p.in_window(now) ? "valid" : (p.not_before && now < *p.not_before) ? "not_yet" : "expired";
    if (p.not_before) pr.not_before = format_utc(*p.not_before);
    if (p.not_after) pr.not_after = format_utc(*p.not_after);
    pr.line = p.line;
    pr.origin = std::string(to_string(p.origin));
    pr.scope = std::string(to_string(p.scope));
    pr.form = std::string(to_string(p.form));
    if (p.form != PinForm::kSpkiSha256) {
      static constexpr char kHex[] = "0123456789abcdef";
      std::string hex;
      const std::span<const std::uint8_t> d = sha512 ? std::span<const std::uint8_t>(p.digest512) : std::span<const std::uint8_t>(p.digest);
      for (const std::uint8_t b : d) {
        hex += kHex[b >> 4];
        hex += kHex[b & 15];
      }
      pr.digest_hex = std::move(hex);
    }
    if (p.learned_at) pr.learned_at = format_utc(*p.learned_at);
    if (!p.learned_from.empty()) pr.learned_from = p.learned_from;
    r.pins.push_back(std::move(pr));
  }
  return r;
}

nlohmann::json upstream_pins_json(const UpstreamPins& u, UnixTime now) { return upstream_pins_reply(u, now); }

PinsReply pins_reply(const PinSnapshot& snapshot, UnixTime now) {
  PinsReply r{snapshot.generation, format_utc(snapshot.published_at), snapshot.table.source, snapshot.table.source, {}};
  for (const UpstreamPins& u : snapshot.table.upstreams) r.upstreams.push_back(upstream_pins_reply(u, now));
  return r;
}

nlohmann::json pins_json(const PinSnapshot& snapshot, UnixTime now) { return pins_reply(snapshot, now); }

}  // namespace dotpin::ctl
