// SPDX-License-Identifier: Apache-2.0
// The kernel side's drop counters of a port backed by a kernel interface, from /proc/net/dev.
#include "dataplane/kernel_link_stats.h"

#include <gtest/gtest.h>

namespace dotpin::dataplane {
namespace {

constexpr const char* kProcNetDev =
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
    "    lo:    1234      10    0    0    0     0          0         0     1234      10    0    0    0     0       0          0\n"
    "dtap0: 9000000   90000    1    7    0     0          0         3 8000000   80000    2 14290    0     0       0          0\n"
    "dtap01:     1       1    0   99    0     0          0         0        1       1    0   99    0     0       0          0\n";

TEST(KernelLinkStats, ReadsTheDropColumnsOfTheNamedInterface) {
  const auto d = parse_proc_net_dev(kProcNetDev, "dtap0");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->rx_dropped, 7u);
  EXPECT_EQ(d->tx_dropped, 14290u);  // frames towards the port the kernel could not queue
  const auto lo = parse_proc_net_dev(kProcNetDev, "lo");
  ASSERT_TRUE(lo);
  EXPECT_EQ(lo->tx_dropped, 0u);
}

TEST(KernelLinkStats, AnUnknownInterfaceOrAnotherLayoutGivesNothing) {
  EXPECT_FALSE(parse_proc_net_dev(kProcNetDev, "dtap"));  // a prefix of two names is neither
  EXPECT_FALSE(parse_proc_net_dev(kProcNetDev, "eth0"));
  EXPECT_FALSE(parse_proc_net_dev("dtap0: 1 2 3\n", "dtap0"));  // too few columns
  EXPECT_FALSE(parse_proc_net_dev("", "dtap0"));
}

TEST(KernelLinkStats, TheRealFileHasLoopback) {
  // /proc/net/dev of this namespace always lists lo.
  EXPECT_TRUE(read_kernel_link_drops("lo"));
}

}  // namespace
}  // namespace dotpin::dataplane
