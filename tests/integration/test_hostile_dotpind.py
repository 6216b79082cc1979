#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""dotpind against the hostile upstreams of test_hostile_upstreams.py: the real daemon on a DPDK
net_tap port in a network namespace, one pin file with every case as its own [[upstream]] (one
pool), real kdig clients. Hostile upstreams: clients get SERVFAIL with an Extended DNS Error, the
control socket counts each upstream's refusals under the expected reason, and no hostile server
logs a single query. Genuine upstreams in odd shapes: every one answers, no failure. Each in
pin-only mode and with [upstreams] ca_file. And hostile clients: spoofed sources (HostileSources)
that must get no reply at all."""

import os
import re
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dotpin_harness import (status_of, main, APPLIANCE_V4, APPLIANCE_V6, CLIENT_V4, CLIENT_V6, OUTSIDER_V4,  # noqa: E402
                            ApplianceSuite, Dotpind, OpenSslServer, UnboundDot, dns_query, icmp4_echo_frame,
                            icmp6_echo_frame, kdig, pki, reference_pin, udp4_frame, udp6_frame)
from test_hostile_upstreams import ANCHOR, AUTH_REASONS, CA_BUNDLE, CASES, TLS_CASES  # noqa: E402

QUERIES_PER_UPSTREAM = 3


def refused(case, mode):
    e = case.expect(mode)
    return isinstance(e, str) and e != ANCHOR




@unittest.skipUnless(os.geteuid() == 0, "needs root for network namespaces and net_tap")
class HostileUpstreamsDaemon(ApplianceSuite):
    """One unbound per case (each its own address, so that every case is its own upstream), and the
    TLS-parameter s_servers; all started once, in the class's network namespace."""

    TAG = "hos"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.by_case = {}
        cls.tls = {}
        try:
            for c in CASES:
                s = UnboundDot(pki(c.chain + ".key"), pki(c.chain + ".chain.pem")).start()
                cls.servers.append(s)  # ApplianceSuite cleans them up
                cls.by_case[c.tag] = s
            for tag, args in TLS_CASES.items():
                cls.tls[tag] = OpenSslServer(pki("leaf-p256.key"), pki("leaf-p256.crt"), pki("issuing.crt"),
                                             args).start()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for s in getattr(cls, "tls", {}).values():
            s.cleanup()
        cls.tls = {}
        super().tearDownClass()

    def daemon(self, mode, tag, upstreams):
        """dotpind with a pin file of upstreams: (name, server, [pin stems])."""
        path = self.pin_file(f"{tag}.toml", [(n, s, [(f"pin{i + 1}", reference_pin(p)) for i, p in enumerate(pins)])
                                             for n, s, pins in upstreams])
        extra = f'ca_file = "{pki(CA_BUNDLE)}"\n' if mode == "ca" else ""
        return Dotpind(self.dir, path, tag=tag, upstreams_extra=extra)

    def upstream_table(self, d):
        d.wait_published()
        code, j = d.ctl("upstreams")
        self.assertEqual(code, 0, j)
        return {u["name"]: u for u in j["result"]["upstreams"]}

    def run_hostile(self, mode):
        cases = [c for c in CASES if refused(c, mode)]
        ups = [(c.tag, self.by_case[c.tag], c.pins) for c in cases]
        ups += [(f"tls-{t}", s, ("leaf-p256",)) for t, s in self.tls.items()]
        before = {c.tag: self.by_case[c.tag].queries_logged() for c in cases}
        marks = {t: s.mark() for t, s in self.tls.items()}
        replies = []
        with self.daemon(mode, f"h{mode}", ups) as d:
            for i in range(QUERIES_PER_UPSTREAM * len(ups)):
                replies.append(kdig(f"@{APPLIANCE_V4}", f"n{i}.dotpin.test", "A", "+edns").stdout)
            table = self.upstream_table(d)
        time.sleep(0.2)
        for c in cases:
            with self.subTest(case=c.tag, mode=mode):
                u = table[c.tag]
                want = c.expect(mode)
                f = u["failures"]
                self.assertGreaterEqual(f.get(want, 0), 1, u)
                self.assertEqual({r: n for r, n in f.items() if n and r != want}, {}, u)  # no other failure
                self.assertEqual(u["answers"], 0, u)
                self.assertEqual(self.by_case[c.tag].queries_logged(), before[c.tag],
                                 f"a query reached {c.tag}: " + self.by_case[c.tag].read_log())
        for t, s in self.tls.items():
            with self.subTest(case=f"tls-{t}", mode=mode):
                u = table[f"tls-{t}"]
                self.assertGreaterEqual(u["failures"].get("tls_parameters", 0), 1, u)
                self.assertEqual({r: u["failures"].get(r, 0) for r in AUTH_REASONS}, dict.fromkeys(AUTH_REASONS, 0), u)
                self.assertEqual(u["answers"], 0, u)
                seen = s.read(marks[t])
                self.assertNotIn(b"CIPHER is", seen, seen)  # no handshake completed with it
                self.assertNotIn(b"dotpin", seen, seen)     # and no query reached it
        for out in replies:  # every client got SERVFAIL with an Extended DNS Error, nothing else
            self.assertEqual(status_of(out), "SERVFAIL", out)
            self.assertRegex(out, r"EDE: 2[23] ", out)

    def run_genuine(self, mode):
        cases = [c for c in CASES if not refused(c, mode)]
        ups = [(c.tag, self.by_case[c.tag], c.pins) for c in cases]
        before = {c.tag: self.by_case[c.tag].queries_logged() for c in cases}
        with self.daemon(mode, f"g{mode}", ups) as d:
            for i in range(QUERIES_PER_UPSTREAM * len(ups)):
                r = kdig(f"@{APPLIANCE_V4}", f"g{i}.dotpin.test", "A")
                self.assertEqual(status_of(r.stdout), "NXDOMAIN", r.stdout + r.stderr)
            r = kdig(f"@{APPLIANCE_V4}", "www.dotpin.test", "A")
            self.assertIn("198.18.0.10", r.stdout, r.stdout + r.stderr)
            table = self.upstream_table(d)
        time.sleep(0.2)
        answers = 0
        for c in cases:
            with self.subTest(case=c.tag, mode=mode):
                u = table[c.tag]
                self.assertGreater(u["full_handshakes"], 0, u)
                self.assertGreater(u["answers"], 0, u)
                self.assertEqual({r: n for r, n in u["failures"].items() if n}, {}, u)
                self.assertEqual(self.by_case[c.tag].queries_logged() - before[c.tag], u["answers"], u)
                answers += u["answers"]
        self.assertEqual(answers, QUERIES_PER_UPSTREAM * len(ups) + 1)

    def test_hostile_pin_only(self):
        self.run_hostile("pin")

    def test_hostile_ca(self):
        self.run_hostile("ca")

    def test_genuine_pin_only(self):
        self.run_genuine("pin")

    def test_genuine_ca(self):
        self.run_genuine("ca")


@unittest.skipUnless(os.geteuid() == 0, "needs root for network namespaces and net_tap")
class ImpostorDeclinesTheTicket(ApplianceSuite):
    """The genuine upstream answers (dotpind keeps its TLS session ticket); then an impostor takes
    over the address and declines that ticket with a full handshake of its own. wolfSSL appends the
    impostor's chain to the one it copied from the offered session: dotpind must judge only what the
    impostor presented (tls/dot_connection.cc), refuse it, and send it nothing."""

    TAG = "tkt"
    SERVERS = {"upstream": ("leaf-p256.key", "leaf-p256.chain.pem")}

    def run_case(self, mode, impostor_stem, expect):
        self.upstream.restart_with(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"))
        path = self.pin_file(f"t{mode}.toml", [("a", self.upstream, [("primary", reference_pin("leaf-p256")),
                                                                      ("backup", reference_pin("spare"))])])
        extra = f'ca_file = "{pki(CA_BUNDLE)}"\n' if mode == "ca" else ""
        with Dotpind(self.dir, path, tag=f"t{mode}", upstreams_extra=extra) as d:
            r = kdig(f"@{APPLIANCE_V4}", "www.dotpin.test", "A")
            self.assertIn("198.18.0.10", r.stdout, r.stdout + r.stderr)  # genuine: answered, ticket kept
            time.sleep(0.3)
            self.upstream.restart_with(pki(impostor_stem + ".key"), pki(impostor_stem + ".chain.pem"))
            before = self.upstream.queries_logged()
            # The restart reset the old connection: the upstream backs off (250 ms doubling, with
            # jitter) before the next connection, which offers the ticket. Bounded: 10 tries.
            replies = []
            for i in range(10):
                time.sleep(0.5)
                replies.append(kdig(f"@{APPLIANCE_V4}", f"t{i}.dotpin.test", "A", "+edns").stdout)
                d.wait_published()
                code, j = d.ctl("upstreams")
                self.assertEqual(code, 0, j)
                u = {x["name"]: x for x in j["result"]["upstreams"]}["a"]
                if u["failures"].get(expect, 0) >= 1:
                    break
        self.assertGreaterEqual(u["failures"].get(expect, 0), 1, u)
        for out in replies:
            self.assertEqual(status_of(out), "SERVFAIL", out)
        time.sleep(0.2)
        self.assertEqual(self.upstream.queries_logged(), before, "a query reached the impostor: " + self.upstream.read_log())

    def test_pin_only_self_signed_impostor_with_the_genuine_chain_appended(self):
        self.run_case("pin", "hostile/selfsigned-plus-leaf", "pin_not_on_path")

    def test_ca_mode_misissued_impostor(self):
        self.run_case("ca", "impostor", "pin_mismatch")


@unittest.skipUnless(os.geteuid() == 0, "needs root for network namespaces and net_tap")
class HostileSources(ApplianceSuite):
    """Spoofed sources written straight onto the tap (AF_PACKET): broadcast (limited, and the subnet's
    directed and all-zeros broadcasts), multicast, unspecified,
    loopback, IPv4-mapped, the appliance's own addresses (port 53 included), source port 0 and the
    reflection ports; DNS and ICMP echo. Nothing comes back for any of them (a capture on the tap
    sees every frame dotpind sends), each is counted under its reason in stats, /metrics and the
    shutdown summary, and kdig, a legitimate raw query and an outsider (REFUSED) are still answered."""

    TAG = "src"
    SERVERS = {"upstream": ("leaf-p256.key", "leaf-p256.chain.pem")}

    HOSTILE = {
        "src_martian": [("4", "255.255.255.255", 40000), ("4", "224.0.0.251", 40000), ("4", "0.0.0.0", 40000),
                        ("4", "127.0.0.1", 40000), ("4", "240.0.0.1", 40000), ("6", "::", 40000),
                        ("6", "::1", 40000), ("6", "ff02::1", 40000), ("6", "::ffff:198.18.0.2", 40000),
                        ("6", "::ffff:127.0.0.1", 40000), ("e4", "255.255.255.255", 0), ("e6", "ff02::1", 0),
                        # the broadcasts of the port's subnet ([port] ipv4 = "198.18.0.1/24"): directed
                        # and the obsolete all-zeros one
                        ("4", "198.18.0.255", 40000), ("e4", "198.18.0.255", 0), ("4", "198.18.0.0", 40000)],
        "src_self": [("4", APPLIANCE_V4, 53), ("6", APPLIANCE_V6, 53), ("e4", APPLIANCE_V4, 0),
                     ("e6", APPLIANCE_V6, 0)],
        "src_port": [("4", CLIENT_V4, p) for p in (0, 7, 19, 123, 1900, 11211)] + [("6", CLIENT_V6, 0),
                                                                                    ("6", CLIENT_V6, 123)],
    }

    @staticmethod
    def frame(kind, src, sport, qid):
        q = dns_query("www.dotpin.test", qid=qid)
        return {"4": lambda: udp4_frame(q, src=src, sport=sport), "6": lambda: udp6_frame(q, src=src, sport=sport),
                "e4": lambda: icmp4_echo_frame(src), "e6": lambda: icmp6_echo_frame(src)}[kind]()

    def test_spoofed_sources_get_nothing_and_are_counted(self):
        pins = self.pin_file("src.toml", [("a", self.upstream, ["leaf-p256"])])
        with Dotpind(self.dir, pins, tag="src") as d:
            r = kdig(f"@{APPLIANCE_V4}", "www.dotpin.test", "A")  # warms the cache: a spoofed query would hit
            self.assertIn("198.18.0.10", r.stdout, r.stdout + r.stderr)
            mac = d.mac()
            self.assertIsNotNone(mac, d.read_log())
            tap = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))  # ETH_P_ALL
            try:
                tap.bind((d.iface, 0))
                ours = tap.getsockname()[4]
                hostile, qid = [], 0x4000
                for reason, cases in self.HOSTILE.items():
                    for kind, src, sport in cases:
                        qid += 1
                        hostile.append((qid, reason, kind, src, sport))
                # Legitimate, by the same path: a client (cache hit) and an outsider (REFUSED).
                legit = [udp4_frame(dns_query("www.dotpin.test", qid=0x7001)),
                         udp4_frame(dns_query("www.dotpin.test", qid=0x7002), src=OUTSIDER_V4),
                         icmp4_echo_frame()]
                frames = [self.frame(kind, src, sport, q) for q, _, kind, src, sport in hostile] + legit
                for f in frames:
                    tap.send(mac + ours + f[12:])
                # Everything dotpind sends comes up the tap: collect for a second.
                seen = []
                tap.settimeout(0.1)
                end = time.monotonic() + 1.0
                while time.monotonic() < end:
                    try:
                        data, addr = tap.recvfrom(65535)
                    except socket.timeout:
                        continue
                    if addr[2] != socket.PACKET_OUTGOING and data[6:12] == mac:
                        seen.append(data)
            finally:
                tap.close()
            replies = set()  # (DNS ID or "echo", where the reply went)
            for f in seen:
                if f[12:14] == b"\x08\x00" and f[23] == 17 and f[34:36] == b"\x00\x35":
                    replies.add((f"{f[42] << 8 | f[43]:#06x}", socket.inet_ntoa(f[30:34])))
                elif f[12:14] == b"\x86\xdd" and f[20] == 17 and f[54:56] == b"\x00\x35":
                    replies.add((f"{f[62] << 8 | f[63]:#06x}", socket.inet_ntop(socket.AF_INET6, f[38:54])))
                elif f[12:14] == b"\x08\x00" and f[23] == 1 and f[34] == 0:
                    replies.add(("echo", socket.inet_ntoa(f[30:34])))
                elif f[12:14] == b"\x86\xdd" and f[20] == 58 and f[54] == 129:
                    replies.add(("echo", socket.inet_ntop(socket.AF_INET6, f[38:54])))
            # The legitimate ones were answered (so that the capture is known to work) ...
            legit = {("0x7001", CLIENT_V4), ("0x7002", OUTSIDER_V4), ("echo", CLIENT_V4)}
            self.assertEqual(legit - replies, set(), replies)
            # ... and no spoofed one: no DNS reply with its ID, no echo reply but the client's.
            self.assertEqual(sorted(replies - legit), [], "answered spoofed sources: (DNS ID or echo, to)")
            r = kdig(f"@{APPLIANCE_V4}", "www.dotpin.test", "A")
            self.assertIn("198.18.0.10", r.stdout, r.stdout + r.stderr)
            r = kdig(f"@{APPLIANCE_V6}", "www.dotpin.test", "AAAA")
            self.assertEqual(status_of(r.stdout), "NOERROR", r.stdout + r.stderr)

            want = {reason: len(cases) for reason, cases in self.HOSTILE.items()}
            code, j = d.ctl("stats")
            self.assertEqual(code, 0, j)
            drops = j["result"]["totals"]["drops"]
            self.assertEqual({k: drops.get(k) for k in want}, want, drops)
            m = d.metrics()
            for reason, n in want.items():
                got = sum(v for (name, labels), v in m.items()
                          if name == "dotpin_lcore_drops_total" and ("reason", reason) in labels)
                self.assertEqual(got, n, reason)
        for reason, n in want.items():
            self.assertEqual(d.counter(f"drop_{reason}"), n, d.summary)
        self.assertEqual(d.counter("acl_refused"), 1, d.summary)


if __name__ == "__main__":
    main()
