// SPDX-License-Identifier: Apache-2.0
#include "bench/loadgen/run_stats.h"

#include <sys/resource.h>

#include <cstdio>
#include <iomanip>

#include "common/dns_wire.h"

namespace dotpin::bench {
namespace {

double ms(std::uint64_t ns) { return static_cast<double>(ns) / 1e6; }

constexpr std::pair<const char*, double> kQuantiles[] = {{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"p99.9", 0.999}};

}  // namespace

double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::string progress_line(const RunStats& s, double elapsed) {
  char buf[160];
  const double lost = s.sent ? 100.0 * static_cast<double>(s.lost()) / static_cast<double>(s.sent) : 0;
  std::snprintf(buf, sizeof buf, "%6.1f s  sent %10llu  answered %10llu  rate %9.0f q/s  outstanding %6llu (%.2f %%)",
                elapsed, static_cast<unsigned long long>(s.sent), static_cast<unsigned long long>(s.answered),
                elapsed > 0 ? static_cast<double>(s.answered) / elapsed : 0.0, static_cast<unsigned long long>(s.lost()), lost);
  return buf;
}

void print_summary(std::ostream& out, const RunStats& s) {
  out << std::fixed << std::setprecision(3);
  out << "dotpin-bench " << s.mode << " -> " << s.target << "\n"
      << "  sent " << s.sent << ", answered " << s.answered << ", lost " << s.lost();
  if (s.sent) out << " (" << 100.0 * static_cast<double>(s.lost()) / static_cast<double>(s.sent) << " %)";
  out << "\n  " << std::setprecision(0) << s.qps() << " answers/s over " << std::setprecision(3) << s.seconds << " s; "
      << "CPU " << s.cpu_seconds << " s";
  if (s.answered) out << " (" << std::setprecision(2) << 1e6 * s.cpu_seconds / static_cast<double>(s.answered) << " us/answer)";
  out << "\n  latency ms:" << std::setprecision(3);
  for (const auto& [name, q] : kQuantiles) out << " " << name << " " << ms(s.latency_ns.quantile(q));
  out << " max " << ms(s.latency_ns.max()) << "\n  rcodes:";
  for (std::size_t r = 0; r < s.rcodes.size(); ++r)
    if (s.rcodes[r]) out << " " << dns::rcode_to_string(static_cast<unsigned>(r)) << " " << s.rcodes[r];
  if (s.late || s.unmatched) out << "\n  late answers " << s.late << ", unmatched " << s.unmatched;
  if (s.mode == "dot")
    out << "\n  handshakes " << s.handshakes << " (resumed " << s.resumptions << "), connect failures " << s.connect_failures;
  out << "\n";
}

nlohmann::json to_json(const RunStats& s) {
  nlohmann::json lat{{"samples", s.latency_ns.count()}, {"max_ms", ms(s.latency_ns.max())}, {"mean_ms", s.latency_ns.mean() / 1e6}};
  for (const auto& [name, q] : kQuantiles) lat[std::string(name) + "_ms"] = ms(s.latency_ns.quantile(q));
  nlohmann::json rc = nlohmann::json::object();
  for (std::size_t r = 0; r < s.rcodes.size(); ++r)
    if (s.rcodes[r]) rc[dns::rcode_to_string(static_cast<unsigned>(r))] = s.rcodes[r];
  return {{"mode", s.mode},          {"target", s.target},        {"sent", s.sent},
          {"answered", s.answered},  {"lost", s.lost()},          {"late", s.late},
          {"unmatched", s.unmatched}, {"seconds", s.seconds},     {"qps", s.qps()},
          {"cpu_seconds", s.cpu_seconds},
          {"cpu_us_per_answer", s.answered ? 1e6 * s.cpu_seconds / static_cast<double>(s.answered) : 0.0},
          {"handshakes", s.handshakes}, {"resumptions", s.resumptions}, {"connect_failures", s.connect_failures},
          {"rcodes", rc},            {"latency", lat}};
}

void print_latency_cdf(std::ostream& out, const RunStats& s) {
  out << "latency_ms,fraction\n";
  const double total = static_cast<double>(s.latency_ns.count());
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < LatencyHistogram::kBuckets; ++i) {
    const std::uint64_t n = s.latency_ns.bucket_count(i);
    if (n == 0) continue;
    seen += n;
    out << ms(LatencyHistogram::highest_in(i)) << ',' << static_cast<double>(seen) / total << '\n';
  }
}

void print_csv(std::ostream& out, const RunStats& s) {
  out << "mode,target,sent,answered,lost,seconds,qps,cpu_seconds,p50_ms,p90_ms,p99_ms,p999_ms,max_ms\n";
  out << s.mode << ',' << s.target << ',' << s.sent << ',' << s.answered << ',' << s.lost() << ',' << s.seconds << ','
      << s.qps() << ',' << s.cpu_seconds;
  for (const auto& [name, q] : kQuantiles) out << ',' << ms(s.latency_ns.quantile(q));
  out << ',' << ms(s.latency_ns.max()) << '\n';
}

}  // namespace dotpin::bench
