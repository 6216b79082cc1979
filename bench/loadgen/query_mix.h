// SPDX-License-Identifier: Apache-2.0
/// @file query_mix.h
/// @brief What dotpin-bench asks: a list of (name, type) and the order it is drawn in — a
/// dnsperf-format query file ("name TYPE" per line), or generated: one name, N distinct names drawn
/// uniformly, or N names drawn by a Zipf law (exponent s), which is how real resolver traffic looks.
/// Queries are pre-built once; drawing one is an index, so the generator's hot loop does no work
/// per query beyond copying bytes.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace dotpin::bench {

struct QuerySpec {
  std::string name;
  std::uint16_t type = 1;
};

/// "file:PATH", "pcap:PATH" (the DNS queries to UDP port 53 in a capture, replayed in order),
/// "single:NAME", "random:N[:SUFFIX]", "zipf:N:S[:SUFFIX]", "unique:N[:SUFFIX]"
/// (suffix default "bench.dotpin.test"; generated names are "q<i>.<suffix>", type A; unique sends
/// them in order, so no name repeats within N queries: every query a cache miss).
struct MixSpec {
  enum class Kind { kFile, kPcap, kSingle, kRandom, kZipf, kUnique } kind = Kind::kSingle;
  std::string path_or_name = "www.dotpin.test";
  std::size_t n = 1;
  double s = 0.9;
  std::string suffix = "bench.dotpin.test";
};
Result<MixSpec> parse_mix(std::string_view text);

/// The DNS queries (QR = 0, one question) sent to UDP port 53 in a pcap file (Ethernet, one VLAN
/// tag, or raw IP; IPv4 and IPv6), in capture order.
Result<std::vector<std::vector<std::uint8_t>>> read_pcap_queries(const std::string& path);

/// The distinct queries and how to draw from them.
class QueryMix {
 public:
  static Result<QueryMix> create(const MixSpec& spec, std::uint64_t seed = 1);

  /// Index of the next query to send (deterministic for a seed). Files are replayed in order.
  std::size_t next() noexcept;
  [[nodiscard]] std::span<const QuerySpec> queries() const noexcept { return queries_; }
  /// Wire queries, one per spec (ID 0, RD, EDNS(0) with a 1232-byte UDP size; no padding).
  [[nodiscard]] const std::vector<std::vector<std::uint8_t>>& wire() const noexcept { return wire_; }

 private:
  MixSpec spec_;
  std::vector<QuerySpec> queries_;
  std::vector<std::vector<std::uint8_t>> wire_;
  std::vector<double> cdf_;  // Zipf
  std::size_t cursor_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace dotpin::bench
