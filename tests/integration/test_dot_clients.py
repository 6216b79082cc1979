#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""DoT for clients (RFC 7858, port 853) through the real path: dotpind on a net_tap port in a network
namespace, its exception path to the TCP service (which runs the wolfSSL server over memory), a real
unbound DoT upstream, and real clients — kdig +tls with the test CA and name, kdig +tls-pin with the
appliance's pin (and a wrong one), dnsperf -m dot, Python's OpenSSL client for session resumption
across ticket-key rotations — plus what an attacker sends: TLS 1.1, CBC-only suites, plain DNS on
853, a truncated handshake that never completes, garbage in a handshake record, a forged record
after the handshake, and an address outside the ACL."""

import os
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dotpin_harness import (APPLIANCE_V4, APPLIANCE_V6, CLIENT_V4, OUTSIDER_V4, ApplianceSuite, Dotpind,  # noqa: E402
                            closed_by_server, stream_connect,
                            dns_query, dnsperf_answers_every_query, framed, kdig, main, pki, read_framed, status_of)

NAME = "resolver.dotpin.test"


def client_context(max_version=None, min_version=None, ciphers=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(pki("ca-bundle.pem"))
    ctx.set_alpn_protocols(["dot"])
    if ciphers:
        ctx.set_ciphers(ciphers)
    if min_version:
        ctx.minimum_version = min_version
    if max_version:
        ctx.maximum_version = max_version
    return ctx


def raw_connect(src=CLIENT_V4, port=853, timeout=3.0):
    return stream_connect(src, port, timeout)


def dot_connect(ctx=None, session=None, src=CLIENT_V4):
    return (ctx or client_context()).wrap_socket(raw_connect(src), server_hostname=NAME, session=session)


def ask(tls, name="www.dotpin.test", qid=0x4242):
    tls.sendall(framed(dns_query(name, qid=qid)))
    return read_framed(tls)


@unittest.skipUnless(os.geteuid() == 0, "needs root for network namespaces and net_tap")
class DotClients(ApplianceSuite):
    TAG = "dotc"
    SERVERS = {"a": ("leaf-p256.key", "leaf-p256.chain.pem")}

    def daemon(self, tag, dot="", tcp="", acl=("198.18.0.0/24", "2001:2::/64"), cert="resolver"):
        path = self.pin_file(f"{tag}.toml", [("a", self.a, ["leaf-p256"])])
        conf = (f'\n[dot]\ncertificate = "{pki(cert + ".chain.pem")}"\nkey = "{pki(cert + ".key")}"\n' + dot +
                "\n[tcp]\n" + tcp)
        return Dotpind(self.dir, path, tag=tag, acl=acl, extra_config=conf)

    def dot_counter(self, d, name):
        return self.service_counter(d, "dot", name)

    def wait_dot_counter(self, d, name, at_least, timeout=8.0):
        return self.wait_service_counter(d, "dot", name, at_least, timeout)

    def test_kdig_over_tls_with_the_ca_and_name_and_with_the_appliances_pin(self):
        before = self.a.queries_logged()
        with open(pki("resolver.pin")) as f:
            pin = f.read().strip()
        with open(pki("spare.pin")) as f:
            wrong = f.read().strip()
        with self.daemon("dotkdig") as d:
            for server in (APPLIANCE_V4, APPLIANCE_V6):
                r = kdig(f"@{server}", "+tls", f"+tls-ca={pki('ca-bundle.pem')}", f"+tls-hostname={NAME}",
                         "www.dotpin.test", "A")
                self.assertEqual(status_of(r.stdout), "NOERROR", r.stdout + r.stderr)
                self.assertIn("198.18.0.10", r.stdout)
                self.assertIn("TLS", r.stdout)
            r = kdig(f"@{APPLIANCE_V4}", "+tls", f"+tls-pin={pin}", "www.dotpin.test", "A")
            self.assertEqual(status_of(r.stdout), "NOERROR", r.stdout + r.stderr)
            # A client pinning another key refuses the appliance: what it presents is the configured key.
            r = kdig(f"@{APPLIANCE_V4}", "+tls", f"+tls-pin={wrong}", "www.dotpin.test", "A")
            self.assertIsNone(status_of(r.stdout), r.stdout)
            self.assertNotEqual(r.returncode, 0)
            # The CA validates, but the name must be the certificate's.
            r = kdig(f"@{APPLIANCE_V4}", "+tls", f"+tls-ca={pki('ca-bundle.pem')}", "+tls-hostname=dns.dotpin.test",
                     "www.dotpin.test", "A")
            self.assertIsNone(status_of(r.stdout), r.stdout)
            s = self.stats(d)
            # Three handshakes completed; the two clients that refused us abort theirs, and say so.
            self.assertEqual(s["dot"]["counters"]["tls_handshakes"], 3)
            self.assertGreaterEqual(s["dot"]["counters"]["closed_tls_handshake"], 2)
            self.assertEqual(s["dot"]["counters"]["answers"], s["dot"]["counters"]["queries"])
            self.assertGreaterEqual(s["dot"]["counters"]["queries"], 3)
            self.assertGreaterEqual(s["totals"]["counters"]["tcp_queries"], 3)
            code, text = d.ctl("stats", json_out=False)
            self.assertIn("dot: connections open", text)
            self.assertIn("tcp: connections open", text)
        self.assertEqual(self.a.queries_logged() - before, 1, "one upstream query; the rest from the cache")

    @unittest.skipUnless(shutil.which("dnsperf"), "dnsperf not installed")
    def test_dnsperf_over_dot_answers_every_query(self):
        with self.daemon("dotperf") as d:
            p = dnsperf_answers_every_query(self, "dot", self.dir)
            s = self.stats(d)
            self.assertGreaterEqual(s["dot"]["counters"]["queries"], p["sent"])
            self.assertGreaterEqual(s["dot"]["counters"]["tls_handshakes"], 8)

    def test_tickets_resume_across_one_key_rotation_and_not_two(self):
        # ticket_key_rotation_s = 2: the first key is made at the first handshake (t0) and opens
        # tickets until t0 + 4 s; wolfSSL's own ticket lifetime (also 2 intervals, from issue) is
        # checked too, so the last step presents a ticket issued at t0 + 1.5 s: only 2.7 s old at
        # t0 + 4.2 s, refused because its key is past its two intervals.
        for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
            with self.subTest(version=version.name), self.daemon("dottkt" + version.name[-1],
                                                                 dot="ticket_key_rotation_s = 2\n") as d:
                ctx = client_context(max_version=version, min_version=version)
                first = dot_connect(ctx)
                t0 = time.monotonic()
                self.assertEqual(first.version(), version.name.replace("_", "."))
                self.assertEqual(first.selected_alpn_protocol(), "dot")
                self.assertEqual(ask(first)[3] & 0x0F, 0)
                ticket = first.session
                first.close()
                time.sleep(max(0.0, t0 + 1.5 - time.monotonic()))
                again = dot_connect(ctx, ticket)
                self.assertTrue(again.session_reused, "the ticket resumes under the current key")
                self.assertEqual(ask(again)[3] & 0x0F, 0)
                second = again.session  # TLS 1.3: a new ticket, under the same (first) key
                again.close()
                time.sleep(max(0.0, t0 + 2.4 - time.monotonic()))
                rotated = dot_connect(ctx, ticket)
                self.assertTrue(rotated.session_reused, "one rotation later: the previous key still opens it")
                self.assertEqual(ask(rotated)[3] & 0x0F, 0)
                rotated.close()
                time.sleep(max(0.0, t0 + 4.2 - time.monotonic()))
                late = dot_connect(ctx, second)
                self.assertFalse(late.session_reused, "the first key is past its two intervals: a full handshake")
                self.assertEqual(ask(late)[3] & 0x0F, 0)
                late.close()
                self.assertGreaterEqual(self.wait_dot_counter(d, "tls_resumed", 2), 2)
                self.assertEqual(self.dot_counter(d, "tls_handshakes"), 4)

    def test_hostile_handshakes_are_refused_and_counted(self):
        with self.daemon("dothost", dot="handshake_timeout_ms = 800\n") as d:
            before = self.a.queries_logged()
            # TLS 1.1, and TLS 1.2 with only CBC suites: no shared parameters, refused.
            old = client_context(min_version=ssl.TLSVersion.TLSv1_1, max_version=ssl.TLSVersion.TLSv1_1,
                                 ciphers="ALL:@SECLEVEL=0")
            with self.assertRaises(ssl.SSLError):
                dot_connect(old)
            cbc = client_context(max_version=ssl.TLSVersion.TLSv1_2, ciphers="ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA")
            with self.assertRaises(ssl.SSLError):
                dot_connect(cbc)
            self.assertGreaterEqual(self.wait_dot_counter(d, "closed_tls_handshake", 2), 2)
            # Garbage inside a handshake record.
            s = raw_connect()
            s.sendall(b"\x16\x03\x01\x00\x40" + bytes(range(64)))
            self.assertTrue(closed_by_server(s, 3.0))
            s.close()
            self.assertGreaterEqual(self.wait_dot_counter(d, "closed_tls_handshake", 3), 3)
            # A port-53 client on 853: closed at once, not after a timeout.
            s = raw_connect()
            s.sendall(framed(dns_query("www.dotpin.test")))
            t = time.monotonic()
            self.assertTrue(closed_by_server(s, 3.0))
            self.assertLess(time.monotonic() - t, 0.7)
            s.close()
            self.assertGreaterEqual(self.wait_dot_counter(d, "closed_plain_on_tls", 1), 1)
            # A handshake that never completes: closed after handshake_timeout_ms.
            s = raw_connect()
            s.sendall(b"\x16\x03\x01\x02\x00\x01")
            self.assertTrue(closed_by_server(s, 4.0))
            s.close()
            self.assertGreaterEqual(self.wait_dot_counter(d, "closed_handshake_timeout", 1), 1)
            # After a genuine handshake, a forged application-data record: the connection ends, and
            # a second, well-behaved connection is unaffected.
            good = dot_connect()
            bad = dot_connect()
            self.assertEqual(ask(bad)[3] & 0x0F, 0)
            raw = socket.socket(fileno=os.dup(bad.fileno()))
            raw.sendall(b"\x17\x03\x03\x00\x30" + os.urandom(0x30))
            self.assertTrue(closed_by_server(bad, 3.0))
            raw.close()
            bad.close()
            self.assertGreaterEqual(self.wait_dot_counter(d, "closed_tls_error", 1), 1)
            self.assertEqual(ask(good, qid=0x5151)[:2], b"\x51\x51")
            good.close()
            # Inside the session, the same framing rules as TCP: a zero length prefix ends the
            # connection after the answers owed (here one, pipelined before it).
            zero = dot_connect()
            zero.sendall(framed(dns_query("www.dotpin.test", qid=0x6161)) + b"\x00\x00")
            self.assertEqual(read_framed(zero)[:2], b"\x61\x61")
            self.assertTrue(closed_by_server(zero, 3.0))
            zero.close()
            self.assertGreaterEqual(self.wait_dot_counter(d, "closed_bad_length", 1), 1)
            # None of it reached the upstream but the one miss (www, asked by 'bad' first).
            self.assertLessEqual(self.a.queries_logged() - before, 1)

    def test_a_tls13_floor_refuses_tls12_clients_and_alpn_is_optional(self):
        with self.daemon("dotfloor", dot='min_tls_version = "1.3"\n') as d:
            with self.assertRaises(ssl.SSLError):
                dot_connect(client_context(max_version=ssl.TLSVersion.TLSv1_2))
            self.assertGreaterEqual(self.wait_dot_counter(d, "closed_tls_handshake", 1), 1)
            # A client offering another protocol (or none) is served without ALPN (RFC 7858 does
            # not require it); one offering "dot" gets it.
            other = client_context()
            other.set_alpn_protocols(["h2"])
            tls = dot_connect(other)
            self.assertEqual(tls.version(), "TLSv1.3")
            self.assertIsNone(tls.selected_alpn_protocol())
            self.assertEqual(ask(tls)[3] & 0x0F, 0)
            tls.close()
            self.assertEqual(self.dot_counter(d, "tls_handshakes"), 1)

    def test_a_keyupdate_flood_is_closed(self):
        # openssl s_client sends a KeyUpdate asking for one back for each line "K": records with
        # no DNS data, each costing a decryption and an answer. 16 KiB of them in a row closes it.
        with self.daemon("dotkeyup") as d:
            p = subprocess.Popen(["openssl", "s_client", "-connect", f"{APPLIANCE_V4}:853", "-tls1_3", "-servername", NAME,
                                  "-CAfile", pki("ca-bundle.pem"), "-verify_return_error"],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            try:
                time.sleep(0.5)
                for _ in range(1500):
                    if p.poll() is not None:
                        break
                    try:
                        p.stdin.write(b"K\n")
                        p.stdin.flush()
                    except BrokenPipeError:
                        break
                    time.sleep(0.002)
                self.assertGreaterEqual(self.wait_dot_counter(d, "closed_tls_no_data", 1), 1)
            finally:
                p.kill()
                p.communicate()
            self.assertEqual(self.dot_counter(d, "tls_handshakes"), 1)
            # The service is unharmed.
            tls = dot_connect()
            self.assertEqual(ask(tls)[3] & 0x0F, 0)
            tls.close()

    def test_a_half_close_after_pipelining_gets_every_answer(self):
        with self.daemon("dothalf") as d:
            tls = dot_connect()
            # 200 names no cache holds (each goes upstream: answers take milliseconds, so the FIN
            # arrives while most queries still wait behind the in-flight cap and the read buffer).
            ids = list(range(0x3000, 0x3000 + 200))
            tls.sendall(b"".join(framed(dns_query(f"half{i}.dotpin.test", qid=i)) for i in ids))
            raw = socket.socket(fileno=os.dup(tls.fileno()))
            raw.shutdown(socket.SHUT_WR)  # FIN, no close_notify
            raw.close()
            got = []
            while True:
                m = read_framed(tls)
                if m is None:
                    break
                got.append(struct.unpack("!H", m[:2])[0])
            tls.close()
            self.assertEqual(sorted(got), ids, "every query sent before the FIN is answered")
            self.assertGreaterEqual(self.wait_dot_counter(d, "closed_by_client", 1), 1)

    def test_a_dot_client_that_never_reads_is_closed(self):
        with self.daemon("dotslow", tcp="write_timeout_ms = 1000\n") as d:
            ctx = client_context()
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.settimeout(3.0)
            s.bind((CLIENT_V4, 0))
            s.connect((APPLIANCE_V4, 853))
            tls = ctx.wrap_socket(s, server_hostname=NAME)
            self.assertEqual(ask(tls, "huge.dotpin.test")[3] & 0x0F, 0)
            # 400 queries for a 3.7 kB answer, never read: 1.5 MB the client will not take.
            try:
                tls.sendall(b"".join(framed(dns_query("huge.dotpin.test", qtype=16, qid=i)) for i in range(400)))
            except (socket.timeout, ConnectionResetError, BrokenPipeError, ssl.SSLError):
                pass
            self.assertGreaterEqual(self.wait_dot_counter(d, "closed_slow_reader", 1, timeout=10), 1)
            tls.close()
            self.assertEqual(self.stats(d)["dot"]["active"], 0)

    def test_a_tls12_client_offering_only_p521_is_refused(self):
        # wolfSSL's TLS 1.2 server with an RSA certificate takes any curve the client lists for
        # ECDHE; the check after the handshake keeps to ours (X25519, P-256, P-384, X448).
        with self.daemon("dotp521", cert="leaf-rsa2048") as d:
            r = subprocess.run(["openssl", "s_client", "-connect", f"{APPLIANCE_V4}:853", "-tls1_2", "-groups", "P-521",
                                "-servername", "dns.dotpin.test", "-CAfile", pki("ca-bundle.pem")],
                               input=framed(dns_query("www.dotpin.test")), capture_output=True, timeout=15)
            self.assertGreaterEqual(self.wait_dot_counter(d, "closed_tls_handshake", 1), 1, r.stdout.decode(errors="replace"))
            self.assertEqual(self.dot_counter(d, "tls_handshakes"), 0)
            self.assertEqual(self.dot_counter(d, "queries"), 0)

    def test_the_acl_holds_over_dot_and_53_can_be_off(self):
        with self.daemon("dotacl", tcp="enabled = false\n") as d:
            before = self.a.queries_logged()
            tls = dot_connect(src=OUTSIDER_V4)
            reply = ask(tls, qid=0x0909)
            tls.close()
            self.assertIsNotNone(reply)
            self.assertEqual(reply[3] & 0x0F, 5, "REFUSED")
            self.assertGreaterEqual(self.stats(d)["totals"]["counters"]["tcp_acl_refused"], 1)
            self.assertEqual(self.a.queries_logged(), before, "an outsider's query must not reach the upstream")
            # With [tcp] enabled = false only DoT is served: a SYN to 53 is dropped on the fast path.
            with self.assertRaises(TimeoutError):
                raw_connect(port=53, timeout=1.5)
            s = self.stats(d)
            self.assertFalse(s["tcp"]["enabled"])
            self.assertGreaterEqual(s["totals"]["drops"].get("tcp_port", 0), 1)
            r = kdig(f"@{APPLIANCE_V4}", "+tls", f"+tls-ca={pki('ca-bundle.pem')}", f"+tls-hostname={NAME}",
                     "www.dotpin.test", "A")
            self.assertEqual(status_of(r.stdout), "NOERROR", r.stdout + r.stderr)


if __name__ == "__main__":
    main()
