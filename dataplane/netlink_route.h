// SPDX-License-Identifier: Apache-2.0
/// @file netlink_route.h
/// @brief Start-up: the few rtnetlink requests that set up the kernel's side of the exception path
/// (exception_port.h) — move an interface into a network namespace, set its MAC and flags, add an
/// address and a default route through it. Each request waits for the kernel's acknowledgement;
/// errors carry the kernel's errno text. A socket acts in the namespace it was opened in.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "common/result.h"

namespace dotpin::dataplane {

class RouteSocket {
 public:
  /// Opens an rtnetlink socket in the calling thread's network namespace.
  static Result<RouteSocket> open();
  RouteSocket(RouteSocket&& o) noexcept : fd_(o.fd_), seq_(o.seq_) { o.fd_ = -1; }
  RouteSocket& operator=(RouteSocket&&) = delete;
  ~RouteSocket();

  Status move_to_netns(int ifindex, int netns_fd);
  /// Sets the interface up, NOARP (its neighbours are never resolved) and its MAC to @p mac.
  Status set_up_noarp(int ifindex, const std::array<std::uint8_t, 6>& mac);
  Status set_up(int ifindex);
  /// @p address: 4 or 16 bytes; IPv6 addresses skip duplicate address detection.
  Status add_address(int ifindex, std::span<const std::uint8_t> address, unsigned prefix_len);
  /// A default route (IPv4 or IPv6) straight out of @p ifindex, no gateway.
  Status add_default_route(int ifindex, bool ipv6);

 private:
  explicit RouteSocket(int fd) : fd_(fd) {}
  Status request(void* msg, std::size_t len, const char* what);
  int fd_ = -1;
  std::uint32_t seq_ = 1;
};

}  // namespace dotpin::dataplane
