#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Faults of a pinned upstream name themselves (issue 19.6): through dotpind on net_tap, with the
fault servers of upstream_faults.py as its only upstream and real kdig clients, each fault is
counted under the reason that names it — garbage after a pinned handshake is `protocol` (never
`unresponsive`), a TCP server that never speaks TLS is `handshake_timeout` — and every client gets
SERVFAIL, none hangs."""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dotpin_harness import (main, status_of, APPLIANCE_V4, ApplianceSuite, Dotpind, kdig, pki)  # noqa: E402
from upstream_faults import FaultServer  # noqa: E402


@unittest.skipUnless(os.geteuid() == 0, "needs root for network namespaces and net_tap")
class UpstreamFaults(ApplianceSuite):
    TAG = "flt"

    def failures_after_queries(self, server, tag, names, want):
        path = self.pin_file(f"{tag}.toml", [("f", server, ["leaf-p256"])])
        with Dotpind(self.dir, path, tag=tag) as d:
            for name in names:
                out = kdig(f"@{APPLIANCE_V4}", name, "A", timeout=15).stdout
                self.assertEqual(status_of(out), "SERVFAIL", out)
            deadline = time.monotonic() + 15
            while True:
                d.wait_published()
                code, j = d.ctl("upstreams")
                self.assertEqual(code, 0, j)
                u = {x["name"]: x for x in j["result"]["upstreams"]}["f"]
                if u["failures"].get(want, 0) >= 1 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            return u

    def test_framed_garbage_after_a_pinned_handshake_is_protocol(self):
        with FaultServer("framed", self.dir, pki("leaf-p256.key"), pki("leaf-p256.chain.pem")) as s:
            u = self.failures_after_queries(s, "fgb", ["g1.dotpin.test", "g2.dotpin.test"], "protocol")
            self.assertGreaterEqual(s.count("handshake"), 1)  # it passed the pins
            self.assertGreaterEqual(s.count("query"), 1)
        self.assertGreaterEqual(u["failures"].get("protocol", 0), 1, u)
        self.assertEqual(u["failures"].get("unresponsive", 0), 0, u)

    def test_a_frame_that_never_completes_is_protocol(self):
        with FaultServer("unframed", self.dir, pki("leaf-p256.key"), pki("leaf-p256.chain.pem")) as s:
            u = self.failures_after_queries(s, "ugb", ["h1.dotpin.test"], "protocol")
            self.assertGreaterEqual(s.count("query"), 1)
        self.assertGreaterEqual(u["failures"].get("protocol", 0), 1, u)
        self.assertEqual(u["failures"].get("unresponsive", 0), 0, u)

    def test_a_stalled_upstream_is_unresponsive(self):
        # The control case: nothing at all after a query is what `unresponsive` means.
        with FaultServer("stall", self.dir, pki("leaf-p256.key"), pki("leaf-p256.chain.pem")) as s:
            u = self.failures_after_queries(s, "stl", ["s1.dotpin.test"], "unresponsive")
        self.assertGreaterEqual(u["failures"].get("unresponsive", 0), 1, u)
        self.assertEqual(u["failures"].get("protocol", 0), 0, u)

    def test_a_tcp_server_that_never_speaks_tls_is_handshake_timeout(self):
        with FaultServer("silent", self.dir) as s:
            u = self.failures_after_queries(s, "sil", ["t1.dotpin.test"], "handshake_timeout")
        self.assertGreaterEqual(u["failures"].get("handshake_timeout", 0), 1, u)


if __name__ == "__main__":
    main()
