#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""DANE through the real path: dotpind on a net_tap port in a network namespace, real unbound DoT
upstreams for dns.dane.test, a real knotd signing dane.test. (dane_zone.py) on the namespace's
loopback, libunbound in dotpind validating against the zone's DS, real kdig and dnsperf clients.

- DANE-EE (3 1 1) and DANE-TA (2 1 1) records admit the genuine server and refuse a PKIX-valid
  server of another CA and a self-signed impostor that appends the genuine chain; none of them logs
  a query.
- A DANE key rollover under a dnsperf load (publish the next key's 3 1 1, wait for it, switch the
  servers' keys, remove the old record) loses no query and fails none; each TLSA change is in
  force within the RRset's TTL plus one refresh.
- A bogus RRset (served records that match the server, signatures that do not validate) and an
  unsigned one leave the upstream without pins: refused, 0 queries in its log. An RRset that was
  secure and turns bogus holds the last secure pins; a signed removal revokes them at once."""

import os
import re
import shutil
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dotpin_harness import (main, APPLIANCE_V4, ApplianceSuite, Dotpind, UnboundDot, dnsperf, kdig, pki,  # noqa: E402
                            status_of)
from dane_zone import DaneZone, tools_missing  # noqa: E402

TTL = 3  # seconds: short, so that adoption within a TTL is seen quickly
NAME = "dns.dane.test"


def tlsa(usage, cert):
    """'U 1 1 <hex>' for @cert: SHA-256 of its SubjectPublicKeyInfo, by the openssl pipeline."""
    cmd = (f"openssl x509 -in '{cert}' -pubkey -noout | openssl pkey -pubin -outform der"
           " | openssl dgst -sha256 -hex")
    out = subprocess.run(["sh", "-c", cmd], check=True, capture_output=True, text=True).stdout
    return f"{usage} 1 1 {out.split()[-1].lower()}"






@unittest.skipUnless(os.geteuid() == 0, "needs root for network namespaces and net_tap")
class DaneThroughDotpind(ApplianceSuite):
    TAG = "dane"
    SERVERS = {"genuine": ("hostile/dane-genuine.key", "hostile/dane-genuine.chain.pem"),
               "second": ("hostile/dane-genuine.key", "hostile/dane-genuine.chain.pem"),
               "other_ca": ("hostile/dane-other-ca.key", "hostile/dane-other-ca.chain.pem"),
               "append": ("hostile/dane-append.key", "hostile/dane-append.chain.pem"),
               "bogus_srv": ("hostile/dane-bogus.key", "hostile/dane-bogus.chain.pem"),
               "insecure_srv": ("hostile/dane-insecure.key", "hostile/dane-insecure.chain.pem")}

    @classmethod
    def setUpClass(cls):
        missing = tools_missing()
        if missing:
            raise unittest.SkipTest("not installed: " + ", ".join(missing))
        super().setUpClass()
        try:
            cls.ee = tlsa(3, pki("hostile/dane-genuine.crt"))
            cls.ee_next = tlsa(3, pki("hostile/dane-next.crt"))
            cls.ta = tlsa(2, pki("issuing.crt"))
            cls.zone = DaneZone({"dns": [cls.ee]}, bogus={"dns": [tlsa(3, pki("hostile/dane-bogus.crt"))]},
                                insecure={"dns": [tlsa(3, pki("hostile/dane-insecure.crt"))]}, ttl=TTL).start()
            cls.anchors = cls.zone.trust_anchor()
            cls.queries = os.path.join(cls.dir, "unique.txt")
            with open(cls.queries, "w") as f:  # every query a miss: each goes over DoT
                for i in range(20000):
                    f.write(f"u{i}.dane.test A\n")
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "zone", None):
            cls.zone.cleanup()
            cls.zone = None
        super().tearDownClass()

    def dane_pin_file(self, name, upstreams, auth_name=NAME):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            for n, server in upstreams:
                f.write(f'[[upstream]]\nname = "{n}"\naddress = "127.0.0.1:{server.port}"\nauth_name = "{auth_name}"\n'
                        'pins_from = "dane"\ntlsa_port = 853\n\n')
        return path

    def daemon(self, tag, path):
        stubs = ", ".join(f'"{z}=127.0.0.1@{self.zone.port}"' for z in ("dane.test.", "bogus.test.", "insecure.test."))
        extra = (f'\n[dane]\ntrust_anchor_file = "{self.anchors}"\nstubs = [{stubs}]\ntimeout_ms = 2000\n'
                 'refresh_min_s = 1\nretry_s = 1\n')
        return Dotpind(self.dir, path, tag=tag, extra_config=extra)

    def sources(self, d):
        code, j = d.ctl("pins", "sources")
        self.assertEqual(code, 0, j)
        return {u["upstream"]: u for u in j["result"]["upstreams"]}

    def dane_pins(self, d):
        code, j = d.ctl("pins", "list")
        self.assertEqual(code, 0, j)
        return {u["name"]: sorted((p["scope"], p["sha256"]) for p in u["pins"] if p["origin"] == "dane")
                for u in j["result"]["upstreams"]}

    def wait_for(self, what, predicate, timeout, d=None):
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return time.monotonic() - (deadline - timeout)
            if time.monotonic() > deadline:
                self.fail(f"{what} not within {timeout} s" + (f": {self.sources(d)}\n{d.read_log()}" if d else ""))
            time.sleep(0.1)

    def upstreams(self, d):
        d.wait_published()
        code, j = d.ctl("upstreams")
        self.assertEqual(code, 0, j)
        return {u["name"]: u for u in j["result"]["upstreams"]}

    def check_admits_and_refuses(self, records, refusals):
        self.genuine.restart_with(pki("hostile/dane-genuine.key"), pki("hostile/dane-genuine.chain.pem"))
        self.zone.set_tlsa("dns", records, ttl=TTL)
        tag = "ta" if records[0].startswith("2") else "ee"
        with self.daemon(f"g{tag}", self.dane_pin_file(f"g{tag}.toml", [("a", self.genuine)])) as d:
            self.wait_for("secure TLSA pins", lambda: self.sources(d).get("a", {}).get("state") == "secure", 15, d)
            pins = self.dane_pins(d)["a"]
            self.assertEqual(len(pins), 1, pins)
            self.assertEqual(pins[0][0], "issuer" if tag == "ta" else "leaf", pins)
            out = kdig(f"@{APPLIANCE_V4}", "www.dotpin.test", "A").stdout
            self.assertIn("198.18.0.10", out, out)
            m = d.metrics()
            self.assertEqual(m[("dotpin_dane_records", frozenset({("upstream", "a"), ("source", "dane")}))], 1)
            # What a refresh cost the control thread (reported, never asserted: docs/benchmarks.md).
            src = self.sources(d)["a"]
            print(f"\nDANE refresh ({tag}): {src['attempts']} lookups, last {src['last_ms']:.2f} ms wall, "
                  f"{src['last_cpu_ms']:.2f} ms CPU on the control thread", file=sys.stderr)
            self.assertIn(("dotpin_dane_rrsig_expiration_timestamp_seconds", frozenset({("upstream", "a"), ("source", "dane")})), m)
        hostile = [("other_ca", self.other_ca), ("append", self.append)]
        before = {n: s.queries_logged() for n, s in hostile}
        with self.daemon(f"h{tag}", self.dane_pin_file(f"h{tag}.toml", hostile)) as d:
            self.wait_for("secure TLSA pins", lambda: all(s.get("state") == "secure" for s in self.sources(d).values())
                          and len(self.sources(d)) == 2, 15)
            for i in range(6):
                out = kdig(f"@{APPLIANCE_V4}", f"h{i}.dotpin.test", "A", "+edns").stdout
                self.assertEqual(status_of(out), "SERVFAIL", out)
            table = self.upstreams(d)
        time.sleep(0.2)
        for n, s in hostile:
            with self.subTest(tag=tag, upstream=n):
                u = table[n]
                self.assertGreaterEqual(u["failures"].get(refusals[n], 0), 1, u)
                self.assertEqual(u["answers"], 0, u)
                self.assertEqual(s.queries_logged(), before[n], f"a query reached {n}: " + s.read_log())

    def test_dane_ee_admits_the_genuine_server_only(self):
        self.check_admits_and_refuses([self.ee], {"other_ca": "pin_mismatch", "append": "pin_not_on_path"})

    def test_dane_ta_admits_the_genuine_server_only(self):
        self.check_admits_and_refuses([self.ta], {"other_ca": "pin_mismatch", "append": "pin_not_on_path"})

    @unittest.skipUnless(shutil.which("dnsperf"), "dnsperf not installed")
    def test_key_rollover_the_dane_way_under_load(self):
        for s in (self.genuine, self.second):
            s.restart_with(pki("hostile/dane-genuine.key"), pki("hostile/dane-genuine.chain.pem"))
        self.zone.set_tlsa("dns", [self.ee], ttl=TTL)
        path = self.dane_pin_file("roll.toml", [("a", self.genuine), ("b", self.second)])
        with self.daemon("roll", path) as d:
            self.wait_for("secure TLSA pins", lambda: all(len(p) == 1 for p in self.dane_pins(d).values()), 15)
            steps, errors = [], []

            def rollover():
                try:
                    time.sleep(1.0)
                    # 1. publish the next key's record beside the current one; wait until it is in force
                    self.zone.set_tlsa("dns", [self.ee, self.ee_next], ttl=TTL)
                    steps.append(("both", self.wait_for("both TLSA pins", lambda: all(
                        len(p) == 2 for p in self.dane_pins(d).values()), 2 * TTL + 6)))
                    # 2. switch each server to its next key, one at a time
                    for s in (self.genuine, self.second):
                        s.restart_with(pki("hostile/dane-next.key"), pki("hostile/dane-next.chain.pem"))
                        time.sleep(1.0)
                    # 3. remove the old record
                    self.zone.set_tlsa("dns", [self.ee_next], ttl=TTL)
                    steps.append(("next", self.wait_for("only the next key's pin", lambda: all(
                        len(p) == 1 for p in self.dane_pins(d).values()), 2 * TTL + 6)))
                except BaseException as e:  # reported by the main thread
                    errors.append(e)

            t = threading.Thread(target=rollover)
            t.start()
            sent, lost, codes, out = dnsperf(self.queries, 14, 400)
            t.join()
            self.assertEqual(errors, [])
            self.assertGreater(sent, 2000, out)
            self.assertEqual(lost, 0, out)
            self.assertNotIn("SERVFAIL", codes, out)
            # Each change in force within its TTL plus a refresh (and the zone's own commit).
            self.assertEqual([s for s, _ in steps], ["both", "next"])
            for step, took in steps:
                self.assertLess(took, TTL + 4, f"{step}: {took:.1f} s")
            self.assertIn("dane: upstream a:", d.read_log())
            out = kdig(f"@{APPLIANCE_V4}", "www.dotpin.test", "A").stdout
            self.assertIn("198.18.0.10", out, out)
            table = self.upstreams(d)
            self.assertGreater(table["a"]["answers"] + table["b"]["answers"], 2000, table)
            src = self.sources(d)["a"]  # a warm refresh, under load (reported, never asserted)
            print(f"\nDANE refresh (warm, under load): {src['attempts']} lookups, last {src['last_ms']:.2f} ms wall, "
                  f"{src['last_cpu_ms']:.2f} ms CPU on the control thread", file=sys.stderr)

    def check_refused_without_pins(self, server, auth_name, state, reason):
        before = server.queries_logged()
        with self.daemon(state, self.dane_pin_file(f"{state}.toml", [("x", server)], auth_name=auth_name)) as d:
            s = self.wait_for(f"{state} answer", lambda: self.sources(d).get("x", {}).get("failures", {}).get(reason), 15)
            self.assertTrue(s)
            src = self.sources(d)["x"]
            self.assertEqual(src["state"], state, src)
            self.assertEqual(self.dane_pins(d)["x"], [])
            for i in range(3):
                out = kdig(f"@{APPLIANCE_V4}", f"{state}{i}.dotpin.test", "A", "+edns").stdout
                self.assertEqual(status_of(out), "SERVFAIL", out)
            u = self.upstreams(d)["x"]
            self.assertGreaterEqual(u["failures"].get("no_pin_in_window", 0), 1, u)  # it has no pin at all
            self.assertEqual(u["answers"], 0, u)
            m = d.metrics()
            self.assertGreaterEqual(m[("dotpin_pin_source_failures_total",
                                       frozenset({("upstream", "x"), ("source", "dane"), ("reason", reason)}))], 1)
        time.sleep(0.2)
        self.assertEqual(server.queries_logged(), before, "a query reached it: " + server.read_log())

    def test_a_signed_removal_of_the_rrset_revokes_at_once_even_if_it_strands(self):
        # The zone owner removes the TLSA RRset (a signed NODATA: "missing") — how a compromised
        # key is revoked. It is authenticated, so the safe-change rule's hold (for bogus answers
        # only) does not apply: the pins go at once although the upstream is left with none, and
        # no query reaches the upstream afterwards.
        self.genuine.restart_with(pki("hostile/dane-genuine.key"), pki("hostile/dane-genuine.chain.pem"))
        self.zone.set_tlsa("dns", [self.ee], ttl=TTL)
        try:
            with self.daemon("rvk", self.dane_pin_file("rvk.toml", [("a", self.genuine)])) as d:
                self.wait_for("secure TLSA pins", lambda: self.sources(d).get("a", {}).get("state") == "secure", 15, d)
                self.assertEqual(len(self.dane_pins(d)["a"]), 1)
                self.zone.set_tlsa("dns", [])
                self.wait_for("revoked pins", lambda: self.sources(d).get("a", {}).get("state") == "missing", 15, d)
                src = self.sources(d)["a"]
                self.assertGreaterEqual(src["failures"].get("dane_missing", 0), 1, src)
                self.assertEqual(self.dane_pins(d)["a"], [])
                d.wait_published()
                before = self.genuine.queries_logged()
                out = kdig(f"@{APPLIANCE_V4}", "revoked1.dane.test", "A").stdout
                self.assertEqual(status_of(out), "SERVFAIL", out)
                time.sleep(0.2)
                self.assertEqual(self.genuine.queries_logged(), before)
                self.assertIn("forced although upstream 'a' would have no pin valid now", d.read_log())
        finally:
            self.zone.set_tlsa("dns", [self.ee], ttl=TTL)

    def test_a_bogus_refresh_holds_the_last_secure_pins(self):
        # The other side of the revocation above: an RRset that validated and then comes back bogus
        # (a broken re-sign, or an attacker on the path to the zone) is not authenticated, so it
        # revokes nothing: the last secure pins are held (state "held", within the RRset's TTL
        # plus stale_s and its RRSIG's expiry), the upstream keeps answering, and the operator is
        # warned. An attacker who can only break validation cannot strand the upstream.
        record = tlsa(3, pki("hostile/dane-bogus.crt"))
        try:
            self.zone.make_bogus("dns", [record], tamper=False)
            with self.daemon("hld", self.dane_pin_file("hld.toml", [("x", self.bogus_srv)], auth_name="dns.bogus.test")) as d:
                self.wait_for("secure TLSA pins", lambda: self.sources(d).get("x", {}).get("state") == "secure", 15, d)
                pins = self.dane_pins(d)["x"]
                self.assertEqual(len(pins), 1, pins)
                self.zone.make_bogus("dns", [record], tamper=True)
                self.wait_for("held pins", lambda: self.sources(d).get("x", {}).get("state") == "held", 15, d)
                src = self.sources(d)["x"]
                self.assertGreaterEqual(src["failures"].get("dane_bogus", 0), 1, src)
                self.assertIn("held until", src.get("detail", ""), src)
                self.assertEqual(self.dane_pins(d)["x"], pins)  # still in force
                before = self.bogus_srv.queries_logged()
                out = kdig(f"@{APPLIANCE_V4}", "www.dotpin.test", "A").stdout
                self.assertIn("198.18.0.10", out, out)
                self.assertGreater(self.bogus_srv.queries_logged(), before)
                self.assertIn("the last secure TLSA pins are held until", d.read_log())
        finally:
            self.zone.make_bogus("dns", [record], tamper=True)

    def test_in_views_each_tenants_tlsa_pins_admit_nothing_to_the_other(self):
        # Two tenants name an upstream "ns" at the same server (CA-valid for dns.dane.test, another
        # CA's key). tenant-b's signed TLSA RRset (_8853._tcp.dns.dane.test) pins that server's key;
        # tenant-a's (_853._tcp.dns.dane.test) pins the genuine server's only. tenant-b is answered
        # by it; tenant-a refuses it (pin_mismatch) and sends it none of its queries (its log).
        tenant_b = "198.18.0.3"
        self.zone.set_tlsa("dns", [self.ee], ttl=TTL)
        self.zone.set_tlsa("dns", [tlsa(3, pki("hostile/dane-other-ca.crt"))], ttl=TTL, port=8853)
        files = []
        for tenant, port in (("a", 853), ("b", 8853)):
            path = os.path.join(self.dir, f"views-{tenant}.toml")
            with open(path, "w") as f:
                f.write(f'[[upstream]]\nname = "ns"\naddress = "127.0.0.1:{self.other_ca.port}"\nauth_name = "{NAME}"\n'
                        f'pins_from = "dane"\ntlsa_port = {port}\n')
            files.append(path)
        views = (f'[[view]]\nname = "tenant-a"\nclients = ["198.18.0.2/32"]\npin_file = "{files[0]}"\n\n'
                 f'[[view]]\nname = "tenant-b"\nclients = ["{tenant_b}/32"]\npin_file = "{files[1]}"\n')
        stubs = ", ".join(f'"{z}=127.0.0.1@{self.zone.port}"' for z in ("dane.test.", "bogus.test.", "insecure.test."))
        extra = (f'\n[dane]\ntrust_anchor_file = "{self.anchors}"\nstubs = [{stubs}]\ntimeout_ms = 2000\n'
                 'refresh_min_s = 1\nretry_s = 1\n')

        def sources(d):
            code, j = d.ctl("pins", "sources")
            self.assertEqual(code, 0, j)
            return {(u.get("view"), u["upstream"]): u for u in j["result"]["upstreams"]}

        def tenant_a_logged():
            return sum(1 for line in self.other_ca.read_log().splitlines() if " IN" in line and "ta-" in line)

        try:
            before = tenant_a_logged()
            with Dotpind(self.dir, "", tag="dvw", views=views, extra_config=extra) as d:
                subprocess.run(["ip", "addr", "add", f"{tenant_b}/32", "dev", d.iface], check=True)
                self.wait_for("both views' TLSA pins", lambda: [s.get("state") for s in sources(d).values()] ==
                              ["secure", "secure"], 15, d)
                self.assertEqual(set(sources(d)), {("tenant-a", "ns"), ("tenant-b", "ns")})
                for view, owner in (("tenant-a", "_853._tcp.dns.dane.test"), ("tenant-b", "_8853._tcp.dns.dane.test")):
                    code, j = d.ctl("pins", "list", "--view", view)
                    self.assertEqual(code, 0, j)
                    self.assertEqual(sum(1 for p in j["result"]["upstreams"][0]["pins"] if p["origin"] == "dane"), 1, j)
                    self.assertIn(owner, sources(d)[(view, "ns")]["detail"])
                rb = kdig(f"@{APPLIANCE_V4}", "-b", tenant_b, "tb-1.dotpin.test", "A")
                self.assertIn(status_of(rb.stdout), ("NOERROR", "NXDOMAIN"), rb.stdout)
                for i in range(4):
                    ra = kdig(f"@{APPLIANCE_V4}", "-b", "198.18.0.2", f"ta-{i}.dotpin.test", "A")
                    self.assertEqual(status_of(ra.stdout), "SERVFAIL", ra.stdout)
                d.wait_published()
                code, j = d.ctl("upstreams", "--view", "tenant-a")
                (row,) = j["result"]["upstreams"]
                self.assertGreaterEqual(row["failures"].get("pin_mismatch", 0), 1, row)
                self.assertEqual(row["answers"], 0, row)
                m = d.metrics()
                self.assertEqual(m[("dotpin_dane_records", frozenset({("view", "tenant-b"), ("upstream", "ns"),
                                                                      ("source", "dane")}))], 1)
            time.sleep(0.2)
            self.assertEqual(tenant_a_logged(), before, "tenant-a's query reached the server only tenant-b pins: " +
                             self.other_ca.read_log())
        finally:
            self.zone.set_tlsa("dns", [], ttl=TTL, port=8853)

    def test_a_bogus_rrset_gives_no_pins(self):
        self.check_refused_without_pins(self.bogus_srv, "dns.bogus.test", "bogus", "dane_bogus")

    def test_an_unsigned_rrset_gives_no_pins(self):
        self.check_refused_without_pins(self.insecure_srv, "dns.insecure.test", "insecure", "dane_insecure")


if __name__ == "__main__":
    main()
