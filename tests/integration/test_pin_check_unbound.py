#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The pin verifier on chains presented by real unbound DoT servers (dotpinctl pin fetch --check):
the genuine server, an impostor whose certificate is CA-valid for the same name, rotations."""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dotpin_harness import main, AUTH_NAME, GenuineAndImpostor, UnboundDot, ctl, ctl_json, pki, reference_pin  # noqa: E402


def pin_file(address, pins, mode="enforce", name="lab"):
    text = f'[[upstream]]\nname = "{name}"\naddress = "{address}"\nauth_name = "{AUTH_NAME}"\nmode = "{mode}"\n'
    for label, pin, extra in pins:
        text += f'\n[[upstream.pin]]\nlabel = "{label}"\nsha256 = "{pin}"\n{extra}'
    f = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
    f.write(text)
    f.close()
    return f.name


class PinCheckAgainstRealServers(GenuineAndImpostor):
    def addr(self, server):
        return f"127.0.0.1:{server.port}"

    def check(self, server, pins_path, *extra):
        self.addCleanup(os.unlink, pins_path)
        return ctl("pin", "fetch", self.addr(server), "--name", AUTH_NAME, "--check", pins_path, *extra)

    def standard_pins(self, server, mode="enforce"):
        return pin_file(self.addr(server), [("primary", reference_pin("leaf-p256"), ""),
                                            ("backup", reference_pin("spare"), "")], mode=mode)

    def test_genuine_server_matches_primary(self):
        r = self.check(self.genuine, self.standard_pins(self.genuine))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("MATCH: pin 'primary' on element [0]", r.stdout)

    def test_ca_valid_impostor_is_refused_with_observed_pins(self):
        # The impostor's chain is valid for the name under the same CA: PKIX alone would accept it.
        path = pin_file(self.addr(self.impostor), [("primary", reference_pin("leaf-p256"), ""),
                                                   ("backup", reference_pin("spare"), "")])
        self.addCleanup(os.unlink, path)
        code, j = ctl_json("pin", "fetch", self.addr(self.impostor), "--name", AUTH_NAME,
                           "--ca", pki("ca-bundle.pem"), "--check", path)
        self.assertEqual(code, 3, j)
        self.assertTrue(j["pkix"]["ok"], j["pkix"])
        self.assertEqual(j["check"]["verdict"], "pin_mismatch")
        self.assertFalse(j["check"]["admitted"])
        r = ctl("pin", "fetch", self.addr(self.impostor), "--name", AUTH_NAME, "--check", path)
        self.assertEqual(r.returncode, 3)
        self.assertIn("NO MATCH (pin_mismatch)", r.stdout)
        self.assertIn(f'observed [0] pin-sha256="{reference_pin("impostor")}" (on the path)', r.stdout)
        self.assertIn("refuse this connection", r.stdout)

    def test_backup_pin_accepted_after_rotation(self):
        # The operator pinned an old key as primary and the current one as backup.
        path = pin_file(self.addr(self.genuine), [("old", reference_pin("leaf-rsa2048"), ""),
                                                  ("backup", reference_pin("leaf-p256"), "")])
        r = self.check(self.genuine, path)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("MATCH: pin 'backup'", r.stdout)

    def test_pin_outside_its_window_is_refused(self):
        path = pin_file(self.addr(self.genuine), [("primary", reference_pin("leaf-p256"),
                                                   "not_after = 2021-01-01T00:00:00Z\n"),
                                                  ("backup", reference_pin("spare"), "")])
        r = self.check(self.genuine, path)
        self.assertEqual(r.returncode, 3, r.stdout)
        self.assertIn("no_pin_in_window", r.stdout)
        self.assertIn("pin 'primary' matches but is outside its window", r.stdout)

    def test_report_mode_admits_but_says_so(self):
        path = pin_file(self.addr(self.impostor), [("primary", reference_pin("leaf-p256"), ""),
                                                   ("backup", reference_pin("spare"), "")], mode="report")
        r = self.check(self.impostor, path)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("NO MATCH (pin_mismatch)", r.stdout)
        self.assertIn("report mode", r.stdout)

    def test_issuing_ca_pin_matches_the_intermediate(self):
        path = pin_file(self.addr(self.genuine), [("ca", reference_pin("issuing"), ""),
                                                  ("backup", reference_pin("spare"), "")])
        r = self.check(self.genuine, path)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("MATCH: pin 'ca' on element [1]", r.stdout)

    def test_upstream_chosen_by_name(self):
        path = pin_file("192.0.2.1:853", [("primary", reference_pin("leaf-p256"), ""),
                                          ("backup", reference_pin("spare"), "")], name="other")
        with open(path, "a") as f:
            f.write('\n[[upstream]]\nname = "second"\naddress = "192.0.2.2"\n[[upstream.pin]]\n'
                    f'sha256 = "{reference_pin("spare")}"\n')
        r = self.check(self.genuine, path, "--upstream", "other")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = ctl("pin", "fetch", self.addr(self.genuine), "--name", AUTH_NAME, "--check", path)
        self.assertEqual(r.returncode, 2)
        self.assertIn("name one with --upstream", r.stderr)

    def test_bad_pin_file_is_reported_with_file_and_line(self):
        path = pin_file(self.addr(self.genuine), [("primary", "not-base64", "")])
        r = self.check(self.genuine, path)
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"{path}:9:10: error: upstream 'lab': bad sha256 pin", r.stderr)
        self.assertIn("not valid base64", r.stderr)


if __name__ == "__main__":
    main()
