#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Views (tenants) through the real path: dotpind on a net_tap port in a network namespace, two
tenants with their own genuine unbound DoT upstreams (distinct keys, distinct answers for the same
name) and real clients (kdig, dnsperf, and UDP sockets bound to VLAN subinterfaces). Each tenant
gets its own upstream's answer, from cache too; a tenant's pool refuses the other tenant's name
server (its key is pinned only in the other pool) and none of its queries reaches it (the
server's own log); a pins reload of one tenant under load on both loses nothing of the other's
and leaves its connections alone; clients in no view, an unknown VLAN or untagged frames where
views are by VLAN are refused or dropped and counted."""

import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from upstream_faults import FaultServer  # noqa: E402
from dotpin_harness import (APPLIANCE_V4, CLIENT_V4, DOTPIND, OUTSIDER_V4, ApplianceSuite, Dotpind, UnboundDot,  # noqa: E402
                            dns_query, dnsperf_clients, kdig, main, pki, reference_pin, status_of, udp4_frame)

TENANT_B_V4 = "198.18.0.3"
ANSWER_A, ANSWER_B = "198.18.0.10", "198.18.0.20"


def answer_of(out):
    """The A record of a kdig answer for www.dotpin.test, or None."""
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[0].startswith("www.dotpin.test") and parts[-2] == "A":
            return parts[-1]
    return None


def a_record(reply):
    """The address of the last A record of a DNS reply (the answer section's), or None."""
    if reply is None or len(reply) < 16 or reply[-16 + 2:-16 + 4] != b"\x00\x01":
        return None
    return socket.inet_ntoa(reply[-4:])


@unittest.skipUnless(os.geteuid() == 0, "needs root for network namespaces and net_tap")
@unittest.skipUnless(shutil.which("dnsperf") and shutil.which("kdig"), "dnsperf or kdig not installed")
class Views(ApplianceSuite):
    TAG = "vw"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            # Two tenants' genuine name servers: other keys, other answers for the same name.
            cls.a = UnboundDot(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"), zone_a=ANSWER_A).start()
            cls.servers.append(cls.a)
            cls.b = UnboundDot(pki("leaf-rsa2048.key"), pki("leaf-rsa2048.chain.pem"), zone_a=ANSWER_B).start()
            cls.servers.append(cls.b)
        except Exception:
            cls.tearDownClass()
            raise

    def views(self, tag, a_pins, b_pins=None, extra=""):
        """[[view]] text: tenant-a = CLIENT_V4, tenant-b = TENANT_B_V4, with their pin files."""
        pa = self.pin_file(f"{tag}-a.toml", a_pins)
        pb = self.pin_file(f"{tag}-b.toml", b_pins or [("b", self.b, ["leaf-rsa2048"])])
        return (f'[[view]]\nname = "tenant-a"\nclients = ["{CLIENT_V4}/32"]\npin_file = "{pa}"\n{extra}\n'
                f'[[view]]\nname = "tenant-b"\nclients = ["{TENANT_B_V4}/32"]\npin_file = "{pb}"\n{extra}\n'), pa, pb

    def daemon(self, tag, views, extra_config="", upstreams_extra=""):
        return Dotpind(self.dir, "", tag=tag, views=views, extra_config=extra_config, upstreams_extra=upstreams_extra)

    def add_tenant_b(self, d):
        subprocess.run(["ip", "addr", "add", f"{TENANT_B_V4}/32", "dev", d.iface], check=True)

    def view_stats(self, d, name):
        d.wait_published()
        code, j = d.ctl("stats", "--view", name)
        self.assertEqual(code, 0, j)
        (v,) = [v for v in j["result"]["views"] if v["name"] == name]
        return v, j["result"]

    def test_each_tenant_gets_its_own_upstreams_answer_and_cache(self):
        text, _, _ = self.views("own", [("a", self.a, ["leaf-p256"])])
        a_before, b_before = self.a.queries_logged(), self.b.queries_logged()
        with self.daemon("vwo", text) as d:
            self.add_tenant_b(d)
            for _ in range(3):  # the first asks upstream, the rest come from the tenant's cache
                ra = kdig(f"@{APPLIANCE_V4}", "-b", CLIENT_V4, "www.dotpin.test", "A")
                rb = kdig(f"@{APPLIANCE_V4}", "-b", TENANT_B_V4, "www.dotpin.test", "A")
                self.assertEqual(answer_of(ra.stdout), ANSWER_A, ra.stdout)
                self.assertEqual(answer_of(rb.stdout), ANSWER_B, rb.stdout)
            # Over TCP (the exception path) a client is matched by its address the same way.
            for src, want in ((CLIENT_V4, ANSWER_A), (TENANT_B_V4, ANSWER_B)):
                r = kdig(f"@{APPLIANCE_V4}", "+tcp", "-b", src, "www.dotpin.test", "A")
                self.assertEqual(answer_of(r.stdout), want, r.stdout + r.stderr)
            # Each name server saw its own tenant's one query: a name cached for one view is never
            # served to the other, and identical misses of two views are not merged.
            self.assertEqual(self.a.queries_logged() - a_before, 1, self.a.read_log())
            self.assertEqual(self.b.queries_logged() - b_before, 1, self.b.read_log())
            va, _ = self.view_stats(d, "tenant-a")
            vb, whole = self.view_stats(d, "tenant-b")
            for v in (va, vb):
                self.assertEqual(v["counters"]["queries"], 4, v)  # 3 over UDP, 1 over TCP
                self.assertEqual(v["counters"]["cache_hits"], 3, v)
                self.assertEqual(v["counters"]["upstream_answers"], 1, v)
                self.assertGreaterEqual(v["cache"]["entries"], 1, v)
            self.assertEqual([u["name"] for u in whole["upstreams"]], ["b"], whole)
            # Without --view a command that names one view's state says which views there are.
            code, text_out = d.ctl("pins", "list", json_out=False)
            self.assertEqual(code, 2, text_out)
            self.assertIn("--view NAME (tenant-a, tenant-b)", text_out)
            code, j = d.ctl("pins", "list", "--view", "tenant-a")
            self.assertEqual(code, 0, j)
            self.assertEqual([u["name"] for u in j["result"]["upstreams"]], ["a"])
            code, text_out = d.ctl("upstreams", "--view", "tenant-c", json_out=False)
            self.assertEqual(code, 2, text_out)
            self.assertIn("no view named 'tenant-c'", text_out)
            code, text_out = d.ctl("status", json_out=False)
            self.assertEqual(code, 0, text_out)
            self.assertIn(f"view tenant-b: {TENANT_B_V4}/32; pins generation 1", text_out)
            code, text_out = d.ctl("stats", json_out=False)
            self.assertIn("view tenant-a: queries 4, cache hits 3", text_out)
            # The expiry monitor watches every view's upstreams, named VIEW/UPSTREAM.
            code, j = d.ctl("expiry", "--refresh", "--view", "tenant-b")
            self.assertIn(code, (0, 1), j)
            names = {i["upstream"] for i in j["result"]["items"]}
            self.assertEqual(names, {"tenant-b/b"}, j)
            # A flush of one view's partition leaves the other's.
            code, j = d.ctl("cache", "flush", "--view", "tenant-a")
            self.assertEqual(code, 0, j)
            rb = kdig(f"@{APPLIANCE_V4}", "-b", TENANT_B_V4, "www.dotpin.test", "A")
            self.assertEqual(answer_of(rb.stdout), ANSWER_B, rb.stdout)
            self.assertEqual(self.b.queries_logged() - b_before, 1, "tenant-b's entry survived tenant-a's flush")
            d.wait_published()
            metrics = d.metrics()
            self.assertEqual(metrics[("dotpin_view_events_total", frozenset({("view", "tenant-b"), ("event", "cache_hits")}))], 4)
            self.assertIn(("dotpin_upstream_answers_total", frozenset({("view", "tenant-a"), ("upstream", "a")})), metrics)

    def test_tofu_in_views_learns_into_each_views_own_state_and_one_tenants_key_admits_nothing_to_the_other(self):
        # Both tenants name an upstream "ns" at the same address, learning its key on first use,
        # each with its own CA file. The server is then replaced by another CA-valid one for the
        # same name (an attacker who took the address, or a key change tenant-b chooses to trust):
        # tenant-b forgets and learns the new key; tenant-a must keep refusing it (tofu_changed),
        # send it none of its queries (the server's own log), and keep its own state file. With
        # one state file for both, tenant-b's learning would have rewritten tenant-a's key.
        server = UnboundDot(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"), zone_a=ANSWER_A).start()
        self.servers.append(server)
        ca = f'ca_file = "{pki("ca-bundle.pem")}"\n'
        files = []
        for tenant in ("a", "b"):
            path = os.path.join(self.dir, f"tofu-{tenant}.toml")
            with open(path, "w") as f:
                f.write(f'[[upstream]]\nname = "ns"\naddress = "127.0.0.1:{server.port}"\nauth_name = "dns.dotpin.test"\n'
                        'pins_from = "tofu"\n')
            files.append(path)
        views = (f'[[view]]\nname = "tenant-a"\nclients = ["{CLIENT_V4}/32"]\npin_file = "{files[0]}"\n{ca}\n'
                 f'[[view]]\nname = "tenant-b"\nclients = ["{TENANT_B_V4}/32"]\npin_file = "{files[1]}"\n{ca}\n')
        state = os.path.join(self.dir, "vt.json")
        state_a, state_b = os.path.join(self.dir, "vt.tenant-a.json"), os.path.join(self.dir, "vt.tenant-b.json")
        genuine, other = reference_pin("leaf-p256"), reference_pin("impostor")

        def sources(d, view=None):
            code, j = d.ctl("pins", "sources", *(("--view", view) if view else ()))
            self.assertEqual(code, 0, j)
            return {(u.get("view"), u["upstream"]): u for u in j["result"]["upstreams"]}

        def wait_learned(d, view):
            deadline = time.monotonic() + 15
            while sources(d).get((view, "ns"), {}).get("state") != "learned":
                self.assertLess(time.monotonic(), deadline, f"{view} learned nothing: {sources(d)}\n{d.read_log()}")
                time.sleep(0.1)

        def learned_on_disk(path):
            with open(path) as f:
                return [p["sha256"] for u in json.load(f)["upstreams"] for p in u["pins"]]

        def pins_of(d, view):
            code, j = d.ctl("pins", "list", "--view", view)
            self.assertEqual(code, 0, j)
            return [p["sha256"] for p in j["result"]["upstreams"][0]["pins"]]

        def tenant_a_names_logged():
            return sum(1 for line in server.read_log().splitlines() if " IN" in line and "ta-" in line)

        with Dotpind(self.dir, "", tag="vwt", views=views,
                     extra_config=f'\n[tofu]\nstate_file = "{state}"\nprobe_timeout_ms = 2000\n') as d:
            self.add_tenant_b(d)
            wait_learned(d, "tenant-a")
            wait_learned(d, "tenant-b")
            self.assertEqual(learned_on_disk(state_a), [genuine])
            self.assertEqual(learned_on_disk(state_b), [genuine])
            self.assertFalse(os.path.exists(state), "a view learned into [tofu] state_file itself")
            self.assertEqual(set(sources(d, "tenant-b")), {("tenant-b", "ns")})
            ra = kdig(f"@{APPLIANCE_V4}", "-b", CLIENT_V4, "ta-0.dotpin.test", "A")
            self.assertIn(status_of(ra.stdout), ("NOERROR", "NXDOMAIN"), ra.stdout)  # the server's answer
            code, text_out = d.ctl("pins", "forget", "ns", json_out=False)
            self.assertEqual(code, 2, text_out)
            self.assertIn("--view NAME (tenant-a, tenant-b)", text_out)

            server.restart_with(pki("impostor.key"), pki("impostor.chain.pem"))
            code, j = d.ctl("pins", "forget", "ns", "--view", "tenant-b", "--force")
            self.assertEqual(code, 0, j)
            wait_learned(d, "tenant-b")
            self.assertEqual(pins_of(d, "tenant-b"), [other])
            self.assertEqual(learned_on_disk(state_b), [other])
            rb = kdig(f"@{APPLIANCE_V4}", "-b", TENANT_B_V4, "tb-1.dotpin.test", "A")
            self.assertIn(status_of(rb.stdout), ("NOERROR", "NXDOMAIN"), rb.stdout)
            # tenant-a: still the genuine key only, in force and on disk; the new server refused.
            before = tenant_a_names_logged()
            row = None
            for i in range(10):
                ra = kdig(f"@{APPLIANCE_V4}", "-b", CLIENT_V4, f"ta-{i + 1}.dotpin.test", "A")
                self.assertEqual(status_of(ra.stdout), "SERVFAIL", ra.stdout)
                d.wait_published()
                code, j = d.ctl("upstreams", "--view", "tenant-a")
                row = j["result"]["upstreams"][0]
                if row["failures"].get("tofu_changed", 0) >= 1:
                    break
                time.sleep(0.3)
            self.assertGreaterEqual(row["failures"].get("tofu_changed", 0), 1, row)
            self.assertEqual(pins_of(d, "tenant-a"), [genuine])
            self.assertEqual(learned_on_disk(state_a), [genuine])
            self.assertEqual(sources(d, "tenant-a")[("tenant-a", "ns")]["state"], "learned")
            metrics = d.metrics()
            self.assertIn(("dotpin_pin_source_state", frozenset({("view", "tenant-a"), ("upstream", "ns"),
                                                                 ("source", "tofu"), ("state", "learned")})), metrics)
            self.assertIn("view tenant-b: upstream ns: learned on first use", d.read_log())
        time.sleep(0.2)
        self.assertEqual(tenant_a_names_logged(), before, "a query of tenant-a reached the server only tenant-b trusts: " +
                         server.read_log())

    def test_keys_learned_before_views_stop_dotpind_until_moved(self):
        # An appliance that learned keys without views, now configured with views: no view reads
        # [tofu] state_file, so starting would learn every key again on first use. Refused, by
        # --check and at start, until the file is moved away; then it starts.
        text, _, _ = self.views("mig", [("a", self.a, ["leaf-p256"])])
        state = os.path.join(self.dir, "mig-tofu.json")
        with open(state, "w") as f:
            f.write('{"version": 1, "upstreams": []}\n')
        d = Dotpind(self.dir, "", tag="vwm", views=text,
                    extra_config=f'\n[tofu]\nstate_file = "{state}"\n')
        for args in (["--check"], []):
            r = subprocess.run([DOTPIND, "--config", d.conf, *args], capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertIn("each view learns into its own file", r.stderr)
            self.assertIn(os.path.join(self.dir, "mig-tofu.tenant-a.json"), r.stderr)
        os.rename(state, state + ".moved")
        r = subprocess.run([DOTPIND, "--config", d.conf, "--check"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # A state file named like a view's that no view uses (a renamed view): started, with a warning.
        with open(os.path.join(self.dir, "mig-tofu.tenant-old.json"), "w") as f:
            f.write('{"version": 1, "upstreams": []}\n')
        with d:
            self.assertIn("mig-tofu.tenant-old.json belongs to no view", d.read_log())

    def test_each_view_picks_its_upstreams_by_its_own_policy(self):
        # Both pools: the fast genuine server and a slow one (answers after 100 ms), both pinned.
        # tenant-a picks by lowest latency, tenant-b round robin ([upstreams] policy): after the
        # same 40 unique names each, tenant-a's misses went mostly to the fast server, tenant-b's
        # about half to the slow one.
        slow = FaultServer("slow", self.dir, pki("leaf-p256.key"), pki("leaf-p256.chain.pem")).start()
        self.servers.append(slow)
        pool = [("fast", self.a, ["leaf-p256"]), ("slow", slow, ["leaf-p256"])]
        pa, pb = self.pin_file("policy-a.toml", pool), self.pin_file("policy-b.toml", pool)
        views = (f'[[view]]\nname = "tenant-a"\nclients = ["{CLIENT_V4}/32"]\npin_file = "{pa}"\n'
                 'policy = "lowest-latency"\n\n'
                 f'[[view]]\nname = "tenant-b"\nclients = ["{TENANT_B_V4}/32"]\npin_file = "{pb}"\n')
        with self.daemon("vwp", views) as d:
            self.add_tenant_b(d)
            for i in range(40):
                for source, prefix in ((CLIENT_V4, "pa"), (TENANT_B_V4, "pb")):
                    r = kdig(f"@{APPLIANCE_V4}", "-b", source, f"{prefix}-{i}.dotpin.test", "A")
                    self.assertIn(status_of(r.stdout), ("NOERROR", "NXDOMAIN"), r.stdout)
            answers = {}
            for view in ("tenant-a", "tenant-b"):
                d.wait_published()
                code, j = d.ctl("upstreams", "--view", view)
                self.assertEqual(code, 0, j)
                answers[view] = {u["name"]: u["answers"] for u in j["result"]["upstreams"]}
                self.assertEqual(sum(answers[view].values()), 40, answers)
            code, text_out = d.ctl("status", json_out=False)
            self.assertIn("upstream(s), lowest-latency", text_out)
        print(f"\nanswers by upstream: {answers}", file=sys.stderr)
        self.assertLessEqual(answers["tenant-a"]["slow"], 10, answers)
        self.assertGreaterEqual(answers["tenant-b"]["slow"], 14, answers)

    def test_each_view_judges_chains_with_its_own_ca_file_only(self):
        # tenant-a trusts the test root; tenant-b a private CA of its own (hostile/rogue-ca: another
        # self-signed root). Both pools name both servers, each pinned by its own key: "g" (leaf-p256
        # from the test root) and "r" (a leaf from tenant-b's CA, with the genuine issuing CA
        # appended). A pin is not enough: each view admits only the server its own CA vouches for
        # (unknown_ca for the other), so neither CA can vouch for a server to the other tenant, and
        # none of a tenant's queries reaches the server it refused (the servers' own logs).
        g = UnboundDot(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"), zone_a=ANSWER_A).start()
        self.servers.append(g)
        r = UnboundDot(pki("hostile/rogue-plus-issuing.key"), pki("hostile/rogue-plus-issuing.chain.pem"),
                       zone_a=ANSWER_B).start()
        self.servers.append(r)
        pool = [("g", g, ["leaf-p256"]), ("r", r, [("rogue-leaf", reference_pin("hostile/rogue-plus-issuing"))])]
        pa, pb = self.pin_file("ca-a.toml", pool), self.pin_file("ca-b.toml", pool)
        views = (f'[[view]]\nname = "tenant-a"\nclients = ["{CLIENT_V4}/32"]\npin_file = "{pa}"\n'
                 f'ca_file = "{pki("ca-bundle.pem")}"\n\n'
                 f'[[view]]\nname = "tenant-b"\nclients = ["{TENANT_B_V4}/32"]\npin_file = "{pb}"\n'
                 f'ca_file = "{pki("hostile/rogue-ca.crt")}"\n')

        def logged(server, prefix):
            return sum(1 for line in server.read_log().splitlines() if " IN" in line and prefix in line)

        before = {(s, p): logged(s, p) for s in (g, r) for p in ("ta-", "tb-")}
        with self.daemon("vwc", views) as d:
            self.add_tenant_b(d)
            for i in range(8):
                ra = kdig(f"@{APPLIANCE_V4}", "-b", CLIENT_V4, f"ta-{i}.dotpin.test", "A")
                self.assertIn(status_of(ra.stdout), ("NOERROR", "NXDOMAIN"), ra.stdout)
                rb = kdig(f"@{APPLIANCE_V4}", "-b", TENANT_B_V4, f"tb-{i}.dotpin.test", "A")
                self.assertIn(status_of(rb.stdout), ("NOERROR", "NXDOMAIN"), rb.stdout)
            ra = kdig(f"@{APPLIANCE_V4}", "-b", CLIENT_V4, "www.dotpin.test", "A")
            self.assertEqual(answer_of(ra.stdout), ANSWER_A, ra.stdout)
            rb = kdig(f"@{APPLIANCE_V4}", "-b", TENANT_B_V4, "www.dotpin.test", "A")
            self.assertEqual(answer_of(rb.stdout), ANSWER_B, rb.stdout)
            for view, refused in (("tenant-a", "r"), ("tenant-b", "g")):
                d.wait_published()
                code, j = d.ctl("upstreams", "--view", view)
                self.assertEqual(code, 0, j)
                row = {u["name"]: u for u in j["result"]["upstreams"]}[refused]
                self.assertGreaterEqual(row["failures"].get("unknown_ca", 0), 1, (view, row))
                self.assertEqual(row["answers"], 0, (view, row))
                # The expiry monitor probes each view's upstreams with that view's CA file too.
                code, j = d.ctl("expiry", "--refresh", "--view", view)
                errors = {i["upstream"] for i in j["result"]["items"] if i["status"] == "error"}
                self.assertEqual(errors, {f"{view}/{refused}"}, j)
                self.assertIn("did not authenticate", str(j["result"]["items"]))
        time.sleep(0.2)
        self.assertGreater(logged(g, "ta-"), before[(g, "ta-")])
        self.assertGreater(logged(r, "tb-"), before[(r, "tb-")])
        self.assertEqual(logged(r, "ta-"), before[(r, "ta-")], "tenant-a's query reached the server only tenant-b's CA vouches for")
        self.assertEqual(logged(g, "tb-"), before[(g, "tb-")], "tenant-b's query reached the server only tenant-a's CA vouches for")

    def test_a_tenants_pool_refuses_the_other_tenants_server_and_sends_it_nothing(self):
        # tenant-a's upstream entry points at tenant-b's name server (a hijacked route, a
        # misconfigured address, or tenant-b impersonating tenant-a's provider): its key is pinned
        # in tenant-b's pool only. CA-valid, the right name: refused before any query is written.
        text, _, _ = self.views("imp", [("a", self.b, ["leaf-p256"])])
        b_before = self.b.queries_logged()
        with self.daemon("vwi", text) as d:
            self.add_tenant_b(d)
            ra = kdig(f"@{APPLIANCE_V4}", "-b", CLIENT_V4, "www.dotpin.test", "A", "+edns")
            self.assertEqual(status_of(ra.stdout), "SERVFAIL", ra.stdout)
            self.assertIn("EDE: 22", ra.stdout)  # No Reachable Authority
            rb = kdig(f"@{APPLIANCE_V4}", "-b", TENANT_B_V4, "www.dotpin.test", "A")
            self.assertEqual(answer_of(rb.stdout), ANSWER_B, rb.stdout)
            d.wait_published()
            code, j = d.ctl("upstreams", "--view", "tenant-a")
            self.assertEqual(code, 0, j)
            (up,) = j["result"]["upstreams"]
            self.assertGreaterEqual(up["failures"]["pin_mismatch"], 1, up)
            self.assertEqual(up["answers"], 0, up)
        # The server's own log: tenant-b's one query, nothing of tenant-a's.
        self.assertEqual(self.b.queries_logged() - b_before, 1, self.b.read_log())

    def test_a_reload_of_one_tenant_loses_nothing_of_the_other_and_leaves_its_connections(self):
        text, pa, _ = self.views("rl", [("a", self.a, ["leaf-p256"])])
        qfile = os.path.join(self.dir, "rl-queries.txt")
        with open(qfile, "w") as f:
            for i in range(200):  # misses too: tenant-b's upstream works all along
                f.write(f"q{i}.dotpin.test A\nwww.dotpin.test A\n")
        with self.daemon("vwr", text) as d:
            self.add_tenant_b(d)
            for src in (CLIENT_V4, TENANT_B_V4):
                self.assertEqual(status_of(kdig(f"@{APPLIANCE_V4}", "-b", src, "www.dotpin.test", "A").stdout), "NOERROR")
            vb0, sb0 = self.view_stats(d, "tenant-b")
            (ub0,) = sb0["upstreams"]
            seconds, reloaded = 6, []

            def rollover():
                # tenant-a's rollover: a backup pin added to its file, reloaded while both tenants query.
                time.sleep(2)
                self.pin_file(os.path.basename(pa), [("a", self.a, ["leaf-p256", "leaf-p384"])])
                reloaded.append(d.ctl("pins", "reload", "--view", "tenant-a"))

            out = dnsperf_clients({"a": (CLIENT_V4, qfile, 500, 3, 100), "b": (TENANT_B_V4, qfile, 500, 3, 100)},
                                  seconds, during=rollover)
            code, j = reloaded[0]
            self.assertEqual(code, 0, j)
            for name in ("a", "b"):
                p, raw = out[name]
                self.assertIsNotNone(p["sent"], raw)
                self.assertGreater(p["sent"], 500 * seconds // 2, raw)
                self.assertEqual(p["lost"], 0, raw)
                self.assertEqual(set(p["codes"]) - {"NOERROR", "NXDOMAIN"}, set(), raw)
            code, j = d.ctl("pins", "list", "--view", "tenant-a")
            self.assertEqual(j["result"]["generation"], 2, j)
            self.assertEqual(len(j["result"]["upstreams"][0]["pins"]), 2, j)
            code, j = d.ctl("pins", "list", "--view", "tenant-b")
            self.assertEqual(j["result"]["generation"], 1, "tenant-b's pins were not republished")
            vb1, sb1 = self.view_stats(d, "tenant-b")
            (ub1,) = sb1["upstreams"]
            # tenant-b's connections were not touched: none drained, no new handshake.
            self.assertEqual(ub1["drained_connections"], ub0["drained_connections"], ub1)
            self.assertEqual(ub1["full_handshakes"], ub0["full_handshakes"], (ub0, ub1))
            self.assertEqual(vb1["counters"]["upstream_servfails"], 0, vb1)
            self.assertEqual(sb1["views"][0]["pin_generation"], 1)

    def test_a_cache_flooding_tenant_cannot_evict_the_others_hot_set(self):
        # tenant-a floods unique names (negative answers, all cached) into a small partition;
        # tenant-b's hot set stays in its own: its hit ratio stays above 99 % and nothing of its
        # partition is evicted, while tenant-a's partition evicts.
        text, _, _ = self.views("fl", [("a", self.a, ["leaf-p256"])], extra="cache_entries = 64\ncache_max_mib = 1\n")
        flood = os.path.join(self.dir, "flood.txt")
        with open(flood, "w") as f:
            for i in range(6000):
                f.write(f"flood{i}.dotpin.test A\n")
        hot = os.path.join(self.dir, "hot.txt")
        with open(hot, "w") as f:
            f.write("www.dotpin.test A\nbig.dotpin.test TXT\nnx.dotpin.test A\nwww.dotpin.test AAAA\n")
        with self.daemon("vwf", text) as d:
            self.add_tenant_b(d)
            for name, qtype in (("www", "A"), ("big", "TXT"), ("nx", "A"), ("www", "AAAA")):
                r = kdig(f"@{APPLIANCE_V4}", "-b", TENANT_B_V4, f"{name}.dotpin.test", qtype)
                self.assertIn(status_of(r.stdout), ("NOERROR", "NXDOMAIN"), r.stdout)
            vb0, _ = self.view_stats(d, "tenant-b")
            seconds = 5
            out = dnsperf_clients({"a": (CLIENT_V4, flood, 1000, 3, 100), "b": (TENANT_B_V4, hot, 500, 3, 100)}, seconds)
            pa, raw_a = out["a"]
            pb, raw_b = out["b"]
            self.assertGreater(pa["sent"], 1000 * seconds // 2, raw_a)
            self.assertEqual(pb["lost"], 0, raw_b)
            va, _ = self.view_stats(d, "tenant-a")
            vb, _ = self.view_stats(d, "tenant-b")
            b_queries = vb["counters"]["queries"] - vb0["counters"]["queries"]
            b_hits = vb["counters"]["cache_hits"] - vb0["counters"]["cache_hits"]
            ratio = b_hits / b_queries
            print(f"\nflood: tenant-a sent {pa['sent']} unique names, its partition evicted "
                  f"{va['cache']['evictions']}; tenant-b {b_queries} queries, hit ratio {ratio:.4f}, "
                  f"evictions {vb['cache']['evictions']}", file=sys.stderr)
            self.assertGreater(va["cache"]["evictions"], 1000, va)
            self.assertLessEqual(va["cache"]["entries"], 2 * 64, va)  # 64 per lcore
            self.assertEqual(vb["cache"]["evictions"], 0, vb)
            self.assertGreater(b_queries, 500 * seconds // 2, vb)
            self.assertGreaterEqual(ratio, 0.99, vb)

    def test_a_tenant_whose_upstream_stalls_cannot_take_the_others_in_flight_entries(self):
        # tenant-a's upstream completes the handshake (its key is pinned) and never answers: each of
        # its misses holds an in-flight entry for the whole query timeout. Its share of the table
        # (half of 256 here) is all it can hold; tenant-b's misses still find entries. With
        # tenant-a's share raised to the whole table, tenant-b's misses fail: the share is what
        # protects it.
        stall = FaultServer("stall", self.dir, pki("leaf-p256.key"), pki("leaf-p256.chain.pem")).start()
        try:
            flood = os.path.join(self.dir, "stall-flood.txt")
            with open(flood, "w") as f:
                for i in range(5000):
                    f.write(f"s{i}.dotpin.test A\n")
            misses = os.path.join(self.dir, "b-misses.txt")
            with open(misses, "w") as f:
                for i in range(5000):
                    f.write(f"b{i}.dotpin.test A\n")
            results = {}
            for share in ("", "inflight = 256\n"):
                tag = "vws" if not share else "vwS"
                pa = self.pin_file(f"{tag}-a.toml", [("a", stall, ["leaf-p256"])])
                pb = self.pin_file(f"{tag}-b.toml", [("b", self.b, ["leaf-rsa2048"])])
                text = (f'[[view]]\nname = "tenant-a"\nclients = ["{CLIENT_V4}/32"]\npin_file = "{pa}"\n{share}\n'
                        f'[[view]]\nname = "tenant-b"\nclients = ["{TENANT_B_V4}/32"]\npin_file = "{pb}"\n')
                with self.daemon(tag, text, upstreams_extra="inflight_per_lcore = 256\n") as d:
                    self.add_tenant_b(d)
                    seconds = 4
                    # tenant-a's misses pile up first (stagger), then tenant-b asks for names of its own.
                    out = dnsperf_clients({"a": (CLIENT_V4, flood, 600, 3, 500), "b": (TENANT_B_V4, misses, 200, 3, 500)},
                                          seconds, stagger=1)
                    d.wait_published()
                    code, j = d.ctl("stats")
                    results[share] = (out, j["result"]["totals"]["counters"])
            out, counters = results[""]
            pb, raw_b = out["b"]
            self.assertGreater(counters["inflight_full"], 100, counters)  # tenant-a hit its share
            self.assertGreater(pb["sent"], 200 * seconds // 2, raw_b)
            self.assertEqual(pb["lost"], 0, raw_b)
            self.assertEqual(set(pb["codes"]) - {"NOERROR", "NXDOMAIN"}, set(), raw_b)
            out, counters = results["inflight = 256\n"]
            pb, raw_b = out["b"]
            self.assertGreater(pb["codes"].get("SERVFAIL", 0), 0, "without the share tenant-b would lose: " + raw_b)
        finally:
            stall.stop()

    def test_a_views_own_rate_limit_holds_its_clients_only(self):
        # tenant-a: 50 q/s of its own; tenant-b: no limit ([ratelimit] sets only slip = 0, so that a
        # held-back query is dropped, not answered TC=1). Both send 300 q/s of cached names:
        # tenant-a gets its limit's worth, tenant-b everything.
        pa = self.pin_file("rl2-a.toml", [("a", self.a, ["leaf-p256"])])
        pb = self.pin_file("rl2-b.toml", [("b", self.b, ["leaf-rsa2048"])])
        text = (f'[[view]]\nname = "tenant-a"\nclients = ["{CLIENT_V4}/32"]\npin_file = "{pa}"\n'
                'ratelimit_qps = 50\nratelimit_burst = 10\n\n'
                f'[[view]]\nname = "tenant-b"\nclients = ["{TENANT_B_V4}/32"]\npin_file = "{pb}"\n')
        qfile = os.path.join(self.dir, "rl2.txt")
        with open(qfile, "w") as f:
            f.write("www.dotpin.test A\n")
        with self.daemon("vwl", text, extra_config="\n[ratelimit]\nslip = 0\n") as d:
            self.add_tenant_b(d)
            for src in (CLIENT_V4, TENANT_B_V4):
                self.assertEqual(status_of(kdig(f"@{APPLIANCE_V4}", "-b", src, "www.dotpin.test", "A").stdout), "NOERROR")
            seconds = 4
            out = dnsperf_clients({"a": (CLIENT_V4, qfile, 300, 1, 1000), "b": (TENANT_B_V4, qfile, 300, 1, 1000)},
                                  seconds)
            pa_, raw_a = out["a"]
            pb_, raw_b = out["b"]
            rate = pa_["completed"] / seconds
            print(f"\ntenant-a: {pa_['sent']} sent, {rate:.1f} q/s answered (its limit 50); tenant-b: "
                  f"{pb_['sent']} sent, {pb_['lost']} lost", file=sys.stderr)
            self.assertGreater(pa_["sent"], 300 * seconds // 2, raw_a)
            self.assertGreaterEqual(rate, 40, raw_a)
            self.assertLessEqual(rate, 60, raw_a)
            self.assertEqual(pb_["lost"], 0, raw_b)
            va, _ = self.view_stats(d, "tenant-a")
            vb, whole = self.view_stats(d, "tenant-b")
            self.assertEqual(va["counters"]["ratelimited"], pa_["lost"], va)
            self.assertEqual(vb["counters"]["ratelimited"], 0, vb)
            self.assertIn(f"{CLIENT_V4}/32 (view tenant-a)", [t["prefix"] for t in whole["ratelimit_top"]])

    def test_a_client_in_no_view_is_refused_or_dropped_as_configured(self):
        text, _, _ = self.views("out", [("a", self.a, ["leaf-p256"])])
        with self.daemon("vwu", text) as d:
            r = kdig(f"@{APPLIANCE_V4}", "-b", OUTSIDER_V4, "www.dotpin.test", "A", "+edns")
            self.assertEqual(status_of(r.stdout), "REFUSED", r.stdout)
            self.assertIn("EDE: 18", r.stdout)  # Prohibited
            d.wait_published()
            code, j = d.ctl("stats")
            self.assertEqual(j["result"]["totals"]["counters"]["view_unmatched_refused"], 1, j)
            self.assertEqual(j["result"]["totals"]["counters"]["queries"], 0, j)
            # Over TCP too: the connection is accepted, each query REFUSED, nothing reaches a view.
            r = kdig(f"@{APPLIANCE_V4}", "+tcp", "-b", OUTSIDER_V4, "www.dotpin.test", "A", "+edns")
            self.assertEqual(status_of(r.stdout), "REFUSED", r.stdout + r.stderr)
            d.wait_published()
            code, j = d.ctl("stats")
            self.assertEqual(j["result"]["totals"]["counters"]["view_unmatched_refused"], 2, j)
            self.assertEqual(j["result"]["totals"]["counters"]["queries"], 0, j)
        with self.daemon("vwd", text, extra_config="\n[acl]\naction = \"drop\"\n") as d:
            r = kdig(f"@{APPLIANCE_V4}", "-b", OUTSIDER_V4, "www.dotpin.test", "A")
            self.assertIsNone(status_of(r.stdout), r.stdout)
            # Over TCP its SYN is dropped on the lcore: no connection, no answer.
            r = kdig(f"@{APPLIANCE_V4}", "+tcp", "-b", OUTSIDER_V4, "www.dotpin.test", "A")
            self.assertIsNone(status_of(r.stdout), r.stdout)
            d.wait_published()
            code, j = d.ctl("stats")
            c = j["result"]["totals"]["counters"]
            # The UDP query, then the SYN (and any retransmission of it): none reached the kernel.
            self.assertGreaterEqual(c["view_unmatched_dropped"], 2, c)
            self.assertEqual(c["to_kernel"], 0, c)
            self.assertEqual(j["result"]["tcp"]["counters"]["accepted"], 0, j["result"]["tcp"])

    def test_views_by_vlan_tell_one_address_on_two_vlans_apart(self):
        # The same client address on VLAN 101 (tenant-a) and VLAN 102 (tenant-b): each gets its
        # own tenant's answer; VLAN 103 and untagged frames match no view. The frames are written
        # onto the tap as a switch trunk would deliver them (AF_PACKET: this kernel has no 802.1Q
        # module for VLAN subinterfaces), and every reply dotpind sends is read back from it.
        pa = self.pin_file("vlan-a.toml", [("a", self.a, ["leaf-p256"])])
        pb = self.pin_file("vlan-b.toml", [("b", self.b, ["leaf-rsa2048"])])
        text = (f'[[view]]\nname = "tenant-a"\nvlan = 101\nallow = ["198.18.0.0/24"]\npin_file = "{pa}"\n\n'
                f'[[view]]\nname = "tenant-b"\nvlan = 102\nallow = ["198.18.0.0/24"]\npin_file = "{pb}"\n')
        with self.daemon("vwv", text, extra_config="\n[tcp]\nenabled = false\n") as d:
            mac = d.mac()
            tap = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))  # ETH_P_ALL
            try:
                tap.bind((d.iface, 0))
                ours = tap.getsockname()[4]
                got = {}
                for attempt in range(3):  # the first miss waits for the upstream's handshake
                    # (key, VLAN ID, tagged): key 1 is a priority tag (VID 0), which is untagged to 802.1Q.
                    for key, vid, tagged in ((101, 101, True), (102, 102, True), (103, 103, True), (0, 0, False),
                                             (4095, 4095, True), (1, 0, True), (7, 0x6000 | 102, True)):
                        f = udp4_frame(dns_query("www.dotpin.test", qid=0x5000 + key), src="198.18.0.7")
                        tag = b"\x81\x00" + struct.pack("!H", vid) if tagged else b""
                        tap.send(mac + ours + tag + f[12:])
                    tap.settimeout(0.1)
                    end = time.monotonic() + 1.5
                    while time.monotonic() < end:
                        try:
                            data, addr = tap.recvfrom(65535)
                        except socket.timeout:
                            continue
                        if addr[2] == socket.PACKET_OUTGOING or data[6:12] != mac:
                            continue
                        if data[12:14] == b"\x81\x00":  # the tag, if the kernel left it in the data
                            data = data[:12] + data[16:]
                        if data[12:14] == b"\x08\x00" and data[23] == 17 and data[34:36] == b"\x00\x35":
                            dns = data[42:]
                            qid = dns[0] << 8 | dns[1]
                            got[qid - 0x5000] = dns
                    if a_record(got.get(101)) == ANSWER_A and a_record(got.get(102)) == ANSWER_B:
                        break
            finally:
                tap.close()
            self.assertEqual(a_record(got.get(101)), ANSWER_A, got)
            self.assertEqual(a_record(got.get(102)), ANSWER_B, got)
            # No view's: another VLAN, untagged, the reserved VID 4095, a priority tag.
            for key in (103, 0, 4095, 1):
                self.assertIn(key, got, f"case {key}: no reply")
                self.assertEqual(got[key][3] & 0x0F, 5, f"case {key} is no view's: REFUSED")
            # Priority bits (PCP) in the tag do not change the VLAN: tenant-b's answer.
            self.assertEqual(a_record(got.get(7)), ANSWER_B, got)
            d.wait_published()
            code, j = d.ctl("stats")
            self.assertGreaterEqual(j["result"]["totals"]["counters"]["view_unmatched_refused"], 4, j)
            vs = {v["name"]: v for v in j["result"]["views"]}
            self.assertEqual(vs["tenant-a"]["vlan"], 101)
            self.assertGreaterEqual(vs["tenant-b"]["counters"]["upstream_answers"], 1, vs)

if __name__ == "__main__":
    main()
