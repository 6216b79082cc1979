// SPDX-License-Identifier: Apache-2.0
#include "control/command.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <climits>
#include <exception>

#include "dotpin_version.h"
#include "tls/client_context.h"

namespace dotpin::ctl {

std::optional<std::string> Invocation::value(std::string_view name) const {
  const auto it = options.find(std::string(name));
  if (it == options.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> Invocation::values(std::string_view name) const {
  const auto it = options.find(std::string(name));
  return it == options.end() ? std::vector<std::string>{} : it->second;
}

bool read_suite_order(const Invocation& inv, tls::SuiteOrder& order) {
  const auto text = inv.value("suite-order");
  if (!text) return true;
  const auto parsed = tls::suite_order_from_string(*text);
  if (parsed) order = *parsed;
  return parsed.has_value();
}

int report_error(Invocation& inv, std::string_view context, const std::string& message) {
  if (inv.json) {
    inv.out << nlohmann::json{{"ok", false}, {"error", message}}.dump() << "\n";
  } else {
    inv.err << "dotpinctl: " << context << (context.empty() ? "" : ": ") << message << "\n";
  }
  return kExitFailure;
}

std::span<const Command> command_table() {
  static const std::vector<Command> table = {
      {"pin compute", "FILE...", "print the pin-sha256 of every certificate or public key in files",
       "Reads PEM (one or more blocks: a chain) or DER files, '-' for standard input. For each\n"
       "certificate prints subject, issuer, key, validity and pin-sha256; for a PUBLIC KEY block\n"
       "(a spare key for a backup pin: openssl pkey -in KEY -pubout) prints its pin.",
       {{"hex", "", "also print the pin in hex"}},
       1, SIZE_MAX, run_pin_compute},
      {"pin fetch", "HOST:PORT", "connect to a DoT server and show the chain it presents, with pins",
       "Connects with TLS 1.3/1.2 (SNI = --name), prints each certificate of the presented chain\n"
       "with its pin, says which element to pin, and prints an [[upstream]] snippet for the pin file.\n"
       "The chain is shown even if it does not validate; with --ca the PKIX result is shown too.\n"
       "Check what you fetched out of band: a pin learnt over an attacked path pins the attacker.\n"
       "With --check PINFILE the chain is verified against that upstream's pin set exactly as the\n"
       "resolver would (exit 3 if it would refuse the connection).",
       {{"name", "AUTH_NAME", "authentication domain name: sent as SNI, checked with --ca"},
        {"ca", "FILE", "PEM CA bundle to validate the chain and name against"},
        {"check", "PINFILE", "verify the chain against the pin set of the matching upstream in PINFILE"},
        {"upstream", "NAME", "with --check: the upstream to verify against (default: by address)"},
        {"timeout", "SECONDS", "connect + handshake deadline (default 5)"},
        {"suite-order", "ORDER", "auto, aes-gcm or chacha20: which AEAD to offer first (as [upstreams] suite_order)"},
        {"upstream-name", "NAME", "name for the snippet's [[upstream]] (default: from --name)"}},
       1, 1, run_pin_fetch},
      {"pin tlsa", "FILE|HOST:PORT", "print the DANE TLSA records (3 1 1 leaf, 2 1 1 issuer) to publish for a chain",
       "Reads a PEM chain (leaf first) or fetches the chain HOST:PORT presents, builds its verified\n"
       "path and prints the records to publish at _853._tcp.NAME: 3 1 1 (DANE-EE) for the leaf's key\n"
       "and 2 1 1 (DANE-TA) for the first certificate above it on the path, if the chain holds one,\n"
       "each after a comment naming the certificate (subject, notAfter). Publish them in a signed\n"
       "zone, for upstreams with pins_from = \"dane\" (docs/dane.md).",
       {{"name", "NAME", "owner name: records go to _853._tcp.NAME (default: --sni, or HOST)"},
        {"sni", "NAME", "HOST:PORT: server name to send (default: --name, or HOST)"},
        {"ca-file", "FILE", "PEM CA bundle: PKIX-check a fetched chain, and build the path towards its anchors"}},
       1, 1, run_pin_tlsa},
      {"pins check", "FILE", "validate and lint a pin file",
       "Parses the pin file and reports every error with file:line, then lints it: single pin (no\n"
       "backup), no or one pin valid now, pin windows ending soon, report mode, duplicate addresses.\n"
       "With --ca-mode, an upstream without auth_name is an error (dotpind refuses it too).\n"
       "With --dane, each pins_from = \"dane\" upstream's TLSA RRset is looked up and validated as\n"
       "dotpind does (libunbound); an answer that is not secure, or has no usable record, is an error,\n"
       "and the TLSA pins are listed with the operator's.\n"
       "Exit status: 0 clean, 1 warnings only, 2 errors.",
       {{"warn-days", "DAYS", "warn about pin windows ending within DAYS days (default 30)"},
        {"at", "TIME", "lint as of TIME (2027-06-01 or 2027-06-01T00:00:00Z) instead of now"},
        {"ca-mode", "", "the resolver runs with a ca_file: every upstream needs auth_name (an error)"},
        {"dane", "", "look up and validate the TLSA records of DANE upstreams"},
        {"trust-anchor", "FILE", "--dane: DS or DNSKEY records to validate with (default: the root key)"},
        {"resolver", "IP[@PORT]", "--dane: forward to this recursive resolver (default: iterate)", true},
        {"stub", "ZONE=IP[@PORT]", "--dane: ask ZONE's server directly", true}},
       1, 1, run_pins_check},
      {"probe", "HOST:PORT QNAME [TYPE]", "send one query through the pinned DoT engine and print the answer",
       "Connects the way the resolver does (io_uring, wolfSSL, pins checked before any query is\n"
       "written), sends QNAME/TYPE (default A) with EDNS(0) padding, prints the answer like kdig.\n"
       "Exit 0 on an answer; 3 when the upstream is refused (pin, name, CA), with the observed pins;\n"
       "2 on other failures (refused connection, timeout). With --count: 0 only if every query was\n"
       "answered; every query is answered or SERVFAILed, none is lost.",
       {{"name", "AUTH_NAME", "authentication domain name: SNI and name check"},
        {"pin", "BASE64", "pin-sha256 of an acceptable key", true},
        {"ca", "FILE", "also validate the chain against this CA bundle (PKIX; needs --name)"},
        {"tls-min", "VERSION", "1.3: refuse TLS 1.2 (default 1.2, the strict suite list either way)"},
        {"suite-order", "ORDER", "auto, aes-gcm or chacha20: which AEAD to offer first (as [upstreams] suite_order)"},
        {"timeout", "SECONDS", "deadline for connect, handshake and each answer (default 5)"},
        {"count", "N", "send N queries, 256 in flight, and print a summary instead of the answer"}},
       2, 3, run_probe},
      {"status", "", "ask the running dotpind what it is: version, uptime, port, lcores, pin generation",
       "Connects to dotpind's control socket (--socket, else $DOTPIN_SOCKET, else\n"
       "/run/dotpin/dotpind.sock) and prints its status.",
       {{"socket", "PATH", "dotpind's control socket"}},
       0, 0, run_status},
      {"stats", "", "per-lcore packet counters and per-upstream statistics of the running dotpind",
       "Per lcore: packets, queries, cache hits and misses, forwarded and merged misses, SERVFAILs,\n"
       "ACL refusals, drops (by reason below the table) and cached entries; then per upstream: state,\n"
       "connections, queries, answers, timeouts, SERVFAILs, full handshakes, resumptions, latency\n"
       "(EWMA) and failures by reason, with the observed pins of the last refused chain.\n"
       "Counters are summed from per-lcore blocks; reading them never slows the lcores.",
       {{"view", "NAME", "the view (tenant) whose state this is: needed when dotpind has [[view]] sections"},
        {"socket", "PATH", "dotpind's control socket"}, {"upstream", "NAME", "only this upstream"}},
       0, 0, run_stats},
      {"upstreams", "", "the running dotpind's upstreams: state, traffic, failures by reason",
       "One line per pinned upstream (summed over the worker lcores): state (up, backing_off,\n"
       "pin_failed, drained), traffic, latency percentiles of answered queries, failures by reason.",
       {{"view", "NAME", "the view (tenant) whose state this is: needed when dotpind has [[view]] sections"},
        {"socket", "PATH", "dotpind's control socket"}},
       0, 0, run_upstreams},
      {"pins list", "", "the pins in force in the running dotpind, with labels, windows and state",
       "Shows the pin generation in force and every upstream's pins: label, pin-sha256, whether it\n"
       "is valid now (valid, not_yet, expired) and its window.",
       {{"view", "NAME", "the view (tenant) whose state this is: needed when dotpind has [[view]] sections"},
        {"socket", "PATH", "dotpind's control socket"}},
       0, 0, run_pins_list},
      {"pins reload", "[FILE]", "load the pin file (or FILE) into the running dotpind",
       "Validates the whole file first; any error (reported with file:line) rejects it and the pins\n"
       "in force stay. Otherwise the table is published to every lcore as a new generation: new\n"
       "connections use it, sessions of the old generation are not resumed, and established\n"
       "connections whose chain no longer matches are drained (in-flight queries answered) and\n"
       "re-established. With FILE, its content also replaces the configured pin file (atomically),\n"
       "so a restart keeps it. Like every pin change, refused when it would leave an enforcing\n"
       "upstream, or the whole pool, with no pin valid now (every connection refused) unless --force.",
       {{"view", "NAME", "the view (tenant) whose state this is: needed when dotpind has [[view]] sections"},
        {"socket", "PATH", "dotpind's control socket"},
        {"force", "", "load it even if an upstream or the pool would be left with no pin valid now"}},
       0, 1, run_pins_reload},
      {"pins add", "UPSTREAM PIN", "add a pin to an upstream of the running dotpind (and its pin file)",
       "PIN is an RFC 7469 pin-sha256 in base64 (dotpinctl pin compute/fetch prints it). The change\n"
       "is validated like a pin file, written to the pin file atomically (write, fsync, rename; the\n"
       "old file kept as FILE.prev), then published as a new generation. Use it to stage a key\n"
       "rollover: add the new key's pin before the server switches (docs/operations.md).",
       {{"view", "NAME", "the view (tenant) whose state this is: needed when dotpind has [[view]] sections"},
        {"socket", "PATH", "dotpind's control socket"},
        {"label", "LABEL", "name for messages and stats (letters, digits, - _ .)"},
        {"not-before", "DATE", "the pin counts from DATE (2027-03-01 or 2027-03-01T00:00:00Z)"},
        {"not-after", "DATE", "the pin stops counting at DATE (exclusive)"}},
       2, 2, run_pins_add},
      {"pins remove", "UPSTREAM PIN|LABEL", "remove a pin from an upstream of the running dotpind (and its pin file)",
       "Refuses to remove an upstream's only pin, and to leave an enforcing upstream (or the pool)\n"
       "with no pin valid now (every connection would be refused) unless --force. Connections\n"
       "authenticated by the removed pin are drained and re-established against the remaining ones.",
       {{"view", "NAME", "the view (tenant) whose state this is: needed when dotpind has [[view]] sections"},
        {"socket", "PATH", "dotpind's control socket"},
        {"force", "", "remove even if no pin valid now would remain"}},
       2, 2, run_pins_remove},
      {"pins accept", "UPSTREAM", "adopt the new key of a TOFU upstream (after a tofu_changed refusal)",
       "dotpind makes its own handshake to the upstream, checks it as it learns a key (PKIX with the\n"
       "CA file, the name, every learn_from address agreeing) and adopts the key only if it is the\n"
       "one you name with --pin: the observed pin of the tofu_changed log line or `upstreams`, which\n"
       "you have checked out of band. Written to the TOFU state file atomically (a view's own with\n"
       "[[view]] sections), then published.",
       {{"view", "NAME", "the view (tenant) whose state this is: needed when dotpind has [[view]] sections"},
        {"socket", "PATH", "dotpind's control socket"},
        {"pin", "PIN", "the pin-sha256 (base64) to accept (required); refused if the server presents another"}},
       1, 1, run_pins_accept},
      {"pins forget", "UPSTREAM", "drop the keys a TOFU upstream learned; it learns again on next contact",
       "Until it has learned again the upstream has only the pin file's pins (if any): with none,\n"
       "its connections are refused, so that case needs --force (and the next key it sees is\n"
       "trusted on first use: prefer `pins accept --pin` for a planned key change). Learning\n"
       "starts within a second.",
       {{"view", "NAME", "the view (tenant) whose state this is: needed when dotpind has [[view]] sections"},
        {"socket", "PATH", "dotpind's control socket"},
        {"force", "", "forget even if the upstream would be left with no pin valid now"}},
       1, 1, run_pins_forget},
      {"pins sources", "", "state of the pins taken from the network: TOFU learning, DANE refreshes",
       "One row per upstream with pins_from = \"tofu\" or \"dane\": its state, attempts, failures by\n"
       "reason, last success and the last explanation. With [[view]] sections: every view's (a VIEW\n"
       "column), or one view's with --view.",
       {{"view", "NAME", "only this view's (tenant's) upstreams"}, {"socket", "PATH", "dotpind's control socket"}},
       0, 0, run_pins_sources},
      {"cache flush", "[NAME]", "drop cached answers: all, or every type of one owner NAME",
       "Runs on every worker lcore (through its mailbox) and reports how many entries went. With\n"
       "[[view]] sections: one view's partition with --view, else every view's.",
       {{"view", "NAME", "the view (tenant) whose state this is: needed when dotpind has [[view]] sections"},
        {"socket", "PATH", "dotpind's control socket"}},
       0, 1, run_cache_flush},
      {"upstream drain", "NAME", "take an upstream out of rotation",
       "New queries go to the other upstreams of the pool; its open connections finish what they\n"
       "have in flight and close. Not persisted: a restart enables every upstream.",
       {{"view", "NAME", "the view (tenant) whose state this is: needed when dotpind has [[view]] sections"},
        {"socket", "PATH", "dotpind's control socket"}},
       1, 1, run_upstream_drain},
      {"upstream enable", "NAME", "put a drained upstream back into rotation", "",
       {{"view", "NAME", "the view (tenant) whose state this is: needed when dotpind has [[view]] sections"},
        {"socket", "PATH", "dotpind's control socket"}},
       1, 1, run_upstream_enable},
      {"expiry", "", "what will stop a pinned upstream, and when: certificates, pin windows, valid pins",
       "Per upstream: the server's certificate and the certificate whose key matched a pin (as\n"
       "dotpind's expiry monitor last fetched them), each valid pin's window, and how many pins are\n"
       "valid now. Warnings at the [expiry] warn_days thresholds (default 30 and 7 days) and for a\n"
       "single valid pin; errors for what has ended or no valid pin. Exit 0 all ok, 1 warnings,\n"
       "2 errors (or no daemon). With [[view]] sections upstreams are named VIEW/UPSTREAM; --view\n"
       "shows one view's.",
       {{"view", "NAME", "only the upstreams of this view (tenant)"},
        {"socket", "PATH", "dotpind's control socket"},
        {"refresh", "", "fetch every upstream's chain now instead of using the last check"}},
       0, 0, run_expiry},
      {"tlsa lookup", "NAME", "resolve and DNSSEC-validate the TLSA records of a DoT server (DANE)",
       "Queries _PORT._tcp.NAME TLSA (RFC 6698, 7671, 7673) through libunbound, validating from the\n"
       "trust anchor (default: the root key, /usr/share/dns/root.key from dns-root-data), and prints\n"
       "the status, owner, records (usage selector matching-type hex), TTL and the RRSIG window.\n"
       "Without --resolver it iterates from the root. Exit status: 0 secure, 4 bogus (with the\n"
       "reason), 5 insecure (unsigned, or outside every trust anchor), 6 missing (the signed zone\n"
       "proves there is no TLSA RRset), 2 no answer (SERVFAIL, timeout, unreachable resolver).",
       {{"port", "N", "the TLS port whose records to look up (default 853)"},
        {"trust-anchor", "FILE", "DS or DNSKEY records in zone-file format (default: the root key)"},
        {"resolver", "IP[@PORT]", "forward to this recursive resolver instead of iterating", true},
        {"stub", "ZONE=IP[@PORT]", "ask this server directly for ZONE (a private zone)", true},
        {"timeout", "MS", "deadline for the whole lookup in milliseconds (default 5000)"}},
       1, 1, run_tlsa_lookup},
      {"log level", "[LEVEL]", "show or set dotpind's log level (error, warn, info, debug)",
       "Connection failures and report-mode mismatches are warnings; pin changes, flushes and\n"
       "drains are info.",
       {{"socket", "PATH", "dotpind's control socket"}},
       0, 1, run_log_level},
  };
  return table;
}

const Command* find_command(std::string_view name) {
  for (const Command& c : command_table())
    if (c.name == name) return &c;
  return nullptr;
}

bool served_by_daemon(const Command& c) {
  return std::ranges::any_of(c.options, [](const OptionSpec& o) { return o.name == "socket"; });
}

std::string usage_line(const Command& c) {
  std::string s(c.name);
  for (const OptionSpec& o : c.options) {
    if (o.name == "socket") continue;
    s += " [--" + std::string(o.name) + (o.value_name.empty() ? "" : " " + std::string(o.value_name)) + "]";
  }
  if (!c.usage.empty()) s += " " + std::string(c.usage);
  return s;
}

namespace {

void print_usage(std::ostream& out) {
  out << "usage: dotpinctl [--json] COMMAND [ARGS...]\n\n"
         "dotpin's operator tool: compute and fetch SPKI pins, check pin files.\n\ncommands:\n";
  for (const Command& c : command_table()) {
    std::string head = "  " + std::string(c.name) + " " + std::string(c.usage);
    head.resize(std::max<std::size_t>(head.size() + 2, 28), ' ');
    out << head << c.summary << "\n";
  }
  out << "\nglobal options:\n  --json     machine-readable output\n  --help     help (also after a command)\n"
         "  --version  print the version\n";
}

void print_command_help(const Command& c, std::ostream& out) {
  out << "usage: dotpinctl " << c.name;
  if (!c.options.empty()) out << " [OPTIONS]";
  out << " " << c.usage << "\n\n" << c.summary << ".\n\n" << c.description << "\n\noptions:\n";
  for (const OptionSpec& o : c.options) {
    std::string head = "  --" + std::string(o.name);
    if (!o.value_name.empty()) head += " " + std::string(o.value_name);
    head.resize(std::max<std::size_t>(head.size() + 2, 26), ' ');
    out << head << o.help << (o.repeatable ? " (repeatable)" : "") << "\n";
  }
  out << "  --json                  machine-readable output\n  --help                  this help\n";
}

/// Reports a usage error in the requested format.
int usage_error(bool json, std::ostream& out, std::ostream& err, const std::string& msg, const Command* c) {
  if (json) {
    out << nlohmann::json{{"ok", false}, {"error", msg}}.dump() << "\n";
  } else {
    err << "dotpinctl: " << msg << "\n";
    err << (c ? "try 'dotpinctl " + std::string(c->name) + " --help'" : std::string("try 'dotpinctl --help'"))
        << "\n";
  }
  return kExitFailure;
}

}  // namespace

int run_cli(std::span<const std::string> argv, std::ostream& out, std::ostream& err) {
  bool json = std::ranges::find(argv, std::string("--json")) != argv.end();
  bool help = std::ranges::find(argv, std::string("--help")) != argv.end() ||
              std::ranges::find(argv, std::string("-h")) != argv.end();
  std::vector<std::string> words;
  for (const auto& a : argv)
    if (a != "--json" && a != "--help" && a != "-h") words.push_back(a);

  if (!words.empty() && words[0] == "--version") {
    out << (json ? nlohmann::json{{"version", DOTPIN_VERSION}}.dump() : "dotpinctl " DOTPIN_VERSION) << "\n";
    return kExitOk;
  }
  // Longest command name that prefixes the words ("pins check" before "pins").
  const Command* cmd = nullptr;
  std::size_t used = 0;
  for (const Command& c : command_table()) {
    std::vector<std::string> parts;
    std::string_view rest = c.name;
    while (!rest.empty()) {
      const auto sp = rest.find(' ');
      parts.emplace_back(rest.substr(0, sp));
      rest = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp + 1);
    }
    if (parts.size() <= words.size() && std::equal(parts.begin(), parts.end(), words.begin()) && parts.size() > used) {
      cmd = &c;
      used = parts.size();
    }
  }
  if (!cmd) {
    if (words.empty() || help) {
      print_usage(help ? out : err);
      return help ? kExitOk : kExitFailure;
    }
    // A known group with a missing or wrong verb gets the group's commands listed.
    std::string group = words[0];
    std::string known;
    for (const Command& c : command_table())
      if (std::string_view(c.name).starts_with(group + " ")) known += (known.empty() ? "" : ", ") + std::string(c.name);
    if (!known.empty()) {
      return usage_error(json, out, err,
                         words.size() > 1 ? "unknown command '" + group + " " + words[1] + "' (known: " + known + ")"
                                          : "'" + group + "' needs a command: " + known,
                         nullptr);
    }
    return usage_error(json, out, err, "unknown command '" + words[0] + "'", nullptr);
  }
  if (help) {
    print_command_help(*cmd, out);
    return kExitOk;
  }

  Invocation inv{{}, {}, json, out, err};
  for (std::size_t i = used; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (!w.starts_with("--") || w == "--") {
      if (w == "--") {
        for (++i; i < words.size(); ++i) inv.args.push_back(words[i]);
        break;
      }
      inv.args.push_back(w);
      continue;
    }
    std::string name = w.substr(2);
    std::optional<std::string> inline_value;
    if (const auto eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name.resize(eq);
    }
    const auto spec = std::ranges::find_if(cmd->options, [&](const OptionSpec& o) { return o.name == name; });
    if (spec == cmd->options.end()) return usage_error(json, out, err, "unknown option '--" + name + "'", cmd);
    if (inv.has(name) && !spec->repeatable) return usage_error(json, out, err, "--" + name + " given twice", cmd);
    std::string value;
    if (!spec->value_name.empty()) {
      if (inline_value) {
        value = *inline_value;
      } else if (i + 1 < words.size()) {
        value = words[++i];
      } else {
        return usage_error(json, out, err, "--" + name + " needs a value (" + std::string(spec->value_name) + ")", cmd);
      }
    } else if (inline_value) {
      return usage_error(json, out, err, "--" + name + " takes no value", cmd);
    }
    inv.options[name].push_back(std::move(value));
  }
  if (inv.args.size() < cmd->min_args)
    return usage_error(json, out, err, "missing argument: " + std::string(cmd->usage), cmd);
  if (inv.args.size() > cmd->max_args)
    return usage_error(json, out, err, "too many arguments (expected " + std::string(cmd->usage) + ")", cmd);
  try {
    return cmd->run(inv);
  } catch (const std::exception& e) {
    return usage_error(json, out, err, std::string("internal error: ") + e.what(), nullptr);
  }
}

}  // namespace dotpin::ctl
