// SPDX-License-Identifier: Apache-2.0
#include "bench/loadgen/query_mix.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include "common/dns_wire.h"

namespace dotpin::bench {
namespace {

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const auto at = text.find(sep, start);
    parts.emplace_back(text.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return parts;
    start = at + 1;
  }
}

Result<std::size_t> count_of(const std::string& s) {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || v == 0 || v > 100'000'000) return fail("'", s, "' is not a count from 1 to 100000000");
  return static_cast<std::size_t>(v);
}

}  // namespace

Result<std::vector<std::vector<std::uint8_t>>> read_pcap_queries(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(path, ": cannot read the capture");
  std::vector<std::uint8_t> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (file.size() < 24) return fail(path, ": not a pcap file (too short)");
  auto u32 = [&](std::size_t at, bool swap) {
    std::uint32_t v;
    std::memcpy(&v, file.data() + at, 4);
    return swap ? __builtin_bswap32(v) : v;
  };
  const std::uint32_t magic = u32(0, false);
  bool swap;
  if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d) swap = false;
  else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1) swap = true;
  else return fail(path, ": not a pcap file (pcapng is not read: convert with editcap -F pcap)");
  const std::uint32_t linktype = u32(20, swap);
  if (linktype != 1 && linktype != 101) return fail(path, ": link type ", std::to_string(linktype), " (Ethernet or raw IP only)");
  std::vector<std::vector<std::uint8_t>> out;
  std::size_t at = 24;
  while (at + 16 <= file.size()) {
    const std::uint32_t caplen = u32(at + 8, swap);
    at += 16;
    if (caplen > file.size() - at) break;  // a truncated last record
    const std::uint8_t* f = file.data() + at;
    std::size_t len = caplen, l3 = 0;
    at += caplen;
    std::uint16_t type = 0;
    if (linktype == 1) {
      if (len < 14) continue;
      type = static_cast<std::uint16_t>(f[12] << 8 | f[13]);
      l3 = 14;
      if (type == 0x8100 && len >= 18) {
        type = static_cast<std::uint16_t>(f[16] << 8 | f[17]);
        l3 = 18;
      }
    } else {
      type = len > 0 && (f[0] >> 4) == 6 ? 0x86dd : 0x0800;
    }
    std::size_t l4 = 0;
    if (type == 0x0800 && len >= l3 + 20 && f[l3 + 9] == 17) l4 = l3 + (f[l3] & 0x0f) * 4u;
    else if (type == 0x86dd && len >= l3 + 40 && f[l3 + 6] == 17) l4 = l3 + 40;
    if (l4 == 0 || len < l4 + 8 + 12 || f[l4 + 2] != 0 || f[l4 + 3] != 53) continue;
    const std::size_t udp_len = static_cast<std::size_t>(f[l4 + 4] << 8 | f[l4 + 5]);
    if (udp_len < 8 + 12 || l4 + udp_len > len) continue;
    std::vector<std::uint8_t> dns(f + l4 + 8, f + l4 + udp_len);
    if (dns[2] & 0x80) continue;  // a response
    const auto h = dns::read_header(dns);
    if (!h || h->qdcount != 1) continue;
    dns::WireReader r(dns, 12);
    if (!r.skip_name() || (r.skip(4), !r.ok())) continue;
    out.push_back(std::move(dns));
  }
  if (out.empty()) return fail(path, ": no DNS queries to UDP port 53 in the capture");
  return out;
}

Result<MixSpec> parse_mix(std::string_view text) {
  const auto parts = split(text, ':');
  MixSpec m;
  const std::string& kind = parts[0];
  if ((kind == "file" || kind == "pcap") && parts.size() >= 2) {
    m.kind = kind == "file" ? MixSpec::Kind::kFile : MixSpec::Kind::kPcap;
    m.path_or_name = std::string(text.substr(5));
  } else if (kind == "single" && parts.size() == 2 && !parts[1].empty()) {
    m.kind = MixSpec::Kind::kSingle;
    m.path_or_name = parts[1];
  } else if ((kind == "random" || kind == "unique") && (parts.size() == 2 || parts.size() == 3)) {
    m.kind = kind == "random" ? MixSpec::Kind::kRandom : MixSpec::Kind::kUnique;
    auto n = count_of(parts[1]);
    if (!n) return Error{n.error()};
    m.n = *n;
    if (parts.size() == 3) m.suffix = parts[2];
  } else if (kind == "zipf" && (parts.size() == 3 || parts.size() == 4)) {
    m.kind = MixSpec::Kind::kZipf;
    auto n = count_of(parts[1]);
    if (!n) return Error{n.error()};
    m.n = *n;
    char* end = nullptr;
    m.s = std::strtod(parts[2].c_str(), &end);
    if (parts[2].empty() || *end != '\0' || !(m.s > 0 && m.s < 5)) return fail("zipf exponent '", parts[2], "' must be in (0, 5)");
    if (parts.size() == 4) m.suffix = parts[3];
  } else {
    return fail("query mix '", std::string(text), "': expected file:PATH, pcap:PATH, single:NAME, random:N[:SUFFIX], unique:N[:SUFFIX] or zipf:N:S[:SUFFIX]");
  }
  return m;
}

Result<QueryMix> QueryMix::create(const MixSpec& spec, std::uint64_t seed) {
  QueryMix q;
  q.spec_ = spec;
  q.rng_.seed(seed);
  switch (spec.kind) {
    case MixSpec::Kind::kFile: {
      std::ifstream in(spec.path_or_name);
      if (!in) return fail(spec.path_or_name, ": cannot read the query file");
      std::string line;
      int number = 0;
      while (std::getline(in, line)) {
        ++number;
        if (line.empty() || line[0] == '#' || line[0] == ';') continue;
        std::istringstream words(line);
        std::string name, type = "A";
        words >> name >> type;
        const auto t = dns::type_from_string(type);
        if (!t) return fail(spec.path_or_name, ":", std::to_string(number), ": unknown type '", type, "'");
        q.queries_.push_back({name, *t});
      }
      if (q.queries_.empty()) return fail(spec.path_or_name, ": no queries in the file");
      break;
    }
    case MixSpec::Kind::kPcap: {
      auto queries = read_pcap_queries(spec.path_or_name);
      if (!queries) return Error{queries.error()};
      q.wire_ = std::move(*queries);
      for (const auto& w : q.wire_) {
        dns::WireReader r(w, 12);
        QuerySpec one{r.name(), 0};
        one.type = r.u16();
        q.queries_.push_back(std::move(one));
      }
      return q;  // sent as captured (their IDs are replaced when sent)
    }
    case MixSpec::Kind::kSingle: q.queries_.push_back({spec.path_or_name, 1}); break;
    case MixSpec::Kind::kRandom:
    case MixSpec::Kind::kZipf:
    case MixSpec::Kind::kUnique:
      q.queries_.reserve(spec.n);
      for (std::size_t i = 0; i < spec.n; ++i) q.queries_.push_back({"q" + std::to_string(i) + "." + spec.suffix, 1});
      break;
  }
  if (spec.kind == MixSpec::Kind::kZipf) {
    q.cdf_.resize(spec.n);
    double sum = 0;
    for (std::size_t i = 0; i < spec.n; ++i) q.cdf_[i] = sum += 1.0 / std::pow(static_cast<double>(i + 1), spec.s);
    for (double& c : q.cdf_) c /= sum;
  }
  dns::QueryOptions o;
  o.pad_block = 0;
  for (const auto& spec_q : q.queries_) {
    auto w = dns::build_query(spec_q.name, spec_q.type, o);
    if (!w) return fail("query '", spec_q.name, "': ", w.error());
    q.wire_.push_back(std::move(*w));
  }
  return q;
}

std::size_t QueryMix::next() noexcept {
  switch (spec_.kind) {
    case MixSpec::Kind::kSingle: return 0;
    case MixSpec::Kind::kFile:
    case MixSpec::Kind::kPcap:
    case MixSpec::Kind::kUnique: {
      const std::size_t i = cursor_;
      cursor_ = (cursor_ + 1) % queries_.size();
      return i;
    }
    case MixSpec::Kind::kRandom: return static_cast<std::size_t>(rng_() % queries_.size());
    case MixSpec::Kind::kZipf: {
      const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
      return static_cast<std::size_t>(std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin()) % queries_.size();
    }
  }
  return 0;
}

}  // namespace dotpin::bench
