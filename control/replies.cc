// SPDX-License-Identifier: Apache-2.0
#include "control/replies.h"

#include "tls/upstream_stats.h"

namespace dotpin::ctl {
namespace {
// j.at(): a missing field throws nlohmann's out_of_range naming it; the client reports it.
template <class T>
void get(const nlohmann::json& j, const char* key, T& out) {
  j.at(key).get_to(out);
}
template <class T>
void get(const nlohmann::json& j, const char* key, std::optional<T>& out) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) out.reset();
  else out = it->get<T>();
}
}  // namespace

void to_json(nlohmann::json& j, const ViewReply& r) {
  j = {{"name", r.name},
       {"vlan", r.vlan ? nlohmann::json(*r.vlan) : nlohmann::json(nullptr)},
       {"clients", r.clients},
       {"pin_file", r.pin_file},
       {"policy", r.policy},
       {"pin_generation", r.pin_generation},
       {"upstreams", r.upstreams},
       {"counters", r.counters},
       {"cache", {{"entries", r.cache_entries}, {"bytes", r.cache_bytes}, {"evictions", r.cache_evictions}}}};
}
void from_json(const nlohmann::json& j, ViewReply& r) {
  get(j, "name", r.name);
  if (const auto& v = j.at("vlan"); !v.is_null()) r.vlan = v.get<std::uint64_t>();
  get(j, "clients", r.clients);
  get(j, "pin_file", r.pin_file);
  get(j, "policy", r.policy);
  get(j, "pin_generation", r.pin_generation);
  get(j, "upstreams", r.upstreams);
  get(j, "counters", r.counters);
  const auto& c = j.at("cache");
  get(c, "entries", r.cache_entries);
  get(c, "bytes", r.cache_bytes);
  get(c, "evictions", r.cache_evictions);
}

void to_json(nlohmann::json& j, const StatusReply& r) {
  j = {{"version", r.version},
       {"started_at", r.started_at},
       {"uptime_s", r.uptime_s},
       {"worker_lcores", r.worker_lcores},
       {"port", {{"name", r.port.name}, {"mac", r.port.mac}, {"queues", r.port.queues}, {"rss", r.port.rss}}},
       {"pin_generation", r.pin_generation},
       {"pin_file", r.pin_file},
       {"upstreams", r.upstreams},
       {"views", r.views}};
}
void from_json(const nlohmann::json& j, StatusReply& r) {
  get(j, "version", r.version);
  get(j, "started_at", r.started_at);
  get(j, "uptime_s", r.uptime_s);
  get(j, "worker_lcores", r.worker_lcores);
  const auto& p = j.at("port");
  get(p, "name", r.port.name);
  get(p, "mac", r.port.mac);
  get(p, "queues", r.port.queues);
  get(p, "rss", r.port.rss);
  get(j, "pin_generation", r.pin_generation);
  get(j, "pin_file", r.pin_file);
  get(j, "upstreams", r.upstreams);
  get(j, "views", r.views);
}

void to_json(nlohmann::json& j, const LatencySummary& r) {
  j = {{"samples", r.samples}, {"p50_ms", r.p50_ms},   {"p90_ms", r.p90_ms},
       {"p99_ms", r.p99_ms},   {"p999_ms", r.p999_ms}, {"max_ms", r.max_ms}};
}
void from_json(const nlohmann::json& j, LatencySummary& r) {
  get(j, "samples", r.samples);
  get(j, "p50_ms", r.p50_ms);
  get(j, "p90_ms", r.p90_ms);
  get(j, "p99_ms", r.p99_ms);
  get(j, "p999_ms", r.p999_ms);
  get(j, "max_ms", r.max_ms);
}

std::uint64_t UpstreamReply::counter(const std::string& key) const {
  const auto it = counters.find(key);
  return it == counters.end() ? 0 : it->second;
}

// Counters sit at the top level of the upstream object, one key per field-table entry.
void to_json(nlohmann::json& j, const UpstreamReply& r) {
  j = {{"name", r.name}, {"address", r.address}, {"auth_name", r.auth_name}, {"mode", r.mode}, {"state", r.state}};
  for (const auto& f : tls::kUpstreamCounters) j[std::string(f.name)] = r.counter(std::string(f.name));
  j["rtt_ewma_ms"] = r.rtt_ewma_ms;
  j["latency"] = r.latency;
  j["failures"] = r.failures;
  if (r.last_refusal) j["last_refusal"] = *r.last_refusal;
}
void from_json(const nlohmann::json& j, UpstreamReply& r) {
  get(j, "name", r.name);
  get(j, "address", r.address);
  get(j, "auth_name", r.auth_name);
  get(j, "mode", r.mode);
  get(j, "state", r.state);
  r.counters.clear();
  for (const auto& f : tls::kUpstreamCounters) get(j, std::string(f.name).c_str(), r.counters[std::string(f.name)]);
  get(j, "rtt_ewma_ms", r.rtt_ewma_ms);
  get(j, "latency", r.latency);
  get(j, "failures", r.failures);
  get(j, "last_refusal", r.last_refusal);
}

void to_json(nlohmann::json& j, const UpstreamsReply& r) {
  j = {{"pin_generation", r.pin_generation}, {"upstreams", r.upstreams}};
}
void from_json(const nlohmann::json& j, UpstreamsReply& r) {
  get(j, "pin_generation", r.pin_generation);
  get(j, "upstreams", r.upstreams);
}

template <class T>
nlohmann::json or_null(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

void to_json(nlohmann::json& j, const LcoreReply& r) {
  j = {{"lcore", r.lcore},
       {"queue", r.queue},
       {"counters", r.counters},
       {"drops", r.drops},
       {"inflight", r.inflight},
       {"cache",
        {{"entries", r.cache.entries},
         {"bytes", r.cache.bytes},
         {"hits", r.cache.hits},
         {"misses", r.cache.misses},
         {"evictions", r.cache.evictions},
         {"expired", r.cache.expired}}},
       {"published", r.published},
       {"running", r.running},
       {"cycles",
        {{"busy", r.cycles.busy},
         {"idle", r.cycles.idle},
         {"busy_passes", r.cycles.busy_passes},
         {"idle_passes", r.cycles.idle_passes}}}};
}
void from_json(const nlohmann::json& j, LcoreReply& r) {
  get(j, "lcore", r.lcore);
  get(j, "queue", r.queue);
  get(j, "counters", r.counters);
  get(j, "drops", r.drops);
  get(j, "inflight", r.inflight);
  const auto& c = j.at("cache");
  get(c, "entries", r.cache.entries);
  get(c, "bytes", r.cache.bytes);
  get(c, "hits", r.cache.hits);
  get(c, "misses", r.cache.misses);
  get(c, "evictions", r.cache.evictions);
  get(c, "expired", r.cache.expired);
  get(j, "published", r.published);
  get(j, "running", r.running);
  const auto& y = j.at("cycles");
  get(y, "busy", r.cycles.busy);
  get(y, "idle", r.cycles.idle);
  get(y, "busy_passes", r.cycles.busy_passes);
  get(y, "idle_passes", r.cycles.idle_passes);
}

// The upstream part at the top level, as `upstreams` has it, so either reply reads the other's.
void to_json(nlohmann::json& j, const LimitedPrefixReply& r) { j = {{"prefix", r.prefix}, {"limited", r.limited}}; }
void from_json(const nlohmann::json& j, LimitedPrefixReply& r) {
  get(j, "prefix", r.prefix);
  get(j, "limited", r.limited);
}

void to_json(nlohmann::json& j, const TcpReply& r) {
  j = {{"enabled", r.enabled}, {"active", r.active}, {"counters", r.counters}};
}
void from_json(const nlohmann::json& j, TcpReply& r) {
  get(j, "enabled", r.enabled);
  get(j, "active", r.active);
  get(j, "counters", r.counters);
}

void to_json(nlohmann::json& j, const StatsReply& r) {
  j = r.upstreams;
  j["tsc_hz"] = r.tsc_hz;
  j["lcores"] = r.lcores;
  j["totals"] = {{"counters", r.total_counters}, {"drops", r.total_drops}};
  j["port"] = r.port;
  j["ratelimit_top"] = r.ratelimit_top;
  j["tcp"] = r.tcp;
  j["dot"] = r.dot;
  j["views"] = r.views;
}
void from_json(const nlohmann::json& j, StatsReply& r) {
  j.get_to(r.upstreams);
  get(j, "tsc_hz", r.tsc_hz);
  get(j, "lcores", r.lcores);
  const auto& t = j.at("totals");
  get(t, "counters", r.total_counters);
  get(t, "drops", r.total_drops);
  get(j, "port", r.port);
  if (j.contains("ratelimit_top")) get(j, "ratelimit_top", r.ratelimit_top);
  if (j.contains("tcp")) get(j, "tcp", r.tcp);
  if (j.contains("dot")) get(j, "dot", r.dot);
  get(j, "views", r.views);
}

void to_json(nlohmann::json& j, const PinReply& r) {
  j = {{"sha256", r.sha256},
       {"label", r.label},
       {"state", r.state},
       {"not_before", or_null(r.not_before)},
       {"not_after", or_null(r.not_after)},
       {"line", r.line},
       {"origin", r.origin},
       {"scope", r.scope},
       {"form", r.form},
       {"digest_hex", or_null(r.digest_hex)},
       {"learned_at", or_null(r.learned_at)},
       {"learned_from", or_null(r.learned_from)}};
}
void from_json(const nlohmann::json& j, PinReply& r) {
  get(j, "sha256", r.sha256);
  get(j, "label", r.label);
  get(j, "state", r.state);
  get(j, "not_before", r.not_before);
  get(j, "not_after", r.not_after);
  get(j, "line", r.line);
  get(j, "origin", r.origin);
  get(j, "scope", r.scope);
  get(j, "form", r.form);
  get(j, "digest_hex", r.digest_hex);
  get(j, "learned_at", r.learned_at);
  get(j, "learned_from", r.learned_from);
}

void to_json(nlohmann::json& j, const UpstreamPinsReply& r) {
  j = {{"name", r.name},          {"address", r.address}, {"auth_name", r.auth_name}, {"mode", r.mode},
       {"pins_from", r.pins_from}, {"valid_pins", r.valid_pins}, {"pins", r.pins}};
}
void from_json(const nlohmann::json& j, UpstreamPinsReply& r) {
  get(j, "name", r.name);
  get(j, "address", r.address);
  get(j, "auth_name", r.auth_name);
  get(j, "mode", r.mode);
  get(j, "pins_from", r.pins_from);
  get(j, "valid_pins", r.valid_pins);
  get(j, "pins", r.pins);
}

void to_json(nlohmann::json& j, const SourceStatusReply& r) {
  j = {{"upstream", r.upstream},
       {"source", r.source},
       {"state", r.state},
       {"detail", r.detail},
       {"last_attempt", or_null(r.last_attempt)},
       {"last_success", or_null(r.last_success)},
       {"attempts", r.attempts},
       {"successes", r.successes},
       {"failures", r.failures},
       {"last_ms", r.last_ms},
       {"last_cpu_ms", r.last_cpu_ms},
       {"rrsig_expiration", or_null(r.rrsig_expiration)},
       {"ttl", r.ttl},
       {"records", r.records}};
  if (r.view) j["view"] = *r.view;
}
void from_json(const nlohmann::json& j, SourceStatusReply& r) {
  get(j, "view", r.view);
  get(j, "upstream", r.upstream);
  get(j, "source", r.source);
  get(j, "state", r.state);
  get(j, "detail", r.detail);
  get(j, "last_attempt", r.last_attempt);
  get(j, "last_success", r.last_success);
  get(j, "attempts", r.attempts);
  get(j, "successes", r.successes);
  get(j, "failures", r.failures);
  get(j, "last_ms", r.last_ms);
  get(j, "last_cpu_ms", r.last_cpu_ms);
  get(j, "rrsig_expiration", r.rrsig_expiration);
  get(j, "ttl", r.ttl);
  get(j, "records", r.records);
}
void to_json(nlohmann::json& j, const PinSourcesReply& r) { j = {{"upstreams", r.upstreams}}; }
void from_json(const nlohmann::json& j, PinSourcesReply& r) { get(j, "upstreams", r.upstreams); }

void to_json(nlohmann::json& j, const PinsReply& r) {
  j = {{"generation", r.generation},
       {"published_at", r.published_at},
       {"source", r.source},
       {"pin_file", r.pin_file},
       {"upstreams", r.upstreams}};
}
void from_json(const nlohmann::json& j, PinsReply& r) {
  get(j, "generation", r.generation);
  get(j, "published_at", r.published_at);
  get(j, "source", r.source);
  get(j, "pin_file", r.pin_file);
  get(j, "upstreams", r.upstreams);
}

void to_json(nlohmann::json& j, const ExpiryItemReply& r) {
  j = {{"upstream", r.upstream},
       {"kind", r.kind},
       {"item", r.item},
       {"not_after", or_null(r.not_after)},
       {"days_left", or_null(r.days_left)},
       {"status", r.status},
       {"threshold_days", or_null(r.threshold_days)},
       {"message", r.message}};
}
void from_json(const nlohmann::json& j, ExpiryItemReply& r) {
  get(j, "upstream", r.upstream);
  get(j, "kind", r.kind);
  get(j, "item", r.item);
  get(j, "not_after", r.not_after);
  get(j, "days_left", r.days_left);
  get(j, "status", r.status);
  get(j, "threshold_days", r.threshold_days);
  get(j, "message", r.message);
}

void to_json(nlohmann::json& j, const ExpiryReply& r) {
  j = {{"items", r.items}, {"warnings", r.warnings}, {"errors", r.errors}};
}
void from_json(const nlohmann::json& j, ExpiryReply& r) {
  get(j, "items", r.items);
  get(j, "warnings", r.warnings);
  get(j, "errors", r.errors);
}

void to_json(nlohmann::json& j, const PinChangeReply& r) {
  j = {{"generation", r.generation},
       {"pin_file", r.pin_file},
       {"change", r.change},
       {"adopted_by_all_lcores", r.adopted_by_all_lcores}};
  if (r.warning) j["warning"] = *r.warning;
  j["forced"] = r.forced;
  j["warnings"] = r.warnings;
}
void from_json(const nlohmann::json& j, PinChangeReply& r) {
  get(j, "generation", r.generation);
  get(j, "pin_file", r.pin_file);
  get(j, "change", r.change);
  get(j, "adopted_by_all_lcores", r.adopted_by_all_lcores);
  get(j, "warning", r.warning);
  get(j, "forced", r.forced);
  get(j, "warnings", r.warnings);
}

void to_json(nlohmann::json& j, const CacheFlushReply& r) {
  j = {{"name", r.name ? nlohmann::json(*r.name) : nlohmann::json(nullptr)}, {"removed", r.removed}, {"lcores", r.lcores}};
}
void from_json(const nlohmann::json& j, CacheFlushReply& r) {
  get(j, "name", r.name);
  get(j, "removed", r.removed);
  get(j, "lcores", r.lcores);
}

void to_json(nlohmann::json& j, const UpstreamStateReply& r) { j = {{"upstream", r.upstream}, {"state", r.state}}; }
void from_json(const nlohmann::json& j, UpstreamStateReply& r) {
  get(j, "upstream", r.upstream);
  get(j, "state", r.state);
}

void to_json(nlohmann::json& j, const LogLevelReply& r) { j = {{"level", r.level}, {"previous", r.previous}}; }
void from_json(const nlohmann::json& j, LogLevelReply& r) {
  get(j, "level", r.level);
  get(j, "previous", r.previous);
}

}  // namespace dotpin::ctl

// The port's counters are the data plane's own struct (found by ADL in its namespace).
namespace dotpin::dataplane {
using ctl::get;
using ctl::or_null;

void to_json(nlohmann::json& j, const PortStats::Queue& q) {
  j = {{"queue", q.queue}, {"rx_packets", q.rx_packets}, {"tx_packets", q.tx_packets}, {"rx_errors", q.rx_errors}};
}
void from_json(const nlohmann::json& j, PortStats::Queue& q) {
  get(j, "queue", q.queue);
  get(j, "rx_packets", q.rx_packets);
  get(j, "tx_packets", q.tx_packets);
  get(j, "rx_errors", q.rx_errors);
}
void to_json(nlohmann::json& j, const PortStats& r) {
  j = {{"available", r.available},   {"rx_packets", r.rx_packets}, {"tx_packets", r.tx_packets},
       {"rx_missed", r.rx_missed},   {"rx_errors", r.rx_errors},   {"rx_nombuf", r.rx_nombuf},
       {"tx_errors", r.tx_errors},   {"queues", r.queues},         {"kernel_interface", r.kernel_interface},
       {"kernel_tx_dropped", or_null(r.kernel_tx_dropped)}, {"kernel_rx_dropped", or_null(r.kernel_rx_dropped)}};
}
void from_json(const nlohmann::json& j, PortStats& r) {
  get(j, "available", r.available);
  get(j, "rx_packets", r.rx_packets);
  get(j, "tx_packets", r.tx_packets);
  get(j, "rx_missed", r.rx_missed);
  get(j, "rx_errors", r.rx_errors);
  get(j, "rx_nombuf", r.rx_nombuf);
  get(j, "tx_errors", r.tx_errors);
  get(j, "queues", r.queues);
  get(j, "kernel_interface", r.kernel_interface);
  get(j, "kernel_tx_dropped", r.kernel_tx_dropped);
  get(j, "kernel_rx_dropped", r.kernel_rx_dropped);
}

}  // namespace dotpin::dataplane

