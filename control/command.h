// SPDX-License-Identifier: Apache-2.0
/// @file command.h
/// @brief The dotpinctl command table: every command's name, usage, options and handler.
///
/// One table drives argument parsing, `--help` and dispatch in dotpinctl, and the daemon's checks:
/// the control server (control_server.h) checks every request for a command of this table against
/// its entry (arguments, options) before the handler runs, and dotpind registers a handler for
/// exactly the commands that take --socket (control_commands_test holds both lists equal).
#pragma once

#include <map>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dotpin::tls {
enum class SuiteOrder;  // tls/client_context.h
}

namespace dotpin::ctl {

/// Process exit codes shared by every command.
enum ExitCode : int {
  kExitOk = 0,
  kExitWarnings = 1,  ///< completed, with warnings (pins check)
  kExitFailure = 2,   ///< errors, bad usage, unreachable server...
  kExitPinRefused = 3,  ///< the presented chain does not satisfy the pin set (pin fetch --check)
  kExitDaneBogus = 4,     ///< tlsa lookup: the TLSA answer failed DNSSEC validation
  kExitDaneInsecure = 5,  ///< tlsa lookup: the answer is not DNSSEC-signed (no usable DANE)
  kExitDaneMissing = 6,   ///< tlsa lookup: the signed zone proves there is no TLSA RRset
};

struct OptionSpec {
  std::string_view name;        ///< without the leading "--"
  std::string_view value_name;  ///< empty for a flag; else shown in help ("FILE")
  std::string_view help;
  bool repeatable = false;
};

/// A parsed command line, handed to a command's handler with the streams to write to.
struct Invocation {
  std::vector<std::string> args;                            ///< positional arguments
  std::map<std::string, std::vector<std::string>> options;  ///< option -> values ("" for flags)
  bool json = false;
  std::ostream& out;
  std::ostream& err;

  [[nodiscard]] bool has(std::string_view name) const { return options.contains(std::string(name)); }
  [[nodiscard]] std::optional<std::string> value(std::string_view name) const;
  [[nodiscard]] std::vector<std::string> values(std::string_view name) const;
};

struct Command {
  std::string_view name;   ///< "pin compute"
  std::string_view usage;  ///< positional part: "FILE..."
  std::string_view summary;
  std::string_view description;
  std::vector<OptionSpec> options;
  std::size_t min_args = 0;
  std::size_t max_args = 0;  ///< SIZE_MAX for "any number"
  int (*run)(Invocation&) = nullptr;
};

/// Reports a failure in the invocation's format (stderr text, or {"ok":false,"error":...} on stdout
/// with --json) and returns kExitFailure. @p context prefixes the text form ("pin fetch").
int report_error(Invocation& inv, std::string_view context, const std::string& message);

/// The --suite-order option of the commands that connect (probe, pin fetch): @p order is left as
/// it is without the option; false when the value is not auto, aes-gcm or chacha20.
bool read_suite_order(const Invocation& inv, tls::SuiteOrder& order);
inline constexpr std::string_view kSuiteOrderUsage = "--suite-order must be auto, aes-gcm or chacha20";

/// Every command dotpinctl knows.
std::span<const Command> command_table();
/// The entry named @p name ("pins add"), or null.
const Command* find_command(std::string_view name);
/// Served by the running dotpind: the commands that take --socket.
bool served_by_daemon(const Command& c);
/// "pins add [--label LABEL] [--not-before DATE] [--not-after DATE] UPSTREAM PIN": the command with
/// its options (--socket left out) and positional part, for usage errors on both sides.
std::string usage_line(const Command& c);

/// Runs dotpinctl with @p argv (argv[0] excluded). Returns the exit code. Never throws.
int run_cli(std::span<const std::string> argv, std::ostream& out, std::ostream& err);

// Handlers, one file each.
int run_pin_compute(Invocation& inv);
int run_pin_fetch(Invocation& inv);
int run_pin_tlsa(Invocation& inv);
int run_pins_check(Invocation& inv);
int run_probe(Invocation& inv);
int run_status(Invocation& inv);
int run_stats(Invocation& inv);
int run_upstreams(Invocation& inv);
int run_pins_list(Invocation& inv);
int run_pins_reload(Invocation& inv);
int run_pins_add(Invocation& inv);
int run_pins_remove(Invocation& inv);
int run_pins_accept(Invocation& inv);
int run_pins_forget(Invocation& inv);
int run_pins_sources(Invocation& inv);
int run_cache_flush(Invocation& inv);
int run_upstream_drain(Invocation& inv);
int run_upstream_enable(Invocation& inv);
int run_log_level(Invocation& inv);
int run_expiry(Invocation& inv);
int run_tlsa_lookup(Invocation& inv);

}  // namespace dotpin::ctl
