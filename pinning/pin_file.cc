// SPDX-License-Identifier: Apache-2.0
#include "pinning/pin_file.h"

#include <toml++/toml.h>

#include <algorithm>
#include <set>

#include "pinning/pem.h"

namespace dotpin {
namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

bool valid_identifier(std::string_view s, std::size_t max) {
  return !s.empty() && s.size() <= max && std::ranges::all_of(s, is_name_char);
}

/// A host name as RFC 1123 allows it: LDH labels of 1-63 octets, 253 in all, optional final dot.
bool valid_hostname(std::string_view s) {
  if (s.ends_with('.')) s.remove_suffix(1);
  if (s.empty() || s.size() > 253) return false;
  std::size_t start = 0;
  while (start <= s.size()) {
    const std::size_t dot = std::min(s.find('.', start), s.size());
    const std::string_view label = s.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (const char c : label)
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) return false;
    start = dot + 1;
  }
  return true;
}

/// Collects diagnostics for one file.
class Parser {
 public:
  explicit Parser(std::string source) : source_(std::move(source)) {}

  void error(const toml::source_region& where, std::string message, const std::string& upstream = {}) {
    errors_.push_back(Diagnostic{Severity::kError, source_, static_cast<int>(where.begin.line),
                                 static_cast<int>(where.begin.column), std::move(message), upstream});
  }

  std::optional<PinTable> parse(const toml::table& root) {
    PinTable table;
    table.source = source_;
    bool saw_upstream = false;
    for (auto&& [key, node] : root) {
      if (key.str() == "version") {
        const auto v = node.value<std::int64_t>();
        if (!v || *v != 1) error(node.source(), "version must be 1 (the only pin-file format so far)");
      } else if (key.str() == "upstream") {
        saw_upstream = true;
        const toml::array* arr = node.as_array();
        if (!arr || !arr->is_array_of_tables()) {
          error(node.source(), "'upstream' must be an array of tables: write [[upstream]]");
          continue;
        }
        for (const toml::node& u : *arr) parse_upstream(*u.as_table(), table);
      } else {
        error(key.source(), "unknown key '" + std::string(key.str()) + "' (expected [[upstream]] tables)");
      }
    }
    if (!saw_upstream && errors_.empty())
      errors_.push_back(Diagnostic{Severity::kError, source_, 0, 0, "no [[upstream]] table", {}});
    if (!errors_.empty()) return std::nullopt;
    return table;
  }

  std::vector<Diagnostic> take_errors() { return std::move(errors_); }

 private:
  std::optional<std::string> string_field(const toml::node& node, std::string_view key, const std::string& up) {
    const auto v = node.value<std::string>();
    if (!v) error(node.source(), "'" + std::string(key) + "' must be a string", up);
    return v;
  }

  /// A TOML offset date-time ("2027-06-01T00:00:00Z") or a date (midnight UTC).
  std::optional<UnixTime> date_field(const toml::node& node, std::string_view key, const std::string& up) {
    using namespace std::chrono;
    if (const auto* d = node.as_date()) {
      const toml::date v = d->get();
      const year_month_day ymd{year{v.year}, month{v.month}, day{v.day}};
      if (ymd.ok()) return UnixTime{sys_days{ymd}};
    } else if (const auto* dt = node.as_date_time()) {
      const toml::date_time v = dt->get();
      if (!v.offset) {
        error(node.source(), "'" + std::string(key) + "' needs a UTC offset, e.g. 2027-06-01T00:00:00Z", up);
        return std::nullopt;
      }
      const year_month_day ymd{year{v.date.year}, month{v.date.month}, day{v.date.day}};
      if (ymd.ok())
        return UnixTime{sys_days{ymd}} + hours{v.time.hour} + minutes{v.time.minute} + seconds{v.time.second} -
               minutes{v.offset->minutes};
    } else if (node.is_string()) {
      error(node.source(),
            "'" + std::string(key) + "' must be a TOML date-time without quotes, e.g. " + std::string(key) +
                " = 2027-06-01T00:00:00Z",
            up);
      return std::nullopt;
    }
    error(node.source(), "'" + std::string(key) + "' must be a date-time such as 2027-06-01T00:00:00Z", up);
    return std::nullopt;
  }

  void parse_upstream(const toml::table& t, PinTable& table) {
    UpstreamPins up;
    up.line = static_cast<int>(t.source().begin.line);
    const std::size_t errors_before = errors_.size();
    // The name first, so that later messages can say which upstream they concern.
    if (const toml::node* n = t.get("name")) {
      if (auto s = string_field(*n, "name", {})) {
        if (!valid_identifier(*s, 63))
          error(n->source(), "name '" + *s + "' must be 1-63 characters of letters, digits, '-', '_', '.'");
        up.name = *s;
      }
    } else {
      error(t.source(), "[[upstream]] has no 'name'");
    }
    const std::string& who = up.name;
    bool have_address = false;
    const toml::node* pin_node = nullptr;
    std::vector<const toml::node*> tofu_keys;  // keys that only a TOFU upstream may have
    std::vector<const toml::node*> dane_keys;  // and a DANE upstream
    for (auto&& [key, node] : t) {
      const std::string_view k = key.str();
      if (k == "name") continue;
      if (k == "address") {
        if (auto s = string_field(node, k, who)) {
          auto ep = parse_endpoint(*s, kDotPort, /*allow_names=*/false);
          if (!ep) {
            error(node.source(), "address " + ep.error(), who);
          } else {
            up.address = *ep;
            have_address = true;
          }
        }
      } else if (k == "auth_name") {
        if (auto s = string_field(node, k, who)) {
          if (!valid_hostname(*s)) error(node.source(), "auth_name '" + *s + "' is not a valid host name", who);
          up.auth_name = *s;
        }
      } else if (k == "mode") {
        if (auto s = string_field(node, k, who)) {
          if (auto m = pin_mode_from_string(*s)) {
            up.mode = *m;
          } else {
            error(node.source(), "mode '" + *s + "' is not one of: enforce, report", who);
          }
        }
      } else if (k == "pin") {
        pin_node = &node;
      } else if (k == "pins_from") {
        if (auto s = string_field(node, k, who)) {
          if (auto f = pins_from_from_string(*s)) up.pins_from = *f;
          else error(node.source(), "pins_from '" + *s + "' is not one of: file, tofu, dane", who);
        }
      } else if (k == "learn") {
        tofu_keys.push_back(&node);
        if (auto s = string_field(node, k, who)) {
          if (auto l = tofu_learn_from_string(*s)) up.learn = *l;
          else error(node.source(), "learn '" + *s + "' is not one of: leaf, leaf+issuer", who);
        }
      } else if (k == "tofu_without_ca") {
        tofu_keys.push_back(&node);
        if (const auto* b = node.as_boolean()) up.tofu_without_ca = b->get();
        else error(node.source(), "'tofu_without_ca' must be true or false", who);
      } else if (k == "learn_from") {
        tofu_keys.push_back(&node);
        parse_learn_from(node, up);
      } else if (k == "tlsa_port") {
        dane_keys.push_back(&node);
        const auto v = node.value<std::int64_t>();
        if (!v || *v < 1 || *v > 65535) error(node.source(), "'tlsa_port' must be a port number (1-65535)", who);
        else up.tlsa_port = static_cast<std::uint16_t>(*v);
      } else {
        error(key.source(),
              "unknown key '" + std::string(k) +
                  "' (expected name, address, auth_name, mode, pins_from, learn, learn_from, tofu_without_ca, tlsa_port, pin)",
              who);
      }
    }
    if (!have_address && errors_.size() == errors_before) error(t.source(), "no 'address'", who);
    if (up.pins_from != PinsFrom::kTofu) {
      for (const toml::node* n : tofu_keys)
        error(n->source(), "learn, learn_from and tofu_without_ca apply only to pins_from = \"tofu\"", who);
    }
    if (up.pins_from != PinsFrom::kDane)
      for (const toml::node* n : dane_keys) error(n->source(), "tlsa_port applies only to pins_from = \"dane\"", who);
    if (up.pins_from == PinsFrom::kTofu && up.auth_name.empty() && errors_.size() == errors_before)
      error(t.source(), "pins_from = \"tofu\" needs auth_name: a learned issuer key would otherwise admit any "
                        "certificate that CA issues, for any name",
            who);
    if (up.pins_from != PinsFrom::kFile && up.mode == PinMode::kReport)
      error(t.source(), "mode = \"report\" cannot be combined with pins_from = \"" + std::string(to_string(up.pins_from)) +
                            "\": with no pin learned or looked up yet, report mode would admit every chain",
            who);
    if (up.pins_from == PinsFrom::kDane && up.auth_name.empty() && errors_.size() == errors_before)
      error(t.source(), "pins_from = \"dane\" needs auth_name: the TLSA records are looked up at _<tlsa_port>._tcp.<auth_name>",
            who);
    if (pin_node) {
      parse_pins(*pin_node, up);
    } else if (up.pins_from == PinsFrom::kFile) {
      error(t.source(), "no pins: add at least a primary and a backup [[upstream.pin]]", who);
    }
    if (!up.name.empty() && table.find(up.name)) {
      error(t.source(), "duplicate upstream name (first defined at line " +
                            std::to_string(table.find(up.name)->line) + ")", who);
    }
    table.upstreams.push_back(std::move(up));
  }

  void parse_learn_from(const toml::node& node, UpstreamPins& up) {
    const toml::array* arr = node.as_array();
    if (!arr || arr->empty()) {
      error(node.source(), "'learn_from' must be a non-empty array of addresses, e.g. [\"198.18.0.2:853\", \"198.18.1.2:853\"]",
            up.name);
      return;
    }
    if (arr->size() > 8) error(node.source(), "'learn_from' has more than 8 addresses", up.name);
    for (const toml::node& a : *arr) {
      auto s = string_field(a, "learn_from", up.name);
      if (!s) continue;
      auto ep = parse_endpoint(*s, kDotPort, /*allow_names=*/false);
      if (!ep) {
        error(a.source(), "learn_from address " + ep.error(), up.name);
        continue;
      }
      for (const Endpoint& other : up.learn_from)
        if (other == *ep) error(a.source(), "learn_from repeats " + *s, up.name);
      up.learn_from.push_back(*ep);
    }
  }

  void parse_pins(const toml::node& node, UpstreamPins& up) {
    const toml::array* arr = node.as_array();
    if (!arr || !arr->is_array_of_tables()) {
      error(node.source(), "'pin' must be an array of tables: [[upstream.pin]] or pin = [{ sha256 = \"...\" }]",
            up.name);
      return;
    }
    if (arr->empty()) error(node.source(), "empty pin list", up.name);
    for (const toml::node& pn : *arr) {
      const toml::table& pt = *pn.as_table();
      Pin pin;
      pin.line = static_cast<int>(pt.source().begin.line);
      bool have_digest = false;
      for (auto&& [key, value] : pt) {
        const std::string_view k = key.str();
        if (k == "sha256") {
          if (auto s = string_field(value, k, up.name)) {
            std::string why;
            if (auto d = parse_pin_base64(*s, &why)) {
              pin.digest = *d;
              have_digest = true;
            } else {
              error(value.source(), "bad sha256 pin: " + why, up.name);
            }
          }
        } else if (k == "label") {
          if (auto s = string_field(value, k, up.name)) {
            if (!valid_identifier(*s, 32))
              error(value.source(), "label must be 1-32 characters of letters, digits, '-', '_', '.'", up.name);
            pin.label = *s;
          }
        } else if (k == "not_before") {
          pin.not_before = date_field(value, k, up.name);
        } else if (k == "not_after") {
          pin.not_after = date_field(value, k, up.name);
        } else {
          error(key.source(),
                "unknown pin key '" + std::string(k) + "' (expected sha256, label, not_before, not_after)",
                up.name);
        }
      }
      if (!have_digest) {
        if (!pt.contains("sha256")) error(pt.source(), "pin has no 'sha256'", up.name);
        continue;
      }
      if (pin.not_before && pin.not_after && *pin.not_after <= *pin.not_before) {
        error(pt.source(),
              "pin " + pin.display_name() + ": not_after (" + format_utc(*pin.not_after) +
                  ") is not after not_before (" + format_utc(*pin.not_before) + ")",
              up.name);
      }
      for (const Pin& other : up.pins) {
        if (other.digest == pin.digest)
          error(pt.source(), "pin " + pin_base64(pin.digest) + " repeats the pin at line " + std::to_string(other.line),
                up.name);
      }
      up.pins.push_back(std::move(pin));
    }
  }

  std::string source_;
  std::vector<Diagnostic> errors_;
};

}  // namespace

PinFileResult parse_pin_file(std::string_view text, const std::string& source) {
  PinFileResult result;
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    result.errors.push_back(Diagnostic{Severity::kError, source, static_cast<int>(e.source().begin.line),
                                       static_cast<int>(e.source().begin.column),
                                       "TOML syntax: " + std::string(e.description()), {}});
    return result;
  }
  Parser parser(source);
  result.table = parser.parse(root);
  result.errors = parser.take_errors();
  std::ranges::stable_sort(result.errors, [](const Diagnostic& a, const Diagnostic& b) { return a.line < b.line; });
  return result;
}

PinFileResult load_pin_file(const std::string& path) {
  auto text = read_file(path);
  if (!text) {
    PinFileResult r;
    // read_file's message starts with the path, which the diagnostic already carries.
    std::string message = text.error();
    if (message.starts_with(path + ": ")) message.erase(0, path.size() + 2);
    r.errors.push_back(Diagnostic{Severity::kError, path, 0, 0, std::move(message), {}});
    return r;
  }
  return parse_pin_file(*text, path);
}

}  // namespace dotpin
