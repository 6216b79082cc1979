// SPDX-License-Identifier: Apache-2.0
#include "bench/loadgen/query_mix.h"

#include <algorithm>
#include <cmath>
#include <fstream>
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

Result<MixSpec> parse_mix(std::string_view text) {
  const auto parts = split(text, ':');
  MixSpec m;
  const std::string& kind = parts[0];
  if (kind == "file" && parts.size() >= 2) {
    m.kind = MixSpec::Kind::kFile;
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
    return fail("query mix '", std::string(text), "': expected file:PATH, single:NAME, random:N[:SUFFIX], unique:N[:SUFFIX] or zipf:N:S[:SUFFIX]");
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
