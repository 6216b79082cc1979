// SPDX-License-Identifier: Apache-2.0
#include "common/endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>

namespace dotpin {

std::string Endpoint::to_string() const {
  if (family == AF_INET6) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

Result<Endpoint> parse_endpoint(std::string_view text, std::uint16_t default_port, bool allow_names) {
  Endpoint ep;
  ep.port = default_port;
  std::string_view host = text;
  std::string_view port;
  bool has_port = false;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return fail("'", std::string(text), "': missing ']'");
    host = text.substr(1, close - 1);
    const auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (!rest.starts_with(':')) return fail("'", std::string(text), "': expected ':PORT' after ']'");
      port = rest.substr(1);
      has_port = true;
    }
  } else if (const auto colon = text.find(':'); colon != std::string_view::npos && colon == text.rfind(':')) {
    // Exactly one colon: HOST:PORT. Several: a bare IPv6 literal without a port.
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    has_port = true;
  }
  if (host.empty()) return fail("'", std::string(text), "': empty host");
  if (has_port) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535)
      return fail("'", std::string(text), "': port must be 1-65535");
    ep.port = static_cast<std::uint16_t>(value);
  }
  ep.host = std::string(host);
  in6_addr a6{};
  in_addr a4{};
  if (inet_pton(AF_INET, ep.host.c_str(), &a4) == 1) {
    ep.family = AF_INET;
  } else if (inet_pton(AF_INET6, ep.host.c_str(), &a6) == 1) {
    ep.family = AF_INET6;
  } else if (!allow_names) {
    return fail("'", std::string(text), "': not an IP address (upstreams are given by address)");
  } else if (host.find_first_of("[]/ ") != std::string_view::npos) {
    return fail("'", std::string(text), "': not a host name");
  }
  return ep;
}

}  // namespace dotpin
