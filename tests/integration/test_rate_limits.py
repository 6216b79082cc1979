#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Per-client rate limits ([ratelimit]) through the real path: dotpind on a net_tap port in a
network namespace, a real unbound DoT upstream, real clients (dnsperf, kdig) and plain UDP sockets
bound to client addresses on the tap. A client flooding at three times its limit gets its limit's
worth (within 10 %) while a second client at a normal rate loses nothing; slipped queries come back
TC=1 and no larger than the query; error responses (REFUSED to an outsider, NXDOMAIN) have their
own limit; dotpind counts every held-back query and names the prefix in `stats` and /metrics."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dotpin_harness import (APPLIANCE_V4, APPLIANCE_V6, CLIENT_V4, CLIENT_V6, OUTSIDER_V4, ApplianceSuite, Dotpind, dns_query, kdig,  # noqa: E402
                            dnsperf_clients, main, status_of)

SECOND_CLIENT_V4 = "198.18.0.3"


def udp_exchange(src, payloads, timeout=1.0):
    """Sends each payload from @src to the appliance's port 53 and collects what comes back (until
    @timeout passes without a reply): a list of reply datagrams."""
    v6 = ":" in src
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((src, 0))
        for p in payloads:
            s.sendto(p, (APPLIANCE_V6 if v6 else APPLIANCE_V4, 53))
        if timeout == 0:
            return []
        s.settimeout(timeout)
        replies = []
        while True:
            try:
                replies.append(s.recv(65535))
            except socket.timeout:
                return replies
    finally:
        s.close()


@unittest.skipUnless(os.geteuid() == 0, "needs root for network namespaces and net_tap")
@unittest.skipUnless(shutil.which("dnsperf"), "dnsperf not installed")
class RateLimits(ApplianceSuite):
    TAG = "rl"
    SERVERS = {"a": ("leaf-p256.key", "leaf-p256.chain.pem")}

    def daemon(self, tag, ratelimit):
        path = self.pin_file(f"{tag}.toml", [("a", self.a, ["leaf-p256"])])
        d = Dotpind(self.dir, path, tag=tag, extra_config="\n[ratelimit]\n" + ratelimit)
        return d

    def stats(self, d):
        d.wait_published()
        code, j = d.ctl("stats")
        self.assertEqual(code, 0, j)
        return j["result"]

    def add_second_client(self, d):
        subprocess.run(["ip", "addr", "add", f"{SECOND_CLIENT_V4}/32", "dev", d.iface], check=True)

    def test_a_flooding_client_gets_its_limit_and_another_loses_nothing(self):
        qfile = os.path.join(self.dir, "hit.txt")
        with open(qfile, "w") as f:
            f.write("www.dotpin.test A\n")
        # 200 q/s with a burst of 20; dnsperf's -Q paces the flood at 600 q/s for 5 s.
        with self.daemon("rlq", "qps = 200\nburst = 20\nslip = 0\n") as d:
            self.add_second_client(d)
            r = kdig(f"@{APPLIANCE_V4}", "www.dotpin.test", "A")  # fills the cache: the rest are hits
            self.assertEqual(status_of(r.stdout), "NOERROR", r.stdout)
            seconds = 5
            out = dnsperf_clients({"flood": (CLIENT_V4, qfile, 600, 1, 1000),
                                   "normal": (SECOND_CLIENT_V4, qfile, 100, 1, 1000)}, seconds)
            flood, flood_text = out["flood"]
            normal, normal_text = out["normal"]
            self.assertIsNotNone(flood["sent"], flood_text)
            self.assertIsNotNone(normal["sent"], normal_text)
            # The flood really was over the limit, and what it got is the limit's worth.
            self.assertGreater(flood["sent"], 2 * 200 * seconds, flood_text)
            delivered = flood["completed"] / seconds
            print(f"\nflood: sent {flood['sent']}, answered {flood['completed']} ({delivered:.1f} q/s, limit 200); "
                  f"normal: sent {normal['sent']}, lost {normal['lost']}", file=sys.stderr)
            self.assertGreaterEqual(delivered, 180, flood_text)
            self.assertLessEqual(delivered, 220, flood_text)
            # The other client at half the limit: nothing lost.
            self.assertEqual(normal["lost"], 0, normal_text)
            self.assertEqual(normal["completed"], normal["sent"], normal_text)
            # Every held-back query is counted, and they are exactly what the flood lost.
            st = self.stats(d)
            c = st["totals"]["counters"]
            self.assertEqual(c["ratelimited"], flood["lost"], (c, flood_text))
            self.assertEqual(c["ratelimit_slipped"], 0)
            self.assertEqual(c["queries"], 1 + flood["completed"] + normal["completed"], c)
            top = st["ratelimit_top"]
            self.assertEqual(top[0]["prefix"], f"{CLIENT_V4}/32", top)
            self.assertEqual(top[0]["limited"], flood["lost"], top)
            self.assertNotIn(f"{SECOND_CLIENT_V4}/32", [t["prefix"] for t in top])
            code, text = d.ctl("stats", json_out=False)
            self.assertEqual(code, 0, text)
            self.assertIn(f"rate limits: queries dropped {flood['lost']}, slipped 0", text)
            self.assertIn(f"most limited: {CLIENT_V4}/32={flood['lost']}", text)
            metrics = d.metrics()
            self.assertEqual(metrics[("dotpin_ratelimit_top_limited", frozenset({("prefix", f"{CLIENT_V4}/32")}))],
                             flood["lost"])
            self.assertEqual(sum(v for (name, labels), v in metrics.items()
                                 if name == "dotpin_lcore_events_total" and ("event", "ratelimited") in labels),
                             flood["lost"])

    def test_limited_queries_slip_as_truncated_replies_no_larger_than_the_query(self):
        with self.daemon("rls", "qps = 2\nburst = 2\nslip = 2\n") as d:
            queries = [dns_query("www.dotpin.test", qid=i) for i in range(42)]
            replies = udp_exchange(CLIENT_V4, queries)
            # 2 pass (the burst; a miss, then the upstream's answer or the merged one), of the 40
            # over the limit every second one is slipped: 20 TC=1 replies, 20 dropped.
            full = [r for r in replies if not r[2] & 0x02]
            slipped = [r for r in replies if r[2] & 0x02]
            self.assertEqual(len(full), 2, replies)
            self.assertEqual(len(slipped), 20, replies)
            for r in slipped:
                self.assertEqual(r[3] & 0x0F, 0)  # NOERROR, TC=1, no records: "ask me over TCP"
                self.assertEqual(r[6:12], b"\0" * 6)
                self.assertLessEqual(len(r), len(queries[0]))
            c = self.stats(d)["totals"]["counters"]
            self.assertEqual(c["ratelimit_slipped"], 20, c)
            self.assertEqual(c["ratelimited"], 20, c)
            self.assertEqual(c["queries"], 2, c)
            # kdig sees the truncation too (with +ignore it does not retry over TCP). The bucket has
            # refilled its 2 during the second of waiting; 3 quick queries leave the next limited
            # one the second since a slip (40 limited so far: 20 slips), so kdig's is slipped.
            udp_exchange(CLIENT_V4, queries[:3], timeout=0)
            r = kdig(f"@{APPLIANCE_V4}", "+ignore", "www.dotpin.test", "A")
            flags = re.search(r";; Flags: ([a-z ]*);", r.stdout)
            self.assertIsNotNone(flags, r.stdout)
            self.assertIn("tc", flags.group(1).split(), r.stdout)
            self.assertIn("ANSWER: 0", r.stdout)

    def test_ipv6_clients_share_a_bucket_per_prefix(self):
        # 2001:2::2 and 2001:2::3 are in one /64, the prefix set here: one bucket of 3 between them.
        with self.daemon("rl6", "qps = 1\nburst = 3\nslip = 0\nipv6_prefix = 64\n") as d:
            subprocess.run(["ip", "-6", "addr", "add", "2001:2::3/128", "dev", d.iface, "nodad"], check=True)
            first = udp_exchange(CLIENT_V6, [dns_query("www.dotpin.test", qid=i) for i in range(10)], timeout=0.5)
            second = udp_exchange("2001:2::3", [dns_query("www.dotpin.test", qid=20 + i) for i in range(10)], timeout=0.5)
            self.assertEqual(len(first), 3, first)
            self.assertLessEqual(len(second), 1, second)  # at most what 1 q/s refilled meanwhile
            st = self.stats(d)
            self.assertEqual(st["ratelimit_top"][0]["prefix"], "2001:2::/64", st["ratelimit_top"])
            self.assertEqual(st["totals"]["counters"]["ratelimited"], 20 - 3 - len(second))

    def test_malformed_queries_count_against_the_query_limit(self):
        # NOTIMP bait (opcode 2) must not pass a client's qps untouched.
        with self.daemon("rlm", "qps = 2\nburst = 3\nslip = 0\n") as d:
            bait = [dns_query("www.dotpin.test", qid=i, opcode=2) for i in range(30)]
            replies = udp_exchange(CLIENT_V4, bait, timeout=0.5)
            self.assertEqual(len(replies), 3, replies)
            self.assertTrue(all(r[3] & 0x0F == 4 for r in replies), replies)  # NOTIMP
            c = self.stats(d)["totals"]["counters"]
            self.assertEqual(c["ratelimited"], 27, c)
            self.assertEqual(c["notimp"], 30, c)

    def test_an_exempt_client_is_never_limited(self):
        with self.daemon("rlx", f'qps = 5\nburst = 2\nslip = 0\nexempt = ["{SECOND_CLIENT_V4}/32"]\n') as d:
            self.add_second_client(d)
            queries = [dns_query("www.dotpin.test", qid=i) for i in range(30)]
            self.assertEqual(len(udp_exchange(SECOND_CLIENT_V4, queries)), 30)
            self.assertEqual(len(udp_exchange(CLIENT_V4, queries, timeout=0.5)), 2)
            st = self.stats(d)
            self.assertEqual([t["prefix"] for t in st["ratelimit_top"]], [f"{CLIENT_V4}/32"])
            self.assertEqual(st["totals"]["counters"]["ratelimited"], 28)

    def test_error_responses_have_their_own_limit_against_reflection(self):
        # A spoofed outsider makes the appliance send REFUSED to its victim: at most error_qps of
        # them (plus every second one slipped, as small as the query), while queries are unlimited.
        with self.daemon("rle", "error_qps = 5\nerror_burst = 5\nslip = 2\n") as d:
            queries = [dns_query("www.dotpin.test", qid=i) for i in range(45)]
            replies = udp_exchange(OUTSIDER_V4, queries)
            refused = [r for r in replies if r[3] & 0x0F == 5 and not r[2] & 0x02]
            slipped = [r for r in replies if r[2] & 0x02]
            self.assertEqual(len(refused), 5, replies)
            self.assertEqual(len(slipped), 20, replies)
            for r in replies:
                self.assertLessEqual(len(r), len(queries[0]) + 6)  # REFUSED + EDE 18 adds at most 6
            c = self.stats(d)["totals"]["counters"]
            self.assertEqual(c["acl_refused"], 45, c)
            self.assertEqual(c["rrl_slipped"], 20, c)
            self.assertEqual(c["rrl_dropped"], 20, c)
            self.assertEqual(self.stats(d)["ratelimit_top"][0]["prefix"], f"{OUTSIDER_V4}/32")
            # NXDOMAIN to an allowed client counts against the same kind of limit, answers do not.
            names = [dns_query(f"nx{i}.dotpin.test", qid=100 + i) for i in range(12)]
            replies = udp_exchange(CLIENT_V4, names, timeout=3.0)
            nx = [r for r in replies if r[3] & 0x0F == 3 and not r[2] & 0x02]
            self.assertEqual(len(nx), 5, replies)
            # The same names again, now negative cache hits: the limit holds on that path too.
            time.sleep(1.2)  # the error bucket refills (5 a second)
            hits_before = self.stats(d)["totals"]["counters"]["cache_hits"]
            replies = udp_exchange(CLIENT_V4, names, timeout=1.0)
            nx = [r for r in replies if r[3] & 0x0F == 3 and not r[2] & 0x02]
            self.assertEqual(len(nx), 5, replies)
            self.assertGreaterEqual(len([r for r in replies if r[2] & 0x02]), 3, replies)
            self.assertGreaterEqual(self.stats(d)["totals"]["counters"]["cache_hits"] - hits_before, 12)
            for _ in range(20):
                r = kdig(f"@{APPLIANCE_V4}", "www.dotpin.test", "A")
                self.assertEqual(status_of(r.stdout), "NOERROR", r.stdout)


if __name__ == "__main__":
    main()
