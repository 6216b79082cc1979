#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""dotpinctl pin fetch against real unbound DoT servers on loopback, checked against openssl."""

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dotpin_harness import (main, AUTH_NAME, OpenSslServer, UnboundDot, ctl, ctl_json, free_port,  # noqa: E402
                            openssl_pin, pki, reference_pin)


class FetchFromGenuineServer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = UnboundDot(pki("leaf-p256.key"), pki("leaf-p256.chain.pem")).start()
        cls.addr = f"127.0.0.1:{cls.server.port}"

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def test_it_is_a_real_dot_server(self):
        r = subprocess.run(["kdig", "+tls", f"+tls-hostname={AUTH_NAME}", f"+tls-ca={pki('ca-bundle.pem')}",
                            "+short", "+time=5", "+retry=0", "@127.0.0.1", "-p", str(self.server.port),
                            "www.dotpin.test", "A"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.stdout.strip(), "198.18.0.10", r.stderr)

    def test_presented_chain_and_pins(self):
        code, j = ctl_json("pin", "fetch", self.addr, "--name", AUTH_NAME, "--ca", pki("ca-bundle.pem"))
        self.assertEqual(code, 0, j)
        self.assertTrue(j["pkix"]["checked"])
        self.assertTrue(j["pkix"]["ok"], j["pkix"])
        self.assertEqual([c["pin_sha256"] for c in j["chain"]],
                         [openssl_pin(pki("leaf-p256.crt")), openssl_pin(pki("issuing.crt"))])
        self.assertEqual(j["recommended_pin"], reference_pin("leaf-p256"))
        self.assertIn(j["protocol"], ("TLSv1.3", "TLSv1.2"))
        self.assertEqual(j["peer"], self.addr)
        self.assertEqual(j["chain"][0]["subject"], "O=dotpin tests, CN=dns.dotpin.test")

    def test_unbound_picks_the_suite_by_its_own_order(self):
        # unbound sets SSL_OP_CIPHER_SERVER_PREFERENCE: OpenSSL's TLS 1.3 order (AES-256-GCM first)
        # wins whichever AEAD dotpin names first (docs/architecture.md, "The strict TLS client").
        for order in ("aes-gcm", "chacha20"):
            code, j = ctl_json("pin", "fetch", self.addr, "--name", AUTH_NAME, "--suite-order", order)
            self.assertEqual(code, 0, j)
            self.assertEqual((j["protocol"], j["cipher"]), ("TLSv1.3", "TLS13-AES256-GCM-SHA384"), order)

    def test_human_output_explains_the_choice(self):
        r = ctl("pin", "fetch", self.addr, "--name", AUTH_NAME)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("PKIX: not checked", r.stdout)
        self.assertIn("[0] leaf", r.stdout)
        self.assertIn("[1] CA", r.stdout)
        self.assertIn("issuing CA [1]", r.stdout)
        self.assertIn(f'sha256 = "{reference_pin("leaf-p256")}"', r.stdout)
        self.assertIn("backup", r.stdout)

    def test_snippet_is_a_valid_pin_file_that_asks_for_a_backup(self):
        code, j = ctl_json("pin", "fetch", self.addr, "--name", AUTH_NAME, "--upstream-name", "lab")
        self.assertEqual(code, 0)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "pins.toml")
            with open(path, "w") as f:
                f.write(j["snippet"])
            r = ctl("pins", "check", path)
            self.assertEqual(r.returncode, 1, r.stdout)  # warning: only one pin
            self.assertIn("only one pin", r.stdout)
            self.assertIn("lab", r.stdout)
            with open(path, "a") as f:
                f.write(f'\n[[upstream.pin]]\nlabel = "backup"\nsha256 = "{reference_pin("spare")}"\n')
            r = ctl("pins", "check", path)
            self.assertEqual(r.returncode, 0, r.stdout)

    def test_wrong_name_fails_pkix_but_still_shows_the_chain(self):
        code, j = ctl_json("pin", "fetch", self.addr, "--name", "wrong.dotpin.test", "--ca", pki("ca-bundle.pem"))
        self.assertEqual(code, 0)
        self.assertFalse(j["pkix"]["ok"])
        self.assertIn("mismatch", j["pkix"]["error"])
        self.assertEqual(j["chain"][0]["pin_sha256"], reference_pin("leaf-p256"))

    def test_unknown_ca_fails_pkix(self):
        # The leaf's own certificate is no CA for itself.
        code, j = ctl_json("pin", "fetch", self.addr, "--name", AUTH_NAME, "--ca", pki("other-name.crt"))
        self.assertEqual(code, 0)
        self.assertFalse(j["pkix"]["ok"])


class FetchOtherKeyTypes(unittest.TestCase):
    def test_rsa4096_and_ed25519_servers(self):
        for kind in ("rsa4096", "ed25519", "p384"):
            with self.subTest(kind=kind), UnboundDot(pki(f"leaf-{kind}.key"), pki(f"leaf-{kind}.chain.pem")) as s:
                code, j = ctl_json("pin", "fetch", f"127.0.0.1:{s.port}", "--name", AUTH_NAME,
                                   "--ca", pki("ca-bundle.pem"))
                self.assertEqual(code, 0, j)
                self.assertTrue(j["pkix"]["ok"], j["pkix"])
                self.assertEqual(j["chain"][0]["pin_sha256"], openssl_pin(pki(f"leaf-{kind}.crt")))

    def test_expired_certificate_is_shown_as_expired(self):
        with UnboundDot(pki("expired.key"), pki("expired.chain.pem")) as s:
            code, j = ctl_json("pin", "fetch", f"127.0.0.1:{s.port}", "--name", AUTH_NAME,
                               "--ca", pki("ca-bundle.pem"))
            self.assertEqual(code, 0, j)
            self.assertFalse(j["pkix"]["ok"])
            self.assertLess(j["chain"][0]["days_left"], 0)
            r = ctl("pin", "fetch", f"127.0.0.1:{s.port}", "--name", AUTH_NAME)
            self.assertIn("EXPIRED", r.stdout)


class SuiteOrderWithAServerThatHonoursIt(unittest.TestCase):
    """openssl s_server without -serverpref takes the client's preference: the order dotpin offers
    is the suite it gets, and its own log shows the same suite."""

    def test_the_first_suite_of_the_order_is_negotiated(self):
        server = OpenSslServer(pki("leaf-p256.key"), pki("leaf-p256.crt"), chain_extra=pki("issuing.crt"),
                               tls_args=["-ciphersuites",
                                         "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256"])
        server.start()
        try:
            for order, wolf, ossl in (("aes-gcm", "TLS13-AES128-GCM-SHA256", b"TLS_AES_128_GCM_SHA256"),
                                      ("chacha20", "TLS13-CHACHA20-POLY1305-SHA256", b"TLS_CHACHA20_POLY1305_SHA256")):
                mark = server.mark()
                code, j = ctl_json("pin", "fetch", f"127.0.0.1:{server.port}", "--name", AUTH_NAME,
                                   "--suite-order", order)
                self.assertEqual(code, 0, j)
                self.assertEqual(j["cipher"], wolf, order)
                deadline = time.monotonic() + 5
                while b"CIPHER is" not in server.read(mark) and time.monotonic() < deadline:
                    time.sleep(0.05)
                self.assertIn(b"CIPHER is " + ossl, server.read(mark), order)
        finally:
            server.cleanup()

    def test_a_bad_order_is_refused_before_connecting(self):
        r = ctl("pin", "fetch", "127.0.0.1:853", "--name", AUTH_NAME, "--suite-order", "aes")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--suite-order must be auto, aes-gcm or chacha20", r.stderr)


class FetchFailures(unittest.TestCase):
    def test_refused(self):
        port = free_port()
        r = ctl("pin", "fetch", f"127.0.0.1:{port}", "--name", AUTH_NAME)
        self.assertEqual(r.returncode, 2)
        self.assertIn("Connection refused", r.stderr)
        code, j = ctl_json("pin", "fetch", f"127.0.0.1:{port}", "--name", AUTH_NAME)
        self.assertEqual(code, 2)
        self.assertFalse(j["ok"])

    def test_silent_server_times_out(self):
        # Accepts TCP, never speaks TLS: the deadline must end the attempt.
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen(4)
            port = listener.getsockname()[1]
            start = time.monotonic()
            r = ctl("pin", "fetch", f"127.0.0.1:{port}", "--name", AUTH_NAME, "--timeout", "1", timeout=30)
            elapsed = time.monotonic() - start
        self.assertEqual(r.returncode, 2)
        self.assertIn("timed out", r.stderr)
        self.assertLess(elapsed, 20)  # bounded, not a performance assertion

    def test_trickling_server_cannot_stretch_the_deadline(self):
        # Answers the ClientHello with a TLS record header and then one byte every 0.4 s: each read
        # succeeds, so only a deadline over the whole handshake (not a per-read timeout) ends it.
        # TOFU learning and the expiry monitor use this same fetch on the control thread.
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen(4)
            port = listener.getsockname()[1]
            done = threading.Event()

            def serve():
                conn, _ = listener.accept()
                with conn:
                    conn.recv(4096)
                    conn.sendall(b"\x16\x03\x03\x40\x00")  # a handshake record of 16 KiB announced
                    while not done.wait(0.4):
                        try:
                            conn.sendall(b"\x02")
                        except OSError:
                            return

            t = threading.Thread(target=serve, daemon=True)
            t.start()
            start = time.monotonic()
            r = ctl("pin", "fetch", f"127.0.0.1:{port}", "--name", AUTH_NAME, "--timeout", "2", timeout=60)
            elapsed = time.monotonic() - start
            done.set()
            t.join(timeout=10)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("timed out", r.stderr)
        self.assertLess(elapsed, 6, f"a trickling server held the fetch for {elapsed:.1f} s")  # bounded: 2 s + slack

    def test_plaintext_server_is_a_handshake_failure(self):
        # A server that answers with bytes that are not TLS.
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen(4)
            port = listener.getsockname()[1]

            def serve():
                conn, _ = listener.accept()
                with conn:
                    conn.recv(4096)
                    conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")

            t = threading.Thread(target=serve, daemon=True)
            t.start()
            r = ctl("pin", "fetch", f"127.0.0.1:{port}", "--name", AUTH_NAME, "--timeout", "5")
            t.join(timeout=10)
        self.assertEqual(r.returncode, 2)
        self.assertIn("TLS handshake failed", r.stderr)

    def test_bad_arguments(self):
        r = ctl("pin", "fetch", "127.0.0.1:99999", "--name", AUTH_NAME)
        self.assertEqual(r.returncode, 2)
        self.assertIn("port must be 1-65535", r.stderr)
        r = ctl("pin", "fetch", "127.0.0.1:853", "--timeout", "-1")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--timeout", r.stderr)


if __name__ == "__main__":
    main()
