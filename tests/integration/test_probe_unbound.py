#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""dotpinctl probe: one query through the DoT engine (io_uring, wolfSSL, pin check before the first
write) against real unbound DoT servers: genuine, CA-valid impostor, key rotation by restart."""

import json
import os
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dotpin_harness import main, AUTH_NAME, GenuineAndImpostor, DOTPINCTL, UnboundDot, ctl, ctl_json, pki, reference_pin  # noqa: E402


def probe(port, *pins, name=AUTH_NAME, extra=(), qname="www.dotpin.test", qtype="A", json_out=False):
    args = ["probe", f"127.0.0.1:{port}", qname, qtype, "--timeout", "5"]
    if name:
        args += ["--name", name]
    for p in pins:
        args += ["--pin", p]
    args += list(extra)
    return ctl_json(*args) if json_out else ctl(*args)


class ProbeRealServers(GenuineAndImpostor):
    def test_answer_through_the_pinned_upstream(self):
        before = self.genuine.queries_logged()
        r = probe(self.genuine.port, reference_pin("leaf-p256"), reference_pin("spare"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("www.dotpin.test.", r.stdout)
        self.assertIn("198.18.0.10", r.stdout)
        self.assertIn("pinned: pin1 on element [0]", r.stdout)
        self.assertIn(";; PADDING:", r.stdout)
        self.assertEqual(self.genuine.queries_logged(), before + 1)

    def test_impostor_refused_before_any_query_reaches_it(self):
        before = self.impostor.queries_logged()
        r = probe(self.impostor.port, reference_pin("leaf-p256"), reference_pin("spare"),
                  extra=["--ca", pki("ca-bundle.pem")])  # CA-valid: PKIX alone would accept it
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertIn("pin_mismatch", r.stderr)
        self.assertIn(f'observed [0] pin-sha256="{reference_pin("impostor")}"', r.stderr)
        self.assertNotIn("198.18.0.10", r.stdout)
        time.sleep(0.2)
        self.assertEqual(self.impostor.queries_logged(), before, self.impostor.read_log())

    def test_backup_pin_accepted(self):
        r = probe(self.genuine.port, reference_pin("leaf-rsa2048"), reference_pin("leaf-p256"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("pinned: pin2", r.stdout)

    def test_ca_pin_matches_element_1(self):
        code, j = probe(self.genuine.port, reference_pin("issuing"), json_out=True)
        self.assertEqual(code, 0, j)
        self.assertEqual(j["matched_pin"], "pin1 on element [1]")
        self.assertEqual(j["rcode"], "NOERROR")
        self.assertEqual(j["answer_count"], 1)

    def test_pkix_and_pins_both_pass(self):
        code, j = probe(self.genuine.port, reference_pin("leaf-p256"), extra=["--ca", pki("ca-bundle.pem")],
                        qname="nx.dotpin.test", json_out=True)
        self.assertEqual(code, 0, j)
        self.assertEqual(j["rcode"], "NXDOMAIN")

    def test_name_mismatch_refused_even_with_matching_pin(self):
        r = probe(self.genuine.port, reference_pin("leaf-p256"), name="other.dotpin.test")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("name_mismatch", r.stderr)

    def test_unknown_ca_refused(self):
        r = probe(self.genuine.port, reference_pin("leaf-p256"), extra=["--ca", pki("other-name.crt")])
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("unknown_ca", r.stderr)

    def test_json_refusal_carries_observed_pins(self):
        code, j = probe(self.impostor.port, reference_pin("spare"), json_out=True)
        self.assertEqual(code, 3)
        self.assertEqual(j["reason"], "pin_mismatch")
        self.assertEqual(j["observed_pins"], [reference_pin("impostor"), reference_pin("issuing")])


class ProbeKeyRotation(unittest.TestCase):
    def test_restart_with_new_key(self):
        old = UnboundDot(pki("leaf-p256.key"), pki("leaf-p256.chain.pem")).start()
        try:
            port = old.port
            self.assertEqual(probe(port, reference_pin("leaf-p256")).returncode, 0)
            old.stop()
            # The operator rotates the server to the key that was deployed as backup.
            new = UnboundDot(pki("leaf-rsa2048.key"), pki("leaf-rsa2048.chain.pem"))
            new.port = port
            new.start()
            try:
                r = probe(port, reference_pin("leaf-p256"))
                self.assertEqual(r.returncode, 3, r.stderr)
                self.assertIn(reference_pin("leaf-rsa2048"), r.stderr)
                r = probe(port, reference_pin("leaf-p256"), reference_pin("leaf-rsa2048"))
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("pinned: pin2", r.stdout)
            finally:
                new.cleanup()
        finally:
            old.cleanup()


class ProbeUnderLoad(unittest.TestCase):
    def test_pipelined_queries_all_answered(self):
        with UnboundDot(pki("leaf-p256.key"), pki("leaf-p256.chain.pem")) as s:
            before = s.queries_logged()
            code, j = ctl_json("probe", f"127.0.0.1:{s.port}", "www.dotpin.test", "--name", AUTH_NAME,
                               "--pin", reference_pin("leaf-p256"), "--count", "2000", timeout=120)
            self.assertEqual(code, 0, j)
            self.assertEqual(j["answered"], 2000)
            self.assertEqual(j["servfail"], 0)
            self.assertEqual(j["connections"], 1)
            time.sleep(0.2)
            self.assertEqual(s.queries_logged() - before, 2000)  # unbound's own count agrees

    def test_upstream_killed_mid_load_every_query_completes(self):
        s = UnboundDot(pki("leaf-p256.key"), pki("leaf-p256.chain.pem")).start()
        try:
            proc = subprocess.Popen([DOTPINCTL, "--json", "probe", f"127.0.0.1:{s.port}", "www.dotpin.test",
                                     "--name", AUTH_NAME, "--pin", reference_pin("leaf-p256"), "--count", "200000",
                                     "--timeout", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            deadline = time.monotonic() + 20
            while s.queries_logged() < 500 and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.05)
            s.stop()  # the upstream dies under load
            out, err = proc.communicate(timeout=120)
        finally:
            s.cleanup()
        j = json.loads(out)
        self.assertEqual(proc.returncode, 2, err)
        self.assertEqual(j["completed"], j["sent"])  # none lost, none hung
        self.assertEqual(j["answered"] + j["servfail"], j["sent"])
        self.assertGreater(j["answered"], 0)
        self.assertGreater(j["servfail"], 0)
        self.assertTrue(set(j["failures"]) & {"reset", "connect_refused"}, j["failures"])


class ProbeFailures(unittest.TestCase):
    def test_connect_refused(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        r = probe(port, reference_pin("spare"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("connect_refused", r.stderr)

    def test_silent_server_times_out(self):
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen(4)
            r = ctl("probe", f"127.0.0.1:{listener.getsockname()[1]}", "www.dotpin.test", "--pin",
                    reference_pin("spare"), "--timeout", "1", timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("handshake_timeout", r.stderr)

    def test_usage_errors(self):
        r = ctl("probe", "127.0.0.1:853", "www.dotpin.test")
        self.assertEqual(r.returncode, 2)
        self.assertIn("never connects unpinned", r.stderr)
        r = ctl("probe", "dns.example.net:853", "www.dotpin.test", "--pin", reference_pin("spare"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("not an IP address", r.stderr)
        r = ctl("probe", "127.0.0.1:853", "www.dotpin.test", "BOGUS", "--pin", reference_pin("spare"))
        self.assertIn("unknown record type", r.stderr)


if __name__ == "__main__":
    main()
