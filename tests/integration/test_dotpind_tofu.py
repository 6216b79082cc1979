#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Trust on first use through the real path: dotpind on a net_tap port in a network namespace,
real unbound DoT upstreams, real kdig clients. With [upstreams] ca_file (the recommended profile):
the key is learned on first contact, written to the TOFU state file and enforced after a restart
without another contact; a server that now presents another key (CA-valid, same name) is refused
as tofu_changed and sent no query (its own log); `pins accept` adopts only the key named; `pins
forget` learns again. Report mode learns nothing; learn_from addresses that disagree learn nothing;
TOFU without a CA file needs the operator's explicit tofu_without_ca."""

import json
import os
import re
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dotpin_harness import (status_of, main, APPLIANCE_V4, AUTH_NAME, DOTPIND, ApplianceSuite, Dotpind, UnboundDot, kdig,  # noqa: E402
                            pki, reference_pin)

CA = "ca-bundle.pem"




@unittest.skipUnless(os.geteuid() == 0, "needs root for network namespaces and net_tap")
class TofuThroughDotpind(ApplianceSuite):
    TAG = "tofu"
    SERVERS = {"upstream": ("leaf-p256.key", "leaf-p256.chain.pem"),
               "other": ("impostor.key", "impostor.chain.pem")}

    def tofu_pin_file(self, name, server, extra="", learn_from=()):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(f'[[upstream]]\nname = "a"\naddress = "127.0.0.1:{server.port}"\nauth_name = "{AUTH_NAME}"\n'
                    f'pins_from = "tofu"\n{extra}')
            if learn_from:
                f.write("learn_from = [" + ", ".join(f'"127.0.0.1:{s.port}"' for s in learn_from) + "]\n")
        return path

    def daemon(self, tag, pin_file, state, ca=True):
        extra = f'ca_file = "{pki(CA)}"\n' if ca else ""
        return Dotpind(self.dir, pin_file, tag=tag, upstreams_extra=extra,
                       extra_config=f'\n[tofu]\nstate_file = "{state}"\nprobe_timeout_ms = 2000\n')

    def sources(self, d):
        code, j = d.ctl("pins", "sources")
        self.assertEqual(code, 0, j)
        return {u["upstream"]: u for u in j["result"]["upstreams"]}

    def wait_state(self, d, want, timeout=15.0):
        deadline = time.monotonic() + timeout
        while True:
            s = self.sources(d).get("a", {})
            if s.get("state") == want:
                return s
            if time.monotonic() > deadline:
                self.fail(f"upstream a not {want} within {timeout} s: {s}\n{d.read_log()}")
            time.sleep(0.1)

    def pins_in_force(self, d):
        code, j = d.ctl("pins", "list")
        self.assertEqual(code, 0, j)
        return j["result"]["upstreams"][0]["pins"]

    def upstream_row(self, d):
        d.wait_published()
        code, j = d.ctl("upstreams")
        self.assertEqual(code, 0, j)
        return {u["name"]: u for u in j["result"]["upstreams"]}["a"]

    def answered(self, qname):
        r = kdig(f"@{APPLIANCE_V4}", qname, "A", "+edns")
        return r.stdout

    def test_learned_persisted_enforced_changed_accepted_forgotten(self):
        self.upstream.restart_with(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"))
        state = os.path.join(self.dir, "tofu-learn.json")
        path = self.tofu_pin_file("tofu.toml", self.upstream)
        genuine = reference_pin("leaf-p256")
        with self.daemon("tl1", path, state) as d:
            s = self.wait_state(d, "learned")
            self.assertEqual(s["successes"], 1, s)
            pins = self.pins_in_force(d)
            self.assertEqual([(p["sha256"], p["origin"], p["scope"]) for p in pins], [(genuine, "tofu", "leaf")], pins)
            self.assertEqual(pins[0]["learned_from"], f"127.0.0.1:{self.upstream.port}")
            self.assertIsNotNone(pins[0]["learned_at"])
            with open(state) as f:
                on_disk = json.load(f)
            self.assertEqual(on_disk["upstreams"][0]["pins"][0]["sha256"], genuine)
            out = self.answered("www.dotpin.test")
            self.assertIn("198.18.0.10", out, out)
            self.assertIn("learned on first use", d.read_log())
        # The operator's pin file is untouched: still no pin in it.
        with open(path) as f:
            self.assertNotIn("sha256", f.read())

        # Restart: the learned key is in force from the first generation, with no new contact.
        with self.daemon("tl2", path, state) as d:
            pins = self.pins_in_force(d)
            self.assertEqual([p["sha256"] for p in pins], [genuine], pins)
            self.assertEqual(self.sources(d)["a"]["attempts"], 0)
            out = self.answered("www.dotpin.test")
            self.assertIn("198.18.0.10", out, out)

            # Another key at the address (CA-valid, same name): refused as tofu_changed, no query sent.
            self.upstream.restart_with(pki("impostor.key"), pki("impostor.chain.pem"))
            before = self.upstream.queries_logged()
            row = None
            for i in range(10):
                time.sleep(0.5)
                out = self.answered(f"c{i}.dotpin.test")
                self.assertEqual(status_of(out), "SERVFAIL", out)
                row = self.upstream_row(d)
                if row["failures"].get("tofu_changed", 0) >= 1:
                    break
            self.assertGreaterEqual(row["failures"].get("tofu_changed", 0), 1, row)
            self.assertEqual(row["failures"].get("pin_mismatch", 0), 0, row)
            time.sleep(0.2)
            self.assertEqual(self.upstream.queries_logged(), before,
                             "a query reached the changed server: " + self.upstream.read_log())
            self.assertIn(reference_pin("impostor"), d.read_log())  # the observed pin is logged

            # accept with a pin that is not the one presented: refused, nothing changes.
            code, out = d.ctl("pins", "accept", "a", "--pin", reference_pin("spare"), json_out=False)
            self.assertNotEqual(code, 0, out)
            self.assertIn(reference_pin("impostor"), out)
            self.assertEqual([p["sha256"] for p in self.pins_in_force(d)], [genuine])
            # accept without --pin: refused (an attacker can make any key the last refused one).
            code, out = d.ctl("pins", "accept", "a", json_out=False)
            self.assertNotEqual(code, 0, out)
            self.assertIn("--pin", out)
            self.assertEqual([p["sha256"] for p in self.pins_in_force(d)], [genuine])
            # accept with the observed pin, checked out of band: adopted.
            code, out = d.ctl("pins", "accept", "a", "--pin", reference_pin("impostor"), json_out=False)
            self.assertEqual(code, 0, out)
            self.assertEqual([p["sha256"] for p in self.pins_in_force(d)], [reference_pin("impostor")])
            with open(state) as f:
                self.assertEqual(json.load(f)["upstreams"][0]["pins"][0]["sha256"], reference_pin("impostor"))
            deadline = time.monotonic() + 10
            while True:
                out = self.answered("www.dotpin.test")
                if "198.18.0.10" in out or time.monotonic() > deadline:
                    break
                time.sleep(0.3)
            self.assertIn("198.18.0.10", out, out)

            # forget: learned again from what the server presents now.
            self.upstream.restart_with(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"))
            # Forgetting the only key would leave a with no pin: the one rule asks for --force.
            held = [p["sha256"] for p in self.pins_in_force(d)]
            code, out = d.ctl("pins", "forget", "a", json_out=False)
            self.assertEqual(code, 2, out)
            self.assertIn("upstream 'a' would have no pin valid now", out)
            self.assertEqual([p["sha256"] for p in self.pins_in_force(d)], held)  # unchanged
            code, out = d.ctl("pins", "forget", "a", "--force", json_out=False)
            self.assertEqual(code, 0, out)
            self.wait_state(d, "learned")
            self.assertEqual([p["sha256"] for p in self.pins_in_force(d)], [genuine])

    def test_report_mode_cannot_be_combined_with_tofu(self):
        # With nothing learned, report mode would admit every chain: the pin file is refused.
        state = os.path.join(self.dir, "tofu-report.json")
        path = self.tofu_pin_file("tofu-report.toml", self.upstream, extra='mode = "report"\n')
        d = self.daemon("tlr", path, state)
        r = subprocess.run([DOTPIND, "--config", d.conf, "--check"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertRegex(r.stderr, re.escape(path) + r":1(:\d+)?: error: .*cannot be combined")
        self.assertFalse(os.path.exists(state))

    def test_learn_from_addresses_that_disagree_learn_nothing(self):
        self.upstream.restart_with(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"))
        state = os.path.join(self.dir, "tofu-disagree.json")
        path = self.tofu_pin_file("tofu-disagree.toml", self.upstream, learn_from=(self.upstream, self.other))
        before = (self.upstream.queries_logged(), self.other.queries_logged())
        with self.daemon("tld", path, state) as d:
            deadline = time.monotonic() + 15
            while True:
                s = self.sources(d).get("a", {})
                if s.get("failures", {}).get("disagree", 0) >= 1 or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            self.assertGreaterEqual(s["failures"].get("disagree", 0), 1, s)
            self.assertEqual(s["state"], "waiting", s)
            self.assertEqual(self.pins_in_force(d), [])
            out = self.answered("www.dotpin.test")
            self.assertEqual(status_of(out), "SERVFAIL", out)
        self.assertFalse(os.path.exists(state))
        time.sleep(0.2)
        self.assertEqual((self.upstream.queries_logged(), self.other.queries_logged()), before)

    def test_without_a_ca_file_tofu_needs_the_operators_opt_in(self):
        path = self.tofu_pin_file("tofu-noca.toml", self.upstream)
        d = self.daemon("tln", path, os.path.join(self.dir, "tofu-noca.json"), ca=False)
        r = subprocess.run([DOTPIND, "--config", d.conf, "--check"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertRegex(r.stderr, re.escape(path) + r":1(:\d+)?: error: .*tofu_without_ca", r.stderr)
        path = self.tofu_pin_file("tofu-noca-ok.toml", self.upstream, extra="tofu_without_ca = true\n")
        d = self.daemon("tlo", path, os.path.join(self.dir, "tofu-noca.json"), ca=False)
        r = subprocess.run([DOTPIND, "--config", d.conf, "--check"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_an_unreadable_state_file_stops_dotpind(self):
        state = os.path.join(self.dir, "tofu-broken.json")
        with open(state, "w") as f:
            f.write("{ not json")
        path = self.tofu_pin_file("tofu-broken.toml", self.upstream)
        d = self.daemon("tlb", path, state)
        with self.assertRaises(RuntimeError) as e:
            d.start(timeout=20)
        d.stop()
        self.assertIn("TOFU state file", str(e.exception))


if __name__ == "__main__":
    main()
