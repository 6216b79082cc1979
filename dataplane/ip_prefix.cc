// SPDX-License-Identifier: Apache-2.0
#include "dataplane/ip_prefix.h"

#include <arpa/inet.h>

#include <charconv>
#include <string>

namespace dotpin::dataplane {

Result<IpPrefix> parse_ip_prefix(std::string_view text) {
  const std::size_t slash = text.find('/');
  const std::string addr(text.substr(0, slash));
  IpPrefix p;
  p.v6 = addr.find(':') != std::string::npos;
  p.length = p.v6 ? 128 : 32;
  if (slash != std::string_view::npos) {
    const std::string_view len = text.substr(slash + 1);
    int parsed = -1;
    const auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), parsed);
    if (len.empty() || ec != std::errc{} || end != len.data() + len.size() || parsed < 0 || parsed > p.length)
      return fail("'", std::string(text), "': prefix length must be 0..", std::to_string(p.length));
    p.length = parsed;
    p.has_length = true;
  }
  if (inet_pton(p.v6 ? AF_INET6 : AF_INET, addr.c_str(), p.address.data()) != 1)
    return fail("'", std::string(text), "' is not an IPv", p.v6 ? "6" : "4", " address or prefix");
  return p;
}

}  // namespace dotpin::dataplane
