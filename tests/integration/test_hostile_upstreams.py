#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""dotpinctl probe against hostile DoT upstreams (tests/pki/make-hostile-pki.sh), each served by a
real unbound: impostors that hold only their own keys but append the genuine server's public
certificates, broken links (expired, not a CA, path length), wrong names, and genuine chains in odd
shapes that must keep passing; then TLS parameters no DoT client should accept (NULL, CBC-only),
served by openssl s_server. Every case runs in pin-only mode and in CA mode (--ca ca-bundle.pem).
A refusal must come before any query: the server's own log (unbound's log-queries, s_server's
output) proves that none arrived."""

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest
from dataclasses import dataclass
from functools import lru_cache

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dotpin_harness import main, AUTH_NAME, OpenSslServer, UnboundDot, ctl, pki, reference_pin  # noqa: E402

EXIT_OK = 0
EXIT_FAILURE = 2  # kExitFailure (control/command.h): a failure that is not an authentication refusal
EXIT_REFUSED = 3  # kExitPinRefused: pins, name, PKIX, chain
AUTH_REASONS = ("pin_mismatch", "pin_not_on_path", "pin_wrong_position", "tofu_changed", "no_pin_in_window", "bad_chain", "name_mismatch", "unknown_ca",
                "expired")
CA_BUNDLE = "ca-bundle.pem"
ANCHOR = "anchor"  # an accepted case whose pin matches the trust anchor from the CA file, not a presented element


@dataclass(frozen=True)
class Case:
    """One upstream: the chain it presents (a PKI stem: STEM.chain.pem, STEM.key), the pins the client
    holds (PKI stems), and what must happen in each mode: an int k (accepted, pinned on element [k];
    ANCHOR: on the trust anchor), or the refusal reason. `path`: the presented elements on the verified
    path from the leaf (asserted for pin_* refusals); `ca_why`: why CA mode differs, if it does."""
    tag: str
    chain: str
    pins: tuple
    pin_only: object
    ca: object
    path: tuple = ()
    ca_why: str = ""
    matched: int = 1  # which --pin matched (pinN), for accepted cases

    def expect(self, mode):
        return self.pin_only if mode == "pin" else self.ca

    def pinned_elements(self):
        """Indices of the presented elements whose key is pinned."""
        wanted = {reference_pin(p) for p in self.pins}
        return [k for k, pin in enumerate(chain_pins(self.chain)) if pin in wanted]


def chain_pems(stem):
    with open(pki(stem + ".chain.pem")) as f:
        return re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n", f.read(), re.S)


@lru_cache(maxsize=None)
def chain_pins(stem):
    """Reference pins of every certificate in STEM.chain.pem, element 0 first (openssl pipeline)."""
    cmd = "openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64"
    return tuple(subprocess.run(["sh", "-c", cmd], input=pem, check=True, capture_output=True, text=True).stdout.strip()
                 for pem in chain_pems(stem))


def openssl_path(stem):
    """The presented elements on the path from the leaf as openssl itself builds it, link by link:
    element j extends the path when `openssl verify -partial_chain -x509_strict`, with j as the only
    trusted certificate and the path so far as the untrusted ones, accepts the leaf (signatures,
    names, CA flags, key usage, path length, validity now)."""
    pems = chain_pems(stem)
    path = [0]
    with tempfile.TemporaryDirectory() as d:
        def write(name, text):
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
            return os.path.join(d, name)

        leaf = write("leaf.pem", pems[0])
        while True:
            for j in (j for j in range(len(pems)) if j not in path):
                args = ["openssl", "verify", "-partial_chain", "-x509_strict", "-trusted", write("anchor.pem", pems[j])]
                if len(path) > 1:
                    args += ["-untrusted", write("mid.pem", "".join(pems[k] for k in path[1:]))]
                if subprocess.run(args + [leaf], capture_output=True).returncode == 0:
                    path.append(j)
                    break
            else:
                return tuple(sorted(path))


H = "hostile/"
# CA mode: wolfSSL's PKIX check runs during the handshake, before dotpin's pin check, so a chain that
# cannot reach the root fails there and is never pin-checked. wolfSSL (5.5, WOLFSSL_ALT_CERT_CHAINS)
# skips a presented certificate it cannot take as a signer (expired, CA:FALSE, below pathlen:0,
# self-signed and untrusted) and then reports the leaf's missing signer: unknown_ca, not expired;
# only an expired leaf itself is `expired`. Pin-only mode has no PKIX: the pin check decides.
CASES = [
    # -- impostors holding only their own key, with the genuine public certificates appended --------
    Case("selfsigned_leaf_pin", H + "selfsigned-plus-leaf", ("leaf-p256",), "pin_not_on_path", "unknown_ca",
         path=(0,), ca_why="a self-signed leaf reaches no trust anchor"),
    Case("selfsigned_issuing_pin", H + "selfsigned-plus-leaf", ("issuing",), "pin_not_on_path", "unknown_ca",
         path=(0,), ca_why="a self-signed leaf reaches no trust anchor"),
    Case("rogue_ca", H + "rogue-plus-issuing", ("issuing",), "pin_not_on_path", "unknown_ca", path=(0, 2),
         ca_why="the rogue CA is not in the CA file"),
    Case("misissued", H + "misissued-plus-leaf", ("leaf-p256",), "pin_not_on_path", "pin_not_on_path", path=(0, 2)),
    Case("misissued_spare_pin", H + "misissued-plus-leaf", ("spare",), "pin_mismatch", "pin_mismatch", path=(0, 2)),
    Case("forged_issuer", H + "forged-issuer", ("issuing",), "pin_not_on_path", "unknown_ca", path=(0,),
         ca_why="the leaf's signature does not verify with the issuing key its name and AKID point to"),
    Case("forged_issuer_root_pin", H + "forged-issuer", ("root",), "pin_not_on_path", "unknown_ca", path=(0,),
         ca_why="the leaf's signature does not verify with the issuing key its name and AKID point to"),
    Case("genuine_spki_by_impostor", H + "genuine-spki-by-impostor", ("issuing",), "pin_not_on_path", "unknown_ca",
         path=(0,), ca_why="element 1 was signed by the rogue CA, and element 0 by a key that is not element 1's"),
    Case("other_intermediate", H + "other-intermediate", ("issuing",), "pin_not_on_path", "pin_not_on_path",
         path=(0, 2)),
    Case("unrelated_pinned", H + "extra-unrelated", (H + "unrelated",), "pin_not_on_path", "unknown_ca",
         path=(0, 2), ca_why="wolfSSL's PKIX refuses a chain that carries an untrusted self-signed certificate"),
    # -- broken links: the pinned intermediate is presented, but cannot be on the path -------------
    Case("expired_intermediate", H + "expired-intermediate", (H + "expired-ca",), "expired", "unknown_ca",
         path=(0, 1), ca_why="wolfSSL does not take the expired intermediate as a signer: the leaf has none "
         "(pin-only: the intermediate is linked, but a path through it is not valid now)"),
    Case("non_ca_issuer", H + "non-ca-issuer", (H + "non-ca",), "pin_not_on_path", "unknown_ca", path=(0,),
         ca_why="a CA:FALSE certificate is never a signer: the leaf has no issuer"),
    Case("pathlen_exceeded", H + "pathlen-exceeded", (H + "pathlen0",), "pin_not_on_path", "unknown_ca",
         path=(0, 1), ca_why="wolfSSL does not take a sub-CA below a pathlen:0 CA as a signer: the leaf has none"),
    # -- wrong names on genuine certificates whose own key is pinned ---------------------------------
    Case("partial_wildcard", H + "partial-wildcard", (H + "partial-wildcard",), "name_mismatch", "name_mismatch"),
    Case("uri_san", H + "uri-san", (H + "uri-san",), "name_mismatch", "name_mismatch"),
    Case("cn_only", H + "cn-only", (H + "cn-only",), "name_mismatch", "name_mismatch"),
    Case("star_test", H + "star-test", (H + "star-test",), "name_mismatch", "name_mismatch"),
    # -- genuine chains that must pass ---------------------------------------------------------------
    Case("leaf_pin", "leaf-p256", ("leaf-p256",), 0, 0),
    Case("issuing_pin", "leaf-p256", ("issuing",), 1, 1),
    Case("backup_pin", "leaf-p256", ("spare", "leaf-p256"), 0, 0, matched=2),
    Case("root_pin_root_not_sent", "leaf-p256", ("root",), "pin_mismatch", ANCHOR, path=(0, 1),
         ca_why="the root is the trust anchor from the CA file: a pin may match it"),
    Case("root_sent", H + "root-sent", ("root",), 2, 2),
    Case("out_of_order_issuing_pin", H + "out-of-order", ("issuing",), 2, 2),
    Case("out_of_order_root_pin", H + "out-of-order", ("root",), 1, 1),
    Case("extra_unrelated", H + "extra-unrelated", ("issuing",), 2, "unknown_ca",
         ca_why="wolfSSL's PKIX refuses a chain that carries an untrusted self-signed certificate"),
    Case("wildcard_ok", H + "wildcard-ok", (H + "wildcard-ok",), 0, 0),
    Case("expired_intermediate_leaf_pin", H + "expired-intermediate", (H + "expired-intermediate",), 0, "unknown_ca",
         ca_why="wolfSSL does not take the expired intermediate as a signer (pin-only: the pinned leaf is enough)"),
    Case("expired_leaf", "expired", ("expired",), 0, "expired",
         ca_why="PKIX: the leaf's validity ended in 2020 (pin-only: a pinned leaf key is not date-checked)"),
]

# TLS parameters: openssl s_server with the genuine key and chain, pinned correctly; only the
# protocol is wrong. (ECDHE-ECDSA-NULL-SHA is the NULL suite a P-256 certificate can serve.)
TLS_CASES = {
    "null": ["-tls1_2", "-cipher", "ECDHE-ECDSA-NULL-SHA:NULL-SHA256:@SECLEVEL=0"],
    "cbc": ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256"],
}


def probe(port, pins, ca=False, json_out=False, timeout="5", qname="www.dotpin.test", extra=()):
    args = ["probe", f"127.0.0.1:{port}", qname, "A", "--timeout", timeout, "--name", AUTH_NAME, *extra]
    for p in pins:
        args += ["--pin", reference_pin(p)]
    if ca:
        args += ["--ca", pki(CA_BUNDLE)]
    return ctl(*(["--json"] if json_out else []), *args)


class CaseTable(unittest.TestCase):
    def test_declared_paths_are_what_openssl_builds(self):
        # The table's verified paths are not taken on trust: openssl builds each one link by link.
        for c in CASES:
            if isinstance(c.pin_only, str) and c.pin_only.startswith("pin_"):
                with self.subTest(case=c.tag):
                    self.assertEqual(openssl_path(c.chain), c.path)

    def test_pinned_keys_are_presented_where_the_table_says(self):
        for c in CASES:
            with self.subTest(case=c.tag):
                if "pin_not_on_path" in (c.pin_only, c.ca):
                    self.assertTrue(c.pinned_elements(), c)  # a pinned key is presented...
                    self.assertFalse(set(c.pinned_elements()) & set(c.path), c)  # ...but off the path
                elif "pin_mismatch" in (c.pin_only, c.ca):
                    self.assertEqual(c.pinned_elements(), [], c)
                if isinstance(c.pin_only, int):
                    self.assertIn(c.pin_only, c.pinned_elements(), c)


class HostileChainsProbe(unittest.TestCase):
    """One unbound per distinct chain, started once for the class."""

    @classmethod
    def setUpClass(cls):
        cls.servers = {}
        try:
            for c in CASES:
                if c.chain not in cls.servers:
                    cls.servers[c.chain] = UnboundDot(pki(c.chain + ".key"), pki(c.chain + ".chain.pem")).start()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for s in cls.servers.values():
            s.cleanup()
        cls.servers = {}

    def run_case(self, case, mode):
        server = self.servers[case.chain]
        expect = case.expect(mode)
        before = server.queries_logged()
        r = probe(server.port, case.pins, ca=(mode == "ca"))
        out = r.stdout + r.stderr
        if not isinstance(expect, str) or expect == ANCHOR:
            self.assertEqual(r.returncode, EXIT_OK, out)
            self.assertIn("198.18.0.10", r.stdout, out)
            if expect == ANCHOR:
                self.assertIn(f"pinned: pin{case.matched}", r.stdout, out)
            else:
                self.assertIn(f"pinned: pin{case.matched} on element [{expect}]", r.stdout, out)
            if mode == "ca":
                self.assertIn(", PKIX ok", r.stdout, out)
            self.assertEqual(server.queries_logged(), before + 1, server.read_log())
            return
        self.assertEqual(r.returncode, EXIT_REFUSED, out)
        self.assertIn(f"upstream refused by the pin check: {expect}\n", r.stderr, out)
        self.assertNotIn("198.18.0.10", r.stdout, out)
        if expect.startswith("pin_"):
            # One line per presented element, each with whether it is on the verified path.
            pins = chain_pins(case.chain)
            for k, pin in enumerate(pins):
                where = "on the path" if k in case.path else "not on the path"
                self.assertIn(f'  observed [{k}] pin-sha256="{pin}" ({where}', r.stderr, out)
            code, j = self.probe_json(server, case, mode)
            self.assertEqual(code, EXIT_REFUSED, j)
            self.assertEqual(j["ok"], False, j)
            self.assertEqual(j["reason"], expect, j)
            self.assertEqual(j["observed_pins"], list(pins), j)
            presented = [{"pin": e["pin"], "on_path": e["on_path"]} for e in j["chain"] if not e["anchor"]]
            self.assertEqual(presented, [{"pin": p, "on_path": k in case.path} for k, p in enumerate(pins)], j)
            # In CA mode the trust anchor a path reached is listed after the presented elements.
            self.assertTrue(all(e["anchor"] for e in j["chain"][len(pins):]), j)
        time.sleep(0.2)  # unbound writes its log as it handles a query: give a stray one time to show
        self.assertEqual(server.queries_logged(), before, "a query reached the hostile upstream: " + server.read_log())

    def probe_json(self, server, case, mode):
        r = probe(server.port, case.pins, ca=(mode == "ca"), json_out=True)
        try:
            return r.returncode, json.loads(r.stdout)
        except ValueError:
            return r.returncode, {"stdout": r.stdout, "stderr": r.stderr}


def _add_case_tests():
    for case in CASES:
        for mode in ("pin", "ca"):
            def test(self, case=case, mode=mode):
                self.run_case(case, mode)
            expect = case.expect(mode)
            test.__doc__ = f"{case.chain} pinned {'+'.join(case.pins)}, {mode}: " + (
                f"refused: {expect}" if isinstance(expect, str) and expect != ANCHOR else f"accepted on {expect}") + (
                f" ({case.ca_why})" if mode == "ca" and case.ca_why else "")
            setattr(HostileChainsProbe, f"test_{case.tag}_{mode}", test)


_add_case_tests()


class TlsParametersProbe(unittest.TestCase):
    """openssl s_server offering only a NULL or only a CBC suite (TLS 1.2), with the genuine leaf-p256
    key and chain: the pin would match, the protocol must not. And a control server with an AEAD
    suite, which shows that s_server's output does reveal a completed handshake and a query."""

    @classmethod
    def setUpClass(cls):
        cls.servers = {}
        try:
            # "tls13": every TLS 1.3 AEAD, AES-256-GCM first; s_server takes the client's order.
            for tag, args in {**TLS_CASES, "aead": ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"],
                              "tls13": ["-ciphersuites",
                                        "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256"]}.items():
                cls.servers[tag] = OpenSslServer(pki("leaf-p256.key"), pki("leaf-p256.crt"), pki("issuing.crt"),
                                                 args).start()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for s in cls.servers.values():
            s.cleanup()
        cls.servers = {}

    def refused_before_data(self, tag, ca, extra=()):
        s = self.servers[tag]
        mark = s.mark()
        r = probe(s.port, ("leaf-p256",), ca=ca, timeout="2", extra=extra)
        out = r.stdout + r.stderr
        time.sleep(0.3)
        seen = s.read(mark)
        self.assertTrue(seen.strip(), "s_server logged nothing: did the probe connect at all?")
        self.assertNotIn(b"dotpin", seen, seen)             # no application data (the query's labels)...
        self.assertNotIn(b"CIPHER is", seen, seen)          # ...and no handshake completed at all
        self.assertEqual(r.returncode, EXIT_FAILURE, out)
        self.assertIn("failed: tls_parameters\n", r.stderr, out)

    def test_null_cipher_pin_only(self):
        self.refused_before_data("null", ca=False)

    def test_null_cipher_ca(self):
        self.refused_before_data("null", ca=True)

    def test_cbc_only_pin_only(self):
        self.refused_before_data("cbc", ca=False)

    def test_cbc_only_ca(self):
        self.refused_before_data("cbc", ca=True)

    def test_tls13_floor_refuses_a_tls12_aead_server(self):
        # The same TLS 1.2 ECDHE+AES-GCM server the control test below completes a handshake with:
        # with --tls-min 1.3 (dotpind: tls_min_version = "1.3") it is refused before any data.
        self.refused_before_data("aead", ca=False, extra=("--tls-min", "1.3"))

    def test_no_suite_order_lets_a_null_or_cbc_server_in(self):
        # The order only re-ranks the strict list: with either AEAD first, a server that offers
        # only NULL or CBC still gets no handshake and no byte of the query.
        for order in ("aes-gcm", "chacha20"):
            for tag in ("null", "cbc"):
                with self.subTest(order=order, server=tag):
                    self.refused_before_data(tag, ca=False, extra=("--suite-order", order))

    def test_the_engine_offers_the_suite_order_it_is_given(self):
        # Through the resolver's own engine (probe: io_uring, wolfSSL, pin check): a server that
        # follows the client's preference negotiates the AEAD the order names first, as its own
        # output shows; the query then reaches it (it is not a DNS server: the probe times out).
        s = self.servers["tls13"]
        for order, cipher in (("aes-gcm", b"TLS_AES_128_GCM_SHA256"), ("chacha20", b"TLS_CHACHA20_POLY1305_SHA256")):
            mark = s.mark()
            r = probe(s.port, ("leaf-p256",), timeout="1", extra=("--suite-order", order))
            self.assertEqual(r.returncode, EXIT_FAILURE, r.stdout + r.stderr)
            time.sleep(0.3)
            seen = s.read(mark)
            self.assertIn(b"CIPHER is " + cipher, seen, (order, seen))
            self.assertIn(b"\x06dotpin\x04test", seen, seen)

    def test_control_aead_server_shows_the_query(self):
        # Not a DNS server: the probe times out, but s_server's output shows the handshake and the query.
        s = self.servers["aead"]
        mark = s.mark()
        r = probe(s.port, ("leaf-p256",), timeout="1")
        self.assertEqual(r.returncode, EXIT_FAILURE, r.stdout + r.stderr)
        time.sleep(0.3)
        seen = s.read(mark)
        self.assertIn(b"CIPHER is ECDHE-ECDSA-AES128-GCM-SHA256", seen, seen)
        self.assertIn(b"\x06dotpin\x04test", seen, seen)


if __name__ == "__main__":
    main()
