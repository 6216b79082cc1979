// SPDX-License-Identifier: Apache-2.0
/// @file endpoint.h
/// @brief "192.0.2.1:853", "[2001:db8::1]:853" and bare addresses with a default port.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace dotpin {

struct Endpoint {
  std::string host;      ///< an IP literal, or a host name where the caller allows one
  std::uint16_t port = 0;
  int family = 0;        ///< AF_INET, AF_INET6, or 0 for a host name

  /// "192.0.2.1:853" or "[2001:db8::1]:853".
  [[nodiscard]] std::string to_string() const;
  bool operator==(const Endpoint&) const = default;
};

/// Parses HOST[:PORT]. IPv6 literals with a port need brackets. With @p allow_names false only IP
/// literals are accepted (upstream addresses must not depend on DNS resolution).
Result<Endpoint> parse_endpoint(std::string_view text, std::uint16_t default_port, bool allow_names);

}  // namespace dotpin
