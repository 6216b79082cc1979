// SPDX-License-Identifier: Apache-2.0
#include "dataplane/netlink_route.h"

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace dotpin::dataplane {
namespace {

// A request: header, family-specific body, attributes; small and fixed.
struct Message {
  alignas(NLMSG_ALIGNTO) std::uint8_t buf[512] = {};
  nlmsghdr* hdr() noexcept { return reinterpret_cast<nlmsghdr*>(buf); }
  template <class Body>
  Body* start(std::uint16_t type, std::uint16_t flags) noexcept {
    hdr()->nlmsg_type = type;
    hdr()->nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
    hdr()->nlmsg_len = NLMSG_LENGTH(sizeof(Body));
    return reinterpret_cast<Body*>(NLMSG_DATA(hdr()));
  }
  void attr(std::uint16_t type, const void* data, std::size_t len) noexcept {
    auto* a = reinterpret_cast<rtattr*>(buf + NLMSG_ALIGN(hdr()->nlmsg_len));
    a->rta_type = type;
    a->rta_len = static_cast<std::uint16_t>(RTA_LENGTH(len));
    std::memcpy(RTA_DATA(a), data, len);
    hdr()->nlmsg_len = static_cast<std::uint32_t>(NLMSG_ALIGN(hdr()->nlmsg_len) + RTA_ALIGN(a->rta_len));
  }
};

}  // namespace

Result<RouteSocket> RouteSocket::open() {
  const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return fail("rtnetlink socket: ", std::strerror(errno));
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    const int e = errno;
    ::close(fd);
    return fail("rtnetlink bind: ", std::strerror(e));
  }
  return RouteSocket(fd);
}

RouteSocket::~RouteSocket() {
  if (fd_ >= 0) ::close(fd_);
}

Status RouteSocket::request(void* msg, std::size_t len, const char* what) {
  auto* h = static_cast<nlmsghdr*>(msg);
  h->nlmsg_seq = seq_++;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd_, msg, len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) != static_cast<ssize_t>(len))
    return fail(what, ": rtnetlink send: ", std::strerror(errno));
  alignas(NLMSG_ALIGNTO) std::uint8_t reply[4096];
  for (;;) {
    const ssize_t n = ::recv(fd_, reply, sizeof reply, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(what, ": rtnetlink receive: ", std::strerror(errno));
    }
    // Walked by offset and copied out: the netlink macros' C casts trip -Wcast-align.
    std::size_t at = 0;
    while (at + sizeof(nlmsghdr) <= static_cast<std::size_t>(n)) {
      nlmsghdr r;
      std::memcpy(&r, reply + at, sizeof r);
      if (r.nlmsg_len < sizeof r || at + r.nlmsg_len > static_cast<std::size_t>(n)) break;
      if (r.nlmsg_seq == h->nlmsg_seq && r.nlmsg_type == NLMSG_ERROR && r.nlmsg_len >= NLMSG_LENGTH(sizeof(nlmsgerr))) {
        nlmsgerr err;
        std::memcpy(&err, reply + at + NLMSG_HDRLEN, sizeof err);
        if (err.error == 0) return ok_status();
        return fail(what, ": ", std::strerror(-err.error));
      }
      at += NLMSG_ALIGN(r.nlmsg_len);
    }
  }
}

Status RouteSocket::move_to_netns(int ifindex, int netns_fd) {
  Message m;
  auto* ifi = m.start<ifinfomsg>(RTM_NEWLINK, 0);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  const std::uint32_t fd = static_cast<std::uint32_t>(netns_fd);
  m.attr(IFLA_NET_NS_FD, &fd, sizeof fd);
  return request(m.buf, m.hdr()->nlmsg_len, "moving the exception interface into its namespace");
}

Status RouteSocket::set_up_noarp(int ifindex, const std::array<std::uint8_t, 6>& mac) {
  Message m;
  auto* ifi = m.start<ifinfomsg>(RTM_NEWLINK, 0);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  ifi->ifi_flags = IFF_UP | IFF_NOARP;
  ifi->ifi_change = IFF_UP | IFF_NOARP;
  m.attr(IFLA_ADDRESS, mac.data(), mac.size());
  return request(m.buf, m.hdr()->nlmsg_len, "setting up the exception interface");
}

Status RouteSocket::set_up(int ifindex) {
  Message m;
  auto* ifi = m.start<ifinfomsg>(RTM_NEWLINK, 0);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  return request(m.buf, m.hdr()->nlmsg_len, "setting an interface up");
}

Status RouteSocket::add_address(int ifindex, std::span<const std::uint8_t> address, unsigned prefix_len) {
  Message m;
  auto* ifa = m.start<ifaddrmsg>(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
  const bool v6 = address.size() == 16;
  ifa->ifa_family = v6 ? AF_INET6 : AF_INET;
  ifa->ifa_prefixlen = static_cast<std::uint8_t>(prefix_len);
  ifa->ifa_index = static_cast<std::uint32_t>(ifindex);
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  if (v6) ifa->ifa_flags = IFA_F_NODAD;
  m.attr(IFA_LOCAL, address.data(), address.size());
  m.attr(IFA_ADDRESS, address.data(), address.size());
  if (v6) {
    const std::uint32_t flags = IFA_F_NODAD;
    m.attr(IFA_FLAGS, &flags, sizeof flags);
  }
  return request(m.buf, m.hdr()->nlmsg_len, "adding an address to the exception interface");
}

Status RouteSocket::add_default_route(int ifindex, bool ipv6) {
  Message m;
  auto* rt = m.start<rtmsg>(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
  rt->rtm_family = ipv6 ? AF_INET6 : AF_INET;
  rt->rtm_table = RT_TABLE_MAIN;
  rt->rtm_protocol = RTPROT_STATIC;
  rt->rtm_scope = RT_SCOPE_LINK;
  rt->rtm_type = RTN_UNICAST;
  const std::uint32_t oif = static_cast<std::uint32_t>(ifindex);
  m.attr(RTA_OIF, &oif, sizeof oif);
  return request(m.buf, m.hdr()->nlmsg_len, ipv6 ? "adding the exception path's IPv6 route" : "adding the exception path's IPv4 route");
}

}  // namespace dotpin::dataplane
