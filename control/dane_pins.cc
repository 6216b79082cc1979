// SPDX-License-Identifier: Apache-2.0
#include "control/dane_pins.h"

#include "pinning/tlsa.h"

namespace dotpin::ctl {

DanePins pins_from_tlsa_answer(const dane::DaneAnswer& answer, UnixTime now) {
  DanePins out;
  for (const auto& rdata : answer.rdata) {
    auto rec = parse_tlsa_rdata(rdata);
    Result<Pin> pin = rec ? pin_from_tlsa(*rec) : Result<Pin>(Error{rec.error()});
    if (!pin) {
      out.skipped += (out.skipped.empty() ? "" : "; ") + pin.error();
      continue;
    }
    pin->learned_at = now;
    pin->learned_from = answer.owner;
    pin->not_after = answer.rrsig_expiration;
    pin->label = "tlsa-" + std::to_string(out.pins.size() + 1);
    bool repeat = false;
    for (const Pin& p : out.pins)
      repeat |= p.digest == pin->digest && p.digest512 == pin->digest512 && p.form == pin->form && p.scope == pin->scope;
    if (!repeat) out.pins.push_back(std::move(*pin));
  }
  return out;
}

}  // namespace dotpin::ctl
