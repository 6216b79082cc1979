# SPDX-License-Identifier: Apache-2.0
"""dotpinctl tlsa lookup against real DNSSEC: a knotd signing dane.test. on loopback (dane_zone.py),
reached through libunbound stub zones or a recursive unbound (--resolver). Each status and its exit
code, the records, TTL and RRSIG window compared with what kdig +dnssec shows, a change made through
knotc, and the error path (no answer within the deadline)."""

import calendar
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dotpin_harness import ctl, free_port, main  # noqa: E402
from dane_zone import DaneZone, RecursiveUnbound, tools_missing  # noqa: E402

EXIT_OK, EXIT_ERROR, EXIT_BOGUS, EXIT_INSECURE, EXIT_MISSING = 0, 2, 4, 5, 6
LEAF = "3 1 1 " + "0123456789abcdef" * 4
SPARE = "3 1 1 " + "fedcba9876543210" * 4
ISSUER = "2 0 1 " + "00112233445566778899aabbccddeeff" * 2


def iso(kdig_time):
    """kdig's RRSIG time (YYYYMMDDHHMMSS) as dotpinctl prints it."""
    t = time.strptime(kdig_time, "%Y%m%d%H%M%S")
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(calendar.timegm(t)))


class DaneLookupTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        missing = tools_missing()
        if missing:
            raise unittest.SkipTest("not installed: " + ", ".join(missing))
        cls.zone = DaneZone({"dns": [LEAF, ISSUER], "change": [LEAF]}, bogus={"dns": [LEAF]},
                            insecure={"dns": [LEAF]}, ttl=300).start()
        try:
            cls.anchors = cls.zone.trust_anchor()
        except Exception:
            cls.zone.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.zone.cleanup()

    def lookup(self, name, *extra, via_stubs=True, timeout_ms=4000):
        args = ["--json", "tlsa", "lookup", name, "--trust-anchor", self.anchors, "--timeout", str(timeout_ms),
                *(self.zone.stubs() if via_stubs else ()), *extra]
        start = time.monotonic()
        r = ctl(*args, timeout=30)
        elapsed = time.monotonic() - start
        out = json.loads(r.stdout) if r.stdout.strip() else {}
        return r.returncode, out, elapsed, r.stderr

    def assert_secure_as_knot_serves(self, name, out):
        records, sigs, ttl = self.zone.query_tlsa(f"_853._tcp.{name}.")
        self.assertEqual(out["status"], "secure")
        self.assertEqual(out["owner"], f"_853._tcp.{name}.")
        self.assertEqual(sorted(out["records"]), sorted(records))
        self.assertEqual(out["ttl"], ttl)
        self.assertTrue(sigs, "knot serves no RRSIG over the TLSA RRset")
        self.assertEqual(out["rrsig_expiration"], iso(min(s[1] for s in sigs)))
        self.assertEqual(out["rrsig_inception"], iso(max(s[0] for s in sigs)))

    def test_secure_records_ttl_and_rrsig_window(self):
        code, out, _, err = self.lookup("dns.dane.test")
        self.assertEqual(code, EXIT_OK, err)
        self.assertEqual(sorted(out["records"]), sorted([LEAF, ISSUER]))
        self.assertEqual(out["ttl"], 300)
        self.assert_secure_as_knot_serves("dns.dane.test", out)
        # knot's policy here: signatures valid 2 h from signing, inception 90 min in the past
        exp = calendar.timegm(time.strptime(out["rrsig_expiration"], "%Y-%m-%dT%H:%M:%SZ"))
        self.assertLess(abs(exp - time.time() - 2 * 3600), 600)
        self.assertIsNone(out["why_bogus"])

    def test_text_form(self):
        r = ctl("tlsa", "lookup", "dns.dane.test.", "--trust-anchor", self.anchors, *self.zone.stubs())
        self.assertEqual(r.returncode, EXIT_OK, r.stderr)
        self.assertIn("status: secure", r.stdout)
        self.assertIn(f"_853._tcp.dns.dane.test. 300 IN TLSA {LEAF}\n", r.stdout)
        self.assertIn("rrsig expiration: ", r.stdout)

    def test_pins_check_validates_dane_upstreams(self):
        path = os.path.join(self.zone.dir, "dane-pins.toml")
        with open(path, "w") as f:
            for name, auth in (("good", "dns.dane.test"), ("bad", "dns.bogus.test"), ("plain", "dns.insecure.test"),
                               ("none", "nodata.dane.test")):
                f.write(f'[[upstream]]\nname = "{name}"\naddress = "198.18.0.2"\nauth_name = "{auth}"\n'
                        'pins_from = "dane"\n\n')
        r = ctl("--json", "pins", "check", path, "--dane", "--trust-anchor", self.anchors, *self.zone.stubs(), timeout=60)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        out = json.loads(r.stdout)
        errors = {e["upstream"]: e["message"] for e in out["errors"]}
        self.assertNotIn("good", errors, errors)
        self.assertIn("is bogus", errors["bad"])
        self.assertIn("is insecure", errors["plain"])
        self.assertIn("is missing", errors["none"])
        good = {u["name"]: u for u in out["upstreams"]}["good"]
        self.assertEqual(sorted((p["origin"], p["scope"], p["form"]) for p in good["pins"]),
                         [("dane", "issuer", "cert-sha256"), ("dane", "leaf", "spki-sha256")], good)
        self.assertTrue(all(p["not_after"] for p in good["pins"]), good)  # the RRSIG expiration
        # Without --dane nothing is looked up: a DANE upstream simply has no static pins.
        r = ctl("--json", "pins", "check", path, timeout=30)
        self.assertEqual(json.loads(r.stdout)["errors"], [], r.stdout)

    def test_other_port(self):
        code, out, _, err = self.lookup("dns.dane.test", "--port", "443")
        self.assertEqual(code, EXIT_MISSING, (out, err))
        self.assertEqual(out["owner"], "_443._tcp.dns.dane.test.")

    def test_record_change_visible_after_commit(self):
        self.zone.set_tlsa("change", [SPARE, LEAF], ttl=120)
        code, out, _, err = self.lookup("change.dane.test")
        self.assertEqual(code, EXIT_OK, err)
        self.assertEqual(sorted(out["records"]), sorted([SPARE, LEAF]))
        self.assertEqual(out["ttl"], 120)
        self.assert_secure_as_knot_serves("change.dane.test", out)
        # removing the RRset: the signed zone now proves it absent
        self.zone.set_tlsa("change", [])
        code, out, _, err = self.lookup("change.dane.test")
        self.assertEqual(code, EXIT_MISSING, (out, err))

    def test_tampered_rrset_is_bogus_with_a_reason(self):
        name = self.zone.make_bogus("tampered", [SPARE])
        code, out, _, err = self.lookup(name)
        self.assertEqual(code, EXIT_BOGUS, (out, err))
        self.assertEqual(out["status"], "bogus")
        self.assertIn("signature", out["why_bogus"])
        self.assertEqual(out["records"], [])
        r = ctl("tlsa", "lookup", name, "--trust-anchor", self.anchors, *self.zone.stubs())
        self.assertEqual(r.returncode, EXIT_BOGUS)
        self.assertIn("why bogus: ", r.stdout)

    def test_unsigned_zone_is_insecure(self):
        code, out, _, err = self.lookup("dns.insecure.test")
        self.assertEqual(code, EXIT_INSECURE, (out, err))
        self.assertEqual(out["records"], [])
        # an unsigned denial proves nothing either: insecure, not missing
        code, out, _, err = self.lookup("absent.insecure.test")
        self.assertEqual(code, EXIT_INSECURE, (out, err))

    def test_no_tlsa_in_the_signed_zone_is_missing(self):
        for name in ("absent.dane.test",    # NXDOMAIN, proven by NSEC
                     "nodata.dane.test"):   # the name exists with a TXT only: NODATA
            code, out, _, err = self.lookup(name)
            self.assertEqual(code, EXIT_MISSING, (name, out, err))
            self.assertEqual(out["status"], "missing")

    def test_unreachable_resolver_is_an_error_within_the_timeout(self):
        dead = free_port()
        for extra, stubs in ((["--resolver", f"127.0.0.1@{dead}"], False),
                             (["--stub", f"dane.test=127.0.0.1@{dead}"], False)):
            code, out, elapsed, err = self.lookup("dns.dane.test", *extra, via_stubs=stubs, timeout_ms=800)
            self.assertEqual(code, EXIT_ERROR, (extra, out, err))
            self.assertFalse(out["ok"])
            self.assertIn("800 ms", out["error"])
            self.assertLess(elapsed, 3.0, extra)

    def test_anchor_file_without_records_is_refused(self):
        path = os.path.join(self.zone.dir, "empty.ds")
        with open(path, "w") as f:
            f.write("; no anchor\n")
        r = ctl("--json", "tlsa", "lookup", "dns.dane.test", "--trust-anchor", path, *self.zone.stubs())
        self.assertEqual(r.returncode, EXIT_ERROR)
        self.assertIn("no DS or DNSKEY", json.loads(r.stdout)["error"])

    def test_through_a_recursive_resolver(self):
        # Plain iterator: passes everything through. Validating: libunbound still gets the bogus
        # records to judge itself (it queries its forwarders with CD set).
        for validate in (False, True):
            with RecursiveUnbound(self.zone, self.anchors, validate=validate) as rec:
                via = ["--resolver", f"127.0.0.1@{rec.port}"]
                code, out, _, err = self.lookup("dns.dane.test", *via, via_stubs=False)
                self.assertEqual(code, EXIT_OK, (validate, out, err))
                self.assert_secure_as_knot_serves("dns.dane.test", out)
                code, out, _, err = self.lookup("dns.bogus.test", *via, via_stubs=False)
                self.assertEqual(code, EXIT_BOGUS, (validate, out, err))
                code, out, _, err = self.lookup("dns.insecure.test", *via, via_stubs=False)
                self.assertEqual(code, EXIT_INSECURE, (validate, out, err))
                code, out, _, err = self.lookup("absent.dane.test", *via, via_stubs=False)
                self.assertEqual(code, EXIT_MISSING, (validate, out, err))


if __name__ == "__main__":
    main()
