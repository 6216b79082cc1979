#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Faults of a pinned upstream name themselves (issue 19.6): through dotpind on net_tap, with the
fault servers of upstream_faults.py as its only upstream and real kdig clients, each fault is
counted under the reason that names it — garbage after a pinned handshake is `protocol` (never
`unresponsive`), a TCP server that never speaks TLS is `handshake_timeout` — and every client gets
SERVFAIL, none hangs."""

import os
import shutil
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dotpin_harness import (dnsperf, main, status_of, APPLIANCE_V4, ApplianceSuite, Dotpind, UnboundDot, kdig,  # noqa: E402
                            pki)
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

    def check_reason(self, mode, tag, names, want, not_want):
        """A pinned fault server (MODE of upstream_faults.py) as the only upstream: every query
        reached it over a pinned handshake, and the failure is counted as WANT, never NOT_WANT."""
        with FaultServer(mode, self.dir, pki("leaf-p256.key"), pki("leaf-p256.chain.pem")) as s:
            u = self.failures_after_queries(s, tag, names, want)
            self.assertGreaterEqual(s.count("handshake"), 1)  # it passed the pins
            self.assertGreaterEqual(s.count("query"), 1)
        self.assertGreaterEqual(u["failures"].get(want, 0), 1, u)
        self.assertEqual(u["failures"].get(not_want, 0), 0, u)

    def test_framed_garbage_after_a_pinned_handshake_is_protocol(self):
        self.check_reason("framed", "fgb", ["g1.dotpin.test", "g2.dotpin.test"], "protocol", "unresponsive")

    def test_a_frame_that_never_completes_is_protocol(self):
        self.check_reason("unframed", "ugb", ["h1.dotpin.test"], "protocol", "unresponsive")

    def test_a_stalled_upstream_is_unresponsive(self):
        # The control case: nothing at all after a query is what `unresponsive` means.
        self.check_reason("stall", "stl", ["s1.dotpin.test"], "unresponsive", "protocol")

    @unittest.skipUnless(shutil.which("dnsperf"), "dnsperf not installed")
    def test_a_stalled_upstream_under_load_loses_nothing_unseen(self):
        # Every query dnsperf sent either reached an lcore (the port's rx) or is counted where it
        # was lost (the port's own counters, or the kernel side of the tap); every query that
        # reached an lcore was answered (here SERVFAIL: the only upstream never answers).
        queries = os.path.join(self.dir, "stall-load.txt")
        with open(queries, "w") as f:
            for i in range(20000):
                f.write(f"load{i}.dotpin.test A\n")
        with FaultServer("stall", self.dir, pki("leaf-p256.key"), pki("leaf-p256.chain.pem")) as s:
            path = self.pin_file("stall-load.toml", [("f", s, ["leaf-p256"])])
            with Dotpind(self.dir, path, tag="sld") as d:
                sent, _, codes, out = dnsperf(queries, 3, 5000, outstanding=20000)
                self.assertGreater(sent, 5000, out)
                self.assertNotIn("NOERROR", codes, out)
                deadline = time.monotonic() + 10  # answers still in flight when dnsperf stopped
                while True:
                    d.wait_published()
                    code, j = d.ctl("stats")
                    self.assertEqual(code, 0, j)
                    c = j["result"]["totals"]["counters"]
                    if c["upstream_servfails"] + c["upstream_answers"] >= c["forwarded"] or time.monotonic() > deadline:
                        break
                    time.sleep(0.2)
                port = j["result"]["port"]
                self.assertTrue(port["available"], port)
                self.assertTrue(port["kernel_interface"], port)  # net_tap: the kernel side is read too
                self.assertIsNotNone(port["kernel_tx_dropped"], port)
                self.assertEqual(port["rx_packets"], c["rx_packets"], (port, c))
                self.assertGreaterEqual(port["rx_packets"] + port["kernel_tx_dropped"] + port["rx_missed"], sent, (port, sent))
                self.assertEqual(c["queries"], c["forwarded"], c)
                self.assertEqual(c["upstream_servfails"], c["forwarded"], c)  # each one answered
                m = d.metrics()
                self.assertEqual(m[("dotpin_port_packets_total", frozenset({("direction", "rx")}))], port["rx_packets"])
                self.assertIn(("dotpin_port_lost_total", frozenset({("reason", "kernel_tx_dropped")})), m)
            self.assertIn("port net_tap", d.summary)
            self.assertIn("kernel_tx_dropped=", d.summary)

    def test_after_a_long_outage_the_upstream_is_taken_back_at_once(self):
        # unbound down (connections refused) long enough for the query backoff to grow to
        # seconds, then back on the same port: the health probe takes it back without waiting for
        # the backoff (the review measured 13.3 s before probes).
        u = UnboundDot(pki("leaf-p256.key"), pki("leaf-p256.chain.pem")).start()
        self.servers.append(u)
        path = self.pin_file("recover.toml", [("u", u, ["leaf-p256"])])
        with Dotpind(self.dir, path, tag="rcv", upstreams_extra=os.environ.get("DOTPIN_TEST_UPSTREAMS_EXTRA", "")) as d:
            self.assertEqual(status_of(kdig(f"@{APPLIANCE_V4}", "warm.dotpin.test", "A").stdout), "NXDOMAIN")
            u.stop()
            down_until = time.monotonic() + 10
            i = 0
            while time.monotonic() < down_until:  # misses during the outage: every one SERVFAIL
                out = kdig(f"@{APPLIANCE_V4}", f"during{i}.dotpin.test", "A").stdout
                self.assertEqual(status_of(out), "SERVFAIL", out)
                i += 1
                time.sleep(0.2)
            u.start()
            resumed = time.monotonic()
            deadline = resumed + 60
            n = 0
            while True:
                out = kdig(f"@{APPLIANCE_V4}", f"after{n}.dotpin.test", "A").stdout
                n += 1
                if status_of(out) == "NXDOMAIN" or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            took = time.monotonic() - resumed
            self.assertEqual(status_of(out), "NXDOMAIN", out)
            d.wait_published()
            code, j = d.ctl("upstreams")
            up = j["result"]["upstreams"][0]
            if "probe_interval_ms = 0" not in os.environ.get("DOTPIN_TEST_UPSTREAMS_EXTRA", ""):
                self.assertGreaterEqual(up["probes"], 1, up)
            print(f"\nanswering again {took:.2f} s after the upstream came back ({n} queries), "
                  f"{up['probes']} probes during the outage")

    def check_stale(self, tag, stale_max, narrow=False):
        u = UnboundDot(pki("leaf-p256.key"), pki("leaf-p256.chain.pem")).start()
        self.servers.append(u)
        path = self.pin_file(f"{tag}.toml", [("u", u, ["leaf-p256", "spare"])])
        # Every answer expires after 1 s; stale ones may be served for stale_max.
        with Dotpind(self.dir, path, tag=tag, extra_config=f"\n[cache]\nmax_ttl = 1\nstale_max_s = {stale_max}\n") as d:
            out = kdig(f"@{APPLIANCE_V4}", "www.dotpin.test", "A", "+edns").stdout
            self.assertIn("198.18.0.10", out, out)
            if narrow:  # the spare key is revoked: what was fetched before must not be served stale
                code, r = d.ctl("pins", "remove", "u", "spare")
                self.assertEqual(code, 0, r)
                d.wait_published()
            u.stop()  # no pinned upstream can answer from now on
            time.sleep(2)  # the cached answer has expired
            out = kdig(f"@{APPLIANCE_V4}", "www.dotpin.test", "A", "+edns").stdout
            c = d.ctl("stats")[1]["result"]["totals"]["counters"]
            fresh = kdig(f"@{APPLIANCE_V4}", "never-seen.dotpin.test", "A", "+edns").stdout
            self.assertEqual(status_of(fresh), "SERVFAIL", fresh)  # nothing stale to serve for a new name
            return out, c

    def test_an_expired_answer_is_served_stale_when_no_pinned_upstream_answers(self):
        out, c = self.check_stale("stl1", 3600)
        self.assertEqual(status_of(out), "NOERROR", out)
        self.assertIn("198.18.0.10", out, out)
        self.assertRegex(out, r"EDE: 3 \(Stale Answer\)")
        self.assertRegex(out, r"www\.dotpin\.test\.\s+30\s+IN\s+A\s+198\.18\.0\.10")  # TTL 30 (RFC 8767)
        self.assertEqual(c["stale_answers"], 1, c)

    def test_answers_fetched_before_a_pin_was_revoked_are_not_served_stale(self):
        out, c = self.check_stale("stl2", 3600, narrow=True)
        self.assertEqual(status_of(out), "SERVFAIL", out)
        self.assertEqual(c["stale_answers"], 0, c)

    def test_serve_stale_off_means_servfail(self):
        out, c = self.check_stale("stl0", 0)
        self.assertEqual(status_of(out), "SERVFAIL", out)
        self.assertEqual(c["stale_answers"], 0, c)

    def test_a_tcp_server_that_never_speaks_tls_is_handshake_timeout(self):
        with FaultServer("silent", self.dir) as s:
            u = self.failures_after_queries(s, "sil", ["t1.dotpin.test"], "handshake_timeout")
        self.assertGreaterEqual(u["failures"].get("handshake_timeout", 0), 1, u)


if __name__ == "__main__":
    main()
