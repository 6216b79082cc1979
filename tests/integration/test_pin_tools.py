#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""dotpinctl pin compute and pins check, as an operator runs them, against the real openssl."""

import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dotpin_harness import main, ctl, ctl_json, openssl_pin, pki, reference_pin  # noqa: E402

KEY_KINDS = ["rsa2048", "rsa3072", "rsa4096", "p256", "p384", "ed25519"]


class PinCompute(unittest.TestCase):
    def test_every_key_type_matches_the_openssl_pipeline(self):
        for kind in KEY_KINDS:
            with self.subTest(kind=kind):
                cert = pki(f"leaf-{kind}.crt")
                r = ctl("pin", "compute", cert)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn(f'pin-sha256="{openssl_pin(cert)}"', r.stdout)

    def test_der_input_and_hex_output(self):
        with tempfile.TemporaryDirectory() as d:
            der = os.path.join(d, "leaf.der")
            subprocess.run(["openssl", "x509", "-in", pki("leaf-rsa2048.crt"), "-outform", "der", "-out", der],
                           check=True)
            code, j = ctl_json("pin", "compute", der)
            self.assertEqual(code, 0)
            obj = j["files"][0]["objects"][0]
            self.assertEqual(obj["pin_sha256"], reference_pin("leaf-rsa2048"))
            hexdigest = subprocess.run(
                ["sh", "-c", f"openssl x509 -in '{pki('leaf-rsa2048.crt')}' -pubkey -noout | "
                             "openssl pkey -pubin -outform der | openssl dgst -sha256 -r"],
                check=True, capture_output=True, text=True).stdout.split()[0]
            self.assertEqual(obj["pin_sha256_hex"], hexdigest)
            self.assertIn(f"sha256 hex {hexdigest}", ctl("pin", "compute", "--hex", der).stdout)

    def test_spare_key_from_stdin(self):
        pub = subprocess.run(["openssl", "pkey", "-in", pki("spare.key"), "-pubout"], check=True,
                             capture_output=True, text=True).stdout
        r = ctl("pin", "compute", "-", stdin=pub)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("public key", r.stdout)
        self.assertIn(f'pin-sha256="{reference_pin("spare")}"', r.stdout)

    def test_chain_file_lists_every_element(self):
        code, j = ctl_json("pin", "compute", pki("leaf-p384.chain.pem"))
        self.assertEqual(code, 0)
        pins = [o["pin_sha256"] for o in j["files"][0]["objects"]]
        self.assertEqual(pins, [reference_pin("leaf-p384"), reference_pin("issuing")])

    def test_errors_name_the_file_and_fail(self):
        r = ctl("pin", "compute", "/nonexistent/x.pem")
        self.assertEqual(r.returncode, 2)
        self.assertIn("/nonexistent/x.pem: cannot open", r.stderr)
        with tempfile.NamedTemporaryFile("w", suffix=".pem") as f:
            f.write("this is not a certificate\n")
            f.flush()
            r = ctl("pin", "compute", f.name)
            self.assertEqual(r.returncode, 2)
            self.assertIn(f.name, r.stderr)


class PinsCheck(unittest.TestCase):
    def write(self, text):
        f = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
        f.write(text)
        f.close()
        self.addCleanup(os.unlink, f.name)
        return f.name

    def upstream(self, *pins):
        s = '[[upstream]]\nname = "genuine"\naddress = "127.0.0.1:853"\nauth_name = "dns.dotpin.test"\n'
        for label, pin in pins:
            s += f'\n[[upstream.pin]]\nlabel = "{label}"\nsha256 = "{pin}"\n'
        return s

    def test_clean_file_exit_0(self):
        path = self.write(self.upstream(("primary", reference_pin("leaf-p256")), ("backup", reference_pin("spare"))))
        r = ctl("pins", "check", path)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("genuine", r.stdout)
        self.assertIn("2/2", r.stdout)

    def test_single_pin_warns_exit_1(self):
        path = self.write(self.upstream(("primary", reference_pin("leaf-p256"))))
        r = ctl("pins", "check", path)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn(f"{path}:1: warning: upstream 'genuine': only one pin", r.stdout)

    def test_errors_have_file_line_and_exit_2(self):
        text = self.upstream(("primary", reference_pin("leaf-p256"))) + 'not_after = "2027-01-01"\n'
        text += '\n[[upstream.pin]]\nsha256 = "' + reference_pin("spare")[:-4] + '"\n'
        path = self.write(text)
        code, j = ctl_json("pins", "check", path)
        self.assertEqual(code, 2)
        self.assertFalse(j["ok"])
        lines = sorted(e["line"] for e in j["errors"])
        self.assertEqual(lines, [9, 12])


if __name__ == "__main__":
    main()
