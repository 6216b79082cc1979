// SPDX-License-Identifier: Apache-2.0
// dotpind: the appliance. Parses its arguments, reads the config, initialises EAL, assembles the
// appliance, serves the control socket on its own thread, waits for SIGTERM/SIGINT, and prints the
// shutdown summary. The per-lcore loop is in dataplane/worker.cc; nothing here runs per packet.
#include <rte_eal.h>
#include <rte_errno.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "control/control_server.h"
#include "control/daemon_admin.h"
#include "control/daemon_commands.h"
#include "control/daemon_log.h"
#include "control/expiry.h"
#include "control/dane_lookup.h"
#include "control/pin_publisher.h"
#include "control/pin_source_threads.h"
#include "control/pin_sources.h"
#include "control/view_expiry.h"
#include "control/view_prefix.h"
#include "control/tofu_learner.h"
#include "control/tofu_state.h"
#include "pinning/pin_lint.h"
#include "control/metrics.h"
#include "dataplane/appliance.h"
#include "control/daemon_config.h"
#include "dotpin_version.h"
#include "pinning/pin_file.h"
#include "pinning/pin_store.h"
#include "common/time_util.h"

namespace {

volatile std::sig_atomic_t g_signal = 0;
void on_signal(int sig) { g_signal = sig; }

void log_line(std::string_view line) { dotpin::ctl::log_info(line); }

int usage(int status) {
  std::fprintf(status == 0 ? stdout : stderr,
               "usage: dotpind --config FILE [--check] [-- EAL-ARGS...]\n"
               "  --config FILE  the daemon's TOML configuration (docs/config.md)\n"
               "  --check        validate the config and its pin file, then exit (0 ok, 1 errors)\n"
               "  EAL-ARGS       appended to [dpdk] eal_args (e.g. --file-prefix, --log-level)\n"
               "Stops on SIGTERM or SIGINT: queries in flight get up to [daemon] drain_ms to be answered.\n");
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  bool check_only = false;
  std::vector<std::string> extra_eal;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--config" && i + 1 < argc) config_path = argv[++i];
    else if (a == "--check") check_only = true;
    else if (a == "--help" || a == "-h") return usage(0);
    else if (a == "--version") {
      std::printf("dotpind %s\n", DOTPIN_VERSION);
      return 0;
    } else if (a == "--") {
      for (++i; i < argc; ++i) extra_eal.emplace_back(argv[i]);
    } else {
      std::fprintf(stderr, "dotpind: unknown argument '%s'\n", a.c_str());
      return usage(2);
    }
  }
  if (config_path.empty()) return usage(2);

  auto loaded = dotpin::ctl::load_config(config_path);
  if (!loaded.config) {
    for (const auto& d : loaded.errors) std::fprintf(stderr, "%s\n", d.to_string().c_str());
    std::fprintf(stderr, "dotpind: %s rejected (%zu error%s); nothing started\n", config_path.c_str(),
                 loaded.errors.size(), loaded.errors.size() == 1 ? "" : "s");
    return 1;
  }
  auto config = std::move(*loaded.config);
  const auto& ctl = config.control;
  dotpin::ctl::DaemonLog::instance().set_level(ctl.log_level);
  const auto& views = config.dataplane.views;
  const bool with_views = config.dataplane.explicit_views;
  // With views, keys learned before them stay in [tofu] state_file, which no view reads: refuse
  // to start over rather than learn them all again on first use.
  std::vector<std::string> view_state_files;
  for (const auto& v : views) view_state_files.push_back(v.tofu_state_file);
  if (with_views) {
    if (auto migrated = dotpin::ctl::check_state_file_migrated(ctl.tofu_state_file, view_state_files); !migrated) {
      std::fprintf(stderr, "dotpind: %s\n", migrated.error().c_str());
      return 1;
    }
    for (const auto& orphan : dotpin::ctl::orphaned_view_state_files(ctl.tofu_state_file, view_state_files))
      dotpin::ctl::log_warn("TOFU state file " + orphan +
                            " belongs to no view (a view renamed or removed?): its keys are not used; a renamed view "
                            "learns its keys again unless the file is moved to the view's tofu_state_file");
  }
  if (check_only) {
    std::size_t upstreams = 0;
    for (const auto& v : views) {
      const auto pins = dotpin::load_pin_file(v.pin_file);
      if (!pins.table) {
        for (const auto& d : pins.errors) std::fprintf(stderr, "%s\n", d.to_string().c_str());
        return 1;
      }
      const auto trust = dotpin::trust_profile_errors(*pins.table, !v.ca_file.empty());
      for (const auto& d : trust) std::fprintf(stderr, "%s\n", d.to_string().c_str());
      if (!trust.empty()) return 1;
      if (const auto tofu = dotpin::ctl::load_tofu_state(v.tofu_state_file); !tofu) {
        std::fprintf(stderr, "%sTOFU state file: %s\n", dotpin::ctl::view_prefix(v.name, with_views).c_str(),
                     tofu.error().c_str());
        return 1;
      }
      upstreams += pins.table->upstreams.size();
    }
    std::printf("%s: ok (%zu upstream%s pinned%s)\n", config_path.c_str(), upstreams, upstreams == 1 ? "" : "s",
                with_views ? (" in " + std::to_string(views.size()) + " views").c_str() : "");
    return 0;
  }

  std::vector<std::string> eal = {"dotpind"};
  eal.insert(eal.end(), config.dataplane.eal_args.begin(), config.dataplane.eal_args.end());
  eal.insert(eal.end(), extra_eal.begin(), extra_eal.end());
  std::vector<char*> eal_argv;
  for (auto& s : eal) eal_argv.push_back(s.data());
  if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
    std::fprintf(stderr, "dotpind: EAL initialisation failed: %s (arguments:", std::strerror(rte_errno));
    for (const auto& s : eal) std::fprintf(stderr, " %s", s.c_str());
    std::fprintf(stderr, ")\n");
    return 1;
  }

  int status = 0;
  {
    // The control plane owns the pin store: it loads the file, numbers generations, and feeds them
    // to the data plane.
    // One store and publisher per view: each view's pins are numbered and published on their own.
    std::vector<std::unique_ptr<dotpin::PinStore>> stores;
    std::vector<std::unique_ptr<dotpin::ctl::PinPublisher>> publishers;
    std::vector<std::shared_ptr<const dotpin::PinSnapshot>> first;
    for (std::size_t i = 0; i < views.size(); ++i) {
      const auto& v = views[i];
      const bool ca_mode = !v.ca_file.empty();
      const std::string who = dotpin::ctl::view_prefix(v.name, with_views);
      stores.push_back(std::make_unique<dotpin::PinStore>());
      dotpin::ctl::PinPublisher::Options po{v.pin_file, ca_mode, v.tofu_state_file};
      po.view = i;
      publishers.push_back(std::make_unique<dotpin::ctl::PinPublisher>(*stores.back(), po));
      dotpin::FilePinSource source(v.pin_file, ca_mode);
      std::vector<dotpin::Diagnostic> errors;
      auto table = source.load(errors);
      if (!table) {
        std::string text = who + "pin file rejected:";
        for (const auto& d : errors) text += "\n  " + d.to_string();
        log_line(text);
        rte_eal_cleanup();
        return 1;
      }
      // Keys learned on first use are enforced from the first generation on: a state file that
      // cannot be read stops dotpind rather than opening the first-use window again.
      auto tofu = dotpin::ctl::load_tofu_state(v.tofu_state_file);
      if (!tofu) {
        log_line(who + "TOFU state file: " + tofu.error());
        rte_eal_cleanup();
        return 1;
      }
      if (auto started = publishers.back()->start(std::move(*table), std::move(*tofu), dotpin::now_utc()); !started) {
        log_line(who + started.error());
        rte_eal_cleanup();
        return 1;
      }
      first.push_back(stores.back()->current());
    }
    // The appliance logs connection failures and report-mode mismatches: warnings.
    const auto view_configs = views;  // the appliance takes the config; the control plane keeps the views'
    const auto min_version = config.dataplane.tls_min_version;
    const auto suite_order = config.dataplane.suite_order;
    auto appliance = dotpin::dataplane::Appliance::create(std::move(config.dataplane), first, dotpin::ctl::log_warn);
    if (!appliance) {
      log_line(appliance.error());
      rte_eal_cleanup();
      return 1;
    }
    auto& a = **appliance;
    std::signal(SIGTERM, on_signal);
    std::signal(SIGINT, on_signal);
    std::signal(SIGPIPE, SIG_IGN);
    dotpin::ctl::ControlServer::Options control;
    control.path = ctl.socket;
    control.group = ctl.group;
    control.warn = dotpin::ctl::log_warn;  // clients closed for a deadline or evicted: counts, rate-limited
    auto server = dotpin::ctl::ControlServer::open(control);
    if (!server) {
      log_line("control socket: " + server.error());
      status = 1;
    } else if (auto started = a.start(); !started) {
      log_line(started.error());
      status = 1;
    } else {
      for (auto& p : publishers) p->attach(a);
      // Each view learns and looks up its own pins: its own learner (its CA file), publisher and
      // TOFU state file; all of them on two threads (pin_source_threads.h).
      dotpin::ctl::PinSources::Options so;
      so.alert_command = ctl.alert_command;
      so.dane_refresh_min = ctl.dane_refresh_min;
      so.dane_refresh_max = ctl.dane_refresh_max;
      so.dane_retry = ctl.dane_retry;
      so.dane_stale = ctl.dane_stale;
      // One validating resolver for every view, on the DANE thread (a libunbound context is used by
      // one thread), made at its first lookup; a configuration it refuses is each lookup's error.
      // Sharing it is safe: only DNSSEC-secure answers yield pins, whoever asked first.
      dotpin::dane::DaneLookupOptions dane_options;
      dane_options.trust_anchor_file = ctl.dane_trust_anchor_file;
      dane_options.resolvers = ctl.dane_resolvers;
      dane_options.stubs = ctl.dane_stubs;
      dane_options.timeout = ctl.dane_timeout;
      auto resolver = std::make_shared<std::optional<dotpin::dane::DaneLookup>>();
      auto dane_fn = [resolver, dane_options](std::string_view auth_name, std::uint16_t port)
          -> dotpin::Result<dotpin::dane::DaneAnswer> {
        if (!*resolver) {
          auto made = dotpin::dane::DaneLookup::create(dane_options);
          if (!made) return dotpin::Error{"[dane]: " + made.error()};
          resolver->emplace(std::move(*made));
        }
        return (*resolver)->lookup(auth_name, port);
      };
      std::vector<std::unique_ptr<dotpin::ctl::PinSources>> sources;
      for (std::size_t i = 0; i < view_configs.size(); ++i) {
        dotpin::ctl::TofuLearner::Options lo;
        lo.ca_file = view_configs[i].ca_file;
        lo.min_version = min_version;
        lo.timeout = ctl.tofu_probe_timeout;
        auto learner = dotpin::ctl::TofuLearner::create(lo);
        if (!learner) {
          log_line(dotpin::ctl::view_prefix(view_configs[i].name, with_views) + learner.error());
          status = 1;  // the data plane's own CA load succeeded, so this is rare
          break;
        }
        so.view = with_views ? view_configs[i].name : "";
        sources.push_back(std::make_unique<dotpin::ctl::PinSources>(so, *publishers[i], std::move(*learner),
                                                                    dotpin::ctl::log_info, dotpin::ctl::log_warn, dane_fn));
      }
      if (status != 0) {
        a.stop();
        std::fputs(a.summary().c_str(), stderr);
        rte_eal_cleanup();
        return status;
      }
      std::vector<dotpin::ctl::PinSources*> by_view_sources;
      for (auto& s : sources) by_view_sources.push_back(s.get());
      const dotpin::ctl::SourceList source_list(by_view_sources.begin(), by_view_sources.end());  // read-only
      dotpin::ctl::PinSourceThreads source_threads(by_view_sources);
      const auto facts = a.views();
      dotpin::ctl::register_daemon_commands(**server, a, facts[0].pin_file);
      std::vector<dotpin::ctl::PinPublisher*> by_view;
      for (auto& p : publishers) by_view.push_back(p.get());
      dotpin::ctl::DaemonAdmin admin(a, by_view, by_view_sources);
      admin.register_commands(**server);
      dotpin::ctl::ExpiryMonitor::Options eo;
      eo.warn_days = ctl.expiry_warn_days;
      eo.interval = ctl.expiry_interval;
      eo.probe_timeout = ctl.expiry_probe_timeout;
      eo.ca_file = view_configs[0].ca_file;
      eo.min_version = min_version;
      eo.alert_command = ctl.alert_command;
      dotpin::ctl::ExpiryMonitor expiry(
          eo, with_views ? dotpin::ctl::every_view_pins(a) : dotpin::ctl::ExpiryMonitor::PinsFn([&a] { return a.pins(); }),
          dotpin::ctl::log_warn,
          with_views ? dotpin::ctl::every_view_probe(view_configs, eo.probe_timeout, min_version)
                     : dotpin::ctl::ExpiryMonitor::ProbeFn{});
      dotpin::ctl::register_expiry_command(**server, expiry, &a);
      (*server)->start();
      expiry.start();
      source_threads.start();
      std::unique_ptr<dotpin::ctl::MetricsServer> metrics;
      if (!ctl.metrics.empty()) {
        auto m = dotpin::ctl::MetricsServer::start(ctl.metrics, a, &expiry, source_list, server->get());
        if (m) {
          metrics = std::move(*m);
          log_line("metrics on http://" + ctl.metrics + "/metrics");
        } else {
          log_line("metrics: " + m.error() + " (continuing without /metrics)");
        }
      }
      char mac[18];
      const auto port = a.port();
      const auto& m = port.mac;
      std::snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
      log_line("ready: " + std::to_string(a.worker_count()) + " worker lcore(s) on port " + port.name + " (MAC " + mac +
               (port.rss ? ", RSS" : "") + ")");
      log_line("upstream TLS: " + dotpin::tls::describe_suite_order(suite_order));
      log_line("control socket " + control.path + (control.group.empty() ? " (mode 0600)" : " (mode 0660, group " + control.group + ")"));
      while (g_signal == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      log_line(std::string("signal ") + std::to_string(g_signal) + ": stopping");
      (*server)->stop();
      source_threads.stop();
      expiry.stop();
    }
    a.stop();
    std::fputs(a.summary().c_str(), stderr);
  }
  rte_eal_cleanup();
  return status;
}
