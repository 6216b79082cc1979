// SPDX-License-Identifier: Apache-2.0
#include "control/cert_view.h"

namespace dotpin::ctl {

nlohmann::json to_json(const KeyView& v, UnixTime now) {
  nlohmann::json j{{"kind", v.cert ? "certificate" : "public_key"},
                   {"key", v.key},
                   {"pin_sha256", pin_base64(v.pin)},
                   {"pin_sha256_hex", pin_hex(v.pin)}};
  if (v.cert) {
    j["subject"] = v.cert->subject;
    j["issuer"] = v.cert->issuer;
    j["self_issued"] = v.cert->self_issued;
    j["not_before"] = format_utc(v.cert->not_before);
    j["not_after"] = format_utc(v.cert->not_after);
    j["days_left"] = days_until(now, v.cert->not_after);
  }
  return j;
}

void print_text(std::ostream& out, const KeyView& v, UnixTime now, bool hex) {
  if (v.cert) {
    const long days = days_until(now, v.cert->not_after);
    out << v.heading << "  " << v.cert->subject << "\n"
        << "    issuer     " << v.cert->issuer << (v.cert->self_issued ? "  (self-issued)" : "") << "\n"
        << "    key        " << v.key << "\n"
        << "    not after  " << format_utc(v.cert->not_after)
        << (days < 0 ? "  EXPIRED " + std::to_string(-days) + " days ago" : "  (" + std::to_string(days) + " days left)")
        << "\n";
  } else {
    out << v.heading << "  public key\n    key        " << v.key << "\n";
  }
  out << "    pin-sha256=\"" << pin_base64(v.pin) << "\"\n";
  if (hex) out << "    sha256 hex " << pin_hex(v.pin) << "\n";
}

}  // namespace dotpin::ctl
